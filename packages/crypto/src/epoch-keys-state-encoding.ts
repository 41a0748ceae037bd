/**
 * The versioned byte layout of {@link EpochKeys}' saved state (documented on `EpochKeys.serialize`):
 * the epoch, its roster and limits, the secret tree's held nodes, every started sender chain and the
 * kept skipped keys in their epoch-wide eviction order. Reading checks that the parts agree (every
 * leaf's chain is either started or still derivable from the tree, never both).
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { wireLimits } from "@orgchat/wire";
import { StateCorruptedError } from "./errors.js";
import { type GroupLimits, resolveLimits } from "./group-limits.js";
import type { EpochKeys } from "./group-message.js";
import { type GroupId, groupContext, type Roster } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { rosterHashOf } from "./roster-hashes.js";
import { SecretTree } from "./secret-tree.js";
import { maxGeneration, SenderChain, type SkippedKey } from "./sender-chain.js";
import { StateReader, StateWriter } from "./state-bytes.js";

/** Format version of `EpochKeys.serialize()`: the roster inline. */
const stateVersion = 1;
/**
 * Format version of `EpochKeys.serialize({ withRoster: false })`: the roster referred to by its
 * length and hash (the caller stores rosters by key id), own chains saved at their send reservation.
 */
const headVersion = 2;

/**
 * A roster built at its epoch's first use instead of at restore (a retained epoch of an owner's
 * group: up to 64 rosters of 10,000 leaves an owner's start would otherwise build and keep).
 * `EpochKeys` calls `build` once, when its roster is first read, and checks that the roster has
 * `leafCount` leaves and a leaf for every started chain; its hash is the caller's to check before
 * that use (`EpochWindow.checkRoster`).
 */
export interface DeferredRoster {
  /** The leaves the saved epoch names (checked against the built roster). */
  readonly leafCount: number;
  /**
   * Builds the roster (frozen; the same array for every epoch that shares it).
   *
   * @throws {@link StateCorruptedError} when it is missing or cannot be built
   */
  build(): Roster;
}

/**
 * Whether `roster` is a {@link DeferredRoster} (not built yet) rather than a roster.
 *
 * @param roster - what a {@link RosterSupplier} returned
 * @returns true for a deferred roster
 */
export function isDeferredRoster(roster: Roster | DeferredRoster): roster is DeferredRoster {
  return !Array.isArray(roster);
}

/**
 * Supplies the roster a saved epoch refers to (format 2), checked against what was saved — or a
 * {@link DeferredRoster} whose checks wait for the epoch's first use.
 *
 * @returns the roster, frozen, or the roster to build at first use
 * @throws {@link StateCorruptedError} naming the epoch when it is missing or does not match
 */
export type RosterSupplier = (
  epoch: bigint,
  keyId: Uint8Array,
  leafCount: number,
  rosterHash: Uint8Array,
) => Roster | DeferredRoster;

/** Everything {@link EpochKeys} saves. */
export interface EpochKeysState {
  readonly group: GroupId;
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  /** The roster, or (restored) one to build at first use. */
  readonly roster: Roster | DeferredRoster;
  readonly limits: Readonly<GroupLimits>;
  readonly senderDataSecret: Uint8Array;
  readonly tree: SecretTree;
  readonly chains: Map<number, SenderChain>;
  /** Every kept skipped key of every chain, oldest first: the epoch-wide eviction order. */
  readonly skipped: Set<SkippedKey>;
}

/**
 * The state as versioned bytes.
 *
 * @param state - the epoch's keys
 * @param provider - hashes the roster (format 2)
 * @param withRoster - format 1 (roster inline, chains as they are) or format 2 (roster by length
 *   and hash, chains at their send reservation: see `SenderChain.savedPosition`)
 * @returns the bytes (they contain secrets)
 */
