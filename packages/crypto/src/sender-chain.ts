import { DuplicateMessageError, GenerationTooFarError } from "./errors.js";
import { labelInfo } from "./kdf.js";
import type { CryptoProvider } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";

/** Highest generation of a chain: generations are u32 on the wire and in every derivation. */
export const maxGeneration = 0xffff_ffff;

/**
 * Receive-side lookahead (issue #13, row 8): a chain keeps the chain secrets `c[g]` of the
 * generations `g` that are multiples of this stride ahead of it, derived while looking for a key
 * (authentic or not), so that a message claiming a far generation costs at most this many steps once
 * the way there was walked. Chosen so that a repeated forgery's steps cost about one signature check.
 */
export const lookaheadStride = 32;
/** At most this many lookahead secrets per chain (1 KiB): with the defaults, every multiple of the stride in reach. */
export const maxLookaheadSlots = 32;
/**
 * Chains of one epoch that keep a lookahead at once (the most recently walked; `EpochKeys` drops the
 * others' with {@link SenderChain.dropLookahead}): at most 256 KiB of lookahead per epoch, whatever
 * the roster. A forger rotating over more leaves than this pays a first walk (at most
 * `maxForwardJump` steps) each time, the bound the protocol's limits were chosen for.
 */
export const maxLookaheadChains = 256;

/** The key and nonce of one generation of a sender chain. */
export interface MessageKeys {
  readonly generation: number;
  /** AES-256-GCM key (32 bytes). */
  readonly key: Uint8Array;
  /** AES-GCM nonce before the reuse guard is applied (12 bytes). */
  readonly nonce: Uint8Array;
}

/** A key kept for a generation that was skipped over (its message has not arrived yet). */
export interface SkippedKey extends MessageKeys {
  /** The roster leaf whose chain it belongs to. */
  readonly leaf: number;
}

/** The per-chain receive limits (docs/PROTOCOL.md, "Group messages", limits table). */
export interface ChainLimits {
  /** Largest number of generations one message may skip over. */
  readonly maxForwardJump: number;
  /** Skipped keys kept in one chain; the oldest is evicted beyond it. */
  readonly maxSkippedPerChain: number;
}

// `info` templates for `ExpandWithLabel(c[g], label, u32 g, L)`: only the last four bytes (g) change,
// so they are built once with kdf.labelInfo (one definition of the layout) and patched per call.
// Safe because every provider call is synchronous and keeps no reference to `info`.
const keyInfo = labelInfo("key", new Uint8Array(4), 32);
const nonceInfo = labelInfo("nonce", new Uint8Array(4), 12);
const secretInfo = labelInfo("secret", new Uint8Array(4), 32);

function withGeneration(info: Uint8Array, generation: number): Uint8Array {
  const at = info.length - 4;
  info[at] = generation >>> 24;
  info[at + 1] = (generation >>> 16) & 0xff;
  info[at + 2] = (generation >>> 8) & 0xff;
  info[at + 3] = generation & 0xff;
  return info;
}

const noKeys: readonly SkippedKey[] = Object.freeze([]);
const noChange: ChainCommit = Object.freeze({ kept: noKeys, evicted: noKeys });

/**
 * What the receive path may use for one generation before it knows the message is authentic: the
 * key and nonce, and everything a commit would store. Made by {@link SenderChain.candidate}; either
 * {@link SenderChain.commit} or {@link SenderChain.discard} it.
 *
 * Holds key material: it never prints it (see `redactSecrets`).
 */
export interface ChainCandidate extends MessageKeys {
  readonly leaf: number;
  readonly generation: number;
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
  /** The stored skipped key this candidate uses, or undefined when it was derived from the chain. */
  readonly fromSkipped: SkippedKey | undefined;
  /** The chain's next generation when the candidate was made (a commit checks it did not move). */
  readonly baseGeneration: number;
  /**
   * `c[generation]` (undefined for a skipped key): a commit derives `c[generation + 1]` and the keys
   * skipped over from the chain only then, once the message is authentic.
   */
  readonly secret: Uint8Array | undefined;
}

