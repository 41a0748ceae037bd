import type { ClientCore } from "./core.js";
import { decodeJson, encodeJson } from "./encoding.js";
import { FreshKeysPendingError, StoreCorruptedError } from "./errors.js";
import { type ResyncBackoff, resyncStep } from "./member-controller.js";
import { type MemberOrg, newTxn, type Org, type RestoreFloors, type Txn } from "./org.js";
import { orgSpace } from "./org-records.js";
import { initiateOwnerSession } from "./pairwise.js";
import { restoreMarkerKey } from "./restore-marker.js";
import { isRestricted } from "./views.js";

/** The record of a restored member's send floors, in its organization's space. */
export const restoreRecordKey = "restore";

/** The stored form of {@link RestoreFloors}: epochs as decimal strings. */
interface RestoreRecord {
  readonly v: 1;
  readonly floors: Record<string, string>;
  readonly asked: Record<string, string>;
}

function floorOf(text: string): bigint | "pending" {
  return text === "pending" ? "pending" : BigInt(text);
}

function floorsText(floors: ReadonlyMap<string, bigint | "pending">): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [groupId, floor] of floors) out[groupId] = String(floor);
  return out;
}

/** Whether `floor` holds `epoch` back. */
function holdsBack(floor: bigint | "pending" | undefined, epoch: bigint | undefined): boolean {
  if (floor === undefined) return false;
  return floor === "pending" || epoch === undefined || epoch <= floor;
}

/**
 * Reads a member organization's restore record (present only while its restore runs).
 * @returns the floors
 * @throws {StoreCorruptedError} when the record does not decode
 */
export function decodeRestoreRecord(bytes: Uint8Array, where: string): RestoreFloors {
  try {
    const record = decodeJson<RestoreRecord>(bytes);
    if (record.v !== 1) throw new Error("format");
    const floors = new Map<string, bigint | "pending">();
    for (const [group, floor] of Object.entries(record.floors)) floors.set(group, floorOf(floor));
    const asked = new Map<string, bigint | "pending">();
    for (const [group, floor] of Object.entries(record.asked)) asked.set(group, floorOf(floor));
    return { floors, asked };
  } catch (cause) {
    throw new StoreCorruptedError(where, { cause });
  }
}

/**
 * A member's way back after its store was restored from a backup (docs/RESTORE.md, "Proposed
 * rule"). The copy may sit behind sends the device it was copied from made after the backup: its
 * sender chains and its pairwise session would use their keys again. So, at the first start on a
 * marked store, per member organization: the pairwise session is dropped and a new X3DH one made,
 * Welcomes waiting from before are dropped, every group gets the floor "pending" (nothing is sent),
 * and the owner is asked for a fresh epoch of each group (a resync request flagged `restored`). A
 * Welcome that comes on the new session sets the floor: its epoch, or the one before when the owner
 * says it made the epoch after the request (`fresh_epoch`). Sends in a group wait until its epoch is
 * above the floor ({@link FreshKeysPendingError}); the request is repeated with the resync back-off
 * until then. Owns: `MemberSide.restore` and its `restore` record; the store's restore mark.
 */
export class Restore {
  readonly #c: ClientCore;
  /** Back-off of the repeated requests, per `<org>/<group>`. */
  readonly #backoff = new Map<string, ResyncBackoff>();
  /** The retry timer of each organization still held back, by id. */
  readonly #timers = new Map<string, unknown>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /**
   * At the first start on a store restored from a backup, before anything is sent: re-keys every
   * member organization (see the class), then removes the mark unless `keepMark` (owned
   * organizations stay inactive and need it at every start).
   * @param orgs - the member organizations loaded from the store
   */
  async begin(orgs: readonly MemberOrg[], keepMark: boolean): Promise<void> {
    const c = this.#c;
    for (const org of orgs) {
      const member = org.member;
      const txn = newTxn(org);
      const floors = new Map<string, bigint | "pending">([["", "pending"]]);
      for (const groupId of member.groups.keys()) floors.set(groupId, "pending");
      member.restore = { floors, asked: new Map() };
      // Welcomes held from before the backup could set a floor below what the original used.
      for (const keyIdHex of member.waitingWelcomes.keys()) {
        txn.ops.push({ type: "delete", space: orgSpace(org.hex), key: `welcome/${keyIdHex}` });
      }
      member.waitingWelcomes.clear();
      // The copy's session with the owner is never sent on again.
      member.ownerSession = undefined;
      txn.ops.push({ type: "delete", space: orgSpace(org.hex), key: "pairwise/owner" });
      const retryIn = org.role === "member" ? await this.#askAll(org, txn) : undefined;
      this.#persist(org, txn);
      await c.persistence.commit(org, txn);
      if (retryIn !== undefined) this.#arm(org, retryIn);
    }
    if (!keepMark) await c.p.store.delete(restoreMarkerKey.space, restoreMarkerKey.key);
  }

