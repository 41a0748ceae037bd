/**
 * Every `orgchat` command: parse → call the client → return a result for `format.ts` to print.
 * One-shot commands that change something wait until a service node has accepted (and stored) what
 * they published, so that the other side finds it even if this process is gone.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Client, OrganizationView } from "@orgchat/client";
import { chatCommand } from "./chat.js";
import type { CommandContext, CommandSpec, OptionSpec } from "./command.js";
import { CliError, exitCodes, usageError } from "./errors.js";
import {
  type CommandResult,
  messageJson,
  messageLine,
  orgHuman,
  orgJson,
  orgLine,
  requestJson,
  requestLine,
  short,
  table,
} from "./format.js";
import { formatLink, parseLink } from "./link.js";
import { channelId, resolveMember, resolveOrg, resolveRequest } from "./resolve.js";
import { serveCommand } from "./serve.js";
import { abortable, dataDirOf, readProfileConfig, type Session, sleep } from "./session.js";

const orgOption: OptionSpec = {
  type: "string",
  value: "ORG",
  help: "organization: key, key prefix or name (default: the only one this identity knows)",
};
const offlineOption: OptionSpec = {
  type: "boolean",
  help: "use local data only (no network)",
};

const accessModes: Record<string, "no-membership" | "invitation-only" | "on-request"> = {
  open: "no-membership",
  "no-membership": "no-membership",
  request: "on-request",
  "on-request": "on-request",
  invite: "invitation-only",
  invitation: "invitation-only",
  "invitation-only": "invitation-only",
};

const roleNames: Record<string, "all" | "manage-users" | "moderate-content"> = {
  admin: "all",
  all: "all",
  manager: "manage-users",
  "manage-users": "manage-users",
  moderator: "moderate-content",
  "moderate-content": "moderate-content",
};

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function arg(context: CommandContext, index: number): string {
  return context.args[index] ?? "";
}

/** Opens an online session, catches up, runs `fn` on the resolved org, waits for delivery. */
async function publishChange(
  context: CommandContext,
  fn: (client: Client, org: OrganizationView, session: Session) => Promise<CommandResult>,
): Promise<CommandResult> {
  const session = await context.session({ network: "online" });
  await session.ready();
  const org = resolveOrg(session.client, str(context.values.org));
  if (org.banned.includes(session.client.memberId)) {
    throw new CliError(
      `you are banned from ${org.identity.displayName}: only its owner can lift the ban (\`orgchat unban\`)`,
    );
  }
  const result = await fn(session.client, org, session);
  context.progress.update("waiting for the service node to store it…");
  await session.delivered(org.id);
  context.progress.done();
  return result;
}

