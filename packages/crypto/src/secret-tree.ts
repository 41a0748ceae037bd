import { labelInfo } from "./kdf.js";
import type { CryptoProvider } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";

const encoder = new TextEncoder();
// Constant derivation inputs: the children of every node use the same two `info` strings.
const leftInfo = labelInfo("tree", encoder.encode("left"), 32);
const rightInfo = labelInfo("tree", encoder.encode("right"), 32);

/** Largest roster the tree accepts: leaf indices are u32 on the wire. */
const maxLeaves = 0xffff_ffff;

/**
 * The per-epoch secret tree (docs/PROTOCOL.md, "Epochs and the key schedule"; RFC 9420 §9 shape):
 * a left-balanced binary tree in the array representation of RFC 9420 Appendix C, whose root is
 * `enc_secret` and whose children are
 *
 * ```
 * left  = ExpandWithLabel(node, "tree", "left", 32)
 * right = ExpandWithLabel(node, "tree", "right", 32)
 * ```
 *
 * As in RFC 9420 the tree is full: `n` roster leaves are placed in a tree of `2^⌈log₂ n⌉` leaves (leaf
 * `i` is node `2i`, the root is node `2^⌈log₂ n⌉ − 1`); nodes whose subtree holds no roster leaf are
 * never derived. With one leaf the root is leaf 0, so its secret is `enc_secret` itself.
 *
 * Leaf secrets are derived lazily, on a sender's first message: construction costs nothing, and a
 * leaf costs `⌈log₂ n⌉` expansions per level at most twice (both children of each node on its path).
 * A parent is wiped and deleted as soon as its children are derived; a leaf secret leaves the tree
 * when it is taken (it is then the generation-0 secret of that sender's chain, which owns it).
 *
 * Holds key material: it never prints it (see `redactSecrets`).
 *
 * @example
 * ```ts
 * const tree = SecretTree.create(provider, secrets.encryptionSecret.slice(), roster.length);
 * const chainSecret = tree.takeLeafSecret(3);
 * ```
 */
export class SecretTree {
  readonly leafCount: number;
  readonly #provider: CryptoProvider;
  /** Node index → secret, only for the nodes currently held (the frontier of what was derived). */
  readonly #nodes: Map<number, Uint8Array>;
  /** Index of the root node: `2^⌈log₂ leafCount⌉ − 1`. */
  readonly #root: number;

  private constructor(provider: CryptoProvider, leafCount: number, nodes: Map<number, Uint8Array>) {
    this.#provider = provider;
    this.leafCount = leafCount;
    this.#nodes = nodes;
    this.#root = rootIndex(leafCount);
    redactSecrets(this, "SecretTree");
  }

  /**
   * A tree over `leafCount` leaves whose root is `rootSecret`.
   *
   * @param provider - the primitives
   * @param rootSecret - `enc_secret` (32 bytes); the tree takes ownership and wipes it once the root's
   *   children are derived (pass a copy to keep yours)
   * @param leafCount - the roster's length, empty leaves included (1 to 2³² − 1)
   * @returns the tree, with nothing derived yet
   * @throws {RangeError} when `rootSecret` is not 32 bytes or `leafCount` is out of range
   */
  static create(provider: CryptoProvider, rootSecret: Uint8Array, leafCount: number): SecretTree {
    if (rootSecret.length !== 32) throw new RangeError("rootSecret: expected 32 bytes");
    checkLeafCount(leafCount);
    return new SecretTree(provider, leafCount, new Map([[rootIndex(leafCount), rootSecret]]));
  }

  /**
   * Rebuilds a tree from {@link SecretTree.heldNodes} (state restore). Checks only that every node is
   * inside the tree and 32 bytes; the caller checks that every leaf it still needs is reachable.
   *
   * @throws {RangeError} on a node outside the tree or a secret that is not 32 bytes
   */
  static restore(
    provider: CryptoProvider,
    leafCount: number,
    nodes: Iterable<readonly [node: number, secret: Uint8Array]>,
  ): SecretTree {
    checkLeafCount(leafCount);
    const width = 2 * rootIndex(leafCount) + 1;
    const held = new Map<number, Uint8Array>();
    for (const [node, secret] of nodes) {
      if (!Number.isSafeInteger(node) || node < 0 || node >= width || held.has(node)) {
        throw new RangeError(`nodes: node ${node} is outside the tree or repeated`);
      }
      if (secret.length !== 32) throw new RangeError(`nodes: node ${node} secret is not 32 bytes`);
      held.set(node, secret);
    }
    const root = rootIndex(leafCount);
    for (const node of held.keys()) {
      if (firstLeaf(node) >= leafCount)
        throw new RangeError(`nodes: node ${node} covers no roster leaf`);
      // A held node never sits below another held node: a parent is deleted when its children appear.
      for (let above = root; above !== node; ) {
        if (held.has(above))
          throw new RangeError(`nodes: node ${node} lies below held node ${above}`);
        const half = 2 ** (level(above) - 1);
        above = node < above ? above - half : above + half;
      }
    }
    return new SecretTree(provider, leafCount, held);
  }

  /** How many node secrets the tree holds now (tests and memory accounting). */
  get heldNodeCount(): number {
    return this.#nodes.size;
  }

