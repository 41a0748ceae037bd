/**
 * `orgchat owner backup FILE`, `orgchat owner restore FILE` and `orgchat owner resume`
 * (docs/CLI.md, "Owner continuity"; docs/RESTORE.md): the owner's backup (the identity's backup:
 * the organization key and the organizations' state are in its store), its restore on a new
 * machine that carries the organizations on, and the take-over by the device the user keeps when
 * two devices ran one organization as its owner at once (`owner:fork-detected`).
 */
import type { OwnerRestoreStep } from "@orgchat/client";
import type { CommandSpec } from "../command.js";
import { short } from "../format.js";
import { idBackup, idRestore } from "./backup.js";
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
  notes: `${idBackup.notes ?? ""} The organization key is in the file: whoever opens it owns your organizations. Restore it on a new machine with \`orgchat owner restore FILE\`, which carries the organizations on; never run two copies of an owner's data directory at once (each would stop writing as owner once it sees the other: \`orgchat owner resume\` on the one you keep).`,
};

const resumeChange = changeCommand({
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

/**
 * `owner resume`: on an organization of a restored data directory still inactive (`--org` its id,
 * as `orgchat orgs` lists it), the resume from Store (`owner restore` when Store did not reach back
 * then); else the take-over after two devices ran it at once.
 */
export const ownerResume: CommandSpec = {
  ...resumeChange,
  async run(context) {
    const wanted = String(context.values.org ?? "").toLowerCase();
    const session = await context.session({ network: "online" });
    await session.ready();
    if (session.client.listInactiveOrganizations().some((o) => o.organizationId === wanted)) {
      const [result] = await resumeRestored(context, session, [wanted]);
      context.progress.done();
      return {
        json: { ok: true, action: "resumed", ...result },
        human: `carried on ${short(wanted)} from this device (device ${result?.device}): members follow it on their own`,
      };
    }
    // The take-over after a fork, on the session already open.
    return resumeChange.run({ ...context, session: async () => session });
  },
};

/** Resumes restored organizations one by one, printing each step. */
async function resumeRestored(
  context: Parameters<CommandSpec["run"]>[0],
  session: Awaited<ReturnType<Parameters<CommandSpec["run"]>[0]["session"]>>,
  ids: readonly string[],
): Promise<Array<{ organizationId: string; device: string; clock: string }>> {
  const resumed: Array<{ organizationId: string; device: string; clock: string }> = [];
  for (const organizationId of ids) {
    context.progress.update(`${short(organizationId)}: reading its history from Store…`);
    // Refused (OwnerHistoryGapError): the error says what to do (errors.ts); nothing was sent.
    const result = await session.client.resumeOwner(organizationId, {
      onStep: (step) => context.progress.update(stepText(organizationId, step)),
    });
    context.progress.update(`${short(organizationId)}: waiting for the service node…`);
    await session.delivered(organizationId);
    resumed.push({ organizationId, device: result.device, clock: String(result.clock) });
  }
  return resumed;
}

/** A step of a restored organization's resume, as one progress line. */
function stepText(id: string, step: OwnerRestoreStep): string {
  return step.step === "read"
    ? `${short(id)}: Store read back to clock ${step.clock} (${step.groups} group(s))…`
    : `${short(id)}: group ${step.channelId === "" ? "of the organization" : `#${step.channelId}`} started again at epoch ${step.epoch}…`;
}

export const ownerRestore: CommandSpec = {
  name: "owner restore",
  summary:
    "restore an owner from FILE (`owner backup`) on this machine and carry its organizations on",
  args: "FILE",
  minArgs: 1,
  maxArgs: 1,
  options: idRestore.options,
  examples: [
    "orgchat owner restore ~/acme-owner.orgchat-backup --profile owner-laptop",
    "ORGCHAT_BACKUP_PASSPHRASE=… orgchat owner restore owner.orgchat-backup --data ~/.orgchat/owner2",
  ],
  notes:
    "As `orgchat id restore FILE` (a data directory with no identity; the passphrase on the terminal, from $ORGCHAT_BACKUP_PASSPHRASE or --passphrase-stdin), then, for every organization the backup owns: reads the organization's history from Store back past the backup (the newest description the owner signed, each group's newest epoch and roster), and carries it on from this device: a new device id, every pairwise session and the signed prekey of the backup retired, and every group started again one epoch above the newest on Store, with everyone the history lists as a member (also those accepted after the backup; never those removed after it). Members follow the new device on their own (a new session, then the new epoch's keys). The original device must stay stopped for good. When Store no longer holds the history back to the backup, nothing is sent and the organization stays inactive: run it again with a Store node that holds it, or carry on from the original device.",
  async run(context) {
    const restored = await idRestore.run(context);
    const session = await context.session({ network: "online" });
    await session.ready();
    const ids = session.client.listInactiveOrganizations().map((o) => o.organizationId);
    const resumed = await resumeRestored(context, session, ids);
    context.progress.done();
    const json = restored.json as Record<string, unknown>;
    return {
      json: { ...json, resumed },
      human: [
        restored.human,
        ...resumed.map(
          (r) =>
            `carried on ${short(r.organizationId)} from this device (device ${r.device}): members follow it on their own`,
        ),
      ].join("\n"),
    };
  },
};
