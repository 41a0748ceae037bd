import {
  createPrivateKey,
  createPublicKey,
  sign as ed25519Sign,
  verify as ed25519Verify,
} from "node:crypto";
import type { EnvelopeSigner, EnvelopeVerifier } from "@orgchat/wire";

/**
 * A deterministic Ed25519 key (node:crypto; the state package depends on no crypto library): the
 * 32-byte seed is `seedByte` repeated, as in vectors/wire.
 */
export function ed25519Key(seedByte: number): EnvelopeSigner {
  const privateKey = createPrivateKey({
    key: Buffer.concat([
      Buffer.from("302e020100300506032b657004220420", "hex"),
      Buffer.alloc(32, seedByte),
    ]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return {
    scheme: "ed25519",
    publicKey: new Uint8Array(spki.subarray(spki.length - 32)),
    sign: (message) => new Uint8Array(ed25519Sign(null, message, privateKey)),
  };
}

/** Verifies an Ed25519 signature over an envelope's signing input. */
export const verify: EnvelopeVerifier = ({ publicKey, message, signature }) =>
  ed25519Verify(
    null,
    message,
    createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]),
      format: "der",
      type: "spki",
    }),
    signature,
  );
