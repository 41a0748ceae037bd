/**
 * The wire round trip the README's first command runs (until the CLI demo lands):
 * an owner key signs an organization description for its description topic, a newcomer who knows
 * only the organization's public key derives the same topic and opens it, and tampered or
 * misrouted copies are refused with typed errors.
 *
 * Run: pnpm demo   (or: pnpm --filter @orgchat/wire example)
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import {
  channelTopic,
  descriptionTopic,
  type EnvelopeSigner,
  type EnvelopeVerifier,
  memberIdFromPublicKey,
  OrganizationMember_Roles,
  OrganizationPermissions_Access,
  openEnvelope,
  requestsTopic,
  sealEnvelope,
} from "@orgchat/wire";

const say = (line: string) => process.stdout.write(`${line}\n`);

// 1. The owner creates the organization: its key pair is the organization id (spec 55 §Creation 1).
const ownerSecret = randomBytes(32);
const owner: EnvelopeSigner = {
  scheme: "ed25519",
  publicKey: ed25519.getPublicKey(ownerSecret),
  sign: (message) => ed25519.sign(message, ownerSecret),
};
const organizationId = owner.publicKey;
const verify: EnvelopeVerifier = ({ publicKey, message, signature }) =>
  ed25519.verify(signature, message, publicKey);
say(`organization id     ${bytesToHex(organizationId)}`);
say(`description topic   ${descriptionTopic(organizationId)}`);
say(`requests topic      ${requestsTopic(organizationId)}`);
say(`#general topic      ${channelTopic(organizationId, "general")}`);

// 2. It describes the organization and signs it for the description topic (§Creation 2-3).
const clock = 1n;
const envelope = await sealEnvelope(
  {
    type: "organization-description",
    organizationId,
    clock,
    contentTopic: descriptionTopic(organizationId),
    message: {
      clock,
      identity: { displayName: "Acme", description: "Where Acme talks" },
      permissions: { access: OrganizationPermissions_Access.ON_REQUEST },
      members: {
        [memberIdFromPublicKey(organizationId)]: { roles: [OrganizationMember_Roles.ROLE_ALL] },
      },
      chats: { general: { identity: { displayName: "general" } } },
    },
  },
  owner,
);
say(`signed description  ${envelope.length} bytes`);

// 3. A newcomer who knows only the public key derives the topic and opens what arrives there.
const opened = await openEnvelope(envelope, {
  contentTopic: descriptionTopic(organizationId),
  organizationId,
  accept: ["organization-description"],
  verify,
});
if (opened.type !== "organization-description") throw new Error("unexpected type");
say(
  `newcomer opened     "${opened.message.identity?.displayName}" clock ${opened.clock}, ` +
    `${Object.keys(opened.message.members).length} member(s), channels: ${Object.keys(opened.message.chats).join(", ")}`,
);

// 4. Tampered or replayed copies are refused with typed errors.
const tampered = Uint8Array.from(envelope);
tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
for (const [label, bytes, topic] of [
  ["bit flipped in the signature", tampered, descriptionTopic(organizationId)],
  ["replayed on the requests topic", envelope, requestsTopic(organizationId)],
  ["random bytes", randomBytes(64), descriptionTopic(organizationId)],
] as const) {
  const outcome = await openEnvelope(bytes, { contentTopic: topic, organizationId, verify }).then(
    () => undefined,
    (error: Error) => error.name,
  );
  if (outcome === undefined) throw new Error(`${label}: was accepted, which must never happen`);
  say(`refused             ${label}: ${outcome}`);
}
say("wire round trip OK");
