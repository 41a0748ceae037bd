/**
 * The owner's side of membership: requests to join (`requests`, `accept`, `reject`), invitations,
 * and members (`remove`, `ban`, `unban`, `role`). The organization's delegates (admins and managers)
 * run `requests`, `accept`, `reject`, `remove` and `ban` too, on members below their rank
 * (docs/DELEGATION.md; `delegation.ts` says who may).
 */
import type { Client } from "@orgchat/client";
import type { CommandContext, CommandSpec, OptionSpec } from "../command.js";
import { requireBelowRank, requireOwnerOrDelegate } from "../delegation.js";
import { usageError } from "../errors.js";
import { requestJson, requestLine, short, shownName } from "../format.js";
import { resolveMember, resolveRequest } from "../resolve.js";
import { arg, changeCommand, openOrg, orgOption, str } from "./shared.js";

const roleNames: Record<string, "all" | "manage-users" | "moderate-content"> = {
  admin: "all",
  all: "all",
  manager: "manage-users",
  "manage-users": "manage-users",
  moderator: "moderate-content",
  "moderate-content": "moderate-content",
};

export const requests: CommandSpec = {
  name: "requests",
  requiresOwner: true,
  delegable: true,
  summary: "list requests to join (owner, admins, managers); pending ones by default",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    org: orgOption,
    all: { type: "boolean", help: "include decided, cancelled and expired ones" },
  },
  examples: ["orgchat requests", "orgchat requests --all --json"],
  async run(context) {
    // No --offline here: always online (the owner learns of requests from the service node).
    const { session, org } = await openOrg(context);
    requireOwnerOrDelegate(org, session.client.memberId, "requests");
    const all = session.client
      .listRequests(org.id)
      .filter((r) => context.values.all === true || r.status === "pending")
      .sort((a, b) => a.sentAt - b.sentAt);
    return {
      json: { organizationId: org.id, requests: all.map(requestJson) },
      human:
        all.length === 0
          ? `no ${context.values.all === true ? "" : "pending "}requests for ${shownName(org.identity.displayName)}`
          : all.map(requestLine).join("\n"),
    };
  },
};

/** Accept or reject (the answer of the owner or of a delegate to a request). */
function answerCommand(
  verb: "accept" | "reject",
  spec: Pick<CommandSpec, "summary" | "examples" | "notes"> & {
    readonly options?: Record<string, OptionSpec>;
  },
  answer: (context: CommandContext, client: Client, org: string, request: string) => Promise<void>,
): CommandSpec {
  return changeCommand({
    name: verb,
    requiresOwner: true,
    delegable: true,
    args: "REQUEST",
    minArgs: 1,
    maxArgs: 1,
    ...spec,
    async change(context, client, org) {
      requireOwnerOrDelegate(org, client.memberId, verb);
      const request = resolveRequest(client, org, arg(context, 0));
      await answer(context, client, org.id, request.id);
      return {
        action: `${verb}ed ${request.displayName || short(request.requester)}`,
        extra: { request: requestJson(request) },
      };
    },
  });
}

export const accept = answerCommand(
  "accept",
  {
    summary: "accept a request to join (owner, admin, manager): the requester gets the group keys",
    examples: ["orgchat accept 3f9a1c2b", "orgchat accept Alice --org Acme"],
    notes:
      "REQUEST is a request id (or prefix) from `orgchat requests`, or the requester's display name.",
  },
  (context, client, org, request) => client.acceptRequest(org, request, { signal: context.signal }),
);

export const reject = answerCommand(
  "reject",
  {
    summary:
      "reject a request to join (owner, admin, manager); the reason is delivered to the requester",
    options: { reason: { type: "string", value: "TEXT", help: "why (sent to the requester)" } },
    examples: ['orgchat reject 3f9a1c2b --reason "staff only"'],
  },
  (context, client, org, request) =>
    client.rejectRequest(org, request, str(context.values.reason) ?? "", {
      signal: context.signal,
    }),
);

