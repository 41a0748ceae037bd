/**
 * Member side, Welcomes kept aside (docs/DELEGATION.md, "An add step found invalid", and
 * docs/PROTOCOL.md, "Delegated management"): a delegate's Welcome a member in the group does not
 * enter now, but may need later.
 *
 * - "lower": of a lower epoch than the group's. Entered if a ban learned later refuses the
 *   branch the member is on (`AddStepJudge.judge`).
 * - "unplaced": of a higher (or the same) epoch, on a branch the member cannot place yet (no
 *   commit reference of it joins the group's chain): the member was added twice, once on each side
 *   of a fork. Entered once its branch is known to follow ours or ours is known to lose to it;
 *   dropped once it is known to lose (`AddStepJudge.placeAside`).
 *
 * Bounded: at most {@link asideWelcomeLimits}`.maxPerOrg` per organization, the newest (a Welcome
 * comes only over a delegate's pairwise session, so only delegates can fill it). Stored with the
 * unit of work that keeps them (`aside-welcome/<key id>` in the organization's space, sealed like
 * the waiting Welcomes: they hold the epoch and leaf secrets), so that a restart between a Welcome
 * and its use keeps it; read at the first use after a start ({@link AsideWelcomes.load}); deleted
 * with the organization (`Persistence.forget` deletes its space).
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import type { StoreOp } from "@orgchat/store";
import type { CommitRefRecord } from "./commit-refs.js";
import type { ClientCore } from "./core.js";
import type { ReceivedWelcome } from "./key-sync.js";
import type { MemberOrg, Txn } from "./org.js";
import { orgSpace } from "./persistence.js";

/** The bounds of the Welcomes kept aside. */
export const asideWelcomeLimits = {
  /** Welcomes kept aside per organization (the newest), of both kinds together. */
  maxPerOrg: 4,
} as const;

/** Why a Welcome is kept aside (see the module). */
export type AsideKind = "lower" | "unplaced";

/** One Welcome kept aside, with its order of arrival (`seq`, higher is newer). */
export interface AsideWelcome {
  readonly kind: AsideKind;
  readonly welcome: ReceivedWelcome;
  readonly seq: number;
}

/** The stored record (`aside-welcome/<key id>`), sealed. */
interface AsideRecord {
  readonly v: 1;
  readonly kind: AsideKind;
  readonly seq: number;
  readonly welcome: ReceivedWelcome;
}

const keyPrefix = "aside-welcome/";

/**
 * Whether commit `child` is known to follow commit `ancestor`: walking the references up from
 * `child` (at most `maxSteps`) reaches `ancestor`.
 */
export function knownToFollow(
  refs: ReadonlyMap<string, CommitRefRecord>,
  child: string,
  ancestor: string,
  maxSteps: number,
): boolean {
  let at = child;
  for (let step = 0; step < maxSteps; step++) {
    const ref = refs.get(at);
    if (ref === undefined) return false;
    if (ref.parent === ancestor) return true;
    at = ref.parent;
  }
  return false;
}

