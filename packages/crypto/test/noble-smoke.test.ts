import { expect, it } from "vitest";
import { nobleProvider } from "../src/providers/noble.js";

it("noble provider: x25519 agreement, ed25519 sign/verify, gcm round trip, hkdf", () => {
  const p = nobleProvider();
  const a = p.x25519KeyPair();
  const b = p.x25519KeyPair();
  expect(p.x25519(a.secretKey, b.publicKey)).toEqual(p.x25519(b.secretKey, a.publicKey));
  expect(() => p.x25519(a.secretKey, new Uint8Array(32))).toThrowError(
    expect.objectContaining({ name: "InvalidPublicKeyError" }),
  );
  const s = p.ed25519KeyPair();
  const sig = p.ed25519Sign(s.secretKey, new Uint8Array([1, 2]));
  expect(p.ed25519Verify(s.publicKey, new Uint8Array([1, 2]), sig)).toBe(true);
  expect(p.ed25519Verify(s.publicKey, new Uint8Array([1, 3]), sig)).toBe(false);
  const key = p.randomBytes(32);
  const nonce = p.randomBytes(12);
  const sealed = p.aesGcmSeal(key, nonce, new Uint8Array([9, 9]), new Uint8Array([1]));
  expect(p.aesGcmOpen(key, nonce, sealed, new Uint8Array([1]))).toEqual(new Uint8Array([9, 9]));
  expect(() => p.aesGcmOpen(key, nonce, sealed, new Uint8Array([2]))).toThrowError(
    expect.objectContaining({ name: "DecryptionFailedError" }),
  );
  expect(p.hkdfExpand(p.hkdfExtract(new Uint8Array(), new Uint8Array(32)), new Uint8Array(), 42)).toHaveLength(42);
});
