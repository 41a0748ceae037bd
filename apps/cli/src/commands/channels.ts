/** `orgchat channel …` and `orgchat category …`: the channels of an organization and their categories. */
import type { Client } from "@orgchat/client";
import type { CommandSpec, OptionSpec } from "../command.js";
import { shownName, table } from "../format.js";
import { channelId, resolveMember } from "../resolve.js";
import { arg, changeCommand, list, offlineOption, openOrg, orgOption, str } from "./shared.js";

/** `--name`, `--description`, `--category` (create and edit; `--org` comes with every change). */
const channelOptions: Record<string, OptionSpec> = {
  name: { type: "string", value: "NAME", help: "display name (default: the id)" },
  description: { type: "string", value: "TEXT", help: "description" },
  category: { type: "string", value: "ID", help: "category id" },
};

export const channelCreate = changeCommand({
  name: "channel create",
  requiresOwner: true,
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
  async change(context, client, org) {
    const id = channelId(arg(context, 0));
    const category = str(context.values.category);
    await client.createChannel(
      org.id,
      {
        id,
        name: str(context.values.name) ?? id,
        description: str(context.values.description) ?? "",
        ...(category === undefined ? {} : { categoryId: category }),
        access: context.values.restricted === true ? "invitation-only" : "no-membership",
      },
      { signal: context.signal },
    );
    const members = list(context.values.member).map((m) => resolveMember(client, org, m));
    if (members.length > 0) {
      await client.setChannelMembers(org.id, id, Object.fromEntries(members.map((m) => [m, []])));
    }
    return { action: `created #${id}`, extra: { channelId: id, members } };
  },
});

export const channelEdit = changeCommand({
  name: "channel edit",
  requiresOwner: true,
  summary: "change a channel's name, description or category (owner)",
  args: "ID",
  minArgs: 1,
  maxArgs: 1,
  options: channelOptions,
  examples: ['orgchat channel edit general --description "everyone"'],
  async change(context, client, org) {
    const id = channelId(arg(context, 0));
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
    return { action: `edited #${id}`, extra: { channelId: id } };
  },
});

export const channelRemove = changeCommand({
  name: "channel remove",
  requiresOwner: true,
  summary: "remove a channel (owner)",
  args: "ID",
  minArgs: 1,
  maxArgs: 1,
  examples: ["orgchat channel remove random"],
  async change(context, client, org) {
    const id = channelId(arg(context, 0));
    await client.removeChannel(org.id, id, { signal: context.signal });
    return { action: `removed #${id}`, extra: { channelId: id } };
  },
});

export const channelMembers = changeCommand({
  name: "channel members",
  requiresOwner: true,
  summary: "replace the member list of a restricted channel (owner)",
  args: "ID MEMBER…",
  minArgs: 1,
  maxArgs: 1000,
  examples: ["orgchat channel members core 9b1e4d20 77aa01fe"],
  async change(context, client, org) {
    const id = channelId(arg(context, 0));
    const members = context.args.slice(1).map((m) => resolveMember(client, org, m));
    await client.setChannelMembers(org.id, id, Object.fromEntries(members.map((m) => [m, []])), {
      signal: context.signal,
    });
    return { action: `#${id} members set`, extra: { channelId: id, members } };
  },
});

export const channelList: CommandSpec = {
  name: "channel list",
  summary: "list the channels of an organization",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption, offline: offlineOption },
  examples: ["orgchat channel list --json"],
  async run(context) {
    const { org } = await openOrg(context);
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

/** `category create|edit|remove`: the verb, its past tense, and the client call. */
const categoryActions = [
  {
    verb: "create",
    done: "created",
    apply: (c: Client, o: string, id: string, name: string, signal: AbortSignal) =>
      c.createCategory(o, id, name, { signal }),
  },
  {
    verb: "edit",
    done: "edited",
    apply: (c: Client, o: string, id: string, name: string, signal: AbortSignal) =>
      c.editCategory(o, id, name, { signal }),
  },
  {
    verb: "remove",
    done: "removed",
    apply: (c: Client, o: string, id: string, _name: string, signal: AbortSignal) =>
      c.removeCategory(o, id, { signal }),
  },
] as const;

export const [categoryCreate, categoryEdit, categoryRemove] = categoryActions.map(
  ({ verb, done, apply }) =>
    changeCommand({
      name: `category ${verb}`,
      requiresOwner: true,
      summary: `${verb} a category of channels (owner)`,
      args: verb === "remove" ? "ID" : "ID NAME",
      minArgs: verb === "remove" ? 1 : 2,
      maxArgs: verb === "remove" ? 1 : 2,
      examples: [
        verb === "remove"
          ? "orgchat category remove eng"
          : `orgchat category ${verb} eng Engineering`,
      ],
      async change(context, client, org) {
        await apply(client, org.id, arg(context, 0), arg(context, 1), context.signal);
        return { action: `category ${arg(context, 0)} ${done}` };
      },
    }),
) as [CommandSpec, CommandSpec, CommandSpec];

export const categoryList: CommandSpec = {
  name: "category list",
  summary: "list the categories of an organization",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { org: orgOption, offline: offlineOption },
  examples: ["orgchat category list"],
  async run(context) {
    const { org } = await openOrg(context);
    const categories = [...org.categories];
    return {
      json: { organizationId: org.id, categories: Object.fromEntries(categories) },
      human:
        categories.length === 0
          ? "no categories"
          : categories.map(([id, name]) => `${shownName(id)}  ${shownName(name)}`).join("\n"),
    };
  },
};