function updated(
  client: Client,
  orgId: string,
  what: string,
  extra: Record<string, unknown> = {},
): CommandResult {
  const org = client.getOrganization(orgId);
  return {
    json: { ok: true, action: what, organization: orgJson(org), ...extra },
    human: `${what}: done (${org.identity.displayName}, ${short(org.id)})`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------------

const idCreate: CommandSpec = {
  name: "id create",
  summary: "create this data directory's identity (a new key pair)",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {},
  examples: ["orgchat id create --data ~/.orgchat/alice"],
  notes: "Every data directory holds one identity; other commands create it on first use too.",
  async run(context) {
    const existed = existsSync(join(dataDirOf(context.global), "store.db"));
    const session = await context.session({ network: "offline" });
    const id = session.client.memberId;
    return {
      json: { id, dataDir: session.dataDir, created: !existed },
      human: existed
        ? `identity already exists: ${id}\n  data: ${session.dataDir}`
        : `created identity ${id}\n  data: ${session.dataDir}`,
    };
  },
};

const idShow: CommandSpec = {
  name: "id show",
  summary: "print this identity's member id, data directory and service nodes",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {},
  examples: ["orgchat id show --json"],
  async run(context) {
    const dir = dataDirOf(context.global);
    if (!existsSync(join(dir, "store.db"))) {
      throw new CliError(
        `no identity in ${dir}: create one with \`orgchat id create --data ${dir}\``,
      );
    }
    const session = await context.session({ network: "offline" });
    const orgs = session.client.listOrganizations();
    const peers = readProfileConfig(dir).peers;
    return {
      json: {
        id: session.client.memberId,
        dataDir: dir,
        peers,
        organizations: orgs.map((org) => ({
          id: org.id,
          name: org.identity.displayName,
          role: org.role,
        })),
      },
      human: [
        `id:    ${session.client.memberId}`,
        `data:  ${dir}`,
        `peers: ${peers.length === 0 ? "none (pass --peer)" : peers.join(" ")}`,
        `organizations: ${orgs.length === 0 ? "none" : ""}`,
        ...orgs.map((org) => `  ${orgLine(org)}`),
      ].join("\n"),
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Organizations
// ---------------------------------------------------------------------------------------------------

const orgCreate: CommandSpec = {
  name: "org create",
  summary: "create an organization owned by this identity and publish it",
  args: "NAME",
  minArgs: 1,
  maxArgs: 1,
  options: {
    description: { type: "string", value: "TEXT", help: "description shown to newcomers" },
    access: {
      type: "string",
      value: "MODE",
      help: "who may join: request (owner accepts, default), open (anyone), invite (invitations only)",
    },
    public: { type: "boolean", help: "do not encrypt channel messages (default: encrypted)" },
    channel: {
      type: "string",
      multiple: true,
      value: "ID",
      help: "create this channel too; repeatable (default: general)",
    },
  },
  examples: [
    'orgchat org create "Acme" --description "Acme staff" --access request --channel general --channel random',
  ],
  async run(context) {
    const accessText = str(context.values.access) ?? "request";
    const access = accessModes[accessText];
    if (access === undefined) {
      throw usageError(
        `--access must be request, open or invite, got ${JSON.stringify(accessText)}`,
        this.name,
      );
    }
    const channels = list(context.values.channel).map(channelId);
    const session = await context.session({ network: "online" });
    await session.ready();
    const { client } = session;
    context.progress.update("creating the organization…");
    const id = await client.createOrganization({
      name: arg(context, 0),
      description: str(context.values.description) ?? "",
      access,
      encrypted: context.values.public !== true,
    });
    for (const channel of channels.length === 0 ? ["general"] : channels) {
      await client.createChannel(id, { id: channel, name: channel });
    }
    context.progress.update("waiting for the service node to store it…");
    await session.delivered(id);
    context.progress.done();
    const org = client.getOrganization(id);
    const link = formatLink({
      organizationId: id,
      name: org.identity.displayName,
      peers: session.peers,
    });
    return {
      json: { organization: orgJson(org), link },
      human: `${orgHuman(org, client.memberId)}\n\nshare: ${link}`,
    };
  },
};

const orgShow: CommandSpec = {
  name: "org show",
  summary: "show an organization (or list every organization this identity knows)",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption, offline: offlineOption },
  examples: ["orgchat org show", "orgchat org show --org Acme --json"],
  async run(context) {
    const session = await context.session({
      network: context.values.offline === true ? "offline" : "online",
    });
    await session.ready();
    const { client } = session;
    const orgs = client.listOrganizations();
    if (str(context.values.org) === undefined && orgs.length !== 1) {
      return {
        json: { organizations: orgs.map(orgJson) },
        human: orgs.length === 0 ? "no organizations yet" : orgs.map(orgLine).join("\n"),
      };
    }
    const org = resolveOrg(client, str(context.values.org));
    return { json: { organization: orgJson(org) }, human: orgHuman(org, client.memberId) };
  },
};

const orgLink: CommandSpec = {
  name: "org link",
  summary: "print the share text of an organization: its key and a service node address",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption },
  examples: ["orgchat org link --org Acme"],
  notes: "Anyone with the link can find the organization and ask to join (`orgchat join <link>`).",
  async run(context) {
    const session = await context.session({ network: "offline" });
    const org = resolveOrg(session.client, str(context.values.org));
    const peers =
      session.peers.length > 0 ? session.peers : readProfileConfig(session.dataDir).peers;
    const link = formatLink({ organizationId: org.id, name: org.identity.displayName, peers });
    return {
      json: { organizationId: org.id, name: org.identity.displayName, peers, link },
      human: link,
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Joining
// ---------------------------------------------------------------------------------------------------

const join_: CommandSpec = {
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
    let known = client.listOrganizations().find((org) => org.id === id);
    let requestId: string | undefined;
    let via: "request" | "invitation" | "none" = "none";
    if (known?.role === "owner")
      throw new CliError(`you own ${known.identity.displayName}: nothing to join`);
    if (known?.banned.includes(client.memberId)) {
      throw new CliError(
        `you are banned from ${known.identity.displayName}: only its owner can lift the ban`,
      );
    }
    if (
      known?.role !== "member" &&
      !(known?.role === "requester" && known.request?.status === "pending")
    ) {
      context.progress.update("looking up the organization on the service node…");
      await abortable(client.discover(id, { signal: context.signal }), context.signal);
      const name = str(context.values.name);
      const init = { ...(name === undefined ? {} : { displayName: name }), signal: context.signal };
      context.progress.update("sending the request to the owner…");
      try {
        requestId = await client.acceptInvitation(id, init);
        via = "invitation";
      } catch (error) {
        if ((error as { name?: unknown }).name !== "UnknownTargetError") throw error;
        if (context.values.invitation === true) {
          throw new CliError(
            `no invitation to ${link.name ?? short(id)} for ${short(client.memberId)} arrived: ask the owner to run \`orgchat invite ${client.memberId}\``,
          );
        }
        requestId = await client.requestToJoin(id, init);
        via = "request";
      }
      context.progress.update("waiting for the service node to store the request…");
      await session.delivered(id);
    }
    known = client.getOrganization(id);
    const ready = (org: OrganizationView) =>
      org.role === "member" && (!org.encrypted || org.epoch !== undefined);
    if (context.values.wait === true && !ready(known) && known.request?.status !== "rejected") {
      const started = performance.now();
      for (;;) {
        const org = client.getOrganization(id);
        if (ready(org) || org.request?.status === "rejected" || org.request?.status === "cancelled")
          break;
        const elapsed = (performance.now() - started) / 1000;
        if (elapsed >= waitSeconds) {
          context.progress.done();
          throw new CliError(
            `the owner of ${org.identity.displayName} did not answer within ${waitSeconds} s (it may be offline): your request is saved; run \`orgchat join ${short(id)} --wait\` again later`,
            exitCodes.timeout,
          );
        }
        context.progress.update(
          org.role === "member"
            ? `accepted; waiting for the group keys… ${elapsed.toFixed(0)} s`
            : `waiting for the owner's answer (it must be online)… ${elapsed.toFixed(0)} s of ${waitSeconds} s; Ctrl-C stops waiting, the request stays`,
        );
        await abortable(sleep(200), context.signal);
      }
      context.progress.done();
    } else {
      context.progress.done();
    }
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
    const name = org.identity.displayName;
    if (status === "rejected") {
      return {
        json,
        human: `the owner of ${name} rejected the request: ${org.request?.reason ?? ""}`,
        exitCode: exitCodes.failed,
        error: `the owner of ${name} rejected your request${org.request?.reason ? `: ${org.request.reason}` : ""}`,
      };
    }
    return {
      json,
      human:
        status === "member"
          ? `you are a member of ${name} (${short(id)})${org.encrypted && org.epoch !== undefined ? `, keys for epoch ${org.epoch}` : ""}`
          : `request ${requestId === undefined ? "" : `${short(requestId)} `}sent to the owner of ${name}; wait for the answer with \`orgchat join ${short(id)} --wait\``,
    };
  },
};

const cancel: CommandSpec = {
  name: "cancel",
  summary: "cancel your pending request to join",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption },
  examples: ["orgchat cancel --org Acme"],
  async run(context) {
    return publishChange(context, async (client, org) => {
      await client.cancelRequest(org.id, { signal: context.signal });
      return updated(client, org.id, "request cancelled");
    });
  },
};

const leave: CommandSpec = {
  name: "leave",
  summary: "leave an organization (the owner re-keys without you)",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption },
  examples: ["orgchat leave --org Acme"],
  async run(context) {
    return publishChange(context, async (client, org) => {
      await client.leave(org.id, { signal: context.signal });
      return updated(client, org.id, "left");
    });
  },
};

// ---------------------------------------------------------------------------------------------------
// Owner: requests, invitations, members
// ---------------------------------------------------------------------------------------------------

const requests: CommandSpec = {
  name: "requests",
  summary: "list requests to join (owner); pending ones by default",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    org: orgOption,
    all: { type: "boolean", help: "include decided, cancelled and expired ones" },
  },
  examples: ["orgchat requests", "orgchat requests --all --json"],
  async run(context) {
    const session = await context.session({ network: "online" });
    await session.ready();
    const org = resolveOrg(session.client, str(context.values.org));
    const all = session.client
      .listRequests(org.id)
      .filter((r) => context.values.all === true || r.status === "pending")
      .sort((a, b) => a.sentAt - b.sentAt);
    return {
      json: { organizationId: org.id, requests: all.map(requestJson) },
      human:
        all.length === 0
          ? `no ${context.values.all === true ? "" : "pending "}requests for ${org.identity.displayName}`
          : all.map(requestLine).join("\n"),
    };
  },
};

const accept: CommandSpec = {
  name: "accept",
  summary: "accept a request to join (owner): the requester gets the group keys",
  args: "REQUEST",
  minArgs: 1,
  maxArgs: 1,
  options: { org: orgOption },
  examples: ["orgchat accept 3f9a1c2b", "orgchat accept Alice --org Acme"],
  notes:
    "REQUEST is a request id (or prefix) from `orgchat requests`, or the requester's display name.",
  async run(context) {
    return publishChange(context, async (client, org) => {
      const request = resolveRequest(client, org, arg(context, 0));
      await client.acceptRequest(org.id, request.id, { signal: context.signal });
      return updated(
        client,
        org.id,
        `accepted ${request.displayName || short(request.requester)}`,
        {
          request: requestJson(request),
        },
      );
    });
  },
};

const reject: CommandSpec = {
  name: "reject",
  summary: "reject a request to join (owner); the reason is delivered to the requester",
  args: "REQUEST",
  minArgs: 1,
  maxArgs: 1,
  options: {
    org: orgOption,
    reason: { type: "string", value: "TEXT", help: "why (sent to the requester)" },
  },
  examples: ['orgchat reject 3f9a1c2b --reason "staff only"'],
  async run(context) {
    return publishChange(context, async (client, org) => {
      const request = resolveRequest(client, org, arg(context, 0));
      await client.rejectRequest(org.id, request.id, str(context.values.reason) ?? "", {
        signal: context.signal,
      });
      return updated(
        client,
        org.id,
        `rejected ${request.displayName || short(request.requester)}`,
        {
          request: requestJson(request),
        },
      );
    });
  },
};

const invite: CommandSpec = {
  name: "invite",
  summary: "invite a key (owner): it joins with `orgchat join` at once, whatever the access mode",
  args: "MEMBER_ID",
  minArgs: 1,
  maxArgs: 1,
  options: { org: orgOption },
  examples: ["orgchat invite 9b1e…(64 hex, from the invitee's `orgchat id show`)"],
  async run(context) {
    const invitee = arg(context, 0).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(invitee)) {
      throw usageError(
        "MEMBER_ID must be the invitee's 64-hex id (`orgchat id show` prints it)",
        this.name,
      );
    }
    return publishChange(context, async (client, org) => {
      const invitationId = await client.invite(org.id, invitee, { signal: context.signal });
      return updated(client, org.id, `invited ${short(invitee)}`, { invitationId, invitee });
    });
  },
};

function memberCommand(
  name: "remove" | "ban" | "unban",
  summary: string,
  apply: (client: Client, org: string, member: string, context: CommandContext) => Promise<void>,
  extra: Record<string, OptionSpec> = {},
): CommandSpec {
  return {
    name,
    summary,
    args: "MEMBER",
    minArgs: 1,
    maxArgs: 1,
    options: { org: orgOption, ...extra },
    examples: [`orgchat ${name} 9b1e4d20${name === "ban" ? " --delete-messages" : ""}`],
    notes: "MEMBER is a member id, a prefix of one, or the display name of their request.",
    async run(context) {
      return publishChange(context, async (client, org) => {
        const member = resolveMember(client, org, arg(context, 0));
        await apply(client, org.id, member, context);
        const after = client.getOrganization(org.id);
        return updated(
          client,
          org.id,
          `${name === "ban" ? "banned" : name === "unban" ? "unbanned" : "removed"} ${short(member)}`,
          {
            member,
            ...(after.epoch === undefined ? {} : { epoch: after.epoch.toString() }),
          },
        );
      });
    },
  };
}

const remove = memberCommand(
  "remove",
  "remove a member (owner); re-keys the groups",
  (c, o, m, x) => c.removeMember(o, m, { signal: x.signal }),
);
const ban = memberCommand(
  "ban",
  "ban a member (owner): removed, cannot rejoin, re-keys the groups",
  (c, o, m, x) =>
    c.banMember(o, m, { signal: x.signal, deleteMessages: x.values["delete-messages"] === true }),
  { "delete-messages": { type: "boolean", help: "also delete the member's messages" } },
);
const unban = memberCommand("unban", "lift a ban (owner)", (c, o, m, x) =>
  c.unbanMember(o, m, { signal: x.signal }),
);

const role: CommandSpec = {
  name: "role",
  summary: "set a member's roles (owner): admin, manager, moderator; none to clear",
  args: "MEMBER ROLE…",
  minArgs: 2,
  maxArgs: 4,
  options: { org: orgOption },
  examples: ["orgchat role 9b1e4d20 moderator", "orgchat role 9b1e4d20 none"],
  async run(context) {
    const names = context.args.slice(1).map((r) => r.toLowerCase());
    const roles = names
      .filter((r) => r !== "none")
      .map((r) => {
        const mapped = roleNames[r];
        if (mapped === undefined)
          throw usageError(`unknown role ${r}: use admin, manager, moderator or none`, this.name);
        return mapped;
      });
    return publishChange(context, async (client, org) => {
      const member = resolveMember(client, org, arg(context, 0));
      await client.setRoles(org.id, member, roles, { signal: context.signal });
      return updated(
        client,
        org.id,
        `roles of ${short(member)} set to ${roles.length === 0 ? "none" : roles.join(",")}`,
        {
          member,
          roles,
        },
      );
    });
  },
};

// ---------------------------------------------------------------------------------------------------
// Channels and categories
// ---------------------------------------------------------------------------------------------------

const channelOptions: Record<string, OptionSpec> = {
  org: orgOption,
  name: { type: "string", value: "NAME", help: "display name (default: the id)" },
  description: { type: "string", value: "TEXT", help: "description" },
  category: { type: "string", value: "ID", help: "category id" },
};

const channelCreate: CommandSpec = {
  name: "channel create",
  summary: "create a channel (owner); --restricted limits it to the members you list",
  args: "ID",
  minArgs: 1,
  maxArgs: 1,
  options: {
    ...channelOptions,
    restricted: {
      type: "boolean",
      help: "only listed members read and post (own group keys when encrypted)",
    },
    member: {
      type: "string",
      multiple: true,
      value: "MEMBER",
      help: "member of a restricted channel; repeatable",
    },
  },
  examples: [
    "orgchat channel create general",
    "orgchat channel create core --restricted --member 9b1e4d20",
  ],
  async run(context) {
    const id = channelId(arg(context, 0));
    return publishChange(context, async (client, org) => {
      const restricted = context.values.restricted === true;
      await client.createChannel(
        org.id,
        {
          id,
          name: str(context.values.name) ?? id,
          description: str(context.values.description) ?? "",
          ...(str(context.values.category) === undefined
            ? {}
            : { categoryId: str(context.values.category) as string }),
          access: restricted ? "invitation-only" : "no-membership",
        },
        { signal: context.signal },
      );
      const members = list(context.values.member).map((m) => resolveMember(client, org, m));
      if (members.length > 0) {
        await client.setChannelMembers(org.id, id, Object.fromEntries(members.map((m) => [m, []])));
      }
      return updated(client, org.id, `created #${id}`, { channelId: id, members });
    });
  },
};

const channelEdit: CommandSpec = {
  name: "channel edit",
  summary: "change a channel's name, description or category (owner)",
  args: "ID",
  minArgs: 1,
  maxArgs: 1,
  options: channelOptions,
  examples: ['orgchat channel edit general --description "everyone"'],
  async run(context) {
    const id = channelId(arg(context, 0));
    return publishChange(context, async (client, org) => {
      const name = str(context.values.name);
      const description = str(context.values.description);
      const category = str(context.values.category);
      await client.editChannel(
        org.id,
        id,
        {
          ...(name === undefined ? {} : { name }),
          ...(description === undefined ? {} : { description }),
          ...(category === undefined ? {} : { categoryId: category }),
        },
        { signal: context.signal },
      );
      return updated(client, org.id, `edited #${id}`, { channelId: id });
    });
  },
};

const channelRemove: CommandSpec = {
  name: "channel remove",
  summary: "remove a channel (owner)",
  args: "ID",
  minArgs: 1,
  maxArgs: 1,
  options: { org: orgOption },
  examples: ["orgchat channel remove random"],
  async run(context) {
    const id = channelId(arg(context, 0));
    return publishChange(context, async (client, org) => {
      await client.removeChannel(org.id, id, { signal: context.signal });
      return updated(client, org.id, `removed #${id}`, { channelId: id });
    });
  },
};

const channelMembers: CommandSpec = {
  name: "channel members",
  summary: "replace the member list of a restricted channel (owner)",
  args: "ID MEMBER…",
  minArgs: 1,
  maxArgs: 1000,
  options: { org: orgOption },
  examples: ["orgchat channel members core 9b1e4d20 77aa01fe"],
  async run(context) {
    const id = channelId(arg(context, 0));
    return publishChange(context, async (client, org) => {
      const members = context.args.slice(1).map((m) => resolveMember(client, org, m));
      await client.setChannelMembers(org.id, id, Object.fromEntries(members.map((m) => [m, []])), {
        signal: context.signal,
      });
      return updated(client, org.id, `#${id} members set`, { channelId: id, members });
    });
  },
};

const channelList: CommandSpec = {
  name: "channel list",
  summary: "list the channels of an organization",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption, offline: offlineOption },
  examples: ["orgchat channel list --json"],
  async run(context) {
    const session = await context.session({
      network: context.values.offline === true ? "offline" : "online",
    });
    await session.ready();
    const org = resolveOrg(session.client, str(context.values.org));
    return {
      json: { organizationId: org.id, channels: org.channels.map((c) => ({ ...c })) },
      human:
        org.channels.length === 0
          ? "no channels"
          : table(
              ["channel", "name", "category", "access", "you can post"],
              org.channels.map((c) => [
                `#${c.id}`,
                c.name,
                c.categoryId === "" ? "-" : c.categoryId,
                c.restricted
                  ? "restricted"
                  : c.access === "no-membership" && !c.private
                    ? "all members"
                    : c.access,
                c.canPost ? "yes" : "no",
              ]),
            ),
    };
  },
};