export function writeEpochKeysState(
  state: EpochKeysState & { readonly roster: Roster },
  provider: CryptoProvider,
  withRoster = true,
): Uint8Array {
  const out = new StateWriter();
  out.u8(withRoster ? stateVersion : headVersion);
  out.fixed(groupContext(state.group));
  out.u64(state.epoch);
  out.fixed(state.keyId);
  out.fixed(state.senderDataSecret);
  out.u32(state.limits.maxForwardJump);
  out.u32(state.limits.maxSkippedPerChain);
  out.u32(state.limits.maxSkippedPerEpoch);
  out.u32(state.limits.paddingBlock);
  if (withRoster) {
    out.roster(state.roster);
  } else {
    out.u32(state.roster.length);
    out.fixed(rosterHashOf(provider, state.roster));
  }
  const nodes = state.tree.heldNodes();
  out.u32(nodes.length);
  for (const [node, secret] of nodes) {
    out.u64(BigInt(node));
    out.fixed(secret);
  }
  const leaves = [...state.chains.keys()].sort((a, b) => a - b);
  out.u32(leaves.length);
  for (const leaf of leaves) {
    const chain = state.chains.get(leaf) as SenderChain;
    const { nextGeneration, secret } = withRoster
      ? { nextGeneration: chain.nextGeneration, secret: chain.currentSecret() }
      : chain.savedPosition();
    out.u32(leaf);
    out.u64(BigInt(nextGeneration));
    if (secret !== undefined) out.fixed(secret);
  }
  out.u32(state.skipped.size);
  for (const entry of state.skipped) {
    out.u32(entry.leaf);
    out.u32(entry.generation);
    out.fixed(entry.key);
    out.fixed(entry.nonce);
  }
  return out.finish();
}

/**
 * Whether the leaves derivable from the held tree `nodes` and the leaves of the started `chains`
 * are the roster's `leafCount` leaves, each in exactly one — what a leaf-by-leaf `hasLeaf` check
 * finds, counted per held node instead of per leaf (a node's subtree spans a run of leaves, and
 * `SecretTree.restore` refused nested nodes: the runs are disjoint). A restart restores up to 65
 * epochs of a 10,000-leaf roster: 650,000 walks of ~14 steps before, a few dozen runs now.
 *
 * @param nodes - the held nodes, ascending (node indices as the tree numbers them)
 * @param chains - the started chains by leaf (every leaf below `leafCount`)
 * @param leafCount - the roster's leaves
 * @returns true when they partition the leaves (false: the caller finds the leaf at fault)
 * @internal exported for its test only
 */
export function partitionsLeaves(
  nodes: ReadonlyArray<readonly [number, Uint8Array]>,
  chains: ReadonlyMap<number, unknown>,
  leafCount: number,
): boolean {
  let derivable = 0;
  for (const [node] of nodes) {
    // A node at level k (k trailing one bits) spans 2^k leaves from (node − (2^k − 1)) / 2.
    let span = 1;
    while ((node + 1) % (2 * span) === 0) span *= 2;
    const first = (node - (span - 1)) / 2;
    const end = Math.min(first + span, leafCount);
    if (end <= first) return false;
    derivable += end - first;
    if (chains.size < end - first) {
      for (const leaf of chains.keys()) if (leaf >= first && leaf < end) return false;
    } else {
      for (let leaf = first; leaf < end; leaf++) if (chains.has(leaf)) return false;
    }
  }
  return derivable + chains.size === leafCount;
}

/**
 * Builds a restored epoch's {@link DeferredRoster} (its first use) and checks it against the saved
 * state: `leafCount` leaves, and a leaf for every started chain.
 *
 * @param deferred - the roster to build
 * @param epoch - the epoch (named in errors)
 * @param chainLeaves - the leaves of the epoch's started chains
 * @returns the roster
 * @throws {@link StateCorruptedError} when it cannot be built or does not agree with the state
 */
export function buildDeferredRoster(
  deferred: DeferredRoster,
  epoch: bigint,
  chainLeaves: Iterable<number>,
): Roster {
  const roster = deferred.build();
  if (roster.length !== deferred.leafCount) {
    throw new StateCorruptedError(
      `the roster of epoch ${epoch} has ${roster.length} leaves, its saved state ${deferred.leafCount}`,
    );
  }
  for (const leaf of chainLeaves) {
    if (roster[leaf] === undefined) {
      throw new StateCorruptedError(`the roster of epoch ${epoch} has no leaf ${leaf} (a chain's)`);
    }
  }
  return roster;
}

/**
 * Reads what {@link writeEpochKeysState} wrote.
 *
 * @param provider - the primitives (the restored tree and chains use it)
 * @param bytes - the saved state
 * @param rosterFor - supplies the roster of a format-2 state (required for one)
 * @returns the epoch's keys, exactly as they were
 * @throws {@link StateCorruptedError} for another version, truncated bytes or a non-`Uint8Array`;
 *   `RangeError` for parts that do not agree (the caller reports both as `StateCorruptedError`)
 */