export const invite = changeCommand({
  name: "invite",
  requiresOwner: true,
  delegable: true,
  summary:
    "invite a key (owner, admin, manager): when it accepts, the inviter's next online run admits it without a decision, whatever the access mode",
  args: "MEMBER_ID",
  minArgs: 1,
  maxArgs: 1,
  examples: ["orgchat invite 9b1e…(64 hex, from the invitee's `orgchat id show`)"],
  check(context) {
    if (!/^[0-9a-f]{64}$/.test(arg(context, 0).toLowerCase())) {
      throw usageError(
        "MEMBER_ID must be the invitee's 64-hex id (`orgchat id show` prints it)",
        "invite",
      );
    }
  },
  async change(context, client, org) {
    requireOwnerOrDelegate(org, client.memberId, "invite");
    const invitee = arg(context, 0).toLowerCase();
    const invitationId = await client.invite(org.id, invitee, { signal: context.signal });
    return { action: `invited ${short(invitee)}`, extra: { invitationId, invitee } };
  },
});

/** `remove`, `ban`, `unban`: one member, resolved by id, prefix or request name. */
const memberActions = [
  {
    name: "remove",
    done: "removed",
    summary: "remove a member (owner; admins and managers: below their rank); re-keys the groups",
    apply: (c: Client, o: string, m: string, x: CommandContext) =>
      c.removeMember(o, m, { signal: x.signal }),
  },
  {
    name: "ban",
    done: "banned",
    summary:
      "ban a member (owner; admins and managers: below their rank): removed, cannot rejoin, re-keys the groups",
    options: {
      "delete-messages": { type: "boolean", help: "also delete the member's messages" },
    } satisfies Record<string, OptionSpec>,
    apply: (c: Client, o: string, m: string, x: CommandContext) =>
      c.banMember(o, m, {
        signal: x.signal,
        deleteMessages: x.values["delete-messages"] === true,
      }),
  },
  {
    name: "unban",
    done: "unbanned",
    summary: "lift a ban (owner)",
    apply: (c: Client, o: string, m: string, x: CommandContext) =>
      c.unbanMember(o, m, { signal: x.signal }),
  },
] as const;

export const [remove, ban, unban] = memberActions.map((action) =>
  changeCommand({
    name: action.name,
    requiresOwner: true,
    ...(action.name === "unban" ? {} : { delegable: true }),
    summary: action.summary,
    args: "MEMBER",
    minArgs: 1,
    maxArgs: 1,
    ...("options" in action ? { options: action.options } : {}),
    examples: [
      `orgchat ${action.name} 9b1e4d20${action.name === "ban" ? " --delete-messages" : ""}`,
    ],
    notes: "MEMBER is a member id, a prefix of one, or the display name of their request.",
    async change(context, client, org) {
      if (action.name !== "unban") requireOwnerOrDelegate(org, client.memberId, action.name);
      const member = resolveMember(client, org, arg(context, 0));
      if (action.name !== "unban") requireBelowRank(org, client.memberId, member, action.name);
      await action.apply(client, org.id, member, context);
      const after = client.getOrganization(org.id);
      return {
        action: `${action.done} ${short(member)}`,
        extra: { member, ...(after.epoch === undefined ? {} : { epoch: after.epoch.toString() }) },
      };
    },
  }),
) as [CommandSpec, CommandSpec, CommandSpec];

/** `role MEMBER ROLE…`: the roles named on the command line (`none` clears). */
function rolesOf(context: CommandContext): Array<"all" | "manage-users" | "moderate-content"> {
  return context.args
    .slice(1)
    .map((r) => r.toLowerCase())
    .filter((r) => r !== "none")
    .map((r) => {
      const mapped = roleNames[r];
      if (mapped === undefined)
        throw usageError(`unknown role ${r}: use admin, manager, moderator or none`, "role");
      return mapped;
    });
}

export const role = changeCommand({
  name: "role",
  requiresOwner: true,
  summary: "set a member's roles (owner): admin, manager, moderator; none to clear",
  args: "MEMBER ROLE…",
  minArgs: 2,
  maxArgs: 4,
  examples: ["orgchat role 9b1e4d20 moderator", "orgchat role 9b1e4d20 none"],
  check: rolesOf,
  async change(context, client, org) {
    const roles = rolesOf(context);
    const member = resolveMember(client, org, arg(context, 0));
    await client.setRoles(org.id, member, roles, { signal: context.signal });
    return {
      action: `roles of ${short(member)} set to ${roles.length === 0 ? "none" : roles.join(",")}`,
      extra: { member, roles },
    };
  },
});