function categoryCommand(
  verb: "create" | "edit" | "remove",
  apply: (
    client: Client,
    org: string,
    id: string,
    name: string,
    signal: AbortSignal,
  ) => Promise<void>,
): CommandSpec {
  return {
    name: `category ${verb}`,
    summary: `${verb} a category of channels (owner)`,
    args: verb === "remove" ? "ID" : "ID NAME",
    minArgs: verb === "remove" ? 1 : 2,
    maxArgs: verb === "remove" ? 1 : 2,
    options: { org: orgOption },
    examples: [
      verb === "remove"
        ? "orgchat category remove eng"
        : `orgchat category ${verb} eng Engineering`,
    ],
    async run(context) {
      return publishChange(context, async (client, org) => {
        await apply(client, org.id, arg(context, 0), arg(context, 1), context.signal);
        return updated(
          client,
          org.id,
          `category ${arg(context, 0)} ${verb === "create" ? "created" : verb === "edit" ? "edited" : "removed"}`,
        );
      });
    },
  };
}

const categoryList: CommandSpec = {
  name: "category list",
  summary: "list the categories of an organization",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption, offline: offlineOption },
  examples: ["orgchat category list"],
  async run(context) {
    const session = await context.session({
      network: context.values.offline === true ? "offline" : "online",
    });
    await session.ready();
    const org = resolveOrg(session.client, str(context.values.org));
    const categories = [...org.categories];
    return {
      json: { organizationId: org.id, categories: Object.fromEntries(categories) },
      human:
        categories.length === 0
          ? "no categories"
          : categories.map(([id, name]) => `${id}  ${name}`).join("\n"),
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------

const send: CommandSpec = {
  name: "send",
  summary: "send a message to a channel",
  args: "CHANNEL TEXT…",
  minArgs: 2,
  maxArgs: 10_000,
  options: {
    org: orgOption,
    "reply-to": { type: "string", value: "ID", help: "id of the message answered" },
  },
  examples: ['orgchat send general "hello, Acme"', "orgchat send '#core' ship it --org Acme"],
  async run(context) {
    const channel = channelId(arg(context, 0));
    const text = context.args.slice(1).join(" ");
    return publishChange(context, async (client, org) => {
      const replyTo = str(context.values["reply-to"]);
      const message = await client.sendMessage(org.id, channel, text, {
        signal: context.signal,
        ...(replyTo === undefined ? {} : { replyTo }),
      });
      return {
        json: { message: messageJson(message) },
        human: `sent to #${channel}: ${short(message.id)}`,
      };
    });
  },
};

/** How authors are named in message lines: the owner by that word, members by id prefix. */
export function authorNames(org: OrganizationView): Map<string, string> {
  return new Map([[org.id, "owner"]]);
}

const read: CommandSpec = {
  name: "read",
  summary: "catch up from the service node and print a channel's messages",
  args: "CHANNEL",
  minArgs: 1,
  maxArgs: 1,
  options: {
    org: orgOption,
    offline: offlineOption,
    limit: { type: "string", value: "N", help: "print the newest N messages (default 50)" },
  },
  examples: ["orgchat read general", "orgchat read general --limit 10 --json"],
  async run(context) {
    const channel = channelId(arg(context, 0));
    const limitText = str(context.values.limit) ?? "50";
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1)
      throw usageError(`--limit needs a positive whole number, got ${limitText}`, this.name);
    const session = await context.session({
      network: context.values.offline === true ? "offline" : "online",
    });
    await session.ready();
    const org = resolveOrg(session.client, str(context.values.org));
    if (!org.channels.some((c) => c.id === channel)) {
      throw new CliError(
        `no channel #${channel} in ${org.identity.displayName}: \`orgchat channel list\` shows them`,
      );
    }
    const messages = session.client.history(org.id, channel).slice(-limit);
    const names = authorNames(org);
    return {
      json: { organizationId: org.id, channelId: channel, messages: messages.map(messageJson) },
      human:
        messages.length > 0
          ? messages.map((m) => messageLine(m, names)).join("\n")
          : org.role !== "member" && org.role !== "owner" && org.encrypted
            ? `#${channel}: no messages (you are ${org.role}: only members read an encrypted organization)`
            : org.channels.some((c) => c.id === channel && c.restricted && !c.canPost)
              ? `#${channel}: no messages you can read (restricted: ask the owner to add you)`
              : `#${channel}: no messages`,
    };
  },
};

/** Every command, in help order. */
export const commands: readonly CommandSpec[] = [
  idCreate,
  idShow,
  serveCommand,
  orgCreate,
  orgShow,
  orgLink,
  join_,
  cancel,
  requests,
  accept,
  reject,
  invite,
  leave,
  remove,
  ban,
  unban,
  role,
  channelCreate,
  channelEdit,
  channelRemove,
  channelMembers,
  channelList,
  categoryCommand("create", (c, o, id, name, signal) => c.createCategory(o, id, name, { signal })),
  categoryCommand("edit", (c, o, id, name, signal) => c.editCategory(o, id, name, { signal })),
  categoryCommand("remove", (c, o, id, _name, signal) => c.removeCategory(o, id, { signal })),
  categoryList,
  send,
  read,
  chatCommand,
];
