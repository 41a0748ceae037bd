/**
 * The invitee's side of invitations: `orgchat invitations` lists the invitations received and not
 * answered yet, `invitations accept ORG` asks to join with one, `invitations decline ORG` forgets
 * one. An invitation is only an offer (anyone can sign one with a throwaway organization key):
 * nothing of its organization is stored or listened to until it is accepted.
 */
import { type Client, defaultClientConfig, type InvitationView } from "@orgchat/client";
import type { CommandContext, CommandSpec } from "../command.js";
import { CliError, exitCodes } from "../errors.js";
import { orgJson, short, shownName, table } from "../format.js";
import type { Session } from "../session.js";
import { arg, offlineOption, str } from "./shared.js";

/** Where the invitations come from: the inbox, read from the service node (or local data only). */
async function openInbox(context: CommandContext): Promise<Session> {
  const session = await context.session({
    network: context.values.offline === true ? "offline" : "online",
  });
  await session.ready();
  return session;
}

/** An invitation by organization key, key prefix (4+ hex) or, when it is already known, name. */
function resolveInvitation(client: Client, ref: string): InvitationView {
  const invitations = client.listInvitations();
  const lower = ref.toLowerCase();
  const matches = invitations.filter(
    (i) =>
      (/^[0-9a-f]{4,}$/.test(lower) && i.organizationId.startsWith(lower)) ||
      i.name?.toLowerCase() === lower,
  );
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length > 1) {
    throw new CliError(
      `${shownName(ref)} matches ${matches.length} invitations: give more of the organization key (\`orgchat invitations\` lists them)`,
      exitCodes.usage,
    );
  }
  throw new CliError(
    invitations.length === 0
      ? `no invitation is waiting for you (${short(client.memberId)}): an owner, admin or manager invites you with \`orgchat invite ${client.memberId}\`, then it arrives through the service node`
      : `no invitation from ${shownName(ref)}: give the organization key or a prefix of it from \`orgchat invitations\``,
  );
}

function invitationJson(invitation: InvitationView): Record<string, unknown> {
  return { ...invitation };
}

/** `2026-12-07 02:09` (UTC), or `--` for a number no `Date` holds (the times come from the sender). */
function date(ms: number): string {
  if (!(Number.isFinite(ms) && Math.abs(ms) <= 8.64e15)) return "--";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

export const invitations: CommandSpec = {
  name: "invitations",
  summary:
    "invitations you received and have not answered (nothing is joined until you accept one)",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { offline: offlineOption },
  examples: ["orgchat invitations", "orgchat invitations --json"],
  notes: `Anyone can send an invitation (an organization key costs nothing), so none is acted on by itself: accept one with \`orgchat invitations accept ORG\`, or forget it with \`orgchat invitations decline ORG\`. At most ${defaultClientConfig.maxPendingInvitations} are kept (the oldest from an organization you do not know goes first); each expires 7 days after it was sent.`,
  async run(context) {
    const session = await openInbox(context);
    const list = session.client.listInvitations();
    return {
      json: { invitations: list.map(invitationJson) },
      human:
        list.length === 0
          ? `no invitations waiting for ${short(session.client.memberId)}`
          : table(
              ["ORG", "NAME", "CHANNEL", "RECEIVED (UTC)", "EXPIRES (UTC)"],
              list.map((i) => [
                short(i.organizationId),
                i.name ?? "(not discovered)",
                i.chatId === "" ? "-" : `#${i.chatId}`,
                date(i.receivedAt),
                date(i.expiresAt),
              ]),
            ),
    };
  },
};

export const invitationsAccept: CommandSpec = {
  name: "invitations accept",
  summary: "accept an invitation: look the organization up and ask to join with it",
  args: "ORG",
  minArgs: 1,
  maxArgs: 1,
  options: { name: { type: "string", value: "NAME", help: "display name sent with the request" } },
  examples: ["orgchat invitations accept 5f2c9e1a --name Alice"],
  notes:
    "ORG is the inviting organization's key or a prefix of it (from `orgchat invitations`). The owner accepts an invitation's request at once when it next runs orgchat online; `orgchat join KEY --wait` (the full key) then waits for it and the group keys.",
  async run(context) {
    const session = await openInbox(context);
    const { client } = session;
    const invitation = resolveInvitation(client, arg(context, 0));
    const id = invitation.organizationId;
    const name = str(context.values.name);
    context.progress.update("looking up the organization and sending the request to the owner…");
    const requestId = await client.acceptInvitation(id, {
      ...(name === undefined ? {} : { displayName: name }),
      signal: context.signal,
    });
    context.progress.update("waiting for the service node to store the request…");
    await session.delivered(id);
    context.progress.done();
    const org = client.getOrganization(id);
    return {
      json: {
        ok: true,
        action: "accepted invitation",
        invitationId: invitation.invitationId,
        requestId,
        organization: orgJson(org),
      },
      human: `invitation of ${shownName(org.identity.displayName)} (${short(id)}) accepted: the owner's client admits you without a decision the next time it runs online (request ${short(requestId)}); wait for it and the keys with \`orgchat join ${id} --wait\``,
    };
  },
};

export const invitationsDecline: CommandSpec = {
  name: "invitations decline",
  summary: "decline an invitation: forget it (the owner is not told)",
  args: "ORG",
  minArgs: 1,
  maxArgs: 1,
  options: { offline: offlineOption },
  examples: ["orgchat invitations decline 5f2c9e1a"],
  notes:
    "ORG is the inviting organization's key or a prefix of it (from `orgchat invitations`). A declined invitation does not come back; the owner can send a new one.",
  async run(context) {
    const session = await openInbox(context);
    const invitation = resolveInvitation(session.client, arg(context, 0));
    const invitationId = await session.client.declineInvitation(invitation.organizationId, {
      signal: context.signal,
    });
    return {
      json: {
        ok: true,
        action: "declined invitation",
        invitationId,
        organizationId: invitation.organizationId,
      },
      human: `invitation of ${shownName(invitation.name ?? short(invitation.organizationId))} declined`,
    };
  },
};
