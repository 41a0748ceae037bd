/**
 * Generates vectors/crypto/delegation.json (docs/DELEGATION.md; docs/PROTOCOL.md, "Delegated
 * management"): a member's keys signature, a delegate's add step and a delegate's KeyUpdate with
 * its delegate salts, with negative cases. Deterministic (the seed rule of `vectorSeed`, seeded
 * streams for the delegate's randomness); run by `generate-vectors.ts`. Every value is computed by
 * a reference written here from the document (primitives and the labelled KDF) and by the library,
 * and the generator stops if they differ; every negative is run before it is written.
 * test/delegation-vectors.test.ts checks the file with both providers.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { concatBytes, toHex } from "@orgchat/base";
import { deriveSecret, expandWithLabel, labelInfo, u32, u64 } from "../src/kdf.js";
import {
  deriveKeyId,
  type GroupId,
  groupContext,
  type Roster,
  type RosterLeaf,
  rosterHash,
} from "../src/key-schedule.js";
import { type KeyUpdateChunk, openKeyUpdate } from "../src/key-update.js";
import { delegateSalt } from "../src/leaf-salts.js";
import { MemberGroup } from "../src/member-group.js";
import { signMemberKeys, verifyMemberKeys } from "../src/member-keys.js";
import { nodeProvider } from "../src/providers/node.js";
import { seededProvider, vectorSeed } from "../test/seeded-provider.js";

const file = join(
  dirname(fileURLToPath(import.meta.url)),
  ...["..", "..", "..", "vectors", "crypto", "delegation.json"],
);
const base = nodeProvider();
const text = (value: string) => new TextEncoder().encode(value);
const group: GroupId = {
  organizationId: base.ed25519PublicKey(vectorSeed("organization", 0)),
  channelId: "",
};

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`delegation vectors: ${what}`);
}

/** A person of the vectors: `delegation/<name>` identity, signing key and prekey. */
function person(name: string) {
  const identitySecret = vectorSeed(`delegation/${name}/identity`, 0);
  const signingSecret = vectorSeed(`delegation/${name}/signing`, 0);
  const prekeySecret = vectorSeed(`delegation/${name}/prekey`, 0);
  const leaf: RosterLeaf = {
    identityKey: base.ed25519PublicKey(identitySecret),
    signingKey: base.ed25519PublicKey(signingSecret),
    prekey: base.x25519PublicKey(prekeySecret),
  };
  return { identitySecret, signingSecret, prekeySecret, leaf };
}

const owner = {
  ...person("owner"),
  leaf: { ...person("owner").leaf, identityKey: group.organizationId },
};
const [bob, alice, carol] = [person("bob"), person("alice"), person("carol")];
const leafJson = (leaf: RosterLeaf | undefined) =>
  leaf === undefined
    ? null
    : {
        identityKeyHex: toHex(leaf.identityKey),
        signingKeyHex: toHex(leaf.signingKey),
        prekeyHex: toHex(leaf.prekey),
      };

// --- keys signature -----------------------------------------------------------------------------
const prekeyVersion = 1n;
const referenceInput = concatBytes(
  text("orgchat v1 member keys"),
  u32(32),
  group.organizationId,
  u32(0),
  carol.leaf.signingKey,
  carol.leaf.prekey,
  u64(prekeyVersion),
);
const carolKeys = signMemberKeys(base, {
  group,
  identitySecretKey: carol.identitySecret,
  signingKey: carol.leaf.signingKey,
  prekey: carol.leaf.prekey,
  prekeyVersion,
});
check(
  toHex(base.ed25519Sign(carol.identitySecret, referenceInput)) === toHex(carolKeys.keysSignature),
  "keys signature",
);
verifyMemberKeys(base, group, carolKeys, carol.leaf.identityKey);

