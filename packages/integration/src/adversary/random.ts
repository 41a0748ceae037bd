/**
 * Seeded randomness for the adversary harness: the same seed gives the same keys, the same junk and
 * the same run.
 */
import { createHash } from "node:crypto";

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
