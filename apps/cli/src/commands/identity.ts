/** `orgchat id create` and `orgchat id show`: the identity of a data directory. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CommandSpec } from "../command.js";
import { CliError } from "../errors.js";
import { orgLine } from "../format.js";
import { dataDirOf, readProfileConfig } from "../session.js";

export const idCreate: CommandSpec = {
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

export const idShow: CommandSpec = {
  name: "id show",
  summary: "print this identity's member id, data directory and service nodes",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {},
  examples: ["orgchat id show --json"],
  notes:
    "The id is this identity's public key: what others invite (`orgchat invite ID`) and what messages are signed with as a member. An organization you create gets a key of its own, which is its id (what links carry); the owner signs the organization's changes with that key, so the organizations you own are listed with a key different from your id.",
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
        orgs.length === 0 ? "organizations: none" : "organizations:",
        ...orgs.map((org) => `  ${orgLine(org)}`),
        ...(orgs.some((org) => org.role === "owner")
          ? [
              "(an organization's key is its own, not your id: you own it by holding that key, kept in this data directory)",
            ]
          : []),
      ].join("\n"),
    };
  },
};
