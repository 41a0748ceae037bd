/**
 * Generates vectors/crypto/leaf-secret-schedule.json: the leaf-secret schedule of docs/PROTOCOL.md,
 * "Re-keying" (`L_m` is the salt of the next KeyUpdate and moves one `evolve` step at each KeyUpdate,
 * never at add steps), with positive and negative cases. Deterministic (the seed rule of
 * `vectorSeed`); run `pnpm --filter @orgchat/crypto exec tsx --conditions=@orgchat/source
 * scripts/leaf-schedule-vectors.ts`. test/leaf-schedule-vectors.test.ts checks the file.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { toHex } from "@orgchat/base";
import { deriveKeyId, evolveLeafSecret, type GroupId } from "../src/key-schedule.js";
import { buildKeyUpdate, type KeyUpdateChunk, openKeyUpdate } from "../src/key-update.js";
import { nodeProvider } from "../src/providers/node.js";
import { seededProvider, vectorSeed } from "../test/seeded-provider.js";

const file = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "vectors",
  "crypto",
  "leaf-secret-schedule.json",
);
const base = nodeProvider();
const group: GroupId = {
  organizationId: base.ed25519PublicKey(vectorSeed("organization", 0)),
  channelId: "",
};
const joinEpoch = 4n;
/** Epochs after the join: add steps and KeyUpdates. */
const epochs = [
  { epoch: 5n, change: "add" },
  { epoch: 6n, change: "add" },
  { epoch: 7n, change: "rekey" },
  { epoch: 8n, change: "add" },
  { epoch: 9n, change: "rekey" },
] as const;

const prekeySecret = vectorSeed("leaf-schedule/prekey", 1);
const prekey = base.x25519PublicKey(prekeySecret);
const other = vectorSeed("leaf-schedule/prekey", 2);
const joinSecret = vectorSeed("leaf-schedule/leaf secret", 1);

function update(epoch: bigint, salt: Uint8Array) {
  const epochSecret = vectorSeed(`leaf-schedule/epoch secret ${epoch}`, 0);
  const [chunk] = buildKeyUpdate({
    provider: seededProvider(base, `leaf-schedule/ephemeral ${epoch}`),
    group,
    epoch,
    epochSecret,
    previousKeyId: deriveKeyId(base, group, epoch - 1n, vectorSeed("leaf-schedule/previous", 0)),
    rosterHash: vectorSeed("leaf-schedule/roster hash", Number(epoch)),
    recipients: [
      { leaf: 1, prekey, leafSecret: salt },
      {
        leaf: 2,
        prekey: base.x25519PublicKey(other),
        leafSecret: vectorSeed("leaf-schedule/leaf secret", 2),
      },
    ],
  });
  if (chunk === undefined) throw new Error("no chunk");
  return { chunk, epochSecret };
}

function open(chunk: KeyUpdateChunk, leafSecret: Uint8Array): string {
  const opened = openKeyUpdate({ provider: base, group, chunk, prekeySecret, prekey, leafSecret });
  return opened === undefined ? "undefined" : toHex(opened);
}

function chunkJson(chunk: KeyUpdateChunk) {
  return {
    epoch: chunk.epoch,
    previousKeyIdHex: toHex(chunk.previousKeyId),
    keyIdHex: toHex(chunk.keyId),
    rosterHashHex: toHex(chunk.rosterHash),
    ephemeralPublicKeyHex: toHex(chunk.ephemeralPublicKey),
    entriesHex: toHex(chunk.entries),
  };
}

// The schedule: L moves only at the KeyUpdates (7 and 9); each KeyUpdate is salted with L as it was.
const leafSecrets: Array<{ epoch: bigint; leafSecretHex: string }> = [];
const updates: unknown[] = [];
let leaf = joinSecret;
const chunks = new Map<bigint, KeyUpdateChunk>();
for (const { epoch, change } of epochs) {
  if (change === "rekey") {
    const { chunk, epochSecret } = update(epoch, leaf);
    if (open(chunk, leaf) !== toHex(epochSecret)) throw new Error(`epoch ${epoch}: does not open`);
    chunks.set(epoch, chunk);
    updates.push({
      saltHex: toHex(leaf),
      chunk: chunkJson(chunk),
      epochSecretHex: toHex(epochSecret),
    });
    leaf = evolveLeafSecret(base, leaf, epoch);
  }
  leafSecrets.push({ epoch, leafSecretHex: toHex(leaf) });
}

