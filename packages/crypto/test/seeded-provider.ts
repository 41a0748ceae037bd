/**
 * The seed rule of the committed crypto vectors (`vectors/crypto/README.md`), shared by
 * `scripts/generate-vectors.ts` and `test/vectors.test.ts`. Tests only: nothing here is random.
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
  const next = (): Uint8Array => {
    const value = vectorSeed(stream, counter++);
    drawn.push(value.slice());
    return value;
  };
  const randomBytes = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 32) {
      out.set(next().subarray(0, Math.min(32, length - offset)), offset);
    }
    return out;
  };
  return {
    ...base,
    drawn,
    randomBytes,
    x25519KeyPair() {
      const secretKey = next();
      return { secretKey, publicKey: base.x25519PublicKey(secretKey) };
    },
    ed25519KeyPair() {
      const secretKey = next();
      return { secretKey, publicKey: base.ed25519PublicKey(secretKey) };
    },
  };
}
