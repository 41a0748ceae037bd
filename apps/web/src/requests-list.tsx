/**
 * The pending requests to join held by this client: the owner's, or a delegate's (the requests a
 * requester sent to it). Each with the requester's name (text), accept, and reject with a reason.
 * The list follows the client: a request that arrives shows at once (`request:received` makes the
 * page read the client again).
 */
import type { Client, OrganizationView, RequestView } from "@orgchat/client";
import { useState } from "preact/hooks";
import { TextField } from "./text-field.tsx";

/** What a runner from `actionRunner` takes. */
export type RunAction = (
  action: () => Promise<unknown>,
  describe?: (error: unknown) => string,
) => Promise<boolean>;

/**
 * The pending requests this client holds for `view`, or `undefined` when it holds none yet (a
 * delegate whose desk the client has not opened yet: `listRequests` refuses it).
 * @param client - the client
 * @param view - the organization
 * @returns the pending requests, oldest first
 */
export function pendingRequests(
  client: Pick<Client, "listRequests">,
  view: OrganizationView,
): RequestView[] | undefined {
  try {
    return client
      .listRequests(view.id)
      .filter((r) => r.status === "pending")
      .sort((a, b) => a.sentAt - b.sentAt);
  } catch {
    return undefined;
  }
}

/** The requests list. @param props - the client, the organization, the requests and a runner */
export function RequestsList(props: {
  readonly client: Pick<Client, "acceptRequest" | "rejectRequest">;
  readonly view: OrganizationView;
  readonly requests: readonly RequestView[];
  readonly run: RunAction;
  /** Says an action's error in words (`what` names the action). */
  readonly describe?: (what: string) => (error: unknown) => string;
}) {
  const { client, view, requests, run, describe } = props;
  const [reasons, setReasons] = useState<Record<string, string>>({});
  return (
    <ul data-testid="requests">
      {requests.map((r) => {
        const who = `${r.displayName || "(no name)"} (${r.requester.slice(0, 8)})`;
        return (
          <li key={r.id} data-testid="request">
            <span class="requester" title={r.requester}>
              {who}
            </span>
            <button
              type="button"
              data-testid="accept-request"
              onClick={() =>
                void run(() => client.acceptRequest(view.id, r.id), describe?.(`accepting ${who}`))
              }
            >
              Accept
            </button>
            <TextField
              class="short"
              placeholder="reason"
              testId="reject-reason"
              value={reasons[r.id] ?? ""}
              onValue={(value) => setReasons({ ...reasons, [r.id]: value })}
            />
            <button
              type="button"
              data-testid="reject-request"
              onClick={() =>
                void run(
                  () => client.rejectRequest(view.id, r.id, reasons[r.id] ?? ""),
                  describe?.(`rejecting ${who}`),
                )
              }
            >
              Reject
            </button>
          </li>
        );
      })}
    </ul>
  );
}
