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
 * enters is gone). Memory only: a restarted delegate has none, and the joiner waits for the owner
 * (its resync answer) as before.
 *
 * @module
 */
import { epochRetention } from "@orgchat/crypto";
import { inboxTopic, publicKeyFromMemberId } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { commitDelegateAdd } from "./delegate-commits.js";
import type { DelegateOrg, Txn } from "./org.js";

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

/**
 * The sealed Welcomes of one desk, by joiner (oldest first), each with the time it was kept.
 * @example
 * ```ts
 * kept.keep(joiner, sealed, now);
 * const again = kept.get(joiner, later); // undefined once past the window
 * ```
 */
export class KeptWelcomes {
  readonly #byJoiner = new Map<string, { readonly sealed: SealedWelcome; readonly at: number }>();

  /** How many copies are held. */
  get size(): number {
    return this.#byJoiner.size;
  }

  /** Keeps `joiner`'s Welcome (replacing an older one), dropping the expired and the oldest over the bound. */
  keep(joiner: string, sealed: SealedWelcome, now: number): void {
    this.#byJoiner.delete(joiner);
    this.#byJoiner.set(joiner, { sealed, at: now });
    this.#prune(now);
  }

  /** `joiner`'s Welcome, unless none was kept or its window ended. */
  get(joiner: string, now: number): SealedWelcome | undefined {
    this.#prune(now);
    return this.#byJoiner.get(joiner)?.sealed;
  }

  #prune(now: number): void {
    for (const [joiner, entry] of this.#byJoiner) {
      const over = this.#byJoiner.size > keptWelcomeLimits.maxPerDesk;
      if (!over && now - entry.at < keptWelcomeLimits.windowMs) break;
      this.#byJoiner.delete(joiner);
    }
  }
}

/** Per delegate desk (`MemberSide.delegate`), its kept Welcomes. */
const desks = new WeakMap<object, KeptWelcomes>();

/**
 * The kept Welcomes of a delegate's desk (made on first use).
 * @param org - an organization in which this client is a delegate
 */
export function keptWelcomesOf(org: DelegateOrg): KeptWelcomes {
  const desk = org.member.delegate;
  const kept = desks.get(desk) ?? new KeptWelcomes();
  desks.set(desk, kept);
  return kept;
}

/**
 * A delegate's add step (`commitDelegateAdd`) that keeps a copy of the sealed Welcome it sends
 * the joiner ({@link KeptWelcomes}), for the joiner's re-ask should it be lost.
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
  if (welcome !== undefined) keptWelcomesOf(org).keep(requester, welcome, c.now());
  return handed;
}