  /**
   * Whether this device may send in `groupId` now.
   * @throws {FreshKeysPendingError} when the organization was restored here and the group has not
   *   reached an epoch above its floor
   */
  check(org: Org, groupId: string, epoch: bigint): void {
    if (org.role === "owner") return;
    const restore = org.member.restore;
    if (restore === undefined) return;
    if (holdsBack(restore.floors.get(groupId) ?? "pending", epoch)) {
      throw new FreshKeysPendingError(org.hex, groupId);
    }
  }

  /**
   * A Welcome was entered on a restored store (it came on the session made after the restore: the
   * old one is gone): it sets the group's floor, its own epoch or, for a Welcome of an epoch the
   * owner made after the request (`freshEpoch`), the one before. Then asks for a fresh epoch, in a
   * unit of work of its own, unless one was asked for at this floor already.
   */
  onWelcome(org: MemberOrg, txn: Txn, groupId: string, epoch: bigint, freshEpoch: boolean): void {
    const restore = org.member.restore;
    if (restore === undefined) return;
    const floor = freshEpoch && epoch > 0n ? epoch - 1n : epoch;
    // (`entered`, called after this for the same Welcome, ends the restore when this was the last.)
    const held = restore.floors.get(groupId);
    const next = held === undefined || held === "pending" || held < floor ? floor : held;
    restore.floors.set(groupId, next);
    this.#persist(org, txn);
    if (!holdsBack(next, epoch) || restore.asked.get(groupId) === next) return;
    const c = this.#c;
    c.runtime.background(org.hex, async () => {
      if (org.member.restore === undefined || org.role !== "member") return;
      const own = newTxn(org);
      await this.#ask(org, own, groupId);
      this.#persist(org, own);
      await c.persistence.commit(org, own);
    });
  }

