/**
 * Seeded randomness for the adversary harness: the same seed gives the same keys, the same junk and
 * the same run.
 */
import { createHash } from "node:crypto";
import type { CryptoProvider } from "@orgchat/crypto";

/** Deterministic bytes good enough for keys: SHA-256 in counter mode over `seed`. */
export function seededBytes(seed: string): (length: number) => Uint8Array {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 32) {
      const block = createHash("sha256").update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, length - offset)), offset);
    }
    return out;
  };
}

/**
 * Cheap deterministic filler for bulk junk (xorshift32): megabytes of it cost nothing, so that a
 * flood's cost in a test or benchmark is the victim's, not the attacker's.
 */
export function junkBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed | 0) === 0 ? 0x9e3779b9 : seed | 0;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
    out[i + 1] = (x >>> 8) & 0xff;
    out[i + 2] = (x >>> 16) & 0xff;
    out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

/**
 * `provider` with its randomness drawn from `random`: `randomBytes`, and the secret keys of
 * `x25519KeyPair` / `ed25519KeyPair` (ephemeral keys, leaf secrets, identities). With seeded bytes
 * every key a peer makes is the same from run to run. Every other method is the provider's own.
 */
export function seededProvider(
  provider: CryptoProvider,
  random: (length: number) => Uint8Array,
): CryptoProvider {
  return new Proxy(provider, {
    get(target, property) {
      if (property === "randomBytes") return (length: number) => random(length);
      if (property === "x25519KeyPair") {
        return () => {
          const secretKey = random(32);
          return { secretKey, publicKey: target.x25519PublicKey(secretKey) };
        };
      }
      if (property === "ed25519KeyPair") {
        return () => {
          const secretKey = random(32);
          return { secretKey, publicKey: target.ed25519PublicKey(secretKey) };
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
