/** `orgchat org create|show|link`: an organization as a whole. */
import type { CommandSpec } from "../command.js";
import { usageError } from "../errors.js";
import { orgHuman, orgJson, orgLine, short, shownName } from "../format.js";
import { formatLink } from "../link.js";
import { channelId, resolveOrg } from "../resolve.js";
import { readProfileConfig } from "../session.js";
import { arg, list, offlineOption, orgOption, str } from "./shared.js";

const accessModes: Record<string, "no-membership" | "invitation-only" | "on-request"> = {
  open: "no-membership",
  "no-membership": "no-membership",
  request: "on-request",
  "on-request": "on-request",
  invite: "invitation-only",
  invitation: "invitation-only",
  "invitation-only": "invitation-only",
};

export const orgCreate: CommandSpec = {
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

export const orgShow: CommandSpec = {
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

export const orgForget: CommandSpec = {
  name: "org forget",
  summary:
    "forget an organization you only know (a mistyped key, one you left): nothing of it is kept",
  args: "ORG",
  minArgs: 1,
  maxArgs: 1,
  options: {},
  examples: ["orgchat org forget 5f2c9e1a", "orgchat org forget Acme"],
  notes:
    "ORG is a key, a key prefix or a name. Only an organization you do not own, are not a member of and have no pending request to can be forgotten (leave it, or cancel the request, first). Its messages, keys and marks are deleted from this data directory; joining it again starts from nothing.",
  async run(context) {
    const session = await context.session({ network: "offline" });
    const org = resolveOrg(session.client, context.args[0]);
    await session.client.forgetOrganization(org.id, { signal: context.signal });
    return {
      json: { ok: true, forgotten: org.id, name: org.identity.displayName },
      human: `forgot ${shownName(org.identity.displayName || short(org.id))} (${short(org.id)}): nothing of it is kept in ${session.dataDir}`,
    };
  },
};

export const orgLink: CommandSpec = {
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