export function readEpochKeysState(
  provider: CryptoProvider,
  bytes: Uint8Array,
  rosterFor?: RosterSupplier,
): EpochKeysState {
  if (!(bytes instanceof Uint8Array))
    throw new StateCorruptedError("EpochKeys state is not a Uint8Array");
  const input = new StateReader(bytes);
  const version = input.u8();
  if (version !== stateVersion && version !== headVersion) {
    throw new StateCorruptedError(
      `EpochKeys state version ${version} is unknown (expected ${stateVersion} or ${headVersion})`,
    );
  }
  // groupContext: u32 len ‖ organization_id ‖ u32 len ‖ channel_id (UTF-8).
  const organizationId = input.bytes();
  const channelId = input.string();
  const epoch = input.u64();
  const keyId = input.fixed(wireLimits.keyIdBytes);
  const senderDataSecret = input.fixed(32);
  const limits = resolveLimits({
    maxForwardJump: input.u32(),
    maxSkippedPerChain: input.u32(),
    maxSkippedPerEpoch: input.u32(),
    paddingBlock: input.u32(),
  });
  let roster: Roster | DeferredRoster;
  if (version === stateVersion) {
    const inline = input.roster();
    for (const leaf of inline) if (leaf !== undefined) Object.freeze(leaf);
    roster = Object.freeze(inline);
  } else {
    const count = input.u32();
    const hash = input.fixed(32);
    if (rosterFor === undefined) {
      throw new StateCorruptedError(
        `epoch ${epoch} was saved without its roster: pass the rosters to restore it`,
      );
    }
    roster = rosterFor(epoch, keyId, count, hash);
  }
  // A deferred roster's leaves are checked when it is built (`EpochKeys`' roster, at first use).
  const built = isDeferredRoster(roster) ? undefined : roster;
  const leafCount = built === undefined ? (roster as DeferredRoster).leafCount : built.length;
  if (leafCount === 0) throw new RangeError("roster: bad leaf count");
  const nodeCount = input.u32();
  const nodes: Array<[number, Uint8Array]> = [];
  let previousNode = -1;
  for (let i = 0; i < nodeCount; i++) {
    const node = Number(input.u64());
    if (node <= previousNode) throw new RangeError("tree: nodes not ascending");
    previousNode = node;
    nodes.push([node, input.fixed(32)]);
  }
  const tree = SecretTree.restore(provider, leafCount, nodes);
  const chainCount = input.u32();
  const chainParts: Array<{
    leaf: number;
    nextGeneration: number;
    secret: Uint8Array | undefined;
  }> = [];
  let previousLeaf = -1;
  for (let i = 0; i < chainCount; i++) {
    const leaf = input.u32();
    if (
      leaf <= previousLeaf ||
      leaf >= leafCount ||
      (built !== undefined && built[leaf] === undefined)
    ) {
      throw new RangeError(`chains: bad leaf ${leaf}`);
    }
    previousLeaf = leaf;
    const nextGeneration = Number(input.u64());
    const secret = nextGeneration > maxGeneration ? undefined : input.fixed(32);
    chainParts.push({ leaf, nextGeneration, secret });
  }
  const skippedCount = input.u32();
  if (skippedCount > limits.maxSkippedPerEpoch)
    throw new RangeError("skipped: more than maxSkippedPerEpoch");
  const order: SkippedKey[] = [];
  const byLeaf = new Map<number, SkippedKey[]>();
  for (let i = 0; i < skippedCount; i++) {
    const entry: SkippedKey = {
      leaf: input.u32(),
      generation: input.u32(),
      key: input.fixed(32),
      nonce: input.fixed(12),
    };
    order.push(entry);
    const list = byLeaf.get(entry.leaf);
    if (list === undefined) byLeaf.set(entry.leaf, [entry]);
    else list.push(entry);
  }
  input.end();

  const chains = new Map<number, SenderChain>();
  for (const part of chainParts) {
    chains.set(
      part.leaf,
      SenderChain.restore(provider, { ...part, limits, skipped: byLeaf.get(part.leaf) ?? [] }),
    );
    byLeaf.delete(part.leaf);
  }
  if (byLeaf.size !== 0) throw new RangeError("skipped: keys of a leaf without a chain");
  // Every leaf's chain is either started or still derivable from the tree, never both.
  if (!partitionsLeaves(nodes, chains, leafCount)) {
    for (let leaf = 0; leaf < leafCount; leaf++) {
      if (chains.has(leaf) === tree.hasLeaf(leaf))
        throw new RangeError(`tree: leaf ${leaf} is inconsistent`);
    }
  }
  return {
    group: Object.freeze({ organizationId, channelId }),
    epoch,
    keyId,
    roster,
    limits,
    senderDataSecret,
    tree,
    chains,
    skipped: new Set(order),
  };
}