// --- the delegate's add step (alice, leaf 3, adds carol at the empty leaf 1) -----------------------
const parentEpoch = 4n;
const parentSecret = vectorSeed("delegation/epoch secret", 4);
const parentRoster: Roster = [owner.leaf, undefined, bob.leaf, alice.leaf];
const parentHash = rosterHash(base, parentRoster);
const stream = seededProvider(base, "delegation/alice");
const delegate = MemberGroup.fromWelcome({
  provider: stream,
  welcome: {
    version: 1,
    organizationId: group.organizationId,
    channelId: "",
    epoch: parentEpoch,
    epochSecret: parentSecret,
    rosterHash: parentHash,
    keyId: deriveKeyId(base, group, parentEpoch, parentSecret),
    leafIndex: 3,
    leafSecret: vectorSeed("delegation/alice/leaf secret", 0),
    history: [],
  },
  roster: parentRoster,
  signingSecretKey: alice.signingSecret,
  prekeySecret: alice.prekeySecret,
  now: 0,
});
const add = delegate.commitAdd([carolKeys], 1);
const joined = add.joiners[0];
check(joined?.leaf === 1, "carol takes the first empty leaf");
const addEpoch = parentEpoch + 1n;
const addRoster: Roster = [owner.leaf, carol.leaf, bob.leaf, alice.leaf];
const addHash = rosterHash(base, addRoster);
const referenceInit = deriveSecret(base, parentSecret, "init");
const addSecret = expandWithLabel(
  base,
  referenceInit,
  "add",
  concatBytes(addHash, u64(addEpoch)),
  32,
);
check(toHex(add.rosterHash) === toHex(addHash), "add roster hash");
check(toHex(joined?.welcome.epochSecret ?? new Uint8Array()) === toHex(addSecret), "add secret");
check(toHex(add.keyId) === toHex(deriveKeyId(base, group, addEpoch, addSecret)), "add key id");

// --- the delegate's KeyUpdate (alice removes bob, leaf 2) ------------------------------------------
const drawnBefore = stream.drawn.length;
const removal = delegate.commitRemove([2], 2);
const [epochSecretDraw, ephemeralDraw] = stream.drawn.slice(drawnBefore) as [
  Uint8Array,
  Uint8Array,
];
const chunk = removal.chunks[0] as KeyUpdateChunk;
check(removal.chunks.length === 1, "one chunk");
const rekeySecret = deriveSecret(base, addSecret, "rekey");
const rekeyEpoch = addEpoch + 1n;
const recipients = [
  { leaf: 0, who: owner },
  { leaf: 1, who: carol },
];
const referenceEntries = recipients.map(({ leaf, who }) => {
  const salt = expandWithLabel(base, rekeySecret, "delegate salt", u32(leaf), 32);
  check(toHex(salt) === toHex(delegateSalt(base, rekeySecret, leaf)), `salt of leaf ${leaf}`);
  const ss = base.x25519(ephemeralDraw, who.leaf.prekey);
  const info = labelInfo(
    "key update",
    concatBytes(groupContext(group), u64(rekeyEpoch), chunk.ephemeralPublicKey, who.leaf.prekey),
    36,
  );
  const okm = base.hkdfExpand(base.hkdfExtract(salt, ss), info, 36);
  const wrap = okm.slice(4).map((b, i) => b ^ (epochSecretDraw[i] as number));
  const opened = openKeyUpdate({
    provider: base,
    group,
    chunk,
    prekeySecret: who.prekeySecret,
    leafSecret: salt,
  });
  check(opened !== undefined && toHex(opened) === toHex(epochSecretDraw), `entry of leaf ${leaf}`);
  return { leaf, saltHex: toHex(salt), entryHex: toHex(concatBytes(okm.slice(0, 4), wrap)) };
});
/** Byte offset of an entry in the chunk (entries are 36 bytes, sorted by hint). */
const entryAt = (entryHex: string) => toHex(chunk.entries).indexOf(entryHex) / 2;
for (const entry of referenceEntries) check(entryAt(entry.entryHex) % 36 === 0, "entry in chunk");

// --- negatives -----------------------------------------------------------------------------------
function outcome(run: () => unknown): string {
  try {
    return run() === undefined ? "none" : "opened";
  } catch (error) {
    return (error as { name?: string }).name ?? "Error";
  }
}
const carolLeafSecret = joined?.leafSecret as Uint8Array;
const tampered = chunk.entries.slice();
const carolAt = entryAt(referenceEntries[1]?.entryHex as string);
tampered[carolAt + 4 + 9] = (tampered[carolAt + 4 + 9] as number) ^ 1;
const open =
  (leafSecret: Uint8Array, entries = chunk.entries) =>
  () =>
    openKeyUpdate({
      provider: base,
      group,
      chunk: { ...chunk, entries },
      prekeySecret: carol.prekeySecret,
      leafSecret,
    });
