/**
 * Seeded randomness for tests: the seed rule of the committed crypto vectors
 * (`vectors/crypto/README.md`, shared by `scripts/generate-vectors.ts` and `test/vectors.test.ts`)
 * and the seeded streams the unit tests run on. Tests only: nothing here is random.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { CryptoProvider } from "../src/provider.js";

const encoder = new TextEncoder();
const domain = encoder.encode("orgchat vectors");

/**
 * `SHA-256("orgchat vectors" ‖ 0x00 ‖ name ‖ 0x00 ‖ u32 index)`: every secret of the vectors (keys,
 * epoch secrets, leaf secrets) is one of these, so a file stays small and another implementation can
 * regenerate the large cases. The zero bytes keep `(name, index)` pairs from colliding.
 *
 * @param name - what the secret is for, e.g. `"key-update/prekey"` (UTF-8)
 * @param index - which one (u32, big-endian)
 * @returns 32 bytes
 */
export function vectorSeed(name: string, index: number): Uint8Array {
  const label = encoder.encode(name);
  const input = new Uint8Array(domain.length + 1 + label.length + 1 + 4);
  input.set(domain, 0);
  input.set(label, domain.length + 1);
  new DataView(input.buffer).setUint32(input.length - 4, index);
  return sha256(input);
}

/**
 * `base` with its randomness replaced by the stream `vectorSeed(stream, 0)`, `vectorSeed(stream, 1)`,
 * …: every `x25519KeyPair()` and `ed25519KeyPair()` takes the next value as its secret key, and
 * `randomBytes(n)` takes the first `n` bytes of the next ⌈n / 32⌉ values. `drawn` lists what was
 * handed out, in order, so a generator can record it.
 *
 * @param base - the provider whose primitives do the work (node or noble)
 * @param stream - the stream name
 */
export function seededProvider(
  base: CryptoProvider,
  stream: string,
): CryptoProvider & { readonly drawn: Uint8Array[] } {
  let counter = 0;
  const drawn: Uint8Array[] = [];
  const randomBytes = blockStream(() => {
    const value = vectorSeed(stream, counter++);
    drawn.push(value.slice());
    return value;
  });
  return { ...withRandomBytes(base, randomBytes), drawn };
}

/**
 * `base` with its randomness replaced by `randomBytes`: `x25519KeyPair()` and `ed25519KeyPair()` take
 * the next 32 bytes as their secret key.
 *
 * @param base - the provider whose primitives do the work
 * @param randomBytes - the replacement source, e.g. {@link seededBytes}
 */
export function withRandomBytes(
  base: CryptoProvider,
  randomBytes: (length: number) => Uint8Array,
): CryptoProvider {
  return {
    ...base,
    randomBytes,
    x25519KeyPair() {
      const secretKey = randomBytes(32);
      return { secretKey, publicKey: base.x25519PublicKey(secretKey) };
    },
    ed25519KeyPair() {
      const secretKey = randomBytes(32);
      return { secretKey, publicKey: base.ed25519PublicKey(secretKey) };
    },
  };
}

/**
 * A `randomBytes` over a stream of 32-byte blocks: `n` bytes are the first `n` bytes of the next
 * ⌈n / 32⌉ blocks.
 *
 * @param next - returns the next block (32 bytes)
 */
export function blockStream(next: () => Uint8Array): (length: number) => Uint8Array {
  return (length) => {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 32) {
      out.set(next().subarray(0, Math.min(32, length - offset)), offset);
    }
    return out;
  };
}

/**
 * Deterministic bytes: SHA-256 in counter mode over a seed, block `i` = `SHA-256(seed ‖ u32 i)`
 * (the stream of the group, KeyUpdate and interaction tests).
 *
 * @param seed - names the stream (UTF-8)
 */
export function seededBytes(seed: string): (length: number) => Uint8Array {
  let counter = 0;
  const prefix = new TextEncoder().encode(seed);
  return blockStream(() => {
    const block = new Uint8Array(prefix.length + 4);
    block.set(prefix);
    new DataView(block.buffer).setUint32(prefix.length, counter++);
    return sha256(block);
  });
}

/**
 * The provider with its randomness replaced by {@link seededBytes}`(seed)`, so every run is the same.
 *
 * @param base - the provider whose primitives do the work
 * @param seed - names the stream
 */
export function seeded(base: CryptoProvider, seed: string): CryptoProvider {
  return withRandomBytes(base, seededBytes(seed));
}

/**
 * The provider with a deterministic RNG in HMAC counter mode: block `i` =
 * `HMAC-SHA256(SHA-256(label), u32 i)`, computed by `base` (the stream of the X3DH and Double
 * Ratchet tests).
 *
 * @param base - the provider whose primitives do the work
 * @param label - names the stream (UTF-8), e.g. `"orgchat x3dh test rng 1"`
 */
export function hmacSeeded(base: CryptoProvider, label: string): CryptoProvider {
  const key = base.sha256(new TextEncoder().encode(label));
  let counter = 0;
  return withRandomBytes(
    base,
    blockStream(() => {
      const block = new Uint8Array(4);
      new DataView(block.buffer).setUint32(0, counter++);
      return base.hmacSha256(key, block);
    }),
  );
}
