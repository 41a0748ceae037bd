/**
 * The one-time sweep of records left by members who departed before their records went with their
 * departure (session 7 of issue #14): an owner's `memberkeys/<member>` and `pairwise/<member>`
 * records (and their chain records) for keys that are no longer members nor strangers it keeps.
 *
 * Since then the unit of work that takes a member out of the state deletes them (`owner-keys.ts`),
 * and a store written before the strangers log was scanned once at its start
 * (`OwnerRequests`): what remains is a store written between the two, whose departed members keep
 * about 400 bytes each for ever. This sweep reads key names only, `departedSweepLimits.keysPerStep`
 * a step, remembers where it stopped in the `departed-swept` record (committed with the step's
 * deletions, so a crash resumes there), and marks the organization done: a start after that reads
 * one record.
 */
import type { Store, StoreOp } from "@orgchat/store";
import { isMemberId } from "@orgchat/wire";
import type { OwnerOrg } from "./org.js";
import { orgSpace } from "./org-records.js";
import { forgetOwnerKeys } from "./owner-keys.js";

/** Bounds of {@link departedRecordsStep}. */
export const departedSweepLimits = {
  /**
   * Key names read by one step (256: a few tens of KB read, at most 4 × 256 deletions in the step's
   * batch). An owner of 10,000 members holds about 20,000 such keys: 80 steps, once.
   */
  keysPerStep: 256,
} as const;

/** The record that says how far the sweep went (`u8 1` once done, else the last key read). */
export const departedSweptKey = "departed-swept";

const done = new Uint8Array([1]);
/** The prefixes swept, in code point order (a member's chain records go with its `pairwise/`). */
const prefixes = ["memberkeys/", "pairwise/"] as const;

/** What one step of the sweep found to do. */
export interface DepartedRecordsStep {
  /** Deletions of departed members' records, and the progress record: commit them together. */
  readonly ops: readonly StoreOp[];
  /** Members whose records `ops` deletes. */
  readonly forgotten: readonly string[];
  /** The sweep is over for this organization (`ops` marks it so; nothing to do after). */
  readonly done: boolean;
}

/**
 * One step of the sweep: reads up to `limit` key names after where the last step stopped, and
 * returns the deletions for members `keep` does not keep, plus the progress record. Run it inside
 * the organization's unit of work (its txn), so that a session written for a stranger meanwhile is
 * not deleted behind its back; commit `ops` with it.
 *
 * @param store - the client's store
 * @param org - an organization this client owns (its in-memory key caches are updated too)
 * @param keep - whether the records of a member id are still needed (a member, a pending
 *   requester, a stranger whose handshake is kept)
 * @param limit - key names read in this step @default departedSweepLimits.keysPerStep
 * @returns the step's ops, the members forgotten, and whether the sweep is over
 * @throws {RangeError} when `limit` is not a positive safe integer
 * @throws what the store's `get` or `keys` throws
 */
export async function departedRecordsStep(
  store: Store,
  org: OwnerOrg,
  keep: (member: string) => boolean,
  limit: number = departedSweepLimits.keysPerStep,
): Promise<DepartedRecordsStep> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`limit: expected a positive safe integer, got ${limit}`);
  }
  const space = orgSpace(org.hex);
  const mark = await store.get(space, departedSweptKey);
  if (mark !== undefined && mark.length === 1 && mark[0] === 1) {
    return { ops: [], forgotten: [], done: true };
  }
  let after = mark === undefined ? undefined : new TextDecoder().decode(mark);
  const ops: StoreOp[] = [];
  const forgotten: string[] = [];
  const seen = new Set<string>();
  let left = limit;
  for (const prefix of prefixes) {
    if (after !== undefined && after >= `${prefix}\uffff`) continue;
    const keys = await store.keys(space, {
      prefix,
      limit: left,
      ...(after === undefined ? {} : { after }),
    });
    for (const key of keys) {
      const member = key.slice(prefix.length);
      if (!seen.has(member) && isMemberId(member) && !keep(member)) {
        ops.push(...forgetOwnerKeys(org, member));
        forgotten.push(member);
      }
      seen.add(member);
      after = key;
    }
    left -= keys.length;
    if (left === 0 && after !== undefined) {
      ops.push({
        type: "put",
        space,
        key: departedSweptKey,
        value: new TextEncoder().encode(after),
      });
      return { ops, forgotten, done: false };
    }
  }
  ops.push({ type: "put", space, key: departedSweptKey, value: done });
  return { ops, forgotten, done: true };
}
