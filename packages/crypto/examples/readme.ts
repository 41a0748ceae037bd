import { defaultProvider, EpochKeys, EpochSecrets, type Roster } from "@orgchat/crypto";
import { decodeGroupMessage } from "@orgchat/wire";

const provider = defaultProvider();
const organizationId = provider.ed25519KeyPair().publicKey;
const group = { organizationId, channelId: "" }; // "" = the organization-wide group

// Alice (leaf 0) and Bob (leaf 1): identity, per-organization signing key, KeyUpdate prekey.
const alice = provider.ed25519KeyPair();
const bob = provider.ed25519KeyPair();
const roster: Roster = [alice, bob].map((member) => ({
  identityKey: member.publicKey,
  signingKey: member.publicKey, // real members use a separate per-organization key
  prekey: provider.x25519KeyPair().publicKey,
}));

// Both hold the epoch secret (from a Welcome or a KeyUpdate in real life).
const epochSecret = provider.randomBytes(32);
const keysOf = () =>
  EpochKeys.create({
    provider,
    group,
    roster,
    secrets: EpochSecrets.derive(provider, group, 1n, epochSecret.slice()),
  });
const aliceKeys = keysOf();
const bobKeys = keysOf();

const bytes = aliceKeys.encrypt({
  senderLeaf: 0,
  signingSecretKey: alice.secretKey,
  contentType: 1,
  content: new TextEncoder().encode("hello, Bob"),
});
const { senderLeaf, content } = bobKeys.decrypt(decodeGroupMessage(bytes));
console.log(senderLeaf, new TextDecoder().decode(content)); // 0 hello, Bob