/** What {@link SenderChain.commit} changed in the chain's kept skipped keys. */
export interface ChainCommit {
  /** Keys of the generations the message skipped over, now kept (oldest first). */
  readonly kept: readonly SkippedKey[];
  /** Kept keys evicted beyond `maxSkippedPerChain` (already wiped), oldest first. */
  readonly evicted: readonly SkippedKey[];
}

/** The prototype of every {@link ChainCandidate}: redacted once, not per candidate. */
const candidatePrototype: object = {};
redactSecrets(candidatePrototype, "ChainCandidate");

/** A {@link ChainCandidate} that never prints its keys (one plain object per received message). */
function chainCandidate(fields: ChainCandidate): ChainCandidate {
  return Object.assign(Object.create(candidatePrototype) as object, fields);
}

/**
 * One sender's chain in one epoch: the "single ratchet" of docs/PROTOCOL.md ("Sender chain"). For
 * generation `g` with chain secret `c[g]`:
 *
 * ```
 * key    = ExpandWithLabel(c[g], "key",    u32 g, 32)
 * nonce  = ExpandWithLabel(c[g], "nonce",  u32 g, 12)
 * c[g+1] = ExpandWithLabel(c[g], "secret", u32 g, 32)      c[g] is wiped after the step
 * ```
 *
 * Send side: {@link SenderChain.nextSendKeys} steps the chain at once, so a generation is never used
 * twice, whatever happens afterwards. Receive side, in two steps so that nothing changes before the
 * message is authenticated: {@link SenderChain.candidate} returns the key for a generation from the
 * skipped keys or by stepping a copy of the chain; {@link SenderChain.commit} then advances the chain,
 * stores the keys skipped over (at most `maxSkippedPerChain`, oldest evicted) and deletes the used
 * key. The epoch-wide cap on skipped keys is the caller's (`EpochKeys`).
 *
 * Holds key material: it never prints it (see `redactSecrets`).
 *
 * @example
 * ```ts
 * const chain = SenderChain.create(provider, leaf, tree.takeLeafSecret(leaf), groupLimits);
 * const candidate = chain.candidate(generation); // no state change
 * // … open and verify with candidate.key / candidate.nonce …
 * chain.commit(candidate); // or chain.discard(candidate) on failure
 * ```
 */
export class SenderChain {
  /** The roster leaf whose chain this is. */
  readonly leaf: number;
  readonly limits: ChainLimits;
  readonly #provider: CryptoProvider;
  #nextGeneration: number;
  /** `c[nextGeneration]`; undefined once generation 2³² − 1 was used. */
  #secret: Uint8Array | undefined;
  /** Generation → key, in insertion order, which is also ascending generation order. */
  readonly #skipped: Map<number, SkippedKey>;
  /**
   * Lookahead secrets (not state: never serialized, derivable from `c[nextGeneration]`): `c[g]` for
   * every multiple `g` of {@link lookaheadStride} with `nextGeneration < g ≤ #aheadTop`, in a ring of
   * 32-byte slots; allocated by the first long walk.
   */
  #ahead: Uint8Array | undefined;
  #aheadTop = -1;
  /**
   * The send reservation a saved head holds for one's own chain ({@link SenderChain.reserve}):
   * `c[bound]`, so that a head restored after a crash resumes at `bound`, past every generation that
   * may have been sent. Kept instead of an older `c[g]`: a saved head never holds a secret of a
   * generation already used (forward secrecy of the store).
   */
  #reserved: { bound: number; secret: Uint8Array | undefined } | undefined;
  /**
   * The chain secrets {@link SenderChain.reserve} derived on its way to `c[bound]` (not state: never
   * serialized, all derivable from `c[nextGeneration]`, which the chain holds anyway): `c[g]` in
   * slot `g - #stepsBase`, for `#stepsFrom ≤ g < #stepsBase + #steps.length / 32`, taken by the
   * sends that reach them instead of being derived a second time. The slots of generations up to
   * the chain's own are wiped; at most `ahead` slots (2 KiB at `sendReservation` = 64).
   */
  #steps: Uint8Array | undefined;
  #stepsBase = 0;
  #stepsFrom = 0;

