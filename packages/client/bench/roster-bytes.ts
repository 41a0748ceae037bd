/**
 * Roster bytes per admission (issue #14): what a client writes to its store for rosters, and what
 * the owner publishes on the keys topic, per admission into an organization of N members (one
 * joiner per epoch), with the JSON record of the earlier format (a full roster per epoch) and with
 * the binary snapshot + delta records (`roster-records.ts`, pruned to the newest rosters) and the
 * snapshot publication policy (`roster-policy.ts`).
 *
 *   node --import tsx --conditions=@orgchat/source bench/roster-bytes.ts [--json] [N ...]
 */
import { defaultProvider, type RosterLeaf, rosterHash } from "@orgchat/crypto";
import { encodeEpochRoster } from "@orgchat/wire";
import { encodeJson, toHex } from "../src/encoding.js";
import {
  type EpochRoster,
  rosterDeltaMessage,
  rosterSnapshotMessages,
} from "../src/epoch-roster.js";
import { RosterBook } from "../src/roster-book.js";
import { RosterCadence, snapshotDue, snapshotWireBytes } from "../src/roster-policy.js";
import { pruneRosterOps, rosterRecordOps } from "../src/roster-records.js";

const provider = defaultProvider();
/** Sealing adds the envelope (header, signature): ~170 bytes per message. */
const envelopeBytes = 170;

function counter(seed: number): (length: number) => Uint8Array {
  let n = seed * 1_000_003;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      n = (n * 1_103_515_245 + 12_345) >>> 0;
      out[i] = n >>> 24;
    }
    return out;
  };
}

function measure(members: number): Record<string, number> {
  // Enough admissions for the snapshots to be amortized: the deltas reach half a snapshot's weight
  // after about N / 4 joiners.
  const admissions = Math.max(100, Math.floor(members / 2));
  const random = counter(members);
  let storedSnapshots = 0;
  let publishedSnapshots = 0;
  let roster: Array<RosterLeaf | undefined> = [];
  for (let i = 0; i < members; i++) {
    roster.push({ identityKey: random(32), signingKey: random(32), prekey: random(32) });
  }
  let previous: EpochRoster = {
    change: "genesis",
    channelId: "",
    epoch: 0n,
    keyId: random(8),
    previousKeyId: new Uint8Array(0),
    rosterHash: rosterHash(provider, roster),
    previousRosterHash: new Uint8Array(0),
    roster,
  };
  const book = new RosterBook(provider);
  book.add(previous);
  rosterRecordOps(book, "s", previous);
  const cadence = new RosterCadence();
  cadence.noteSnapshot("o", "");
  let jsonBytes = 0;
  let recordBytes = 0;
  let deltaWire = 0;
  let snapshotWire = 0;
  const kept: string[] = [toHex(previous.keyId)];
  for (let epoch = 1; epoch <= admissions; epoch++) {
    roster = [...roster];
    roster.push({ identityKey: random(32), signingKey: random(32), prekey: random(32) });
    const record: EpochRoster = {
      change: "add",
      channelId: "",
      epoch: BigInt(epoch),
      keyId: random(8),
      previousKeyId: previous.keyId,
      rosterHash: rosterHash(provider, roster),
      previousRosterHash: previous.rosterHash,
      roster,
    };
    // The JSON record grows linearly with the roster: measured at the first and last admission.
    if (epoch === 1 || epoch === admissions)
      jsonBytes += (encodeJson(record).length * admissions) / 2;
    book.add(record);
    kept.push(toHex(record.keyId));
    const ops = rosterRecordOps(book, "s", record);
    ops.push(...pruneRosterOps(book, "s", new Set(kept.slice(-4))));
    for (const op of ops) if (op.type === "put") recordBytes += op.value.length;
    if (book.records.get(toHex(record.keyId))?.kind === "snapshot") storedSnapshots++;
    const delta = rosterDeltaMessage(record, previous.roster);
    const deltaBytes =
      delta === undefined ? 0 : encodeEpochRoster(delta as never).length + envelopeBytes;
    deltaWire += deltaBytes;
    const due = snapshotDue({
      change: "add",
      deltaFits: delta !== undefined,
      deltaBytesSinceSnapshot: cadence.since("o", ""),
      deltaBytes,
      snapshotBytes: snapshotWireBytes(roster),
    });
    if (due) {
      for (const page of rosterSnapshotMessages(record)) {
        snapshotWire += encodeEpochRoster(page as never).length + envelopeBytes;
      }
      cadence.noteSnapshot("o", "");
      publishedSnapshots++;
    } else {
      cadence.noteDelta("o", "", deltaBytes);
    }
    previous = record;
  }
  return {
    members,
    admissions,
    storeBytesPerAdmissionBefore: Math.round(jsonBytes / admissions),
    storeBytesPerAdmissionAfter: Math.round(recordBytes / admissions),
    keysTopicBytesPerAdmissionBefore: Math.round(deltaWire / admissions),
    keysTopicBytesPerAdmissionAfter: Math.round((deltaWire + snapshotWire) / admissions),
    storedSnapshots,
    publishedSnapshots,
  };
}

const json = process.argv.includes("--json");
const sizes = process.argv
  .slice(2)
  .filter((arg) => /^\d+$/.test(arg))
  .map(Number);
const results = (sizes.length > 0 ? sizes : [1_000, 10_000]).map(measure);
if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  for (const r of results) {
    console.log(
      `N=${r.members}: store ${r.storeBytesPerAdmissionBefore} → ${r.storeBytesPerAdmissionAfter} B/admission; ` +
        `keys topic ${r.keysTopicBytesPerAdmissionBefore} → ${r.keysTopicBytesPerAdmissionAfter} B/admission ` +
        `(over ${r.admissions} admissions; ${r.storedSnapshots} snapshots stored, ${r.publishedSnapshots} published)`,
    );
  }
}
