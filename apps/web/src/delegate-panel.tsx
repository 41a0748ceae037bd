/**
 * A delegate's panel (docs/DELEGATION.md; the CLI's `requests`, `accept`, `reject`, `remove`, `ban`):
 * an admin or a manager sees the requests sent to it (accept, or reject with a reason) and removes
 * or bans members below its rank, with the owner offline. Members it may not act on (the owner, an
 * equal or higher rank) get no buttons but a note that says why; what stays with the owner (roles,
 * channels, categories, unbans, invitations) is not shown. A refused action is said in words and
 * names who can do it.
 */
import type { OrganizationView } from "@orgchat/client";
import { useState } from "preact/hooks";
import { memberLabel } from "./org-screen.tsx";
import { actionRefusal, rankIn, refusedActionText, withArticle } from "./ranks.ts";
import { pendingRequests, RequestsList } from "./requests-list.tsx";
import type { ChatSession } from "./session.ts";
import { actionRunner } from "./use-session.ts";

/** The delegate's panel. @param props - session and organization (this identity: admin or manager) */
export function DelegatePanel(props: {
  readonly session: ChatSession;
  readonly view: OrganizationView;
}) {
  const { session, view } = props;
  const { client } = session;
  const self = client.memberId;
  const [error, setError] = useState<string | undefined>(undefined);
  const run = actionRunner(setError, session);
  const describe = (what: string, target?: string) => (e: unknown) =>
    refusedActionText(e, view, self, target === undefined ? { what } : { what, target });
  const requests = pendingRequests(client, view);
  const rank = rankIn(view, self, self);
  const memberActions = [
    {
      label: "Remove",
      doing: "removing",
      act: (org: string, member: string) => client.removeMember(org, member),
    },
    {
      label: "Ban",
      doing: "banning",
      act: (org: string, member: string) => client.banMember(org, member),
    },
  ];
  return (
    <aside class="owner delegate" data-testid="delegate-panel">
      <p class="hint" data-testid="delegate-note">
        You are {withArticle(rank)} of {view.identity.displayName || "this organization"}: you
        accept and reject the requests sent to you, and remove or ban members below your rank, with
        the owner online or not. Roles, channels, unbans and invitations stay with the owner.
      </p>
      <h2>Requests ({requests?.length ?? 0})</h2>
      {requests === undefined ? (
        <p class="hint" data-testid="desk-pending">
          Requests sent to you will show here once this page holds your keys for them (it makes them
          when it learns your rank).
        </p>
      ) : (
        <RequestsList
          client={client}
          view={view}
          requests={requests}
          run={run}
          describe={(what) => describe(what)}
        />
      )}
      <h2>Members</h2>
      <ul data-testid="delegate-members">
        {[...view.members.keys()]
          .filter((id) => id !== self)
          .map((id) => {
            const label = memberLabel(view, id);
            const theirs = rankIn(view, id, self);
            const refusal = actionRefusal(view, self, id);
            return (
              <li key={id} data-testid="delegate-member" title={refusal ?? id}>
                {theirs === "owner" ? `${id.slice(0, 8)} · owner` : label}
                {theirs === "admin" || theirs === "manager" || theirs === "moderator"
                  ? ` · ${theirs}`
                  : ""}
                {refusal === undefined ? (
                  <>
                    {" "}
                    {memberActions.map((action) => (
                      <button
                        key={action.label}
                        type="button"
                        onClick={() =>
                          void run(
                            () => action.act(view.id, id),
                            describe(`${action.doing} ${label}`, id),
                          )
                        }
                      >
                        {action.label}
                      </button>
                    ))}
                  </>
                ) : (
                  <span class="no-action" data-testid="no-action">
                    {" "}
                    — no actions: {refusal}
                  </span>
                )}
              </li>
            );
          })}
      </ul>
      {error !== undefined && (
        <p class="error" data-testid="delegate-error">
          {error}
        </p>
      )}
    </aside>
  );
}