  private constructor(
    provider: CryptoProvider,
    leaf: number,
    limits: ChainLimits,
    nextGeneration: number,
    secret: Uint8Array | undefined,
    skipped: Map<number, SkippedKey>,
  ) {
    this.#provider = provider;
    this.leaf = leaf;
    this.limits = limits;
    this.#nextGeneration = nextGeneration;
    this.#secret = secret;
    this.#skipped = skipped;
    redactSecrets(this, "SenderChain");
  }

  /**
   * A chain at generation 0.
   *
   * @param provider - the primitives
   * @param leaf - the sender's roster leaf
   * @param secret - `c[0]`, the leaf's secret-tree secret (32 bytes); the chain owns and wipes it
   * @param limits - the receive limits
   * @throws {RangeError} when `secret` is not 32 bytes or a limit is not a non-negative integer
   */
  static create(
    provider: CryptoProvider,
    leaf: number,
    secret: Uint8Array,
    limits: ChainLimits,
  ): SenderChain {
    if (secret.length !== 32) throw new RangeError("secret: expected 32 bytes");
    checkLimits(limits);
    return new SenderChain(provider, leaf, limits, 0, secret, new Map());
  }

  /**
   * Rebuilds a chain from its parts (state restore); the chain owns the buffers.
   *
   * @throws {RangeError} on an inconsistent state: a generation out of range, a secret missing or
   *   present against `nextGeneration`, skipped keys not ascending, below `nextGeneration`, of another
   *   leaf or of the wrong size, or more of them than `maxSkippedPerChain`
   */
  static restore(
    provider: CryptoProvider,
    init: {
      leaf: number;
      limits: ChainLimits;
      nextGeneration: number;
      secret: Uint8Array | undefined;
      skipped: readonly SkippedKey[];
    },
  ): SenderChain {
    const { leaf, limits, nextGeneration, secret, skipped } = init;
    checkLimits(limits);
    if (
      !Number.isInteger(nextGeneration) ||
      nextGeneration < 0 ||
      nextGeneration > maxGeneration + 1
    ) {
      throw new RangeError(`nextGeneration: out of range (${nextGeneration})`);
    }
    if (
      (secret === undefined) !== nextGeneration > maxGeneration ||
      (secret && secret.length !== 32)
    ) {
      throw new RangeError("secret: must be 32 bytes unless the chain is exhausted");
    }
    if (skipped.length > limits.maxSkippedPerChain)
      throw new RangeError("skipped: more than maxSkippedPerChain");
    const map = new Map<number, SkippedKey>();
    let previous = -1;
    for (const entry of skipped) {
      if (
        entry.leaf !== leaf ||
        !Number.isInteger(entry.generation) ||
        entry.generation <= previous ||
        entry.generation >= nextGeneration ||
        entry.key.length !== 32 ||
        entry.nonce.length !== 12
      ) {
        throw new RangeError(`skipped: bad entry for generation ${entry.generation}`);
      }
      previous = entry.generation;
      map.set(entry.generation, entry);
    }
    return new SenderChain(provider, leaf, limits, nextGeneration, secret, map);
  }

  /** The next generation this chain would send or the lowest it has not stepped past on receive. */
  get nextGeneration(): number {
    return this.#nextGeneration;
  }

  /** How many skipped keys the chain keeps now. */
  get skippedCount(): number {
    return this.#skipped.size;
  }

  /** Whether the chain keeps lookahead secrets now (a far generation was looked for). */
  get hasLookahead(): boolean {
    return this.#ahead !== undefined;
  }