/** A stored record, or undefined when it is not one (skipped: the Welcome is lost, no more). */
function readRecord(c: ClientCore, space: string, key: string, bytes: Uint8Array) {
  try {
    const record = c.p.vault.openJson<AsideRecord>(space, key, bytes);
    const ok =
      record.v === 1 &&
      (record.kind === "lower" || record.kind === "unplaced") &&
      Number.isSafeInteger(record.seq) &&
      typeof record.welcome === "object" &&
      record.welcome !== null &&
      record.welcome.keyId instanceof Uint8Array &&
      typeof record.welcome.channelId === "string" &&
      typeof record.welcome.epoch === "bigint" &&
      toHex(record.welcome.keyId) === key.slice(keyPrefix.length);
    return ok ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Welcomes kept aside, per organization (oldest first), read from the store once.
 * @example
 * ```ts
 * await aside.load(org); // once after a start
 * aside.keep(org, txn, "unplaced", welcome); // stored with txn
 * aside.drop(org, txn, keyIdHex);
 * ```
 */
export class AsideWelcomes {
  readonly #c: ClientCore;
  readonly #byOrg = new WeakMap<MemberOrg, AsideWelcome[]>();
  readonly #loaded = new WeakSet<MemberOrg>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** The Welcomes kept aside for `org`, oldest first (of `kind` only, when given). */
  list(org: MemberOrg, kind?: AsideKind): readonly AsideWelcome[] {
    const all = this.#byOrg.get(org) ?? [];
    return kind === undefined ? all : all.filter((entry) => entry.kind === kind);
  }

  /**
   * Reads the stored Welcomes once; those kept meanwhile are newer and stay (stored again after
   * the others), the oldest past {@link asideWelcomeLimits}`.maxPerOrg` go (their records deleted;
   * a record that does not open too), in a commit of its own.
   */
  async load(org: MemberOrg): Promise<void> {
    if (this.#loaded.has(org)) return;
    this.#loaded.add(org);
    const { store } = this.#c.p;
    const space = orgSpace(org.hex);
    const keys = await store.keys(space, { prefix: keyPrefix });
    const stored: AsideWelcome[] = [];
    const ops: StoreOp[] = [];
    for (const key of keys) {
      const bytes = await store.get(space, key);
      const record = bytes === undefined ? undefined : readRecord(this.#c, space, key, bytes);
      if (record === undefined) ops.push({ type: "delete", space, key });
      else stored.push({ kind: record.kind, welcome: record.welcome, seq: record.seq });
    }
    stored.sort((a, b) => a.seq - b.seq);
    // Those kept meanwhile come after the stored ones: stored again with the next numbers.
    let seq = stored.at(-1)?.seq ?? 0;
    const noted: AsideWelcome[] = [];
    for (const entry of this.#byOrg.get(org) ?? []) {
      const moved = { ...entry, seq: ++seq };
      noted.push(moved);
      ops.push(this.#put(space, moved));
    }
    const known = new Set(noted.map((entry) => toHex(entry.welcome.keyId)));
    const merged = [...stored.filter((entry) => !known.has(toHex(entry.welcome.keyId))), ...noted];
    const over = merged.length - asideWelcomeLimits.maxPerOrg;
    for (const old of merged.slice(0, Math.max(0, over))) {
      ops.push({ type: "delete", space, key: `${keyPrefix}${toHex(old.welcome.keyId)}` });
    }
    this.#byOrg.set(org, merged.slice(Math.max(0, over)));
    if (ops.length > 0) await store.batch(ops);
  }

  /**
   * Keeps `welcome` aside (once per key id: a copy replaces the one kept), in `txn`; the oldest
   * past {@link asideWelcomeLimits}`.maxPerOrg` go.
   */
  keep(org: MemberOrg, txn: Txn, kind: AsideKind, welcome: ReceivedWelcome): void {
    const keyIdHex = toHex(welcome.keyId);
    const list = (this.#byOrg.get(org) ?? []).filter(
      (entry) => toHex(entry.welcome.keyId) !== keyIdHex,
    );
    const seq = Math.max(0, ...list.map((entry) => entry.seq)) + 1;
    const entry = { kind, welcome, seq };
    list.push(entry);
    const space = orgSpace(org.hex);
    txn.ops.push(this.#put(space, entry));
    const over = list.length - asideWelcomeLimits.maxPerOrg;
    for (const old of list.slice(0, Math.max(0, over))) {
      txn.ops.push({ type: "delete", space, key: `${keyPrefix}${toHex(old.welcome.keyId)}` });
    }
    this.#byOrg.set(org, list.slice(Math.max(0, over)));
  }

  /** The sealed record of `entry`. */
  #put(space: string, entry: AsideWelcome): StoreOp {
    const key = `${keyPrefix}${toHex(entry.welcome.keyId)}`;
    const record: AsideRecord = { v: 1, ...entry };
    return { type: "put", space, key, value: this.#c.p.vault.sealJson(space, key, record) };
  }

  /** Drops the Welcome of commit `keyIdHex` (entered, or of no use any more), in `txn`. */
  drop(org: MemberOrg, txn: Txn, keyIdHex: string): void {
    const list = this.#byOrg.get(org);
    if (list === undefined) return;
    const rest = list.filter((entry) => toHex(entry.welcome.keyId) !== keyIdHex);
    if (rest.length === list.length) return;
    this.#byOrg.set(org, rest);
    txn.ops.push({ type: "delete", space: orgSpace(org.hex), key: `${keyPrefix}${keyIdHex}` });
  }
}
