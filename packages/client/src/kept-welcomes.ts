/**
 * A delegate's copy of each Welcome it sent (docs/PROTOCOL.md, "Requests asked again"): the
 * sealed envelope, as it went out, of the Welcome its add step gave a joiner. When that Welcome is
 * lost on the network, the joiner is on the roster but holds no key, and asks again
 * (`Membership.askAgain`); the add step cannot be made a second time (the joiner's leaf is taken),
 * so the delegate sends the same envelope again (`answerAgain`). It holds no secret in the clear:
 * the bytes are encrypted over the delegate's pairwise session with the joiner, whose receiving
 * side keeps the key of a message it skipped; the leaf secret in it is the one handed to the owner.
 *
 * Bounded: only joiners this delegate added get a copy (a stranger's request stores nothing),
 * at most {@link keptWelcomeLimits}`.maxPerDesk` per desk (the newest), each for
 * {@link keptWelcomeLimits}`.windowMs` (the epoch's retention: past it, the epoch the Welcome
 * enters is gone). Stored (`kept-welcome/<joiner>` in the organization's space, with the add
 * step's unit of work), so that a delegate that ran one command and stopped (the CLI) answers at
 * its next start; read from the store at the first re-ask after a start.
 *
 * Once the copy is gone the Welcome cannot be made again, so the joiner waits for the owner's
 * resync answer. The Welcome carries the joiner's leaf secret `L_m`, drawn at random and wiped
 * once the add step's commit is durable: only the owner holds it then (the handover). A fresh
 * `L_m` in a new Welcome would not match the owner's copy, because the owner records one handover
 * per add step and drops any later one (`owner-follow.ts`). The joiner could then not open the
 * owner's next KeyUpdate. Deriving `L_m` from a secret the delegate keeps would let that secret's
 * holder open the joiner's entries, which is what the salt is there to prevent. The epoch secret
 * also derives from `init_secret` of the parent epoch, which the delegate keeps only in a fork
 * point (24 h, the newest 16): no longer than the copy.
 *
 * @module
 */
import { epochRetention } from "@orgchat/crypto";
import type { StoreOp } from "@orgchat/store";
import { inboxTopic, publicKeyFromMemberId } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { commitDelegateAdd } from "./delegate-commits.js";
import { decodeJson, encodeJson } from "./encoding.js";
import type { DelegateOrg, Txn } from "./org.js";
import { orgSpace } from "./persistence.js";

/** The bounds of a desk's kept Welcomes. */
export const keptWelcomeLimits = {
  /** Copies kept per desk: the newest (each ~0.5 KB: a 411-byte envelope, its id and topic). */
  maxPerDesk: 64,
  /** How long a copy is kept after its add step (the epoch retention window, 24 h). */
  windowMs: epochRetention.windowMs,
} as const;

/** One sealed Welcome, as the outbox held it. */
export interface SealedWelcome {
  readonly id: string;
  readonly topic: string;
  readonly bytes: Uint8Array;
}

/** The store record of one kept Welcome (`kept-welcome/<joiner>`). */
interface KeptRecord {
  readonly v: 1;
  readonly id: string;
  readonly topic: string;
  readonly bytes: Uint8Array;
  readonly at: number;
}

const keyPrefix = "kept-welcome/";

/**
 * The sealed Welcomes of one desk, by joiner (oldest first), each with the time it was kept.
 * @example
 * ```ts
 * const dropped = kept.keep(joiner, sealed, now); // delete their records
 * const again = kept.get(joiner, later); // undefined once past the window
 * ```
 */
export class KeptWelcomes {
  readonly #byJoiner = new Map<string, { readonly sealed: SealedWelcome; readonly at: number }>();

  /** How many copies are held (expired ones too, until the next {@link KeptWelcomes.keep}). */
  get size(): number {
    return this.#byJoiner.size;
  }

  /**
   * Keeps `joiner`'s Welcome (replacing an older one), and drops the expired and the oldest over
   * the bound.
   * @returns the joiners dropped (their records are to be deleted)
   */
  keep(joiner: string, sealed: SealedWelcome, now: number): string[] {
    this.#byJoiner.delete(joiner);
    this.#byJoiner.set(joiner, { sealed, at: now });
    const dropped: string[] = [];
    for (const [other, entry] of this.#byJoiner) {
      const over = this.#byJoiner.size > keptWelcomeLimits.maxPerDesk;
      if (other === joiner || (!over && now - entry.at < keptWelcomeLimits.windowMs)) break;
      this.#byJoiner.delete(other);
      dropped.push(other);
    }
    return dropped;
  }