  /** Wipes and forgets the lookahead secrets (a cache: the next far walk starts over). */
  dropLookahead(): void {
    if (this.#ahead === undefined) return;
    wipe(this.#ahead);
    this.#ahead = undefined;
    this.#aheadTop = -1;
  }

  /** Whether a key is kept for skipped generation `generation`. */
  hasSkipped(generation: number): boolean {
    return this.#skipped.has(generation);
  }

  /**
   * The kept skipped keys, oldest first, for serialization. They are the chain's own buffers: copy
   * them, do not keep or modify them.
   */
  skippedKeys(): IterableIterator<SkippedKey> {
    return this.#skipped.values();
  }

  /**
   * `c[nextGeneration]` for serialization (undefined once exhausted). The chain's own buffer: copy it,
   * do not keep or modify it.
   */
  currentSecret(): Uint8Array | undefined {
    return this.#secret;
  }

  /**
   * The keys of the next generation for sending, stepping the chain at once: a generation is never
   * handed out twice. Persist the chain (or at least {@link SenderChain.nextGeneration}) before the
   * message leaves. The caller owns and wipes the returned buffers.
   *
   * @returns the generation with its key and nonce
   * @throws {RangeError} when the chain is exhausted (generation 2³² − 1 used: start a new epoch)
   */
  nextSendKeys(): MessageKeys {
    const generation = this.#nextGeneration;
    const secret = this.#secret;
    if (secret === undefined) {
      throw new RangeError(
        `chain of leaf ${this.leaf} is exhausted: start a new epoch before sending`,
      );
    }
    const p = this.#provider;
    const key = p.hkdfExpand(secret, withGeneration(keyInfo, generation), 32);
    const nonce = p.hkdfExpand(secret, withGeneration(nonceInfo, generation), 12);
    // `c[generation + 1]`: derived by the reservation already when it covers it (taken, then
    // wiped by `#moveTo`), else stepped here.
    this.#secret =
      generation === maxGeneration
        ? undefined
        : (this.#reservedStep(generation + 1) ??
          p.hkdfExpand(secret, withGeneration(secretInfo, generation), 32));
    this.#moveTo(generation + 1);
    wipe(secret);
    return { generation, key, nonce };
  }

  /**
   * Steps the chain to `generation` without keeping any key: after restoring one's own chain from a
   * backup, jump ahead by a margin so that no generation is sent twice.
   *
   * @throws {RangeError} when `generation` is below {@link SenderChain.nextGeneration} or above 2³²
   */
  advanceTo(generation: number): void {
    if (
      !Number.isInteger(generation) ||
      generation < this.#nextGeneration ||
      generation > maxGeneration + 1
    ) {
      throw new RangeError(
        `generation: must be in ${this.#nextGeneration}..${maxGeneration + 1}, got ${generation}`,
      );
    }
    for (let g = this.#nextGeneration; g < generation; g++) {
      const secret = this.#secret as Uint8Array;
      this.#secret =
        g === maxGeneration
          ? undefined
          : this.#provider.hkdfExpand(secret, withGeneration(secretInfo, g), 32);
      wipe(secret);
    }
    this.#moveTo(generation);
  }

  /**
   * Keeps a reservation of `ahead` generations on one's own chain: while every generation handed out
   * lies below the reserved bound nothing changes; otherwise the bound moves to `g + ahead` (`g` the
   * last generation handed out) and `c[bound]` is derived for the saved head. Call after each send.
   *
   * @param ahead - how many generations one reservation covers (at least 1)
   * @returns whether the bound moved (the saved head must then be committed durably before the
   *   message leaves)
   * @throws {RangeError} when `ahead` is not a positive integer
   */
  reserve(ahead: number): boolean {
    if (!Number.isSafeInteger(ahead) || ahead < 1) {
      throw new RangeError(`ahead: must be a positive integer, got ${ahead}`);
    }
    const next = this.#nextGeneration;
    if (this.#reserved !== undefined && next <= this.#reserved.bound) return false;
    const bound = Math.min(next - 1 + ahead, maxGeneration + 1);
    let secret: Uint8Array | undefined;
    if (bound <= maxGeneration) {
      const p = this.#provider;
      // `c[next + 1] … c[bound]`, each kept for the send that steps to it (`#steps`).
      const steps = new Uint8Array(32 * (bound - next));
      let c: Uint8Array = this.#secret as Uint8Array; // defined: next ≤ bound ≤ maxGeneration
      for (let g = next; g < bound; g++) {
        const stepped = p.hkdfExpand(c, withGeneration(secretInfo, g), 32);
        if (c !== this.#secret) wipe(c);
        steps.set(stepped, 32 * (g - next));
        c = stepped;
      }
      secret = c;
      wipe(this.#steps);
      this.#steps = steps;
      this.#stepsBase = next + 1;
      this.#stepsFrom = next + 1;
    }
    wipe(this.#reserved?.secret);
    this.#reserved = { bound, secret };
    return true;
  }

  /**
   * What a saved head holds for this chain: the reservation when one covers the chain's position,
   * else the chain itself. The chain's own buffer: copy it, do not keep or modify it.
   *
   * @returns the generation a restored chain starts at, and its secret (undefined once exhausted)
   */
  savedPosition(): { readonly nextGeneration: number; readonly secret: Uint8Array | undefined } {
    const reserved = this.#reserved;
    if (reserved !== undefined && reserved.bound >= this.#nextGeneration) {
      return { nextGeneration: reserved.bound, secret: reserved.secret };
    }
    return { nextGeneration: this.#nextGeneration, secret: this.#secret };
  }

  /**
   * The key and nonce for received generation `generation`, **without changing the chain's state**:
   * from the skipped keys, or by stepping a copy of the chain secret. Nothing is derived for the
   * generations skipped over (a commit does that, once the message is authentic), and the walk starts
   * from the nearest lookahead secret: a message claiming a generation `j` ahead costs `j` chain steps
   * the first time that stretch of the chain is walked, and at most {@link lookaheadStride} afterwards
   * (issue #13, row 8: a forgery is only refused by the signature inside the ciphertext).
   *
   * @param generation - the generation named by the message's sender data
   * @returns a candidate to {@link SenderChain.commit} once the message is authentic, else to
   *   {@link SenderChain.discard}
   * @throws {@link DuplicateMessageError} when the generation was already consumed (or its skipped key
   *   was evicted)
   * @throws {@link GenerationTooFarError} when it lies more than `maxForwardJump` generations ahead
   * @throws {RangeError} when `generation` is not a u32
   */
  candidate(generation: number): ChainCandidate {
    if (!Number.isInteger(generation) || generation < 0 || generation > maxGeneration) {
      throw new RangeError(`generation: must be a u32, got ${generation}`);
    }
    const next = this.#nextGeneration;
    const kept = this.#skipped.get(generation);
    if (kept !== undefined) {
      return chainCandidate({
        leaf: this.leaf,
        generation,
        key: kept.key,
        nonce: kept.nonce,
        fromSkipped: kept,
        baseGeneration: next,
        secret: undefined,
      });
    }
    if (generation < next) {
      throw new DuplicateMessageError(
        `leaf ${this.leaf} generation ${generation} was already consumed (or its skipped key was evicted)`,
      );
    }
    const jump = generation - next;
    if (jump > this.limits.maxForwardJump) {
      throw new GenerationTooFarError(
        `leaf ${this.leaf} generation ${generation} is ${jump} ahead of ${next}, more than ${this.limits.maxForwardJump}`,
      );
    }
    const p = this.#provider;
    const secret = this.#secretAt(generation);
    return chainCandidate({
      leaf: this.leaf,
      generation,
      key: p.hkdfExpand(secret, withGeneration(keyInfo, generation), 32),
      nonce: p.hkdfExpand(secret, withGeneration(nonceInfo, generation), 12),
      fromSkipped: undefined,
      baseGeneration: next,
      secret,
    });
  }

  /**
   * Applies an authenticated candidate: deletes (and wipes) the used key, or advances the chain past
   * the generation, deriving and keeping the keys skipped over (the newest `maxSkippedPerChain`; the
   * oldest kept ones are evicted beyond it).
   *
   * @returns the keys now kept and the ones evicted
   * @throws {Error} when the candidate is not from this chain or the chain moved since it was made
   */
  commit(candidate: ChainCandidate): ChainCommit {
    if (candidate.leaf !== this.leaf || candidate.baseGeneration !== this.#nextGeneration) {
      throw new Error("candidate: stale or from another chain; derive a new one");
    }
    const used = candidate.fromSkipped;
    if (used !== undefined) {
      if (this.#skipped.get(used.generation) !== used)
        throw new Error("candidate: its skipped key is gone");
      this.#skipped.delete(used.generation);
      wipe(used.key, used.nonce);
      return noChange;
    }
    const { generation, secret } = candidate;
    if (secret === undefined) throw new Error("candidate: already committed or discarded");
    const p = this.#provider;
    const next = this.#nextGeneration;
    // Only the newest maxSkippedPerChain keys would survive: derive just those.
    const keepFrom = generation - Math.min(generation - next, this.limits.maxSkippedPerChain);
    const kept: SkippedKey[] = [];
    if (keepFrom < generation) {
      let c = this.#secretAt(keepFrom);
      for (let g = keepFrom; g < generation; g++) {
        kept.push({
          leaf: this.leaf,
          generation: g,
          key: p.hkdfExpand(c, withGeneration(keyInfo, g), 32),
          nonce: p.hkdfExpand(c, withGeneration(nonceInfo, g), 12),
        });
        const stepped = p.hkdfExpand(c, withGeneration(secretInfo, g), 32);
        wipe(c);
        c = stepped;
      }
      wipe(c);
    }
    const nextSecret =
      generation === maxGeneration
        ? undefined
        : p.hkdfExpand(secret, withGeneration(secretInfo, generation), 32);
    wipe(this.#secret, secret, candidate.key, candidate.nonce);
    this.#secret = nextSecret;
    this.#moveTo(generation + 1);
    if (kept.length === 0) return noChange;
    for (const entry of kept) this.#skipped.set(entry.generation, entry);
    let excess = this.#skipped.size - this.limits.maxSkippedPerChain;
    if (excess <= 0) return { kept, evicted: noKeys };
    const evicted: SkippedKey[] = [];
    for (const entry of this.#skipped.values()) {
      if (excess-- <= 0) break;
      this.#skipped.delete(entry.generation);
      wipe(entry.key, entry.nonce);
      evicted.push(entry);
    }
    const gone = new Set(evicted);
    return { kept: kept.filter((entry) => !gone.has(entry)), evicted };
  }

  /** Wipes what a candidate derived, leaving the chain as it is (the message did not authenticate). */
  discard(candidate: ChainCandidate): void {
    if (candidate.fromSkipped !== undefined) return; // the chain's own stored key: keep it
    wipe(candidate.key, candidate.nonce, candidate.secret);
  }

  /**
   * A copy of `c[target]` (`nextGeneration ≤ target ≤ maxGeneration`), stepped from the nearest
   * lookahead secret at or below it, or from `c[nextGeneration]`; records the lookahead secrets it
   * passes. The caller owns (and wipes) the copy.
   */
  #secretAt(target: number): Uint8Array {
    const next = this.#nextGeneration;
    let from = next;
    let secret = this.#secret as Uint8Array; // defined: next ≤ target ≤ maxGeneration
    const ahead = this.#ahead;
    const aligned = target - (target % lookaheadStride);
    if (ahead !== undefined && aligned > next && aligned <= this.#aheadTop) {
      from = aligned;
      secret = this.#slot(ahead, aligned);
    }
    if (from === target) return secret.slice();
    const slots = Math.min(
      Math.floor(this.limits.maxForwardJump / lookaheadStride) + 1,
      maxLookaheadSlots,
    );
    const reach = next + (slots - 1) * lookaheadStride;
    let record = ahead !== undefined || target - from >= lookaheadStride;
    const p = this.#provider;
    let c = secret;
    for (let g = from; g < target; g++) {
      const stepped = p.hkdfExpand(c, withGeneration(secretInfo, g), 32);
      if (c !== secret) wipe(c);
      c = stepped;
      const reached = g + 1;
      if (record && reached % lookaheadStride === 0 && reached <= reach) {
        this.#ahead ??= new Uint8Array(slots * 32);
        this.#slot(this.#ahead, reached).set(c);
        if (reached > this.#aheadTop) this.#aheadTop = reached;
      } else if (reached > reach) {
        record = false;
      }
    }
    return c;
  }

  /** The lookahead slot of aligned generation `generation` (a view into `ahead`). */
  #slot(ahead: Uint8Array, generation: number): Uint8Array {
    const slots = ahead.length / 32;
    const at = ((generation / lookaheadStride) % slots) * 32;
    return ahead.subarray(at, at + 32);
  }

  /**
   * Sets the next generation, wiping the lookahead secrets it reached or passed: they would derive
   * the keys of generations now used (forward secrecy).
   */
  /**
   * A copy of `c[generation]` from the reservation's steps, if it holds it (the slot stays until
   * `#moveTo` passes it).
   */
  #reservedStep(generation: number): Uint8Array | undefined {
    const steps = this.#steps;
    if (steps === undefined || generation < this.#stepsFrom) return undefined;
    const at = 32 * (generation - this.#stepsBase);
    if (at >= steps.length) return undefined;
    return steps.slice(at, at + 32);
  }

  /** Wipes the reservation's steps of the generations up to `next` (the chain holds `c[next]`). */
  #passSteps(next: number): void {
    const steps = this.#steps;
    if (steps === undefined || next < this.#stepsFrom) return;
    const end = 32 * (next - this.#stepsBase + 1);
    if (end >= steps.length) {
      wipe(steps);
      this.#steps = undefined;
      return;
    }
    steps.fill(0, 32 * (this.#stepsFrom - this.#stepsBase), end);
    this.#stepsFrom = next + 1;
  }

  #moveTo(next: number): void {
    const before = this.#nextGeneration;
    this.#nextGeneration = next;
    this.#passSteps(next);
    const ahead = this.#ahead;
    if (ahead === undefined) return;
    if (next >= this.#aheadTop) {
      wipe(ahead);
      this.#ahead = undefined;
      this.#aheadTop = -1;
      return;
    }
    for (
      let g = before - (before % lookaheadStride) + lookaheadStride;
      g <= next;
      g += lookaheadStride
    ) {
      this.#slot(ahead, g).fill(0);
    }
  }

  /**
   * Deletes (and wipes) the skipped key of `generation` (the epoch-wide cap evicting across chains).
   * @returns whether a key was kept for it
   */
  dropSkipped(generation: number): boolean {
    const entry = this.#skipped.get(generation);
    if (entry === undefined) return false;
    this.#skipped.delete(generation);
    wipe(entry.key, entry.nonce);
    return true;
  }

  /** Wipes and forgets every secret of the chain. */
  destroy(): void {
    wipe(this.#secret, this.#reserved?.secret);
    this.#secret = undefined;
    this.#reserved = undefined;
    for (const entry of this.#skipped.values()) wipe(entry.key, entry.nonce);
    this.#skipped.clear();
    this.#moveTo(maxGeneration + 1);
  }
}

function checkLimits(limits: ChainLimits): void {
  for (const name of ["maxForwardJump", "maxSkippedPerChain"] as const) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`limits.${name}: must be a non-negative integer, got ${value}`);
    }
  }
}
