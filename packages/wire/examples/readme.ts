import { ed25519 } from "@noble/curves/ed25519.js";
import {
  decodeOrganizationDescription,
  descriptionTopic,
  encodeOrganizationDescription,
  isDecodeError,
  openEnvelope,
  sealEnvelope,
} from "@orgchat/wire";

// Plain codecs: encode, decode, and a typed error for bad bytes.
const bytes = encodeOrganizationDescription({ clock: 1n, identity: { displayName: "Acme" } });
console.log(decodeOrganizationDescription(bytes).identity?.displayName); // "Acme"
try {
  decodeOrganizationDescription(new Uint8Array([0x0a, 0xff]));
} catch (error) {
  if (isDecodeError(error)) console.log(error.reason); // "malformed"
}

// Signed envelopes: bring your own Ed25519 (here @noble/curves).
const secretKey = ed25519.utils.randomSecretKey();
const owner = {
  scheme: "ed25519" as const,
  publicKey: ed25519.getPublicKey(secretKey),
  sign: (message: Uint8Array) => ed25519.sign(message, secretKey),
};
const topic = descriptionTopic(owner.publicKey);
const envelope = await sealEnvelope(
  {
    type: "organization-description",
    organizationId: owner.publicKey,
    clock: 1n,
    contentTopic: topic,
    message: { clock: 1n, identity: { displayName: "Acme" } },
  },
  owner,
);
const opened = await openEnvelope(envelope, {
  contentTopic: topic,
  organizationId: owner.publicKey,
  accept: ["organization-description"],
  verify: ({ publicKey, message, signature }) => ed25519.verify(signature, message, publicKey),
});
console.log(opened.type, opened.clock); // "organization-description" 1n