  /**
   * A group entered an epoch: once every group this member is entitled to (the organization's, and
   * each restricted channel whose roster lists it) is held and above its floor, the restore is over:
   * the floors and their record go, and later Welcomes are ordinary ones (a Welcome of the epoch a
   * group is in goes on with its own chain: key-sync.ts).
   */
  entered(org: MemberOrg, txn: Txn): void {
    const restore = org.member.restore;
    if (restore === undefined) return;
    const state = org.log.state;
    const me = this.#c.memberId;
    const entitled = new Set([...restore.floors.keys(), ""]);
    for (const [id, channel] of state.channels) {
      if (isRestricted(state, id) && channel.members.has(me)) entitled.add(id);
    }
    for (const groupId of entitled) {
      const floor = restore.floors.get(groupId) ?? "pending";
      if (holdsBack(floor, org.member.groups.get(groupId)?.epoch)) return;
    }
    org.member.restore = undefined;
    txn.ops.push({ type: "delete", space: orgSpace(org.hex), key: restoreRecordKey });
    for (const key of [...this.#backoff.keys()]) {
      if (key.startsWith(`${org.hex}/`)) this.#backoff.delete(key);
    }
  }

  /**
   * The owner's bundle names another device than the one before (docs/RESTORE.md, "Owner
   * continuity"): that device holds none of this member's pairwise session with the owner (and
   * the device before may have sent on it), so the session is dropped, a new X3DH one made from
   * the new bundle, and a resync request sent for every group held: the owner answers with a
   * Welcome of its current epoch. Only an owner-signed bundle gets here, so this costs one session
   * and one request per group each time the owner changes devices.
   * @param txn - the unit of work of the bundle (the session is saved with it)
   */
  async ownerDeviceChanged(org: MemberOrg, txn: Txn): Promise<void> {
    const member = org.member;
    // No session yet (a requester that never wrote, an observer): the next one uses the new bundle.
    if (member.ownerSession === undefined) return;
    member.ownerSession = undefined;
    txn.ops.push({ type: "delete", space: orgSpace(org.hex), key: "pairwise/owner" });
    if (!this.#newSession(org, txn)) return;
    // (Not a member in the description held, e.g. removed on the other device's branch: a later
    // description that lists it again finds its keys missing and asks on this session.)
    if (org.role !== "member") return;
    for (const groupId of member.groups.keys()) {
      await this.#c.recovery.sendRequest(org, txn, groupId, false);
    }
  }

  /**
   * Asks again, on the resync back-off, for every group still held back: at a start (after the
   * catch-up, which may have brought the answer) and from its own retry timer. A session not made
   * yet (no owner bundle then) is made first.
   */
  async tick(org: MemberOrg): Promise<void> {
    const restore = org.member.restore;
    if (restore === undefined || org.role !== "member") return;
    const txn = newTxn(org);
    const retryIn = await this.#askAll(org, txn);
    if (txn.outbox.length > 0) {
      this.#persist(org, txn);
      await this.#c.persistence.commit(org, txn);
    }
    if (retryIn !== undefined) this.#arm(org, retryIn);
  }

  /**
   * Asks for every group that is still held back, each on its back-off.
   * @returns the soonest time (ms from now) one of them may be asked for again; undefined when none
   *   is held back
   */
  async #askAll(org: MemberOrg, txn: Txn): Promise<number | undefined> {
    const c = this.#c;
    const restore = org.member.restore;
    if (restore === undefined) return undefined;
    let soonest: number | undefined;
    for (const [groupId, floor] of restore.floors) {
      if (!holdsBack(floor, org.member.groups.get(groupId)?.epoch)) continue;
      const key = `${org.hex}/${groupId}`;
      const step = resyncStep({
        backoff: this.#backoff.get(key),
        now: c.now(),
        initialBackoffMs: c.p.config.resyncInitialBackoffMs,
        maxBackoffMs: c.p.config.resyncMaxBackoffMs,
        jitterByte: () => c.p.random(1)[0] ?? 0,
      });
      soonest = Math.min(soonest ?? step.retryIn, step.retryIn);
      if (step.action === "wait") continue;
      this.#backoff.set(key, step.backoff);
      await this.#ask(org, txn, groupId);
    }
    return soonest;
  }

  /** Runs {@link tick} for `org` in `delay` ms (one timer per organization). */
  #arm(org: MemberOrg, delay: number): void {
    const c = this.#c;
    if (this.#timers.has(org.hex) || c.runtime.closed) return;
    this.#timers.set(
      org.hex,
      c.p.timers.setTimeout(() => {
        this.#timers.delete(org.hex);
        if (c.runtime.closed) return;
        c.runtime.background(org.hex, () => this.tick(org));
      }, delay),
    );
  }

  /** One resync request flagged `restored` for `groupId`, on a session made after the restore. */
  async #ask(org: MemberOrg, txn: Txn, groupId: string): Promise<void> {
    const c = this.#c;
    const member = org.member;
    if (member.ownerSession === undefined && !this.#newSession(org, txn)) return;
    await c.recovery.sendRequest(org, txn, groupId, true);
    const floor = member.restore?.floors.get(groupId);
    if (floor !== undefined) member.restore?.asked.set(groupId, floor);
  }

  /** A new X3DH session with the owner, from its bundle. @returns false when there is no bundle yet */
  #newSession(org: MemberOrg, txn: Txn): boolean {
    const c = this.#c;
    if (org.member.bundle === undefined) return false;
    try {
      org.member.ownerSession = initiateOwnerSession(c, org, org.member.bundle);
    } catch (error) {
      c.report({ component: "client/restore", reason: "owner-bundle-unusable", error });
      return false;
    }
    txn.sessions.add("owner");
    return true;
  }

  #persist(org: MemberOrg, txn: Txn): void {
    const restore = org.member.restore;
    if (restore === undefined) return;
    const record: RestoreRecord = {
      v: 1,
      floors: floorsText(restore.floors),
      asked: floorsText(restore.asked),
    };
    txn.ops.push({
      type: "put",
      space: orgSpace(org.hex),
      key: restoreRecordKey,
      value: encodeJson(record),
    });
  }
}
