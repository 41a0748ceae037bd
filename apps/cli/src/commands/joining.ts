/**
 * The requester's side: `orgchat join` (discover, then ask to join or accept an invitation, and with
 * `--wait` wait for the owner's answer and the group keys), `orgchat cancel` and `orgchat leave`.
 */
import { hasErrorName, raceAbort, sleep } from "@orgchat/base";
import type { Client, OrganizationView } from "@orgchat/client";
import type { CommandContext, CommandSpec } from "../command.js";
import { CliError, exitCodes, interruptedError } from "../errors.js";
import { orgJson, short, shownName } from "../format.js";
import { type OrgLink, parseLink } from "../link.js";
import { inlineText } from "../terminal-text.js";
import { arg, changeCommand, str } from "./shared.js";

/** How a join went out: by request, by invitation, or not at all (already a member or pending). */
type JoinedVia = "request" | "invitation" | "none";

/** Member with the group keys (or of a public organization). */
const ready = (org: OrganizationView) =>
  org.role === "member" && (!org.encrypted || org.epoch !== undefined);

/** Sends the request (or the answer to an invitation) unless this identity is already in. */
async function sendJoin(
  context: CommandContext,
  client: Client,
  link: OrgLink,
  delivered: (organizationId: string) => Promise<void>,
): Promise<{ via: JoinedVia; requestId?: string }> {
  const id = link.organizationId;
  const known = client.listOrganizations().find((org) => org.id === id);
  if (known?.role === "owner")
    throw new CliError(`you own ${shownName(known.identity.displayName)}: nothing to join`);
  if (known?.banned.includes(client.memberId)) {
    throw new CliError(
      `you are banned from ${shownName(known.identity.displayName)}: only its owner can lift the ban`,
    );
  }
  if (
    known?.role === "member" ||
    (known?.role === "requester" && known.request?.status === "pending")
  ) {
    return { via: "none" };
  }
  context.progress.update("looking up the organization on the service node…");
  await raceAbort(
    client.discover(id, { signal: context.signal }),
    context.signal,
    interruptedError,
  );
  const name = str(context.values.name);
  const init = { ...(name === undefined ? {} : { displayName: name }), signal: context.signal };
  context.progress.update("sending the request to the owner…");
  let sent: { via: JoinedVia; requestId: string };
  try {
    sent = { via: "invitation", requestId: await client.acceptInvitation(id, init) };
  } catch (error) {
    if (!(error instanceof Error && hasErrorName(error, "UnknownTargetError"))) throw error;
    if (context.values.invitation === true) {
      throw new CliError(
        `no invitation to ${shownName(link.name ?? short(id))} for ${short(client.memberId)} arrived: ask the owner to run \`orgchat invite ${client.memberId}\``,
      );
    }
    sent = { via: "request", requestId: await client.requestToJoin(id, init) };
  }
  context.progress.update("waiting for the service node to store the request…");
  await delivered(id);
  return sent;
}

/** `--wait`: until member with keys, rejected or cancelled; exit code 3 after `waitSeconds`. */
async function waitForAnswer(
  context: CommandContext,
  client: Client,
  id: string,
  waitSeconds: number,
): Promise<void> {
  const started = performance.now();
  for (;;) {
    const org = client.getOrganization(id);
    if (ready(org) || org.request?.status === "rejected" || org.request?.status === "cancelled")
      return;
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed >= waitSeconds) {
      context.progress.done();
      throw new CliError(
        `neither the owner of ${shownName(org.identity.displayName)} nor an admin or manager answered within ${waitSeconds} s (they may be offline): your request is saved; run \`orgchat join ${id} --wait\` again later`,
        exitCodes.timeout,
      );
    }
    context.progress.update(
      org.role === "member"
        ? `accepted; waiting for the group keys… ${elapsed.toFixed(0)} s`
        : `waiting for the owner's answer (or an admin's or manager's: one must be online)… ${elapsed.toFixed(0)} s of ${waitSeconds} s; Ctrl-C stops waiting, the request stays`,
    );
    await sleep(200, context.signal, interruptedError);
  }
}