  /** Whether a copy of `joiner`'s Welcome is held (an expired one too, until the next keep). */
  holds(joiner: string): boolean {
    return this.#byJoiner.has(joiner);
  }

  /** `joiner`'s Welcome, unless none was kept or its window ended. */
  get(joiner: string, now: number): SealedWelcome | undefined {
    const entry = this.#byJoiner.get(joiner);
    if (entry === undefined || now - entry.at >= keptWelcomeLimits.windowMs) return undefined;
    return entry.sealed;
  }
}

/** Per delegate desk (`MemberSide.delegate`), its kept Welcomes (read from the store once). */
const desks = new WeakMap<object, KeptWelcomes>();

/** A stored record, or undefined when it is not one (skipped: it only costs a re-ask). */
function readRecord(bytes: Uint8Array): KeptRecord | undefined {
  try {
    const record = decodeJson<KeptRecord>(bytes);
    const ok =
      record.v === 1 &&
      typeof record.id === "string" &&
      typeof record.topic === "string" &&
      record.bytes instanceof Uint8Array &&
      Number.isFinite(record.at);
    return ok ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the desk of `org` keeps a Welcome of its own add step of `joiner`, as read so far (none
 * before the first {@link keptWelcomesOf} after a start). Its session and keys with the joiner
 * stay when a description drops the joiner from the state (`ownerKeyOps`): a description made
 * before the owner read the acceptance lists it again later, and this desk adds it again then
 * (`joiner-recommits.ts`), with a Welcome over that session. At most `maxPerDesk` such joiners.
 */
export function keepsWelcomeOf(org: DelegateOrg, joiner: string): boolean {
  return desks.get(org.member.delegate)?.holds(joiner) ?? false;
}

/**
 * The kept Welcomes of a delegate's desk: read from the store at the first call after a start (at
 * most {@link keptWelcomeLimits}`.maxPerDesk` records), then held in memory.
 * @param c - the client's core
 * @param org - an organization in which this client is a delegate
 */
export async function keptWelcomesOf(c: ClientCore, org: DelegateOrg): Promise<KeptWelcomes> {
  const desk = org.member.delegate;
  const held = desks.get(desk);
  if (held !== undefined) return held;
  const space = orgSpace(org.hex);
  const records: Array<[string, KeptRecord]> = [];
  const keys = await c.p.store.keys(space, {
    prefix: keyPrefix,
    limit: keptWelcomeLimits.maxPerDesk,
  });
  for (const key of keys) {
    const bytes = await c.p.store.get(space, key);
    const record = bytes === undefined ? undefined : readRecord(bytes);
    if (record !== undefined) records.push([key.slice(keyPrefix.length), record]);
  }
  // (Another call may have read them meanwhile: the first one's stays.)
  const kept = desks.get(desk) ?? new KeptWelcomes();
  if (!desks.has(desk)) {
    records.sort(([, a], [, b]) => a.at - b.at);
    for (const [joiner, { id, topic, bytes, at }] of records)
      kept.keep(joiner, { id, topic, bytes }, at);
    desks.set(desk, kept);
  }
  return kept;
}

/**
 * A delegate's add step (`commitDelegateAdd`) that keeps a copy of the sealed Welcome it sends
 * the joiner ({@link KeptWelcomes}, stored with the unit of work), for the joiner's re-ask should
 * it be lost.
 *
 * @param c - the client's core
 * @param org - an organization in which this client is a delegate
 * @param txn - the decision's unit of work
 * @param requester - the member accepted
 * @returns the leaf secret handed over (the caller wipes it once the commit is durable), or undefined
 */
export async function commitDelegateAddKept(
  c: ClientCore,
  org: DelegateOrg,
  txn: Txn,
  requester: string,
): Promise<Uint8Array | undefined> {
  const from = txn.outbox.length;
  const handed = await commitDelegateAdd(c, org, txn, requester);
  if (handed === undefined) return undefined;
  // The add step sends the joiner one message, its Welcome, into its inbox.
  const topic = inboxTopic(publicKeyFromMemberId(requester));
  const welcome = txn.outbox.slice(from).find((entry) => entry.topic === topic);
  if (welcome === undefined) return handed;
  const now = c.now();
  const kept = await keptWelcomesOf(c, org);
  const space = orgSpace(org.hex);
  const record: KeptRecord = { v: 1, ...welcome, at: now };
  const ops: StoreOp[] = [
    { type: "put", space, key: `${keyPrefix}${requester}`, value: encodeJson(record) },
  ];
  for (const dropped of kept.keep(requester, welcome, now)) {
    ops.push({ type: "delete", space, key: `${keyPrefix}${dropped}` });
  }
  txn.ops.push(...ops);
  return handed;
}
