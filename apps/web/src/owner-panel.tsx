/**
 * The owner's panel: pending requests to join (accept, or reject with a reason), member actions
 * (remove, ban, unban, roles) and the channels and categories (`channel-admin.tsx`).
 */
import type { OrganizationView } from "@orgchat/client";
import { useState } from "preact/hooks";
import { ChannelAdmin } from "./channel-admin.tsx";
import { isOwnerKey, memberLabel } from "./org-screen.tsx";
import { pendingRequests, RequestsList } from "./requests-list.tsx";
import type { ChatSession } from "./session.ts";
import { actionRunner } from "./use-session.ts";

type RoleName = "all" | "manage-users" | "moderate-content";
const roleChoices: readonly {
  readonly value: string;
  readonly roles: readonly RoleName[];
  readonly label: string;
}[] = [
  { value: "", roles: [], label: "member" },
  { value: "moderate-content", roles: ["moderate-content"], label: "moderator" },
  { value: "manage-users", roles: ["manage-users"], label: "manager" },
  { value: "all", roles: ["all"], label: "admin" },
];

/** The owner's panel. @param props - session and organization (owned) */
export function OwnerPanel(props: {
  readonly session: ChatSession;
  readonly view: OrganizationView;
}) {
  const { session, view } = props;
  const { client } = session;
  const [error, setError] = useState<string | undefined>(undefined);
  const run = actionRunner(setError, session);
  const requests = pendingRequests(client, view) ?? [];
  return (
    <aside class="owner" data-testid="owner-panel">
      <h2>Requests ({requests.length})</h2>
      <RequestsList client={client} view={view} requests={requests} run={run} />
      <h2>Members</h2>
      <ul>
        {[...view.members]
          .filter(([id]) => !isOwnerKey(view, id, client.memberId))
          .map(([id, roles]) => (
            <li key={id}>
              {memberLabel(view, id)}
              <select
                data-testid="role-select"
                value={roles[0] ?? ""}
                onChange={(e) => {
                  const choice = roleChoices.find(
                    (c) => c.value === (e.target as HTMLSelectElement).value,
                  );
                  if (choice !== undefined)
                    void run(() => client.setRoles(view.id, id, choice.roles));
                }}
              >
                {roleChoices.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </select>
              <button
                type="button"
                onClick={() => void run(() => client.removeMember(view.id, id))}
              >
                Remove
              </button>
              <button type="button" onClick={() => void run(() => client.banMember(view.id, id))}>
                Ban
              </button>
            </li>
          ))}
      </ul>
      {view.banned.length > 0 && (
        <>
          <h3>Banned</h3>
          <ul>
            {view.banned.map((id) => (
              <li key={id}>
                {id.slice(0, 8)}
                <button
                  type="button"
                  onClick={() => void run(() => client.unbanMember(view.id, id))}
                >
                  Unban
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <ChannelAdmin client={client} view={view} run={run} />
      {error !== undefined && <p class="error">{error}</p>}
    </aside>
  );
}