const parentRekey = deriveSecret(base, parentSecret, "rekey");
const flipped = carolKeys.keysSignature.slice();
flipped[0] = (flipped[0] as number) ^ 1;
const negative = [
  {
    name: "opened-with-the-leaf-salt",
    what: "carol opens the delegate's chunk with her L_m (the owner's salt mode)",
    leafSaltHex: toHex(carolLeafSecret),
    outcome: outcome(open(carolLeafSecret)),
  },
  {
    name: "salt-of-the-wrong-epoch",
    what: "carol's delegate salt from rekey_secret[4] instead of rekey_secret[5]",
    leafSaltHex: toHex(delegateSalt(base, parentRekey, 1)),
    outcome: outcome(open(delegateSalt(base, parentRekey, 1))),
  },
  {
    name: "tampered-entry",
    what: "carol's entry with one wrapped bit flipped, opened with the right delegate salt",
    leafSaltHex: referenceEntries[1]?.saltHex,
    entriesHex: toHex(tampered),
    outcome: outcome(open(delegateSalt(base, rekeySecret, 1), tampered)),
  },
  {
    name: "keys-signature-flipped",
    what: "carol's keys with one signature bit flipped: verifyMemberKeys refuses them",
    keysSignatureHex: toHex(flipped),
    outcome: outcome(() => verifyMemberKeys(base, group, { ...carolKeys, keysSignature: flipped })),
  },
];
const expected = ["none", "none", "DecryptionFailedError", "InvalidPublicKeyError"];
for (const [i, entry] of negative.entries()) {
  check(entry.outcome === expected[i], `negative ${entry.name}: ${entry.outcome}`);
}

const json = {
  description:
    "Delegated management (docs/DELEGATION.md; docs/PROTOCOL.md, 'Delegated management'): a member's keys signature, a delegate's add step and a delegate's KeyUpdate salted with delegate salts. Group: the organization (seed organization/0), channel ''.",
  generator: "packages/crypto/scripts/delegation-vectors.ts",
  verification:
    "keysSignature: Ed25519(identity, signingInputHex) with signingInputHex = 'orgchat v1 member keys' ‖ groupContext ‖ S ‖ P ‖ u64 prekeyVersion. addStep: init = DeriveSecret(parentEpochSecretHex, 'init'); epochSecret = ExpandWithLabel(init, 'add', rosterHash(roster) ‖ u64 epoch, 32). keyUpdate: rekey = DeriveSecret(addStep.epochSecretHex, 'rekey'); each recipient's salt = ExpandWithLabel(rekey, 'delegate salt', u32 leaf, 32); opening the chunk with the recipient's prekey secret and that salt gives epochSecretHex. negative[]: opening carol's entry as described must end with outcome ('none': no entry found; else the error name).",
  organizationIdHex: toHex(group.organizationId),
  people: Object.fromEntries(
    Object.entries({ owner, bob, alice, carol }).map(([name, p]) => [
      name,
      {
        identitySecretHex: toHex(p.identitySecret),
        signingSecretHex: toHex(p.signingSecret),
        prekeySecretHex: toHex(p.prekeySecret),
        leaf: leafJson(p.leaf),
      },
    ]),
  ),
  keysSignature: {
    member: "carol",
    prekeyVersion,
    signingInputHex: toHex(referenceInput),
    keysSignatureHex: toHex(carolKeys.keysSignature),
  },
  addStep: {
    delegate: "alice",
    delegateLeaf: 3,
    parentEpoch,
    parentEpochSecretHex: toHex(parentSecret),
    parentRoster: parentRoster.map(leafJson),
    parentRosterHashHex: toHex(parentHash),
    joiner: "carol",
    joinerLeaf: 1,
    epoch: addEpoch,
    roster: addRoster.map(leafJson),
    rosterHashHex: toHex(addHash),
    epochSecretHex: toHex(addSecret),
    keyIdHex: toHex(add.keyId),
    welcomeLeafSecretHex: toHex(carolLeafSecret),
  },
  keyUpdate: {
    delegate: "alice",
    removedLeaves: [2],
    epoch: rekeyEpoch,
    rekeySecretHex: toHex(rekeySecret),
    epochSecretHex: toHex(epochSecretDraw),
    ephemeralSecretHex: toHex(ephemeralDraw),
    keyIdHex: toHex(chunk.keyId),
    previousKeyIdHex: toHex(chunk.previousKeyId),
    rosterHashHex: toHex(chunk.rosterHash),
    ephemeralPublicKeyHex: toHex(chunk.ephemeralPublicKey),
    entriesHex: toHex(chunk.entries),
    recipients: referenceEntries,
  },
  negative,
};
writeFileSync(
  file,
  `${JSON.stringify(json, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`,
);
process.stdout.write("wrote vectors/crypto/delegation.json\n");