  /** Whether node `node` (array index, leaf `i` is node `2i`) is held now. */
  holdsNode(node: number): boolean {
    return this.#nodes.has(node);
  }

  /**
   * The held nodes in ascending index order, for serialization. The secrets are the tree's own
   * buffers: copy them, do not keep or modify them.
   */
  heldNodes(): Array<readonly [node: number, secret: Uint8Array]> {
    return [...this.#nodes.entries()].sort((a, b) => a[0] - b[0]);
  }

  /**
   * Whether leaf `leaf`'s secret can still be derived (it has not been taken).
   * @throws {RangeError} when `leaf` is not a leaf index of the tree
   */
  hasLeaf(leaf: number): boolean {
    return this.#heldAncestor(leaf) !== undefined;
  }

  /**
   * Takes leaf `leaf`'s secret out of the tree, deriving (and wiping) the nodes on its path. The caller
   * owns the returned buffer (the sender chain's generation-0 secret).
   *
   * @param leaf - the roster leaf index
   * @returns a fresh 32-byte secret
   * @throws {RangeError} when `leaf` is out of range or its secret was already taken
   */
  takeLeafSecret(leaf: number): Uint8Array {
    const target = 2 * leaf;
    const start = this.#heldAncestor(leaf);
    if (start === undefined)
      throw new RangeError(`leaf: the secret of leaf ${leaf} was already taken`);
    let node: number = start;
    let secret = this.#nodes.get(node) as Uint8Array;
    while (node !== target) {
      const half = 2 ** (level(node) - 1);
      const left = node - half;
      const right = node + half;
      // Derive both children (RFC 9420 §9), except one whose subtree holds no roster leaf: it would
      // never be used. Then the parent goes.
      const leftSecret = this.#provider.hkdfExpand(secret, leftInfo, 32);
      const rightSecret =
        firstLeaf(right) < this.leafCount
          ? this.#provider.hkdfExpand(secret, rightInfo, 32)
          : undefined;
      this.#nodes.delete(node);
      wipe(secret);
      this.#nodes.set(left, leftSecret);
      if (rightSecret !== undefined) this.#nodes.set(right, rightSecret);
      if (target < node) {
        node = left;
        secret = leftSecret;
      } else {
        node = right;
        secret = rightSecret as Uint8Array;
      }
    }
    this.#nodes.delete(target);
    return secret;
  }

  /**
   * Leaf `leaf`'s secret, derived into a fresh buffer **without changing the tree** (the receive path
   * derives a candidate before it knows the message is authentic). Costs up to `⌈log₂ n⌉` expansions.
   *
   * @returns a fresh 32-byte secret the caller owns (and should wipe)
   * @throws {RangeError} when `leaf` is out of range or its secret was already taken
   */
  peekLeafSecret(leaf: number): Uint8Array {
    const target = 2 * leaf;
    const start = this.#heldAncestor(leaf);
    if (start === undefined)
      throw new RangeError(`leaf: the secret of leaf ${leaf} was already taken`);
    let node: number = start;
    let secret: Uint8Array = (this.#nodes.get(node) as Uint8Array).slice();
    while (node !== target) {
      const half = 2 ** (level(node) - 1);
      const goLeft = target < node;
      const child = this.#provider.hkdfExpand(secret, goLeft ? leftInfo : rightInfo, 32);
      wipe(secret);
      secret = child;
      node = goLeft ? node - half : node + half;
    }
    return secret;
  }

  /** Wipes and forgets every node secret (end of the epoch's retention). */
  destroy(): void {
    for (const secret of this.#nodes.values()) wipe(secret);
    this.#nodes.clear();
  }

  /** The highest held node on the path from the root to leaf `leaf`, or undefined if none is. */
  #heldAncestor(leaf: number): number | undefined {
    if (!Number.isInteger(leaf) || leaf < 0 || leaf >= this.leafCount) {
      throw new RangeError(`leaf: must be an integer in 0..${this.leafCount - 1}, got ${leaf}`);
    }
    const target = 2 * leaf;
    let node = this.#root;
    for (;;) {
      if (this.#nodes.has(node)) return node;
      if (node === target) return undefined;
      const half = 2 ** (level(node) - 1);
      node = target < node ? node - half : node + half;
    }
  }
}

function checkLeafCount(leafCount: number): void {
  if (!Number.isInteger(leafCount) || leafCount < 1 || leafCount > maxLeaves) {
    throw new RangeError(`leafCount: must be an integer in 1..${maxLeaves}, got ${leafCount}`);
  }
}

/** Root of the full tree over `2^⌈log₂ leafCount⌉` leaves. Arithmetic, not bit operations: no 32-bit limit. */
function rootIndex(leafCount: number): number {
  let width = 1;
  while (width < leafCount) width *= 2;
  return width - 1;
}

/** Level of a node: the number of trailing one bits of its index (leaves are level 0). */
function level(node: number): number {
  let k = 0;
  let x = node;
  while (x % 2 === 1) {
    k++;
    x = (x - 1) / 2;
  }
  return k;
}

/** Leaf index of the leftmost leaf below `node`. */
function firstLeaf(node: number): number {
  return (node - (2 ** level(node) - 1)) / 2;
}
