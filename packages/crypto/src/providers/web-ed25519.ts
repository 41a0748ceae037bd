/**
 * Ed25519 on Web Crypto for the callers that can wait (envelope signing and verification, whose
 * contract in `@orgchat/wire` takes a promise), with the pinned rules of `CryptoProvider`: the same
 * signatures and the same verdicts as `nobleProvider()` on every input.
 *
 * Internal to the providers (`web.ts` builds on it).
 *
 * @module
 */
import { fromHex } from "@orgchat/base";
import { constantTimeEqual } from "../constant-time.js";
import type { CryptoProvider } from "../provider.js";
import {
  checkBytes,
  isBytesOfLength,
  isCanonicalScalar,
  isStrictEd25519PublicKey,
} from "./checks.js";

/** The part of Web Crypto's `SubtleCrypto` Ed25519 signing and verification call. */
export interface Ed25519Subtle {
  /** Imports a raw public key or a PKCS#8 secret key (a `CryptoKey`). */
  importKey(
    format: "raw" | "pkcs8",
    keyData: Uint8Array,
    algorithm: { readonly name: string },
    extractable: boolean,
    usages: readonly string[],
  ): Promise<unknown>;
  /** Signs `data` with a secret key. */
  sign(algorithm: { readonly name: string }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  /** Verifies `signature` over `data` with a public key. */
  verify(
    algorithm: { readonly name: string },
    key: unknown,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
}

/**
 * Ed25519 public keys remembered by content (the strict-key verdict and the imported `CryptoKey`),
 * the least recently used forgotten first: as in `nodeProvider()`, a signer's key decoded anew from
 * every envelope is checked and imported once. Bounded, since the keys come from the network.
 */
export const maxWebPublicKeysByContent = 4_096;

/** RFC 8410 PKCS#8 header in front of a raw 32-byte Ed25519 secret key (seed). */
export const ED25519_PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");

const ED25519 = { name: "Ed25519" } as const;

/** Async Ed25519 over one `SubtleCrypto`, with its key caches. */
export interface AsyncEd25519 {
  sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/**
 * Ed25519 signing and verification on `subtle`, keys imported once and cached.
 *
 * Verification checks the pinned rules itself before Web Crypto's cofactorless check (BoringSSL
 * recomputes R and compares encodings, which refuses a non-canonical R): the lengths, `S < L`, and
 * the strict public-key rule shared with the other providers (canonical, not of small order).
 *
 * @param subtle - the browser's `crypto.subtle`
 * @param fallback - answers instead when Web Crypto fails where it should not (a key it will not
 *   import although it passed the strict check, a rejected call): a verdict never rests on an error
 * @returns `sign` (deterministic: the same bytes as noble's) and `verify` (never rejects for a
 *   peer's input: `false`)
 */
export function asyncEd25519(subtle: Ed25519Subtle, fallback: CryptoProvider): AsyncEd25519 {
  // Secret keys by array (the caller's long-lived signing key), each entry checked against a copy of
  // the bytes it was imported from, as the node provider's cache does.
  const secrets = new WeakMap<Uint8Array, { readonly bytes: Uint8Array; readonly key: unknown }>();
  const publics = new Map<string, Promise<unknown | null>>();

  async function secretKeyOf(secretKey: Uint8Array): Promise<unknown> {
    const entry = secrets.get(secretKey);
    if (entry !== undefined && constantTimeEqual(entry.bytes, secretKey)) return entry.key;
    const der = new Uint8Array(48);
    der.set(ED25519_PKCS8_PREFIX, 0);
    der.set(secretKey, 16);
    const bytes = secretKey.slice();
    try {
      const key = await subtle.importKey("pkcs8", der, ED25519, false, ["sign"]);
      secrets.set(secretKey, { bytes, key });
      return key;
    } finally {
      der.fill(0);
    }
  }

  /** The imported key, or null when the key fails the strict rule; remembered by content. */
  function publicKeyOf(publicKey: Uint8Array): Promise<unknown | null> {
    let name = "";
    for (const byte of publicKey) name += String.fromCharCode(byte);
    const known = publics.get(name);
    if (known !== undefined) {
      publics.delete(name);
      publics.set(name, known);
      return known;
    }
    const imported = isStrictEd25519PublicKey(publicKey)
      ? subtle.importKey("raw", publicKey.slice(), ED25519, false, ["verify"])
      : Promise.resolve(null);
    // Only a settled import is remembered: a failed one is retried (and answered by the fallback).
    const settled = imported.catch((error: unknown) => {
      publics.delete(name);
      throw error;
    });
    publics.set(name, settled);
    if (publics.size > maxWebPublicKeysByContent) {
      publics.delete(publics.keys().next().value as string);
    }
    return settled;
  }

  return {
    async sign(secretKey, message) {
      checkBytes(secretKey, 32, "secretKey");
      if (!(message instanceof Uint8Array)) {
        throw new TypeError(`message: expected a Uint8Array, got ${typeof message}`);
      }
      try {
        return new Uint8Array(await subtle.sign(ED25519, await secretKeyOf(secretKey), message));
      } catch {
        // Deterministic signatures: noble's are the same bytes.
        return fallback.ed25519Sign(secretKey, message);
      }
    },
    async verify(publicKey, message, signature) {
      if (!isBytesOfLength(publicKey, 32) || !isBytesOfLength(signature, 64)) return false;
      if (!(message instanceof Uint8Array)) return false;
      if (!isCanonicalScalar(signature.subarray(32))) return false;
      try {
        const key = await publicKeyOf(publicKey);
        if (key === null) return false;
        return await subtle.verify(ED25519, key, signature.slice(), message);
      } catch {
        // Web Crypto failed rather than answered: the pure-JS verdict, never a throw.
        return fallback.ed25519Verify(publicKey, message, signature);
      }
    },
  };
}
