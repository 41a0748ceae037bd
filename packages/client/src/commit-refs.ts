/**
 * The records of `commit-forks.ts`: a commit's reference (`fork-ref/<key id>`, what the winner
 * order reads; a delegate's kept departures are in `fork-departures.ts`). Read defensively: a
 * record that is not one reads as none.
 *
 * @module
 */
import { fromHex } from "@orgchat/base";
import { decodeJson, encodeJson } from "./encoding.js";

/** What the winner order reads of one commit, and where it hangs. */
export interface CommitRefRecord {
  /** The envelope's signer (hex): the organization key or a delegate's identity key. */
  readonly signer: string;
  readonly clock: bigint;
  /** The parent epoch's key_id (hex). */
  readonly parent: string;
  readonly epoch: bigint;
  readonly channelId: string;
}

/** A reference as `compareCommits` takes it. */
export function commitRef(ref: CommitRefRecord, keyIdHex: string) {
  return { signer: fromHex(ref.signer), clock: ref.clock, keyId: fromHex(keyIdHex) };
}

/** A `fork-ref/<key id>` record. */
export function writeRef(ref: CommitRefRecord): Uint8Array {
  return encodeJson(ref);
}

/** A stored reference, or undefined for a record that is not one. */
export function readRef(bytes: Uint8Array): CommitRefRecord | undefined {
  try {
    const value = decodeJson<Partial<CommitRefRecord>>(bytes);
    if (
      typeof value.signer !== "string" ||
      typeof value.clock !== "bigint" ||
      typeof value.parent !== "string" ||
      typeof value.epoch !== "bigint" ||
      typeof value.channelId !== "string"
    ) {
      return undefined;
    }
    return value as CommitRefRecord;
  } catch {
    return undefined;
  }
}
