/**
 * The runtime's native one-shot hash, for transports that hash every message (message ids):
 * Node's `crypto.hash` (Node ≥ 20.12 / 21.7), about 1 µs for a 700-byte message against about 7 µs
 * for `@noble/hashes` in JavaScript. Reached through `process.getBuiltinModule` (synchronous, and
 * absent in browsers and bundlers, where {@link nativeHash} is undefined and callers use
 * `@noble/hashes`: the same digests).
 */

/** Node's `crypto.hash(algorithm, data, outputEncoding)`. */
export interface NativeHash {
  (algorithm: string, data: Uint8Array, outputEncoding: "hex"): string;
  (algorithm: string, data: Uint8Array, outputEncoding: "buffer"): Uint8Array;
}

function lookUp(): NativeHash | undefined {
  const host = globalThis as {
    process?: { getBuiltinModule?: (id: string) => { hash?: unknown } | undefined };
  };
  try {
    const hash = host.process?.getBuiltinModule?.("node:crypto")?.hash;
    return typeof hash === "function" ? (hash as NativeHash) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `crypto.hash` where this runtime has it (decided once, at load), else undefined.
 * @example
 * ```ts
 * const hex = nativeHash?.("sha256", bytes, "hex") ?? bytesToHex(sha256(bytes));
 * ```
 */
export const nativeHash: NativeHash | undefined = lookUp();
