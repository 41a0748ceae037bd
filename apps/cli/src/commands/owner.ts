/**
 * `orgchat owner backup FILE` and `orgchat owner resume` (docs/CLI.md, "Owner continuity";
 * docs/RESTORE.md): the owner's backup (the identity's backup: the organization key and the
 * organizations' state are in its store), and the take-over by the device the user keeps when two
 * devices ran one organization as its owner at once (`owner:fork-detected`).
 */
import type { CommandSpec } from "../command.js";
import { idBackup } from "./backup.js";
import { changeCommand } from "./shared.js";

export const ownerBackup: CommandSpec = {
  ...idBackup,
  name: "owner backup",
  summary:
    "write the owner's key and its organizations' state into FILE, sealed with a passphrase (as `id backup`)",
  examples: [
    "orgchat owner backup ~/acme-owner.orgchat-backup",
    "ORGCHAT_BACKUP_PASSPHRASE=… orgchat owner backup owner.orgchat-backup --profile owner",
  ],
  notes: `${idBackup.notes ?? ""} The organization key is in the file: whoever opens it owns your organizations. A restored copy keeps the organizations it owns inactive (carrying them on from a backup is not built: docs/RESTORE.md); never run two copies of an owner's data directory at once (each would stop writing as owner once it sees the other: \`orgchat owner resume\` on the one you keep).`,
};

export const ownerResume = changeCommand({
  name: "owner resume",
  requiresOwner: true,
  summary:
    "carry an organization on from this device after another device also ran it as its owner",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  examples: ["orgchat owner resume --org Acme"],
  notes:
    "When two devices run one organization as its owner at once (a copy of the data directory), each stops writing as owner once it sees the other (`orgchat orgs` says so). Stop orgchat on the device you give up, then run this on the one you keep: it takes a new device id, drops every pairwise session and retires the signed prekey both devices held, writes above the other device's clock, and gives every group a fresh epoch. Members make a new session with it on their own; a request to join pending then must be made again.",
  async change(context, client, org) {
    const before = client.ownerDevice(org.id);
    context.progress.update("taking over as owner on this device…");
    const resumed = await client.resumeOwner(org.id);
    return {
      action: `resumed as owner on this device (device ${resumed.device}${before.fork === undefined ? "" : `; device ${before.fork.device} must stay stopped`})`,
      extra: { device: resumed.device, clock: String(resumed.clock), previous: before },
    };
  },
});
