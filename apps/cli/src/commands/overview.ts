/**
 * `orgchat orgs`: every organization this identity knows, with its channels and unread counts (what
 * `read` and `chat` have not shown yet, `read-markers.ts`).
 */
import type { CommandSpec } from "../command.js";
import { short, shownName } from "../format.js";
import { ReadMarkers, unreadCount } from "../read-markers.js";
import { offlineOption } from "./shared.js";

export const orgs: CommandSpec = {
  name: "orgs",
  summary: "your organizations and channels, with unread counts",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: { offline: offlineOption },
  examples: ["orgchat orgs", "orgchat orgs --offline --json"],
  async run(context) {
    const session = await context.session({
      network: context.values.offline === true ? "offline" : "online",
    });
    await session.ready();
    const { client } = session;
    const marks = ReadMarkers.open(session.dataDir);
    const views = client.listOrganizations().map((org) => {
      const readable = org.role === "owner" || org.role === "member" || !org.encrypted;
      const channels = org.channels.map((channel) => {
        const history = readable ? client.history(org.id, channel.id) : [];
        return {
          id: channel.id,
          restricted: channel.restricted,
          messages: history.length,
          unread: unreadCount(history, marks.markerOf(org.id, channel.id)),
        };
      });
      return { org, channels };
    });
    // Kept in the store, not run here (a restored owner's: docs/RESTORE.md).
    const inactive = client.listInactiveOrganizations();
    const inactiveLines = inactive.map(
      ({ organizationId }) =>
        `${short(organizationId)}  owner, inactive: this data directory was restored from a backup (run it from the one it was created in)`,
    );
    const inactiveJson = inactive.map(({ organizationId, reason }) => ({
      id: organizationId,
      inactive: reason,
    }));
    if (views.length === 0 && inactive.length === 0) {
      return {
        json: { organizations: [] },
        human:
          "no organization yet: create one (`orgchat org create NAME`) or join one (`orgchat join <link>`)",
      };
    }
    // Another device writes an owned organization too (docs/RESTORE.md): said, with what to run.
    const forkOf = (org: (typeof views)[number]["org"]) =>
      org.role === "owner" ? client.ownerDevice(org.id).fork : undefined;
    const human = views.flatMap(({ org, channels }) => {
      const unread = channels.reduce((sum, channel) => sum + channel.unread, 0);
      const fork = forkOf(org);
      return [
        `${shownName(org.identity.displayName)}  ${short(org.id)}  ${org.role}, ${org.encrypted ? "encrypted" : "public"}, ${org.members.size} member(s)${unread > 0 ? `, ${unread} unread` : ""}`,
        ...(fork === undefined
          ? []
          : [
              `  halted: device ${fork.device} also runs it as owner; keep one: stop orgchat there, then run \`orgchat owner resume --org ${short(org.id)}\` here`,
            ]),
        ...channels.map(
          (channel) =>
            `  #${shownName(channel.id)}${channel.restricted ? " (restricted)" : ""}  ${channel.unread > 0 ? `${channel.unread} unread` : "read"} of ${channel.messages}`,
        ),
      ];
    });
    return {
      json: {
        organizations: views.map(({ org, channels }) => ({
          id: org.id,
          name: org.identity.displayName,
          role: org.role,
          encrypted: org.encrypted,
          members: org.members.size,
          channels,
          ...(forkOf(org) === undefined
            ? {}
            : { halted: { device: forkOf(org)?.device, clock: String(forkOf(org)?.clock) } }),
        })),
        ...(inactiveJson.length === 0 ? {} : { inactive: inactiveJson }),
      },
      human: [...human, ...inactiveLines].join("\n"),
    };
  },
};