// Negative: salts a wrong schedule would give; none opens.
const k7 = chunks.get(7n) as KeyUpdateChunk;
const k9 = chunks.get(9n) as KeyUpdateChunk;
let perEpoch = joinSecret;
for (let epoch = 5n; epoch <= 9n; epoch++) perEpoch = evolveLeafSecret(base, perEpoch, epoch);
let perEpochTo7 = joinSecret;
for (let epoch = 5n; epoch <= 7n; epoch++) perEpochTo7 = evolveLeafSecret(base, perEpochTo7, epoch);
const l7 = evolveLeafSecret(base, joinSecret, 7n);
const negative = [
  {
    name: "KeyUpdate 9 with the leaf secret not stepped over the missed KeyUpdate 7",
    epoch: 9n,
    saltHex: toHex(joinSecret),
  },
  {
    name: "KeyUpdate 9 with one step from the join straight to epoch 9 (skipping KeyUpdate 7)",
    epoch: 9n,
    saltHex: toHex(evolveLeafSecret(base, joinSecret, 9n)),
  },
  {
    name: "KeyUpdate 9 with the per-epoch chain (a step at every epoch, add steps included)",
    epoch: 9n,
    saltHex: toHex(perEpoch),
  },
  {
    name: "KeyUpdate 7 with the per-epoch chain",
    epoch: 7n,
    saltHex: toHex(perEpochTo7),
  },
  {
    name: "KeyUpdate 7 with the leaf secret held after applying it (the salt is gone)",
    epoch: 7n,
    saltHex: toHex(l7),
  },
].map((vector) => {
  const chunk = vector.epoch === 7n ? k7 : k9;
  const outcome = open(chunk, Uint8Array.from(Buffer.from(vector.saltHex, "hex")));
  if (outcome !== "undefined") throw new Error(`negative "${vector.name}" opened`);
  return { ...vector, outcome };
});

const json = JSON.stringify(
  {
    description:
      'The leaf-secret schedule (docs/PROTOCOL.md, "Re-keying"): a member\'s leaf secret L_m, set at its join (epoch 4), is the salt of its entry in the next KeyUpdate and moves one step L_m ← ExpandWithLabel(L_m, "evolve", u64 e, 32) only at each KeyUpdate e, never at an add step. A member that missed KeyUpdate 7 steps over it before opening KeyUpdate 9. Epochs are u64, written as decimal strings.',
    generator: "packages/crypto/scripts/leaf-schedule-vectors.ts",
    seedRule:
      'seed(name, i) = SHA-256("orgchat vectors" ‖ 0x00 ‖ UTF-8 name ‖ 0x00 ‖ u32 i). organization_id = Ed25519 public key of seed("organization", 0), channel "". The member: prekey secret seed("leaf-schedule/prekey", 1), leaf secret at its join seed("leaf-schedule/leaf secret", 1). Each KeyUpdate also wraps for a second member (prekey secret seed("leaf-schedule/prekey", 2), salt seed("leaf-schedule/leaf secret", 2)).',
    verification: [
      "leafSecrets[]: L_m after each epoch, from joinLeafSecretHex at joinEpoch: unchanged at an add step, one evolve step at a KeyUpdate.",
      "updates[]: saltHex is L_m before the KeyUpdate; opening chunk (one chunk, organization group, version 1, chunk 0 of 1) with the member's prekey secret and saltHex gives epochSecretHex.",
      'negative[]: opening the chunk of KeyUpdate `epoch` with saltHex finds no entry for the member: the outcome is "undefined".',
    ],
    organizationIdHex: toHex(group.organizationId),
    memberPrekeySecretHex: toHex(prekeySecret),
    joinEpoch,
    joinLeafSecretHex: toHex(joinSecret),
    epochs,
    leafSecrets,
    updates,
    negative,
  },
  (_key, value) => (typeof value === "bigint" ? value.toString() : value),
  2,
);
writeFileSync(file, `${json}\n`);
process.stdout.write("wrote vectors/crypto/leaf-secret-schedule.json\n");