export const join: CommandSpec = {
  name: "join",
  summary:
    "find an organization from its link or key and ask to join (with an invitation if you have one)",
  args: "LINK|KEY",
  minArgs: 1,
  maxArgs: 1,
  options: {
    name: { type: "string", value: "NAME", help: "display name sent with the request" },
    wait: { type: "boolean", help: "wait for the owner's answer (and the group keys)" },
    invitation: { type: "boolean", help: "require an invitation (fail if none arrived)" },
  },
  examples: [
    "orgchat join 'orgchat://org/5f2c…?peer=/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…' --name Alice --wait",
  ],
  notes:
    "Without --wait the request is sent and the command exits; the owner's answer is picked up by any later command (`orgchat org show`). --timeout (default 120 s with --wait) bounds the wait; exit code 3 when the owner did not answer in time.",
  async run(context) {
    const link = parseLink(arg(context, 0));
    const waitSeconds = context.global.timeout ?? 120;
    const session = await context.session({ network: "online", fallbackPeers: link.peers });
    await session.ready();
    const { client } = session;
    const id = link.organizationId;
    const { via, requestId } = await sendJoin(context, client, link, (org) =>
      session.delivered(org),
    );
    const known = client.getOrganization(id);
    if (context.values.wait === true && !ready(known) && known.request?.status !== "rejected") {
      await waitForAnswer(context, client, id, waitSeconds);
    }
    context.progress.done();
    const org = client.getOrganization(id);
    const status =
      org.role === "member"
        ? "member"
        : org.request?.status === "rejected"
          ? "rejected"
          : org.request?.status === "cancelled"
            ? "cancelled"
            : "pending";
    const json = {
      status,
      via,
      ...(requestId === undefined ? {} : { requestId }),
      ...(org.request?.reason === undefined ? {} : { reason: org.request.reason }),
      organization: orgJson(org),
    };
    // Both are the owner's words: escaped on one line (the reason whole: the wire bounds it).
    const name = shownName(org.identity.displayName);
    const reason = inlineText(org.request?.reason ?? "");
    if (status === "rejected") {
      return {
        json,
        human: `the owner of ${name} rejected the request: ${reason}`,
        exitCode: exitCodes.failed,
        error: `the owner of ${name} rejected your request${reason === "" ? "" : `: ${reason}`}`,
      };
    }
    return {
      json,
      human:
        status === "member"
          ? `you are a member of ${name} (${short(id)})${org.encrypted && org.epoch !== undefined ? `, keys for epoch ${org.epoch}` : ""}`
          : `request ${requestId === undefined ? "" : `${short(requestId)} `}sent to the owner of ${name}; wait for the answer with \`orgchat join ${id} --wait\``,
    };
  },
};

/** `cancel` and `leave`: the requester's or member's own way out, nothing to name but `--org`. */
const withdrawals = [
  {
    name: "cancel",
    summary: "cancel your pending request to join",
    action: "request cancelled",
    apply: (client: Client, org: string, signal: AbortSignal) =>
      client.cancelRequest(org, { signal }),
  },
  {
    name: "leave",
    summary: "leave an organization (the owner re-keys without you)",
    action: "left",
    apply: (client: Client, org: string, signal: AbortSignal) => client.leave(org, { signal }),
  },
] as const;

export const [cancel, leave] = withdrawals.map(({ name, summary, action, apply }) =>
  changeCommand({
    name,
    summary,
    args: "",
    minArgs: 0,
    maxArgs: 0,
    examples: [`orgchat ${name} --org Acme`],
    async change(context, client, org) {
      await apply(client, org.id, context.signal);
      return { action };
    },
  }),
) as [CommandSpec, CommandSpec];
