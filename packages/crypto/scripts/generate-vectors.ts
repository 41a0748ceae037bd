/**
 * Writes the committed crypto vectors in `vectors/crypto/` (see its README).
 *
 * Run with `pnpm --filter @orgchat/crypto vectors`. The output is deterministic: every secret comes
 * from the seed rule of `test/seeded-provider.ts` (`SHA-256("orgchat vectors" ‖ 0 ‖ name ‖ 0 ‖ u32 i)`),
 * Ed25519 is deterministic (RFC 8032), and the providers' randomness is replaced by seeded streams, so
 * CI regenerates and fails on any diff.
 *
 * Every value is computed twice: once by a reference written here from docs/PROTOCOL.md
 * ("Cryptography") with nothing but the primitives and the labelled KDF, and once by the library;
 * the generator stops if they differ. Every negative vector is checked here to end with the outcome
 * it records before it is written.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { concatBytes } from "@orgchat/base";
import {
  decodeGroupMessage,
  decodePairwiseMessage,
  encodeGroupMessage,
  encodePairwiseMessage,
  encodePrekeyBundle,
  type PairwiseMessage,
} from "@orgchat/wire";
import { PairwiseSession } from "../src/double-ratchet.js";
import { groupLimits } from "../src/group-limits.js";
import { EpochKeys } from "../src/group-message.js";
import { deriveSecret, expandWithLabel, labelInfo, u32, u64 } from "../src/kdf.js";
import {
  addStepEpochSecret,
  deriveKeyId,
  EpochSecrets,
  evolveLeafSecret,
  type GroupId,
  groupContext,
  type Roster,
  type RosterLeaf,
  rosterHash,
} from "../src/key-schedule.js";
import {
  buildKeyUpdate,
  ed25519EnvelopeSigner,
  type KeyUpdateChunk,
  keyUpdateLimits,
  keyUpdateTopic,
  openKeyUpdate,
  openKeyUpdateEnvelope,
  sealKeyUpdate,
} from "../src/key-update.js";
import { OwnerPrekeys } from "../src/owner-prekeys.js";
import { prekeyBundleSigningInput, verifyPrekeyBundle } from "../src/prekey-bundle.js";
import type { CryptoProvider, KeyPair } from "../src/provider.js";
import { nodeProvider } from "../src/providers/node.js";
import { SecretTree } from "../src/secret-tree.js";
import { SenderChain } from "../src/sender-chain.js";
import { type X3dhHeaderFields, x3dhInitiate, x3dhInitiatorSigningInput } from "../src/x3dh.js";
import { seededProvider, vectorSeed } from "../test/seeded-provider.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "vectors", "crypto");
const generator = "packages/crypto/scripts/generate-vectors.ts";
const provider = nodeProvider();
const encoder = new TextEncoder();
const text = (value: string) => encoder.encode(value);
const hex = (bytes: Uint8Array) => bytesToHex(bytes);
const empty = new Uint8Array(0);

function write(name: string, content: unknown): void {
  const json = JSON.stringify(
    content,
    (_key, value) => (typeof value === "bigint" ? value.toString() : value),
    2,
  );
  writeFileSync(join(root, name), `${json}\n`);
  process.stdout.write(`wrote vectors/crypto/${name}\n`);
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`generate-vectors: ${what}`);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function checkSame(a: Uint8Array, b: Uint8Array, what: string): void {
  check(same(a, b), `${what}: the reference and the library differ`);
}

/** The outcome of `run`: `"accepted"` / `"undefined"` / the thrown error's `name`. */
function outcomeOf(run: () => unknown): string {
  try {
    return run() === undefined ? "undefined" : "accepted";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

function expectOutcome(name: string, expected: string, run: () => unknown): void {
  const actual = outcomeOf(run);
  check(actual === expected, `vector ${name}: expected ${expected}, got ${actual}`);
}

function flipBit(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] as number) ^ mask;
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Fixed parties (all secrets from the seed rule)

const organizationSecretKey = vectorSeed("organization", 0);
const organizationId = provider.ed25519PublicKey(organizationSecretKey);
const otherOrganizationId = provider.ed25519PublicKey(vectorSeed("organization", 1));
const orgGroup: GroupId = { organizationId, channelId: "" };
const channelGroup: GroupId = { organizationId, channelId: "general" };

/** Member keys by roster leaf: Ed25519 identity and signing keys, X25519 prekey. */
function memberSecrets(leaf: number) {
  return {
    identitySecretKey: vectorSeed("member/identity", leaf),
    signingSecretKey: vectorSeed("member/signing", leaf),
    prekeySecretKey: vectorSeed("member/prekey", leaf),
  };
}

function rosterLeaf(p: CryptoProvider, leaf: number): RosterLeaf {
  const secrets = memberSecrets(leaf);
  return {
    identityKey: p.ed25519PublicKey(secrets.identitySecretKey),
    signingKey: p.ed25519PublicKey(secrets.signingSecretKey),
    prekey: p.x25519PublicKey(secrets.prekeySecretKey),
  };
}

/** A roster of `size` leaves whose leaves in `emptyLeaves` are empty. */
function makeRoster(size: number, emptyLeaves: readonly number[]): Roster {
  return Array.from({ length: size }, (_, leaf) =>
    emptyLeaves.includes(leaf) ? undefined : rosterLeaf(provider, leaf),
  );
}

function rosterJson(roster: Roster) {
  return roster.map((leaf, index) =>
    leaf === undefined
      ? null
      : {
          leaf: index,
          identityKeyHex: hex(leaf.identityKey),
          signingKeyHex: hex(leaf.signingKey),
          prekeyHex: hex(leaf.prekey),
        },
  );
}

function groupJson(group: GroupId) {
  return {
    organizationIdHex: hex(group.organizationId),
    channelId: group.channelId,
    groupContextHex: hex(groupContext(group)),
  };
}

// ---------------------------------------------------------------------------------------------
// Reference derivations, written from docs/PROTOCOL.md with the labelled KDF only

/** `u16 L ‖ u8 len ‖ "orgchat v1 " label ‖ u32 len(context) ‖ context`, byte by byte. */
function referenceLabelInfo(label: string, context: Uint8Array, length: number): Uint8Array {
  const name = text(`orgchat v1 ${label}`);
  return concatBytes(
    Uint8Array.of(length >>> 8, length & 0xff),
    Uint8Array.of(name.length),
    name,
    u32(context.length),
    context,
  );
}

function referenceGroupContext(group: GroupId): Uint8Array {
  const channel = text(group.channelId);
  return concatBytes(
    u32(group.organizationId.length),
    group.organizationId,
    u32(channel.length),
    channel,
  );
}

function referenceKeyId(group: GroupId, epoch: bigint, epochSecret: Uint8Array): Uint8Array {
  return expandWithLabel(
    provider,
    epochSecret,
    "key id",
    concatBytes(referenceGroupContext(group), u64(epoch)),
    8,
  );
}

function treeWidth(leafCount: number): number {
  let width = 1;
  while (width < leafCount) width *= 2;
  return width;
}

/** Leaf `leaf`'s secret: halve the leaf range from the root (`enc_secret`) down to the leaf. */
function referenceLeafSecret(encSecret: Uint8Array, leafCount: number, leaf: number): Uint8Array {
  let secret = encSecret;
  let low = 0;
  for (let size = treeWidth(leafCount); size > 1; ) {
    size /= 2;
    const left = leaf < low + size;
    secret = expandWithLabel(provider, secret, "tree", text(left ? "left" : "right"), 32);
    if (!left) low += size;
  }
  return secret;
}

/** Every node a full derivation creates (subtrees without a roster leaf are skipped), by index. */
function referenceTreeNodes(encSecret: Uint8Array, leafCount: number) {
  const nodes: Array<{ node: number; level: number; firstLeaf: number; secretHex: string }> = [];
  const visit = (secret: Uint8Array, low: number, size: number, level: number) => {
    nodes.push({ node: 2 * low + size - 1, level, firstLeaf: low, secretHex: hex(secret) });
    if (size === 1) return;
    const half = size / 2;
    visit(expandWithLabel(provider, secret, "tree", text("left"), 32), low, half, level - 1);
    if (low + half < leafCount) {
      visit(
        expandWithLabel(provider, secret, "tree", text("right"), 32),
        low + half,
        half,
        level - 1,
      );
    }
  };
  const width = treeWidth(leafCount);
  visit(encSecret, 0, width, Math.log2(width));
  return nodes.sort((a, b) => a.node - b.node);
}

interface ReferenceGeneration {
  generation: number;
  chainSecret: Uint8Array;
  key: Uint8Array;
  nonce: Uint8Array;
  nextChainSecret: Uint8Array;
}

/** Generations 0..`last` of a sender chain from `c[0]`. */
function referenceChain(chainSecret: Uint8Array, last: number): ReferenceGeneration[] {
  const out: ReferenceGeneration[] = [];
  let c = chainSecret;
  for (let g = 0; g <= last; g++) {
    const next = expandWithLabel(provider, c, "secret", u32(g), 32);
    out.push({
      generation: g,
      chainSecret: c,
      key: expandWithLabel(provider, c, "key", u32(g), 32),
      nonce: expandWithLabel(provider, c, "nonce", u32(g), 12),
      nextChainSecret: next,
    });
    c = next;
  }
  return out;
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

interface CraftInit {
  group: GroupId;
  epoch: bigint;
  epochSecret: Uint8Array;
  leafCount: number;
  leaf: number;
  generation: number;
  contentType: number;
  content: Uint8Array;
  reuseGuard: Uint8Array;
  signingSecretKey: Uint8Array;
  /** Knobs that break one rule (negative vectors). */
  version?: number;
  senderDataLeaf?: number;
  lengthPrefix?: Uint8Array;
  lastPaddingByte?: number;
}

/** docs/PROTOCOL.md "Group messages" steps 1-5, with every intermediate value. */
function craftGroupMessage(init: CraftInit) {
  const { group, epoch, epochSecret, leaf, generation, contentType: t, content: m } = init;
  const context = referenceGroupContext(group);
  const keyId = referenceKeyId(group, epoch, epochSecret);
  const encSecret = expandWithLabel(provider, epochSecret, "enc", empty, 32);
  const senderDataSecret = expandWithLabel(provider, epochSecret, "sender data", empty, 32);
  const leafSecret = referenceLeafSecret(encSecret, init.leafCount, leaf);
  const chain = referenceChain(leafSecret, generation);
  const { key, nonce, chainSecret } = chain[generation] as ReferenceGeneration;
  const signatureInput = concatBytes(
    text("orgchat v1 group message"),
    context,
    u64(epoch),
    u32(leaf),
    u32(generation),
    u32(t),
    keyId,
    u32(m.length),
    m,
  );
  const signature = provider.ed25519Sign(init.signingSecretKey, signatureInput);
  const prefix = init.lengthPrefix ?? varint(m.length);
  const unpadded = prefix.length + m.length + 64;
  const padding = new Uint8Array(Math.ceil(unpadded / 64) * 64 - unpadded);
  if (init.lastPaddingByte !== undefined) padding[padding.length - 1] = init.lastPaddingByte;
  const plaintext = concatBytes(prefix, m, signature, padding);
  const guardedNonce = nonce.slice();
  for (let i = 0; i < 4; i++) {
    guardedNonce[i] = (guardedNonce[i] as number) ^ (init.reuseGuard[i] as number);
  }
  const version = init.version ?? 1;
  const aad = concatBytes(
    text("orgchat v1 group aad"),
    u32(version),
    context,
    u64(epoch),
    u32(t),
    keyId,
  );
  const ciphertext = provider.aesGcmSeal(key, guardedNonce, plaintext, aad);
  const sample = ciphertext.subarray(0, 16);
  const senderDataKey = expandWithLabel(provider, senderDataSecret, "key", sample, 32);
  const senderDataNonce = expandWithLabel(provider, senderDataSecret, "nonce", sample, 12);
  const senderDataPlain = concatBytes(
    u32(init.senderDataLeaf ?? leaf),
    u32(generation),
    init.reuseGuard,
  );
  const senderDataAad = concatBytes(keyId, u32(t));
  const senderData = provider.aesGcmSeal(
    senderDataKey,
    senderDataNonce,
    senderDataPlain,
    senderDataAad,
  );
  const bytes = encodeGroupMessage({ version, keyId, contentType: t, senderData, ciphertext });
  return {
    bytes,
    intermediates: {
      keyIdHex: hex(keyId),
      leafSecretHex: hex(leafSecret),
      chainSecretHex: hex(chainSecret),
      keyHex: hex(key),
      nonceHex: hex(nonce),
      guardedNonceHex: hex(guardedNonce),
      signatureInputHex: hex(signatureInput),
      signatureHex: hex(signature),
      plaintextHex: hex(plaintext),
      aadHex: hex(aad),
      ciphertextHex: hex(ciphertext),
      senderDataKeyHex: hex(senderDataKey),
      senderDataNonceHex: hex(senderDataNonce),
      senderDataPlaintextHex: hex(senderDataPlain),
      senderDataAadHex: hex(senderDataAad),
      senderDataHex: hex(senderData),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// kdf-labels.json

function kdfLabels(): void {
  const secret = vectorSeed("kdf-labels/secret", 0);
  const context = groupContext(orgGroup);
  const sample = vectorSeed("kdf-labels/sample", 0).subarray(0, 16);
  const ephemeral = provider.x25519PublicKey(vectorSeed("kdf-labels/ephemeral", 0));
  const prekey = provider.x25519PublicKey(vectorSeed("member/prekey", 1));
  const associatedData = concatBytes(
    vectorSeed("kdf-labels/associated data", 0),
    vectorSeed("kdf-labels/associated data", 1),
    vectorSeed("kdf-labels/associated data", 2),
    vectorSeed("kdf-labels/associated data", 3),
  );
  const cases: Array<{
    name: string;
    label: string;
    function: "DeriveSecret" | "ExpandWithLabel";
    context: Uint8Array;
    length: number;
    usedFor: string;
  }> = [
    {
      name: "enc",
      label: "enc",
      function: "DeriveSecret",
      context: empty,
      length: 32,
      usedFor: 'enc_secret = DeriveSecret(epoch_secret, "enc"): the secret-tree root',
    },
    {
      name: "sender data",
      label: "sender data",
      function: "DeriveSecret",
      context: empty,
      length: 32,
      usedFor: 'sender_data_secret = DeriveSecret(epoch_secret, "sender data")',
    },
    {
      name: "init",
      label: "init",
      function: "DeriveSecret",
      context: empty,
      length: 32,
      usedFor: 'init_secret = DeriveSecret(epoch_secret, "init"): input of the next add step',
    },
    {
      name: "description",
      label: "description",
      function: "ExpandWithLabel",
      context,
      length: 32,
      usedFor: "description_key: context = groupContext (organization-wide group)",
    },
    {
      name: "key id",
      label: "key id",
      function: "ExpandWithLabel",
      context: concatBytes(context, u64(7n)),
      length: 8,
      usedFor: "key_id[e]: context = groupContext ‖ u64 e (e = 7)",
    },
    {
      name: "add",
      label: "add",
      function: "ExpandWithLabel",
      context: concatBytes(vectorSeed("kdf-labels/roster hash", 0), u64(8n)),
      length: 32,
      usedFor:
        "add step: context = roster_hash[e+1] ‖ u64 (e+1) (e+1 = 8), secret = init_secret[e]",
    },
    {
      name: "evolve",
      label: "evolve",
      function: "ExpandWithLabel",
      context: u64(8n),
      length: 32,
      usedFor: "leaf secret evolution L_m[e+1]: context = u64 (e+1) (e+1 = 8)",
    },
    {
      name: "tree left",
      label: "tree",
      function: "ExpandWithLabel",
      context: text("left"),
      length: 32,
      usedFor: 'secret tree: left child, context = the 4 ASCII bytes "left"',
    },
    {
      name: "tree right",
      label: "tree",
      function: "ExpandWithLabel",
      context: text("right"),
      length: 32,
      usedFor: 'secret tree: right child, context = the 5 ASCII bytes "right"',
    },
    {
      name: "key (sender chain)",
      label: "key",
      function: "ExpandWithLabel",
      context: u32(5),
      length: 32,
      usedFor: "sender chain: AES-256-GCM key of generation g: context = u32 g (g = 5)",
    },
    {
      name: "nonce (sender chain)",
      label: "nonce",
      function: "ExpandWithLabel",
      context: u32(5),
      length: 12,
      usedFor: "sender chain: nonce of generation g: context = u32 g (g = 5)",
    },
    {
      name: "secret (sender chain)",
      label: "secret",
      function: "ExpandWithLabel",
      context: u32(5),
      length: 32,
      usedFor: "sender chain: c[g+1] from c[g]: context = u32 g (g = 5)",
    },
    {
      name: "key (sender data)",
      label: "key",
      function: "ExpandWithLabel",
      context: sample,
      length: 32,
      usedFor: "sender data key: secret = sender_data_secret, context = ciphertext[0..16]",
    },
    {
      name: "nonce (sender data)",
      label: "nonce",
      function: "ExpandWithLabel",
      context: sample,
      length: 12,
      usedFor: "sender data nonce: secret = sender_data_secret, context = ciphertext[0..16]",
    },
    {
      name: "key update",
      label: "key update",
      function: "ExpandWithLabel",
      context: concatBytes(context, u64(8n), ephemeral, prekey),
      length: 36,
      usedFor:
        "FLAT KeyUpdate okm: secret = HKDF-Extract(L_m[e+1], X25519(E, P_m)), context = groupContext ‖ u64 (e+1) ‖ E_pub ‖ P_m",
    },
    {
      name: "x3dh",
      label: "x3dh",
      function: "ExpandWithLabel",
      context: associatedData,
      length: 32,
      usedFor:
        "X3DH SK: secret = HKDF-Extract(32 zero bytes, 32×0xFF ‖ DH1 ‖ DH2 ‖ DH3), context = AD (128 bytes)",
    },
    {
      name: "ratchet root",
      label: "ratchet root",
      function: "ExpandWithLabel",
      context: empty,
      length: 64,
      usedFor: "Double Ratchet KDF_RK: secret = HKDF-Extract(rk, dh); rk' = [0..32], ck = [32..64]",
    },
    {
      name: "ratchet message",
      label: "ratchet message",
      function: "ExpandWithLabel",
      context: empty,
      length: 44,
      usedFor: "Double Ratchet message key: secret = mk; key = [0..32], nonce = [32..44]",
    },
  ];
  const vectors = cases.map((entry) => {
    const info = labelInfo(entry.label, entry.context, entry.length);
    checkSame(referenceLabelInfo(entry.label, entry.context, entry.length), info, entry.name);
    const output = expandWithLabel(provider, secret, entry.label, entry.context, entry.length);
    checkSame(provider.hkdfExpand(secret, info, entry.length), output, entry.name);
    if (entry.function === "DeriveSecret") {
      checkSame(deriveSecret(provider, secret, entry.label), output, entry.name);
    }
    return {
      name: entry.name,
      function: entry.function,
      label: entry.label,
      secretHex: hex(secret),
      contextHex: hex(entry.context),
      length: entry.length,
      labelInfoHex: hex(info),
      outputHex: hex(output),
      usedFor: entry.usedFor,
    };
  });
  write("kdf-labels.json", {
    description:
      'Labelled HKDF-SHA256 (docs/PROTOCOL.md, "Key derivation") for every label orgchat uses. labelInfo(label, context, L) = u16 L ‖ u8 len ‖ "orgchat v1 " label ‖ u32 len(context) ‖ context; ExpandWithLabel(secret, label, context, L) = HKDF-Expand(secret, labelInfo, L); DeriveSecret(secret, label) = ExpandWithLabel(secret, label, "", 32). The secret is the same for every vector; the contexts have the shape the protocol gives them.',
    generator,
    verification: [
      "Build labelInfo(label, contextHex, length) and compare with labelInfoHex.",
      "Compute HKDF-Expand(secretHex, labelInfoHex, length) and compare with outputHex.",
      'For function "DeriveSecret", contextHex is empty and length 32: DeriveSecret(secretHex, label) must give outputHex as well.',
    ],
    vectors,
  });
}

// ---------------------------------------------------------------------------------------------
// key-schedule.json

function keySchedule(): void {
  const groups = [
    { name: "organization", group: orgGroup, epochs: [0n, 1n, 4_294_967_296n] },
    { name: "channel general", group: channelGroup, epochs: [0n, 3n] },
  ].map(({ name, group, epochs }) => {
    checkSame(referenceGroupContext(group), groupContext(group), `${name} groupContext`);
    return {
      name,
      ...groupJson(group),
      epochs: epochs.map((epoch) => {
        const epochSecret = vectorSeed(`key-schedule/${name}/epoch ${epoch}`, 0);
        const secrets = EpochSecrets.derive(provider, group, epoch, epochSecret.slice());
        const reference = {
          enc: deriveSecret(provider, epochSecret, "enc"),
          senderData: deriveSecret(provider, epochSecret, "sender data"),
          description: expandWithLabel(
            provider,
            epochSecret,
            "description",
            referenceGroupContext(group),
            32,
          ),
          init: deriveSecret(provider, epochSecret, "init"),
          keyId: referenceKeyId(group, epoch, epochSecret),
        };
        checkSame(reference.enc, secrets.encryptionSecret, "enc_secret");
        checkSame(reference.senderData, secrets.senderDataSecret, "sender_data_secret");
        checkSame(reference.description, secrets.descriptionKey, "description_key");
        checkSame(reference.init, secrets.initSecret as Uint8Array, "init_secret");
        checkSame(reference.keyId, secrets.keyId, "key_id");
        return {
          epoch,
          epochSecretHex: hex(epochSecret),
          encSecretHex: hex(reference.enc),
          senderDataSecretHex: hex(reference.senderData),
          descriptionKeyHex: hex(reference.description),
          initSecretHex: hex(reference.init),
          keyIdContextHex: hex(concatBytes(groupContext(group), u64(epoch))),
          keyIdHex: hex(reference.keyId),
        };
      }),
    };
  });

  // Roster: leaves 0, 1 and 3 are members, leaf 2 was removed.
  const roster = makeRoster(4, [2]);
  const hashInput = concatBytes(
    text("orgchat v1 roster"),
    ...roster.flatMap((leaf, index) => [
      u32(index),
      leaf ? concatBytes(leaf.identityKey, leaf.signingKey, leaf.prekey) : new Uint8Array(96),
    ]),
  );
  const hash = rosterHash(provider, roster);
  checkSame(provider.sha256(hashInput), hash, "roster_hash");

  // Add steps: organization epoch 1 → 2 with the roster above; channel epoch 3 → 4 with a roster of
  // leaves 0..4 (leaf 2 empty).
  const channelRoster = makeRoster(5, [2]);
  const addSteps = [
    { name: "organization", group: orgGroup, epoch: 1n, roster },
    { name: "channel general", group: channelGroup, epoch: 3n, roster: channelRoster },
  ].map(({ name, group, epoch, roster: nextRoster }) => {
    const epochSecret = vectorSeed(`key-schedule/${name}/epoch ${epoch}`, 0);
    const initSecret = deriveSecret(provider, epochSecret, "init");
    const nextHash = rosterHash(provider, nextRoster);
    const next = epoch + 1n;
    const nextSecret = addStepEpochSecret(provider, initSecret, nextHash, next);
    checkSame(
      expandWithLabel(provider, initSecret, "add", concatBytes(nextHash, u64(next)), 32),
      nextSecret,
      "add step",
    );
    return {
      group: name,
      epoch,
      initSecretHex: hex(initSecret),
      nextEpoch: next,
      nextRoster: rosterJson(nextRoster),
      nextRosterHashHex: hex(nextHash),
      contextHex: hex(concatBytes(nextHash, u64(next))),
      nextEpochSecretHex: hex(nextSecret),
      nextKeyIdHex: hex(deriveKeyId(provider, group, next, nextSecret)),
    };
  });

  // Leaf-secret evolution: L[e+1] = ExpandWithLabel(L[e], "evolve", u64 (e+1), 32).
  const startEpoch = 4n;
  let leafSecret = vectorSeed("member/leaf secret", 1);
  const evolution = { startEpoch, leafSecretHex: hex(leafSecret), steps: [] as unknown[] };
  for (let epoch = startEpoch + 1n; epoch <= startEpoch + 5n; epoch++) {
    const next = evolveLeafSecret(provider, leafSecret, epoch);
    checkSame(expandWithLabel(provider, leafSecret, "evolve", u64(epoch), 32), next, "evolve");
    evolution.steps.push({ epoch, leafSecretHex: hex(next) });
    leafSecret = next;
  }

  write("key-schedule.json", {
    description:
      'The key schedule (docs/PROTOCOL.md, "Epochs and the key schedule" and "Re-keying"): the secrets and key_id derived from an epoch_secret for the organization-wide group and a restricted channel; roster_hash of a roster with an empty leaf; the one-way add step; the evolution of a member\'s leaf secret over several epochs. Epochs are u64, written as decimal strings.',
    generator,
    verification: [
      'groups[].epochs[]: from epochSecretHex derive enc_secret = DeriveSecret(·, "enc"), sender_data_secret = DeriveSecret(·, "sender data"), description_key = ExpandWithLabel(·, "description", groupContextHex, 32), init_secret = DeriveSecret(·, "init"), key_id = ExpandWithLabel(·, "key id", keyIdContextHex, 8) (keyIdContextHex = groupContext ‖ u64 epoch) and compare with the *Hex fields.',
      "groupContextHex = u32 len(organization_id) ‖ organization_id ‖ u32 len(channel_id) ‖ channel_id.",
      'roster: hash rosterHashInputHex ("orgchat v1 roster" ‖ per leaf u32 index ‖ identity ‖ signing ‖ prekey, an empty leaf as 96 zero bytes) with SHA-256 and compare with rosterHashHex; build rosterHashInputHex from leaves to check the layout.',
      'addSteps[]: nextEpochSecretHex = ExpandWithLabel(initSecretHex, "add", nextRosterHashHex ‖ u64 nextEpoch, 32) (contextHex), nextRosterHashHex = roster hash of nextRoster, nextKeyIdHex = key_id of nextEpoch in the step\'s group.',
      'leafSecretEvolution: starting from leafSecretHex at startEpoch, each step is L[epoch] = ExpandWithLabel(L[epoch-1], "evolve", u64 epoch, 32).',
    ],
    groups,
    roster: {
      leaves: rosterJson(roster),
      rosterHashInputHex: hex(hashInput),
      rosterHashHex: hex(hash),
    },
    addSteps,
    leafSecretEvolution: evolution,
  });
}

// ---------------------------------------------------------------------------------------------
// secret-tree.json

function secretTree(): void {
  const trees = [1, 2, 3, 5, 10_000].map((leafCount) => {
    const encSecret = vectorSeed("secret-tree/enc secret", leafCount);
    const sampled =
      leafCount <= 5
        ? Array.from({ length: leafCount }, (_, leaf) => leaf)
        : [0, 1, 2, 4095, 4096, 5000, 8191, 8192, 9998, 9999];
    const tree = SecretTree.create(provider, encSecret.slice(), leafCount);
    const leaves = sampled.map((leaf) => {
      const secret = referenceLeafSecret(encSecret, leafCount, leaf);
      checkSame(tree.peekLeafSecret(leaf), secret, `tree ${leafCount} leaf ${leaf} (peek)`);
      checkSame(tree.takeLeafSecret(leaf), secret, `tree ${leafCount} leaf ${leaf} (take)`);
      return { leaf, nodeIndex: 2 * leaf, secretHex: hex(secret) };
    });
    return {
      leafCount,
      width: treeWidth(leafCount),
      rootNodeIndex: treeWidth(leafCount) - 1,
      encSecretHex: hex(encSecret),
      leaves,
      ...(leafCount <= 5 ? { nodes: referenceTreeNodes(encSecret, leafCount) } : {}),
    };
  });
  write("secret-tree.json", {
    description:
      'The per-epoch secret tree (docs/PROTOCOL.md, "Secret tree"; RFC 9420 §9 shape): leafCount roster leaves in a complete binary tree of `width` (the next power of two) leaves, root enc_secret, left = ExpandWithLabel(node, "tree", "left", 32), right = ExpandWithLabel(node, "tree", "right", 32). A leaf\'s secret is its sender chain\'s generation-0 secret. Node indices are RFC 9420 Appendix C array indices: leaf i is node 2i, the root is node width - 1.',
    generator,
    verification: [
      "For each tree, derive each listed leaf's secret from encSecretHex by walking from the root to the leaf (left while the leaf lies in the lower half of the current range) and compare with secretHex.",
      "With one leaf the leaf secret is enc_secret itself.",
      "nodes[] (small trees only) lists every node a full derivation creates, by array index, with its level (leaves are level 0) and the first roster leaf below it. A right child whose subtree holds no roster leaf is never derived (e.g. nodes 9 and 13 of the 5-leaf tree).",
      "All leaves for leafCount 1, 2, 3 and 5; sampled leaves (both sides of the 4096 and 8192 boundaries, the last leaf) for 10,000.",
    ],
    trees,
  });
}

// ---------------------------------------------------------------------------------------------
// sender-ratchet.json

function senderRatchet(): void {
  const chainSecret = vectorSeed("sender-ratchet/chain secret", 0);
  const reference = referenceChain(chainSecret, 2400);
  const listed = [0, 1, 2, 3, 999, 1000];
  const chain = SenderChain.create(provider, 0, chainSecret.slice(), groupLimits);
  const generations = listed.map((g) => {
    const r = reference[g] as ReferenceGeneration;
    chain.advanceTo(g);
    const keys = chain.nextSendKeys();
    checkSame(keys.key, r.key, `generation ${g} key`);
    checkSame(keys.nonce, r.nonce, `generation ${g} nonce`);
    return {
      generation: g,
      chainSecretHex: hex(r.chainSecret),
      keyHex: hex(r.key),
      nonceHex: hex(r.nonce),
      nextChainSecretHex: hex(r.nextChainSecret),
    };
  });

  type Step = readonly [generation: number, outcome: string];
  const scenarios: Array<{ name: string; note: string; steps: Step[] }> = [
    {
      name: "in-order",
      note: "Generations 0, 1, 2 in order.",
      steps: [
        [0, "accepted"],
        [1, "accepted"],
        [2, "accepted"],
      ],
    },
    {
      name: "duplicate",
      note: "A consumed generation again.",
      steps: [
        [0, "accepted"],
        [0, "DuplicateMessageError"],
      ],
    },
    {
      name: "out-of-order",
      note: "3 first keeps the keys of 0, 1, 2 as skipped keys; each is used once.",
      steps: [
        [3, "accepted"],
        [1, "accepted"],
        [0, "accepted"],
        [2, "accepted"],
        [1, "DuplicateMessageError"],
        [4, "accepted"],
      ],
    },
    {
      name: "jump-at-limit",
      note: "From a fresh chain (next expected 0) a jump of exactly 1,000 is accepted; from 1,001 another 1,000.",
      steps: [
        [1000, "accepted"],
        [999, "accepted"],
        [2001, "accepted"],
      ],
    },
    {
      name: "jump-over-limit",
      note: "1,001 ahead of the next expected generation is refused and changes nothing: 1,000 is still accepted after it.",
      steps: [
        [1001, "GenerationTooFarError"],
        [1000, "accepted"],
      ],
    },
    {
      name: "jump-counted-from-next-expected",
      note: "After 5 the next expected generation is 6: 1,007 (1,001 ahead) is refused, 1,006 accepted.",
      steps: [
        [5, "accepted"],
        [1007, "GenerationTooFarError"],
        [1006, "accepted"],
      ],
    },
    {
      name: "skipped-key-eviction",
      note: "300 skips 0..299; only the newest 256 skipped keys (44..299) are kept. 43 was evicted: a duplicate, as the protocol cannot tell the two apart.",
      steps: [
        [300, "accepted"],
        [43, "DuplicateMessageError"],
        [44, "accepted"],
        [299, "accepted"],
        [44, "DuplicateMessageError"],
      ],
    },
  ];
  const scenarioJson = scenarios.map((scenario) => {
    const receiver = SenderChain.create(provider, 0, chainSecret.slice(), groupLimits);
    return {
      name: scenario.name,
      note: scenario.note,
      steps: scenario.steps.map(([generation, expected]) => {
        const outcome = outcomeOf(() => {
          const candidate = receiver.candidate(generation);
          const r = reference[generation] as ReferenceGeneration;
          checkSame(candidate.key, r.key, `${scenario.name} ${generation} key`);
          checkSame(candidate.nonce, r.nonce, `${scenario.name} ${generation} nonce`);
          receiver.commit(candidate);
          return true;
        });
        check(
          outcome === expected,
          `scenario ${scenario.name} generation ${generation}: expected ${expected}, got ${outcome}`,
        );
        const r = reference[generation] as ReferenceGeneration;
        return expected === "accepted"
          ? { generation, outcome, keyHex: hex(r.key), nonceHex: hex(r.nonce) }
          : { generation, outcome };
      }),
    };
  });

  write("sender-ratchet.json", {
    description:
      'One sender chain (docs/PROTOCOL.md, "Sender chain"): key = ExpandWithLabel(c[g], "key", u32 g, 32), nonce = ExpandWithLabel(c[g], "nonce", u32 g, 12), c[g+1] = ExpandWithLabel(c[g], "secret", u32 g, 32), from c[0] = chainSecretHex. Then receive scenarios on a fresh chain from the same c[0], with the receive limits of the protocol: a forward jump of at most 1,000 generations counted from the next expected generation (GenerationTooFarError beyond), at most 256 skipped keys kept per chain (oldest evicted), a consumed or evicted generation is DuplicateMessageError.',
    generator,
    verification: [
      "generations[]: step the chain from chainSecretHex to generation g; chainSecretHex of the entry is c[g]; compare key, nonce and c[g+1].",
      "scenarios[]: start a fresh receiving chain at c[0] for each scenario and apply the steps in order. An accepted step must yield keyHex / nonceHex; a refused step must fail with the error named in outcome and leave the chain unchanged.",
    ],
    chainSecretHex: hex(chainSecret),
    limits: {
      maxForwardJump: groupLimits.maxForwardJump,
      maxSkippedPerChain: groupLimits.maxSkippedPerChain,
    },
    generations,
    scenarios: scenarioJson,
  });
}

// ---------------------------------------------------------------------------------------------
// message-protection.json

function messageProtection(): void {
  const roster = makeRoster(5, [2]);
  const outsiderSigningKey = vectorSeed("outsider/signing", 0);
  const epochs = [
    { name: "organization epoch 7", group: orgGroup, epoch: 7n },
    { name: "organization epoch 8", group: orgGroup, epoch: 8n },
    { name: "channel general epoch 3", group: channelGroup, epoch: 3n },
  ].map((entry) => {
    const epochSecret = vectorSeed(`message-protection/${entry.name}`, 0);
    return { ...entry, epochSecret, keyId: referenceKeyId(entry.group, entry.epoch, epochSecret) };
  });
  const epochNamed = (name: string) => {
    const found = epochs.find((entry) => entry.name === name);
    if (found === undefined) throw new Error(`no epoch ${name}`);
    return found;
  };
  const receiverFor = (name: string) => {
    const entry = epochNamed(name);
    return EpochKeys.create({
      provider,
      group: entry.group,
      secrets: EpochSecrets.derive(provider, entry.group, entry.epoch, entry.epochSecret.slice()),
      roster,
    });
  };
  /** A receiver holding `held`: finds the epoch by key_id; none → the newest's UnknownEpochError. */
  const receive = (held: EpochKeys[], bytes: Uint8Array) => {
    const message = decodeGroupMessage(bytes);
    const keys = held.find((k) => same(k.keyId, message.keyId)) ?? held[held.length - 1];
    return (keys as EpochKeys).decrypt(message);
  };
  const contentOf = (length: number) => Uint8Array.from({ length }, (_, i) => (i + length) & 0xff);

  const positives: Array<{
    name: string;
    epoch: string;
    leaf: number;
    generation: number;
    contentType: number;
    content: Uint8Array;
  }> = [
    {
      name: "content-0-bytes",
      epoch: "organization epoch 7",
      leaf: 0,
      generation: 0,
      contentType: 1,
      content: contentOf(0),
    },
    {
      name: "content-1-byte",
      epoch: "organization epoch 7",
      leaf: 0,
      generation: 1,
      contentType: 1,
      content: contentOf(1),
    },
    {
      name: "content-63-bytes-plaintext-exactly-128",
      epoch: "organization epoch 7",
      leaf: 0,
      generation: 2,
      contentType: 1,
      content: contentOf(63),
    },
    {
      name: "content-64-bytes-plaintext-192",
      epoch: "organization epoch 7",
      leaf: 1,
      generation: 0,
      contentType: 1,
      content: contentOf(64),
    },
    {
      name: "content-127-bytes-plaintext-exactly-192",
      epoch: "organization epoch 7",
      leaf: 1,
      generation: 1,
      contentType: 1,
      content: contentOf(127),
    },
    {
      name: "content-128-bytes-2-byte-length-plaintext-256",
      epoch: "organization epoch 7",
      leaf: 1,
      generation: 2,
      contentType: 1,
      content: contentOf(128),
    },
    {
      name: "content-256-bytes",
      epoch: "organization epoch 7",
      leaf: 3,
      generation: 0,
      contentType: 1,
      content: contentOf(256),
    },
    {
      name: "content-type-0",
      epoch: "organization epoch 7",
      leaf: 3,
      generation: 1,
      contentType: 0,
      content: text("hello"),
    },
    {
      name: "content-type-u32-max",
      epoch: "organization epoch 7",
      leaf: 4,
      generation: 0,
      contentType: 0xffff_ffff,
      content: text("max type"),
    },
    {
      name: "generation-1000-on-a-fresh-receiver",
      epoch: "organization epoch 7",
      leaf: 4,
      generation: 1000,
      contentType: 1,
      content: text("far"),
    },
    {
      name: "content-16384-bytes-3-byte-length",
      epoch: "organization epoch 7",
      leaf: 0,
      generation: 3,
      contentType: 1,
      content: contentOf(16384),
    },
    {
      name: "channel-group",
      epoch: "channel general epoch 3",
      leaf: 1,
      generation: 0,
      contentType: 1,
      content: text("channel message"),
    },
  ];
  const vectors = positives.map((entry, index) => {
    const epoch = epochNamed(entry.epoch);
    const reuseGuard = vectorSeed("message-protection/reuse guard", index).slice(0, 4);
    const signingSecretKey = memberSecrets(entry.leaf).signingSecretKey;
    const crafted = craftGroupMessage({
      group: epoch.group,
      epoch: epoch.epoch,
      epochSecret: epoch.epochSecret,
      leafCount: roster.length,
      leaf: entry.leaf,
      generation: entry.generation,
      contentType: entry.contentType,
      content: entry.content,
      reuseGuard,
      signingSecretKey,
    });
    const sender = EpochKeys.create({
      provider,
      group: epoch.group,
      secrets: EpochSecrets.derive(provider, epoch.group, epoch.epoch, epoch.epochSecret.slice()),
      roster,
      randomBytes: () => reuseGuard.slice(),
    });
    if (entry.generation > 0) sender.advanceSendChain(entry.leaf, entry.generation);
    const bytes = sender.encrypt({
      senderLeaf: entry.leaf,
      signingSecretKey,
      contentType: entry.contentType,
      content: entry.content,
    });
    checkSame(crafted.bytes, bytes, `message ${entry.name}`);
    const opened = receive([receiverFor(entry.epoch)], bytes);
    check(
      opened.senderLeaf === entry.leaf &&
        opened.generation === entry.generation &&
        same(opened.content, entry.content),
      `message ${entry.name} does not open`,
    );
    const large = entry.content.length > 1024;
    const { plaintextHex, ciphertextHex, signatureInputHex, ...small } = crafted.intermediates;
    return {
      name: entry.name,
      epoch: entry.epoch,
      senderLeaf: entry.leaf,
      generation: entry.generation,
      contentType: entry.contentType,
      contentHex: hex(entry.content),
      reuseGuardHex: hex(reuseGuard),
      intermediates: large ? small : { ...small, signatureInputHex, plaintextHex, ciphertextHex },
      messageBytes: bytes.length,
      messageHex: hex(bytes),
    };
  });

  // Negative vectors. The base message: leaf 1, generation 0, content "orgchat", epoch 7.
  const base = {
    group: orgGroup,
    epoch: 7n,
    epochSecret: epochNamed("organization epoch 7").epochSecret,
    leafCount: roster.length,
    leaf: 1,
    generation: 0,
    contentType: 1,
    content: text("orgchat"),
    reuseGuard: vectorSeed("message-protection/negative reuse guard", 0).slice(0, 4),
    signingSecretKey: memberSecrets(1).signingSecretKey,
  } satisfies CraftInit;
  const baseBytes = craftGroupMessage(base).bytes;
  const baseMessage = decodeGroupMessage(baseBytes);
  const reencode = (
    changes: Partial<{
      version: number;
      keyId: Uint8Array;
      contentType: number;
      senderData: Uint8Array;
      ciphertext: Uint8Array;
    }>,
  ) =>
    encodeGroupMessage({
      version: baseMessage.version,
      keyId: baseMessage.keyId,
      contentType: baseMessage.contentType,
      senderData: baseMessage.senderData,
      ciphertext: baseMessage.ciphertext,
      ...changes,
    });
  const ciphertextLength = baseMessage.ciphertext.length;
  const epoch8KeyId = epochNamed("organization epoch 8").keyId;
  const negatives: Array<{
    name: string;
    note: string;
    held: string[];
    before?: Uint8Array[];
    bytes: Uint8Array;
    error: string;
  }> = [
    {
      name: "key-id-bit-flipped",
      note: "key_id names no epoch the receiver holds.",
      held: ["organization epoch 7"],
      bytes: reencode({ keyId: flipBit(baseMessage.keyId, 0) }),
      error: "UnknownEpochError",
    },
    {
      name: "sender-data-bit-flipped",
      note: "The sender data does not authenticate.",
      held: ["organization epoch 7"],
      bytes: reencode({ senderData: flipBit(baseMessage.senderData, 3) }),
      error: "DecryptionFailedError",
    },
    {
      name: "ciphertext-first-byte-flipped",
      note: "Changes the sample, so the sender-data key: the sender data does not authenticate.",
      held: ["organization epoch 7"],
      bytes: reencode({ ciphertext: flipBit(baseMessage.ciphertext, 0) }),
      error: "DecryptionFailedError",
    },
    {
      name: "ciphertext-tag-bit-flipped",
      note: "The content AEAD does not authenticate.",
      held: ["organization epoch 7"],
      bytes: reencode({ ciphertext: flipBit(baseMessage.ciphertext, ciphertextLength - 1, 0x80) }),
      error: "DecryptionFailedError",
    },
    {
      name: "ciphertext-middle-bit-flipped",
      note: "The content AEAD does not authenticate.",
      held: ["organization epoch 7"],
      bytes: reencode({ ciphertext: flipBit(baseMessage.ciphertext, 40) }),
      error: "DecryptionFailedError",
    },
    {
      name: "content-type-changed",
      note: "content_type is bound by both associated data; 1 → 2.",
      held: ["organization epoch 7"],
      bytes: reencode({ contentType: 2 }),
      error: "DecryptionFailedError",
    },
    {
      name: "version-2",
      note: "Only version 1 is defined; any other is an authentication failure.",
      held: ["organization epoch 7"],
      bytes: reencode({ version: 2 }),
      error: "DecryptionFailedError",
    },
    {
      name: "version-2-encrypted-as-version-2",
      note: "Even with version 2 in the AAD the receiver refuses it.",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, version: 2 }).bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "wrong-key-id",
      note: "An epoch-7 message relabelled with the key_id of epoch 8, which the receiver also holds: epoch 8's keys do not open it.",
      held: ["organization epoch 7", "organization epoch 8"],
      bytes: reencode({ keyId: epoch8KeyId }),
      error: "DecryptionFailedError",
    },
    {
      name: "non-zero-padding",
      note: "Properly encrypted and signed, but the last padding byte is 0x01.",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, lastPaddingByte: 0x01 }).bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "non-minimal-length-prefix",
      note: "The content length 7 encoded as the two bytes 87 00 (a non-minimal LEB128).",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, lengthPrefix: Uint8Array.of(0x87, 0x00) }).bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "length-prefix-past-the-plaintext",
      note: "The length prefix says 200 bytes; the plaintext holds 7 plus the signature.",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, lengthPrefix: varint(200) }).bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "signed-by-a-key-not-in-the-roster",
      note: "Encrypted with leaf 1's chain, signed by an outsider's Ed25519 key.",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, signingSecretKey: outsiderSigningKey }).bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "signed-by-another-member",
      note: "Encrypted with leaf 1's chain, signed by leaf 3's signing key.",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, signingSecretKey: memberSecrets(3).signingSecretKey })
        .bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "sender-leaf-empty",
      note: "Leaf 2 is an empty (removed) leaf; its tree secret still exists, but it has no signing key.",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({
        ...base,
        leaf: 2,
        signingSecretKey: memberSecrets(2).signingSecretKey,
      }).bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "sender-leaf-outside-the-roster",
      note: "The sender data names leaf 9 of a 5-leaf roster (keys of leaf 1).",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, senderDataLeaf: 9 }).bytes,
      error: "DecryptionFailedError",
    },
    {
      name: "stale-epoch",
      note: "A message of epoch 7 at a receiver that holds only epoch 8 (epoch 7's retention ended).",
      held: ["organization epoch 8"],
      bytes: baseBytes,
      error: "UnknownEpochError",
    },
    {
      name: "generation-over-the-limit",
      note: "Generation 1,001 at a fresh receiver: 1,001 ahead of the next expected generation 0.",
      held: ["organization epoch 7"],
      bytes: craftGroupMessage({ ...base, generation: 1001 }).bytes,
      error: "GenerationTooFarError",
    },
    {
      name: "generation-over-the-limit-after-progress",
      note: "After generation 0 the next expected is 1: generation 1,002 is 1,001 ahead.",
      held: ["organization epoch 7"],
      before: [baseBytes],
      bytes: craftGroupMessage({ ...base, generation: 1002 }).bytes,
      error: "GenerationTooFarError",
    },
    {
      name: "duplicate",
      note: "The same message twice: the second time its key is gone.",
      held: ["organization epoch 7"],
      before: [baseBytes],
      bytes: baseBytes,
      error: "DuplicateMessageError",
    },
    {
      name: "duplicate-after-eviction",
      note: "Generation 300 first: only the keys of generations 44..299 are kept, so generation 0 now reads as a duplicate.",
      held: ["organization epoch 7"],
      before: [craftGroupMessage({ ...base, generation: 300 }).bytes],
      bytes: baseBytes,
      error: "DuplicateMessageError",
    },
  ];
  const negativeJson = negatives.map((entry) => {
    const held = entry.held.map(receiverFor);
    for (const bytes of entry.before ?? []) {
      expectOutcome(`${entry.name} (before)`, "accepted", () => receive(held, bytes));
    }
    expectOutcome(entry.name, entry.error, () => receive(held, entry.bytes));
    return {
      name: entry.name,
      note: entry.note,
      held: entry.held,
      before: (entry.before ?? []).map(hex),
      messageHex: hex(entry.bytes),
      error: entry.error,
    };
  });

  write("message-protection.json", {
    description:
      'Group messages (docs/PROTOCOL.md, "Group messages (GroupMessage, version 1)"): full GroupMessage bytes from fixed epoch secrets, a fixed 4-byte reuse guard and the senders\' Ed25519 signing keys (deterministic), with every intermediate value; then negative vectors with the error a receiver must raise. Epochs are u64, written as decimal strings.',
    generator,
    verification: [
      "epochs[]: derive key_id, enc_secret (secret-tree root) and sender_data_secret from epochSecretHex in the epoch's group (see key-schedule.json). The roster holds 5 leaves; leaf 2 is empty.",
      "vectors[]: encrypt contentHex as senderLeaf at generation (the sender's chain stepped to that generation), with contentType, reuse guard reuseGuardHex and the sender's signing secret key signingSecretKeys[senderLeaf]: the GroupMessage must be messageHex (messageBytes long). intermediates: leafSecretHex = the sender's secret-tree leaf, chainSecretHex = c[generation], keyHex / nonceHex of that generation, guardedNonceHex = nonce with its first 4 bytes XOR the reuse guard, signatureInputHex / signatureHex (step 1), plaintextHex = varint len ‖ content ‖ signature ‖ zero padding to a multiple of 64 (step 2), aadHex and ciphertextHex (step 4), the sender-data key, nonce, plaintext (u32 leaf ‖ u32 generation ‖ reuse guard), AAD (key_id ‖ u32 content_type) and senderDataHex (step 5). Large contents omit the plaintext, ciphertext and signature input.",
      "vectors[]: a receiver holding the epoch (a fresh one, no message received before) must open messageHex to senderLeaf, generation, contentType and contentHex.",
      "negative[]: a receiver holds the epochs listed in `held` (fresh state each), finds the epoch by the message's key_id (none: UnknownEpochError), first accepts every message in `before` in order, then must refuse messageHex with `error`.",
    ],
    roster: rosterJson(roster),
    signingSecretKeys: roster.map((leaf, index) =>
      leaf === undefined ? null : hex(memberSecrets(index).signingSecretKey),
    ),
    outsiderSigningSecretKeyHex: hex(outsiderSigningKey),
    epochs: epochs.map((entry) => ({
      name: entry.name,
      ...groupJson(entry.group),
      epoch: entry.epoch,
      epochSecretHex: hex(entry.epochSecret),
      keyIdHex: hex(entry.keyId),
    })),
    limits: {
      maxForwardJump: groupLimits.maxForwardJump,
      maxSkippedPerChain: groupLimits.maxSkippedPerChain,
      paddingBlock: groupLimits.paddingBlock,
    },
    vectors,
    negative: negativeJson,
  });
}

// ---------------------------------------------------------------------------------------------
// key-update-flat.json

const keyUpdateEpoch = 5n;

/** Recipient `i` of a KeyUpdate is roster leaf `i + 1` (leaf 0 is the owner, who wraps for nobody). */
function recipientSecrets(leaf: number) {
  const prekeySecretKey = vectorSeed("member/prekey", leaf);
  const leafSecretBefore = vectorSeed("member/leaf secret", leaf);
  return { prekeySecretKey, leafSecretBefore };
}

const prekeyCache: Uint8Array[] = [];
function recipientsFor(count: number) {
  const recipients = [];
  for (let i = 0; i < count; i++) {
    const leaf = i + 1;
    const { prekeySecretKey, leafSecretBefore } = recipientSecrets(leaf);
    prekeyCache[leaf] ??= provider.x25519PublicKey(prekeySecretKey);
    recipients.push({
      leaf,
      prekey: prekeyCache[leaf] as Uint8Array,
      leafSecret: evolveLeafSecret(provider, leafSecretBefore, keyUpdateEpoch),
    });
  }
  return recipients;
}

function chunkJson(chunk: KeyUpdateChunk) {
  return {
    version: chunk.version,
    channelId: chunk.channelId,
    epoch: chunk.epoch,
    previousKeyIdHex: hex(chunk.previousKeyId),
    keyIdHex: hex(chunk.keyId),
    rosterHashHex: hex(chunk.rosterHash),
    ephemeralPublicKeyHex: hex(chunk.ephemeralPublicKey),
    chunkIndex: chunk.chunkIndex,
    chunkCount: chunk.chunkCount,
    entriesHex: hex(chunk.entries),
  };
}

interface BuiltUpdate {
  name: string;
  group: GroupId;
  recipients: number;
  stream: string;
  epochSecret: Uint8Array;
  previousKeyId: Uint8Array;
  rosterHash: Uint8Array;
  chunks: KeyUpdateChunk[];
  ephemeralSecrets: Uint8Array[];
}

function buildUpdate(name: string, group: GroupId, recipients: number): BuiltUpdate {
  const stream = `key-update/${name}/ephemeral`;
  const seeded = seededProvider(provider, stream);
  const epochSecret = vectorSeed(`key-update/${name}/epoch secret`, 0);
  const previousKeyId = deriveKeyId(
    provider,
    group,
    keyUpdateEpoch - 1n,
    vectorSeed(`key-update/${name}/previous epoch secret`, 0),
  );
  const hash = vectorSeed(`key-update/${name}/roster hash`, 0);
  const chunks = buildKeyUpdate({
    provider: seeded,
    group,
    epoch: keyUpdateEpoch,
    epochSecret,
    previousKeyId,
    rosterHash: hash,
    recipients: recipientsFor(recipients),
  });
  check(seeded.drawn.length === chunks.length, `${name}: one ephemeral key per chunk`);
  return {
    name,
    group,
    recipients,
    stream,
    epochSecret,
    previousKeyId,
    rosterHash: hash,
    chunks,
    ephemeralSecrets: seeded.drawn,
  };
}

/** The reference unwrap of recipient `leaf` (PROTOCOL.md "Re-keying"), with every intermediate. */
function referenceUnwrap(update: BuiltUpdate, leaf: number) {
  const { prekeySecretKey, leafSecretBefore } = recipientSecrets(leaf);
  const prekey = provider.x25519PublicKey(prekeySecretKey);
  const leafSecret = expandWithLabel(provider, leafSecretBefore, "evolve", u64(keyUpdateEpoch), 32);
  for (const chunk of update.chunks) {
    const shared = provider.x25519(prekeySecretKey, chunk.ephemeralPublicKey);
    const prk = provider.hkdfExtract(leafSecret, shared);
    const context = concatBytes(
      referenceGroupContext(update.group),
      u64(keyUpdateEpoch),
      chunk.ephemeralPublicKey,
      prekey,
    );
    const okm = expandWithLabel(provider, prk, "key update", context, 36);
    const wrap = new Uint8Array(32);
    for (let b = 0; b < 32; b++)
      wrap[b] = (update.epochSecret[b] as number) ^ (okm[4 + b] as number);
    const entry = concatBytes(okm.subarray(0, 4), wrap);
    const count = chunk.entries.length / 36;
    for (let index = 0; index < count; index++) {
      if (!same(chunk.entries.subarray(index * 36, index * 36 + 36), entry)) continue;
      return {
        leaf,
        prekeySecretKeyHex: hex(prekeySecretKey),
        prekeyHex: hex(prekey),
        leafSecretBeforeHex: hex(leafSecretBefore),
        leafSecretHex: hex(leafSecret),
        chunkIndex: chunk.chunkIndex,
        sharedSecretHex: hex(shared),
        prkHex: hex(prk),
        okmHex: hex(okm),
        hintHex: hex(okm.subarray(0, 4)),
        entryIndex: index,
        entryHex: hex(entry),
        epochSecretHex: hex(update.epochSecret),
      };
    }
  }
  throw new Error(`${update.name}: no entry for leaf ${leaf}`);
}

async function keyUpdateFlat(): Promise<void> {
  const signer = ed25519EnvelopeSigner(provider, organizationSecretKey);
  const clock = 42n;
  const plans: Array<{ name: string; recipients: number; samples: number[]; full: boolean }> = [
    { name: "N=1", recipients: 1, samples: [1], full: true },
    { name: "N=3", recipients: 3, samples: [1, 2, 3], full: true },
    { name: "N=3400", recipients: 3400, samples: [1, 1700, 3400], full: false },
    { name: "N=3401", recipients: 3401, samples: [1, 1701, 1702, 3401], full: false },
    {
      name: "N=10000",
      recipients: 10_000,
      samples: [1, 3334, 3335, 6667, 6668, 10_000],
      full: false,
    },
  ];
  const updates = [];
  let small: BuiltUpdate | undefined;
  for (const plan of plans) {
    const update = buildUpdate(plan.name, orgGroup, plan.recipients);
    if (plan.name === "N=3") small = update;
    const keyId = referenceKeyId(orgGroup, keyUpdateEpoch, update.epochSecret);
    const sealed = await sealKeyUpdate({ group: orgGroup, chunks: update.chunks, clock, signer });
    const chunks = update.chunks.map((chunk, index) => {
      checkSame(chunk.keyId, keyId, `${plan.name} key_id`);
      check(
        chunk.entries.length / 36 <= keyUpdateLimits.maxEntriesPerChunk,
        `${plan.name} chunk size`,
      );
      for (let at = 36; at < chunk.entries.length; at += 36) {
        check(
          hex(chunk.entries.subarray(at - 36, at - 32)) <= hex(chunk.entries.subarray(at, at + 4)),
          `${plan.name}: entries sorted by hint`,
        );
      }
      const bytes = sealed[index] as Uint8Array;
      const { entriesHex, ...header } = chunkJson(chunk);
      return {
        ...header,
        ephemeralSecretKeyHex: hex(update.ephemeralSecrets[index] as Uint8Array),
        entryCount: chunk.entries.length / 36,
        entriesSha256Hex: hex(sha256(chunk.entries)),
        ...(plan.full ? { entriesHex } : {}),
        sealedBytes: bytes.length,
        sealedSha256Hex: hex(sha256(bytes)),
        ...(plan.full ? { sealedHex: hex(bytes) } : {}),
      };
    });
    // Every sampled member finds its entry (reference) and the library opens it.
    const samples = plan.samples.map((leaf) => {
      const sample = referenceUnwrap(update, leaf);
      const { prekeySecretKey } = recipientSecrets(leaf);
      const opened = openKeyUpdate({
        provider,
        group: orgGroup,
        chunk: update.chunks[sample.chunkIndex] as KeyUpdateChunk,
        prekeySecret: prekeySecretKey,
        leafSecret: hexBytes(sample.leafSecretHex),
      });
      check(
        opened !== undefined && same(opened, update.epochSecret),
        `${plan.name} leaf ${leaf} opens`,
      );
      return sample;
    });
    // The sealed envelopes open to the same chunks.
    for (const [index, bytes] of sealed.entries()) {
      const chunk = await openKeyUpdateEnvelope({ provider, group: orgGroup, bytes });
      checkSame(
        chunk.entries,
        (update.chunks[index] as KeyUpdateChunk).entries,
        `${plan.name} sealed`,
      );
    }
    updates.push({
      name: plan.name,
      recipients: plan.recipients,
      recipientLeaves: `1..${plan.recipients}`,
      ...groupJson(orgGroup),
      epoch: keyUpdateEpoch,
      epochSecretHex: hex(update.epochSecret),
      keyIdHex: hex(keyId),
      previousKeyIdHex: hex(update.previousKeyId),
      rosterHashHex: hex(update.rosterHash),
      ephemeralStream: update.stream,
      clock,
      contentTopic: keyUpdateTopic(orgGroup),
      chunks,
      samples,
    });
  }
  if (small === undefined) throw new Error("no N=3 update");

  // Negative vectors: against the N=3 update, member leaf 2 (recipient index 1).
  const memberLeaf = 2;
  const member = referenceUnwrap(small, memberLeaf);
  const chunk = small.chunks[0] as KeyUpdateChunk;
  const entryAt = member.entryIndex * 36;
  const channelUpdate = buildUpdate("N=3 channel general", channelGroup, 3);
  const otherGroup: GroupId = { organizationId: otherOrganizationId, channelId: "" };
  const otherUpdate = buildUpdate("N=3 other organization", otherGroup, 3);
  const withEntries = (entries: Uint8Array): KeyUpdateChunk => ({ ...chunk, entries });
  const memberKeys = {
    prekeySecret: hexBytes(member.prekeySecretKeyHex),
    leafSecret: hexBytes(member.leafSecretHex),
  };
  const negatives: Array<{
    name: string;
    note: string;
    group: GroupId;
    chunk: KeyUpdateChunk;
    leafSecret: Uint8Array;
    outcome: string;
  }> = [
    {
      name: "tampered-entry",
      note: "One bit of the member's wrapped secret flipped: the hint matches, the unwrapped secret's key_id does not.",
      group: orgGroup,
      chunk: withEntries(flipBit(chunk.entries, entryAt + 4 + 7)),
      leafSecret: memberKeys.leafSecret,
      outcome: "DecryptionFailedError",
    },
    {
      name: "wrong-key-id",
      note: "The chunk's key_id altered: the member's entry unwraps, but to a secret whose key_id is not the chunk's.",
      group: orgGroup,
      chunk: { ...chunk, keyId: flipBit(chunk.keyId, 0) },
      leafSecret: memberKeys.leafSecret,
      outcome: "DecryptionFailedError",
    },
    {
      name: "hint-altered",
      note: "The member's hint altered: no entry carries the member's hint any more.",
      group: orgGroup,
      chunk: withEntries(flipBit(chunk.entries, entryAt, 0x80)),
      leafSecret: memberKeys.leafSecret,
      outcome: "undefined",
    },
    {
      name: "leaf-secret-of-the-previous-epoch",
      note: "The member forgot to evolve its leaf secret: L_m[e] instead of L_m[e+1] gives another hint.",
      group: orgGroup,
      chunk,
      leafSecret: hexBytes(member.leafSecretBeforeHex),
      outcome: "undefined",
    },
    {
      name: "leaf-secret-evolved-twice",
      note: "L_m[e+2] instead of L_m[e+1] gives another hint.",
      group: orgGroup,
      chunk,
      leafSecret: evolveLeafSecret(provider, memberKeys.leafSecret, keyUpdateEpoch + 1n),
      outcome: "undefined",
    },
    {
      name: "chunk-for-another-channel",
      note: 'A genuine chunk of the restricted channel "general" (same members) opened as the organization-wide group: its channel_id is not the group\'s.',
      group: orgGroup,
      chunk: channelUpdate.chunks[0] as KeyUpdateChunk,
      leafSecret: memberKeys.leafSecret,
      outcome: "undefined",
    },
    {
      name: "chunk-of-another-organization",
      note: 'A genuine chunk of another organization (same members, same channel_id "") opened in this organization\'s group: groupContext differs, so the hint does.',
      group: orgGroup,
      chunk: otherUpdate.chunks[0] as KeyUpdateChunk,
      leafSecret: memberKeys.leafSecret,
      outcome: "undefined",
    },
    {
      name: "ephemeral-key-of-small-order",
      note: "E_pub replaced by the all-zero u-coordinate: X25519 gives an all-zero shared secret.",
      group: orgGroup,
      chunk: { ...chunk, ephemeralPublicKey: new Uint8Array(32) },
      leafSecret: memberKeys.leafSecret,
      outcome: "InvalidPublicKeyError",
    },
  ];
  const negativeJson = negatives.map((entry) => {
    expectOutcome(entry.name, entry.outcome, () =>
      openKeyUpdate({
        provider,
        group: entry.group,
        chunk: entry.chunk,
        prekeySecret: memberKeys.prekeySecret,
        leafSecret: entry.leafSecret,
      }),
    );
    return {
      name: entry.name,
      note: entry.note,
      ...groupJson(entry.group),
      chunk: chunkJson(entry.chunk),
      member: {
        leaf: memberLeaf,
        prekeySecretKeyHex: member.prekeySecretKeyHex,
        prekeyHex: member.prekeyHex,
        leafSecretHex: hex(entry.leafSecret),
      },
      outcome: entry.outcome,
    };
  });

  write("key-update-flat.json", {
    description:
      'FLAT KeyUpdates (docs/PROTOCOL.md, "Re-keying") for 1, 3, 3,400 (one full chunk), 3,401 (two chunks) and 10,000 recipients, deterministic from the seed rule; and negative vectors for one member. Per chunk an ephemeral X25519 key E; per recipient m with prekey P_m and leaf secret L_m[e+1]: okm = ExpandWithLabel(HKDF-Extract(salt = L_m[e+1], ikm = X25519(E, P_m)), "key update", groupContext ‖ u64 (e+1) ‖ E_pub ‖ P_m, 36); entry = okm[0..4] ‖ epoch_secret XOR okm[4..36]; entries sorted by hint. Large updates store only per-chunk SHA-256 of the entries and sampled members. Epochs and clocks are u64, written as decimal strings.',
    generator,
    seedRule:
      'seed(name, i) = SHA-256("orgchat vectors" ‖ 0x00 ‖ UTF-8 name ‖ 0x00 ‖ u32 i). Recipient i (0-based) is roster leaf ℓ = i + 1 (leaf 0 is the owner). P_m secret = seed("member/prekey", ℓ); L_m[4] = seed("member/leaf secret", ℓ), evolved once: L_m[5] = ExpandWithLabel(L_m[4], "evolve", u64 5, 32). Per update named <name>: epoch_secret = seed("key-update/<name>/epoch secret", 0); previous key_id = key_id of epoch 4 from seed("key-update/<name>/previous epoch secret", 0); roster_hash = seed("key-update/<name>/roster hash", 0) (an opaque input here: openKeyUpdate does not check it); the ephemeral secret of chunk c = seed("key-update/<name>/ephemeral", c) (ephemeralStream).',
    chunking:
      "Recipients are taken in leaf order and split evenly over ceil(N / 3,400) chunks (the first N mod chunks chunks get one more entry); within a chunk, entries are sorted by hint (ties: in recipient order). This split is the library's choice: the protocol only requires at most 3,400 entries per chunk; another split gives other (equally valid) chunks.",
    verification: [
      "updates[]: rebuild every recipient's (P_m, L_m[5]) from the seed rule, split them into chunks as described in `chunking`, wrap epochSecretHex with chunk c's ephemeral secret (ephemeralSecretKeyHex) and sort by hint: SHA-256 of the chunk's entries must be entriesSha256Hex (and the entries entriesHex, where given). keyIdHex = key_id of epoch 5 from epochSecretHex in the organization-wide group.",
      'updates[].chunks[]: sealedHex / sealedSha256Hex / sealedBytes are the chunk in a SignedEnvelope of type key-update (clock, the organization\'s keys topic contentTopic) signed by the organization key seed("organization", 0); every chunk must be at most 120 KiB sealed.',
      "updates[].samples[]: the recipient's intermediates: sharedSecretHex = X25519(prekey secret, E_pub of chunk chunkIndex), prkHex = HKDF-Extract(salt = leafSecretHex, ikm = sharedSecretHex), okmHex, hintHex, its entry entryHex at entryIndex of the sorted entries; opening the chunk with the member's prekey secret and leafSecretHex must give epochSecretHex.",
      'negative[]: open `chunk` in the group (organizationIdHex, channelId) with member.prekeySecretKeyHex and member.leafSecretHex: the outcome must be `outcome`: an error name, or "undefined" (the chunk holds nothing for this member: no entry carries its hint, or the chunk is for another channel).',
    ],
    updates,
    negative: negativeJson,
  });
}

// ---------------------------------------------------------------------------------------------
// x3dh.json and double-ratchet.json

interface ReferenceParty {
  name: "member" | "owner";
  stream: string;
  draws: number;
  rootKey: Uint8Array;
  sending: KeyPair;
  receivingKey: Uint8Array | undefined;
  sendingChainKey: Uint8Array | undefined;
  sendCount: number;
  previousSendCount: number;
  pendingHeader: X3dhHeaderFields | undefined;
}

function drawX25519(stream: string, index: number): KeyPair {
  const secretKey = vectorSeed(stream, index);
  return { secretKey, publicKey: provider.x25519PublicKey(secretKey) };
}

function referenceKdfRk(rootKey: Uint8Array, dh: Uint8Array): [Uint8Array, Uint8Array] {
  const out = expandWithLabel(
    provider,
    provider.hkdfExtract(rootKey, dh),
    "ratchet root",
    empty,
    64,
  );
  return [out.slice(0, 32), out.slice(32)];
}

function referenceHeaderBytes(message: {
  version: number;
  x3dh?: X3dhHeaderFields | undefined;
  ratchetKey: Uint8Array;
  messageNumber: number;
  previousChainLength: number;
}): Uint8Array {
  const x3dh = message.x3dh;
  return concatBytes(
    u32(message.version),
    message.ratchetKey,
    u32(message.messageNumber),
    u32(message.previousChainLength),
    x3dh === undefined
      ? Uint8Array.of(0)
      : concatBytes(
          Uint8Array.of(1),
          x3dh.initiatorIdentityKey,
          x3dh.initiatorIdentityDhKey,
          x3dh.ephemeralKey,
          u32(x3dh.signedPrekeyId),
          x3dh.initiatorSignature,
        ),
  );
}

async function pairwise(): Promise<void> {
  // Owner: the organization key, a fixed identity DH key, the signed prekey drawn from its stream.
  const ownerStream = "pairwise/owner";
  const memberStream = "pairwise/member";
  const ownerProvider = seededProvider(provider, ownerStream);
  const memberProvider = seededProvider(provider, memberStream);
  const identityDhSecretKey = vectorSeed("owner/identity dh", 0);
  const signedPrekeyId = 258;
  const prekeys = OwnerPrekeys.create(ownerProvider, {
    identitySecretKey: organizationSecretKey,
    identityDhSecretKey,
    now: 0,
    firstSignedPrekeyId: signedPrekeyId,
  });
  const bundle = prekeys.bundle();
  const signedPrekey = drawX25519(ownerStream, 0);
  checkSame(bundle.signedPrekey, signedPrekey.publicKey, "signed prekey from the owner's stream");
  const bundleInput = concatBytes(
    text("orgchat v1 prekey bundle"),
    provider.x25519PublicKey(identityDhSecretKey),
    signedPrekey.publicKey,
    u32(signedPrekeyId),
  );
  checkSame(
    prekeyBundleSigningInput(bundle.identityDhKey, bundle.signedPrekey, signedPrekeyId),
    bundleInput,
    "bundle input",
  );
  checkSame(
    provider.ed25519Sign(organizationSecretKey, bundleInput),
    bundle.signature,
    "bundle signature",
  );

  // Member: leaf 1's identity key and a fixed identity DH key; EK is the first draw of its stream.
  const memberIdentity = memberSecrets(1).identitySecretKey;
  const memberIdentityDh = vectorSeed("member/identity dh", 1);
  const identityKeyPair = {
    secretKey: memberIdentity,
    publicKey: provider.ed25519PublicKey(memberIdentity),
  };
  const identityDhKeyPair = {
    secretKey: memberIdentityDh,
    publicKey: provider.x25519PublicKey(memberIdentityDh),
  };
  const x3dh = x3dhInitiate(memberProvider, {
    identityKeyPair,
    identityDhKeyPair,
    bundle,
    organizationKey: organizationId,
  });
  const sharedKey = x3dh.sharedKey.slice();
  const ephemeral = drawX25519(memberStream, 0);
  checkSame(x3dh.header.ephemeralKey, ephemeral.publicKey, "EK from the member's stream");

  // Reference X3DH.
  const dh1 = provider.x25519(memberIdentityDh, signedPrekey.publicKey);
  const dh2 = provider.x25519(ephemeral.secretKey, bundle.identityDhKey);
  const dh3 = provider.x25519(ephemeral.secretKey, signedPrekey.publicKey);
  const ikm = concatBytes(new Uint8Array(32).fill(0xff), dh1, dh2, dh3);
  const prk = provider.hkdfExtract(new Uint8Array(32), ikm);
  const associatedData = concatBytes(
    identityKeyPair.publicKey,
    identityDhKeyPair.publicKey,
    organizationId,
    bundle.identityDhKey,
  );
  const referenceSk = expandWithLabel(provider, prk, "x3dh", associatedData, 32);
  checkSame(referenceSk, sharedKey, "SK");
  checkSame(associatedData, x3dh.associatedData, "AD");
  const initiatorInput = concatBytes(
    text("orgchat v1 x3dh initiator"),
    identityKeyPair.publicKey,
    identityDhKeyPair.publicKey,
    ephemeral.publicKey,
    organizationId,
    bundle.identityDhKey,
    u32(signedPrekeyId),
  );
  checkSame(
    x3dhInitiatorSigningInput(x3dh.header, organizationId, bundle.identityDhKey),
    initiatorInput,
    "initiator input",
  );
  checkSame(
    provider.ed25519Sign(memberIdentity, initiatorInput),
    x3dh.header.initiatorSignature,
    "initiator signature",
  );
  const header = x3dh.header;

  const headerJson = (h: X3dhHeaderFields) => ({
    initiatorIdentityKeyHex: hex(h.initiatorIdentityKey),
    initiatorIdentityDhKeyHex: hex(h.initiatorIdentityDhKey),
    ephemeralKeyHex: hex(h.ephemeralKey),
    signedPrekeyId: h.signedPrekeyId,
    initiatorSignatureHex: hex(h.initiatorSignature),
  });

  // X3DH negatives (fresh prekeys each, so nothing was accepted before).
  const freshPrekeys = () =>
    OwnerPrekeys.create(seededProvider(provider, ownerStream), {
      identitySecretKey: organizationSecretKey,
      identityDhSecretKey,
      now: 0,
      firstSignedPrekeyId: signedPrekeyId,
    });
  const otherIdentity = memberSecrets(3).identitySecretKey;
  const forgedHeader = {
    ...header,
    initiatorIdentityKey: provider.ed25519PublicKey(otherIdentity),
  };
  const bundleNegatives = [
    {
      name: "bundle-signature-bit-flipped",
      note: "The prekey bundle's signature does not verify.",
      bundle: { ...bundle, signature: flipBit(bundle.signature, 5) },
      error: "InvalidPublicKeyError",
    },
    {
      name: "bundle-signed-prekey-replaced",
      note: "Another signed prekey under the genuine signature.",
      bundle: { ...bundle, signedPrekey: drawX25519("pairwise/attacker", 0).publicKey },
      error: "InvalidPublicKeyError",
    },
    {
      name: "bundle-for-another-identity",
      note: "A bundle correctly signed by another organization key: not the organization the member expects.",
      bundle: (() => {
        const other = vectorSeed("organization", 1);
        return {
          ...bundle,
          identityKey: provider.ed25519PublicKey(other),
          signature: provider.ed25519Sign(other, bundleInput),
        };
      })(),
      error: "InvalidPublicKeyError",
    },
  ].map((entry) => {
    expectOutcome(entry.name, entry.error, () => {
      verifyPrekeyBundle(provider, entry.bundle, organizationId);
      return true;
    });
    return {
      name: entry.name,
      note: entry.note,
      organizationKeyHex: hex(organizationId),
      bundleHex: hex(encodePrekeyBundle(entry.bundle)),
      error: entry.error,
    };
  });
  const headerNegatives = [
    {
      name: "initiator-signature-bit-flipped",
      note: "The initiator signature does not verify.",
      header: { ...header, initiatorSignature: flipBit(header.initiatorSignature, 9) },
      error: "DecryptionFailedError",
    },
    {
      name: "initiator-claims-another-identity",
      note: "The header names member 3's identity key with member 1's signature.",
      header: forgedHeader,
      error: "DecryptionFailedError",
    },
    {
      name: "unknown-signed-prekey-id",
      note: "Signed prekey id 259 was never issued (signature recomputed, so only the id is wrong).",
      header: (() => {
        const unsigned = { ...header, signedPrekeyId: signedPrekeyId + 1 };
        return {
          ...unsigned,
          initiatorSignature: provider.ed25519Sign(
            memberIdentity,
            x3dhInitiatorSigningInput(unsigned, organizationId, bundle.identityDhKey),
          ),
        };
      })(),
      error: "DecryptionFailedError",
    },
  ].map((entry) => {
    expectOutcome(entry.name, entry.error, () => freshPrekeys().agree(entry.header));
    return {
      name: entry.name,
      note: entry.note,
      header: headerJson(entry.header),
      error: entry.error,
    };
  });
  checkSame(freshPrekeys().agree(header).sharedKey, sharedKey, "responder SK");

  const owner = {
    identitySecretKeyHex: hex(organizationSecretKey),
    identityKeyHex: hex(organizationId),
    identityDhSecretKeyHex: hex(identityDhSecretKey),
    identityDhKeyHex: hex(bundle.identityDhKey),
    signedPrekeySecretKeyHex: hex(signedPrekey.secretKey),
    signedPrekeyHex: hex(signedPrekey.publicKey),
    signedPrekeyId,
    bundleSigningInputHex: hex(bundleInput),
    bundleSignatureHex: hex(bundle.signature),
    bundleHex: hex(encodePrekeyBundle(bundle)),
  };
  const memberJson = {
    identitySecretKeyHex: hex(memberIdentity),
    identityKeyHex: hex(identityKeyPair.publicKey),
    identityDhSecretKeyHex: hex(memberIdentityDh),
    identityDhKeyHex: hex(identityDhKeyPair.publicKey),
  };
  write("x3dh.json", {
    description:
      "X3DH of the owner ↔ member pairwise channel (docs/PROTOCOL.md, \"Pairwise channel\"): the owner's signed prekey bundle, the member's keys and ephemeral key, DH1..DH3, SK, AD and the initiator signature; then negative bundles (the member must refuse them) and negative X3DH headers (the owner must refuse them).",
    generator,
    seedRule:
      'seed(name, i) = SHA-256("orgchat vectors" ‖ 0x00 ‖ UTF-8 name ‖ 0x00 ‖ u32 i). Organization key (IK_O) secret = seed("organization", 0); IKdh_O secret = seed("owner/identity dh", 0); SPK_O secret = seed("pairwise/owner", 0) (the owner\'s first random draw); member IK_M secret = seed("member/identity", 1); IKdh_M secret = seed("member/identity dh", 1); EK secret = seed("pairwise/member", 0) (the member\'s first random draw). Ed25519 secret keys are 32-byte RFC 8032 seeds; X25519 secret keys are clamped by X25519 as usual.',
    verification: [
      'Check the bundle: bundleSigningInputHex = "orgchat v1 prekey bundle" ‖ IKdh_O ‖ SPK_O ‖ u32 signedPrekeyId, and bundleSignatureHex = Ed25519(IK_O, that) (deterministic). bundleHex is the PrekeyBundle protobuf.',
      'Initiator: DH1 = X25519(IKdh_M, SPK_O), DH2 = X25519(EK, IKdh_O), DH3 = X25519(EK, SPK_O); AD = IK_M ‖ IKdh_M ‖ IK_O ‖ IKdh_O; SK = ExpandWithLabel(HKDF-Extract(32 zero bytes, 32×0xFF ‖ DH1 ‖ DH2 ‖ DH3), "x3dh", AD, 32). Responder: the same SK from its secrets.',
      'initiatorSigningInputHex = "orgchat v1 x3dh initiator" ‖ IK_M ‖ IKdh_M ‖ EK ‖ IK_O ‖ IKdh_O ‖ u32 spk_id; header.initiatorSignatureHex = Ed25519(IK_M, that).',
      "negativeBundles[]: verifying bundleHex against organizationKeyHex must fail with `error`.",
      "negativeHeaders[]: the owner (keys above, nothing accepted yet) must refuse the header with `error` before any DH.",
    ],
    owner,
    member: memberJson,
    ephemeral: { secretKeyHex: hex(ephemeral.secretKey), publicKeyHex: hex(ephemeral.publicKey) },
    dh1Hex: hex(dh1),
    dh2Hex: hex(dh2),
    dh3Hex: hex(dh3),
    ikmHex: hex(ikm),
    prkHex: hex(prk),
    associatedDataHex: hex(associatedData),
    sharedKeyHex: hex(sharedKey),
    initiatorSigningInputHex: hex(initiatorInput),
    header: headerJson(header),
    negativeBundles: bundleNegatives,
    negativeHeaders: headerNegatives,
  });

  // ------------------------------------------------------------------ Double Ratchet
  const memberSession = PairwiseSession.initiate(memberProvider, x3dh);
  let ownerSession: PairwiseSession | undefined;

  // Reference parties.
  const m1 = drawX25519(memberStream, 1);
  const [memberRoot, memberChain] = referenceKdfRk(
    sharedKey,
    provider.x25519(m1.secretKey, signedPrekey.publicKey),
  );
  const ratchetSteps: unknown[] = [
    {
      party: "member",
      when: "initiate",
      ownSecretKeyHex: hex(m1.secretKey),
      ownPublicKeyHex: hex(m1.publicKey),
      remotePublicKeyHex: hex(signedPrekey.publicKey),
      dhHex: hex(provider.x25519(m1.secretKey, signedPrekey.publicKey)),
      rootKeyInHex: hex(sharedKey),
      rootKeyOutHex: hex(memberRoot),
      chain: "sending",
      chainKeyHex: hex(memberChain),
    },
  ];
  const parties: Record<"member" | "owner", ReferenceParty> = {
    member: {
      name: "member",
      stream: memberStream,
      draws: 2,
      rootKey: memberRoot,
      sending: m1,
      receivingKey: signedPrekey.publicKey,
      sendingChainKey: memberChain,
      sendCount: 0,
      previousSendCount: 0,
      pendingHeader: header,
    },
    owner: {
      name: "owner",
      stream: ownerStream,
      draws: 1,
      rootKey: sharedKey,
      sending: signedPrekey,
      receivingKey: undefined,
      sendingChainKey: undefined,
      sendCount: 0,
      previousSendCount: 0,
      pendingHeader: undefined,
    },
  };

  const referenceSend = (party: ReferenceParty, plaintext: Uint8Array) => {
    const chainKey = party.sendingChainKey as Uint8Array;
    const messageKey = provider.hmacSha256(chainKey, Uint8Array.of(1));
    party.sendingChainKey = provider.hmacSha256(chainKey, Uint8Array.of(2));
    const keyAndNonce = expandWithLabel(provider, messageKey, "ratchet message", empty, 44);
    const fields = {
      version: 1,
      ...(party.pendingHeader === undefined ? {} : { x3dh: party.pendingHeader }),
      ratchetKey: party.sending.publicKey,
      messageNumber: party.sendCount,
      previousChainLength: party.previousSendCount,
    };
    const aad = concatBytes(associatedData, referenceHeaderBytes(fields));
    const ciphertext = provider.aesGcmSeal(
      keyAndNonce.slice(0, 32),
      keyAndNonce.slice(32),
      plaintext,
      aad,
    );
    party.sendCount += 1;
    return {
      bytes: encodePairwiseMessage({ ...fields, ciphertext }),
      keys: {
        chainKeyHex: hex(chainKey),
        messageKeyHex: hex(messageKey),
        keyHex: hex(keyAndNonce.slice(0, 32)),
        nonceHex: hex(keyAndNonce.slice(32)),
        aadHex: hex(aad),
        ciphertextHex: hex(ciphertext),
      },
      header: {
        ratchetKeyHex: hex(fields.ratchetKey),
        messageNumber: fields.messageNumber,
        previousChainLength: fields.previousChainLength,
        x3dh: party.pendingHeader !== undefined,
      },
    };
  };
  const referenceReceive = (party: ReferenceParty, message: PairwiseMessage) => {
    if (party.name === "member") party.pendingHeader = undefined;
    if (party.receivingKey !== undefined && same(party.receivingKey, message.ratchetKey)) return;
    // DH ratchet step (Signal §3.5).
    party.previousSendCount = party.sendCount;
    party.sendCount = 0;
    party.receivingKey = message.ratchetKey;
    const receiveDh = provider.x25519(party.sending.secretKey, message.ratchetKey);
    const [root1, receivingChain] = referenceKdfRk(party.rootKey, receiveDh);
    ratchetSteps.push({
      party: party.name,
      when: "receive",
      ownSecretKeyHex: hex(party.sending.secretKey),
      ownPublicKeyHex: hex(party.sending.publicKey),
      remotePublicKeyHex: hex(message.ratchetKey),
      dhHex: hex(receiveDh),
      rootKeyInHex: hex(party.rootKey),
      rootKeyOutHex: hex(root1),
      chain: "receiving",
      chainKeyHex: hex(receivingChain),
    });
    const next = drawX25519(party.stream, party.draws++);
    const sendDh = provider.x25519(next.secretKey, message.ratchetKey);
    const [root2, sendingChain] = referenceKdfRk(root1, sendDh);
    ratchetSteps.push({
      party: party.name,
      when: "receive",
      ownSecretKeyHex: hex(next.secretKey),
      ownPublicKeyHex: hex(next.publicKey),
      remotePublicKeyHex: hex(message.ratchetKey),
      dhHex: hex(sendDh),
      rootKeyInHex: hex(root1),
      rootKeyOutHex: hex(root2),
      chain: "sending",
      chainKeyHex: hex(sendingChain),
    });
    party.sending = next;
    party.rootKey = root2;
    party.sendingChainKey = sendingChain;
  };

  type ScriptStep =
    | { action: "send"; party: "member" | "owner"; id: string; plaintext: string }
    | { action: "receive"; party: "member" | "owner"; id: string };
  const script: ScriptStep[] = [
    { action: "send", party: "member", id: "m0", plaintext: "hello owner" },
    { action: "send", party: "member", id: "m1", plaintext: "" },
    { action: "receive", party: "owner", id: "m0" },
    { action: "receive", party: "owner", id: "m1" },
    { action: "send", party: "owner", id: "r0", plaintext: "welcome" },
    { action: "send", party: "owner", id: "r1", plaintext: "second reply" },
    { action: "receive", party: "member", id: "r1" },
    { action: "receive", party: "member", id: "r0" },
    { action: "send", party: "member", id: "m2", plaintext: "third from the member" },
    { action: "send", party: "member", id: "m3", plaintext: "fourth" },
    { action: "receive", party: "owner", id: "m3" },
    { action: "receive", party: "owner", id: "m2" },
    { action: "send", party: "owner", id: "r2", plaintext: "a new owner chain" },
    { action: "receive", party: "member", id: "r2" },
    { action: "send", party: "owner", id: "r3", plaintext: "sent, not delivered in the script" },
  ];
  const sent = new Map<string, Uint8Array>();
  const scriptJson = script.map((step) => {
    if (step.action === "send") {
      const plaintext = text(step.plaintext);
      const reference = referenceSend(parties[step.party], plaintext);
      const session = step.party === "member" ? memberSession : ownerSession;
      if (session === undefined) throw new Error("owner session not started");
      const bytes = session.encrypt(plaintext);
      checkSame(reference.bytes, bytes, `pairwise ${step.id}`);
      sent.set(step.id, bytes);
      return {
        action: step.action,
        party: step.party,
        id: step.id,
        plaintextHex: hex(plaintext),
        header: reference.header,
        ...reference.keys,
        messageHex: hex(bytes),
      };
    }
    const bytes = sent.get(step.id) as Uint8Array;
    referenceReceive(parties[step.party], decodePairwiseMessage(bytes));
    let plaintext: Uint8Array;
    let via: "respond" | "decrypt" = "decrypt";
    if (step.party === "owner" && ownerSession === undefined) {
      const response = PairwiseSession.respond(ownerProvider, prekeys, bytes);
      ownerSession = response.session;
      plaintext = response.plaintext;
      via = "respond";
    } else {
      const session = step.party === "member" ? memberSession : ownerSession;
      plaintext = (session as PairwiseSession).decrypt(bytes);
    }
    const original = script.find((s) => s.action === "send" && s.id === step.id);
    check(
      original?.action === "send" && same(plaintext, text(original.plaintext)),
      `pairwise ${step.id} plaintext`,
    );
    return {
      action: step.action,
      party: step.party,
      id: step.id,
      via,
      plaintextHex: hex(plaintext),
    };
  });
  if (ownerSession === undefined) throw new Error("owner session not started");
  const sessions = { member: memberSession, owner: ownerSession };

  // Negatives, each against the state at the end of the script (a refused message changes nothing).
  const r3 = decodePairwiseMessage(sent.get("r3") as Uint8Array);
  const m0 = decodePairwiseMessage(sent.get("m0") as Uint8Array);
  const reencode = (message: PairwiseMessage, changes: Partial<PairwiseMessage>) =>
    encodePairwiseMessage({
      version: message.version,
      ...(message.x3dh === undefined ? {} : { x3dh: message.x3dh }),
      ratchetKey: message.ratchetKey,
      messageNumber: message.messageNumber,
      previousChainLength: message.previousChainLength,
      ciphertext: message.ciphertext,
      ...changes,
    });
  const drNegatives: Array<{
    name: string;
    note: string;
    to: "owner-prekeys" | "owner" | "member";
    bytes: Uint8Array;
    error: string;
  }> = [
    {
      name: "initial-message-replayed",
      note: "m0 again as a new session: its EK was accepted with signed prekey 258.",
      to: "owner-prekeys",
      bytes: sent.get("m0") as Uint8Array,
      error: "DuplicateMessageError",
    },
    {
      name: "initial-message-initiator-signature-altered",
      note: "m0 with one bit of the initiator signature flipped (checked before the replay cache).",
      to: "owner-prekeys",
      bytes: reencode(m0, {
        x3dh: {
          ...(m0.x3dh as NonNullable<PairwiseMessage["x3dh"]>),
          initiatorSignature: flipBit((m0.x3dh as X3dhHeaderFields).initiatorSignature, 0),
        },
      }),
      error: "DecryptionFailedError",
    },
    {
      name: "owner-receives-m2-again",
      note: "A message of the owner's current receiving chain, already decrypted.",
      to: "owner",
      bytes: sent.get("m2") as Uint8Array,
      error: "DuplicateMessageError",
    },
    {
      name: "owner-receives-m0-again-in-session",
      note: "m0 of the member's first chain, now an earlier chain: already decrypted.",
      to: "owner",
      bytes: sent.get("m0") as Uint8Array,
      error: "DuplicateMessageError",
    },
    {
      name: "member-receives-r0-again",
      note: "A message of an earlier receiving chain, already decrypted.",
      to: "member",
      bytes: sent.get("r0") as Uint8Array,
      error: "DuplicateMessageError",
    },
    {
      name: "r3-ciphertext-bit-flipped",
      note: "The undelivered r3 with its last ciphertext byte altered.",
      to: "member",
      bytes: reencode(r3, { ciphertext: flipBit(r3.ciphertext, r3.ciphertext.length - 1) }),
      error: "DecryptionFailedError",
    },
    {
      name: "r3-message-number-altered",
      note: "r3 claiming message number 2 (the header is in the associated data).",
      to: "member",
      bytes: reencode(r3, { messageNumber: 2 }),
      error: "DecryptionFailedError",
    },
    {
      name: "r3-previous-chain-length-altered",
      note: "r3 claiming previous chain length 3.",
      to: "member",
      bytes: reencode(r3, { previousChainLength: 3 }),
      error: "DecryptionFailedError",
    },
    {
      name: "message-number-over-the-skip-limit",
      note: "r3 claiming message number 1,002 in a chain where the member received message 0: 1,001 skipped.",
      to: "member",
      bytes: reencode(r3, { messageNumber: 1002 }),
      error: "GenerationTooFarError",
    },
    {
      name: "version-2",
      note: "Only PairwiseMessage version 1 is defined.",
      to: "member",
      bytes: reencode(r3, { version: 2 }),
      error: "DecryptionFailedError",
    },
  ];
  const drNegativeJson = drNegatives.map((entry) => {
    expectOutcome(entry.name, entry.error, () => {
      if (entry.to === "owner-prekeys")
        return PairwiseSession.respond(provider, prekeys, entry.bytes);
      return sessions[entry.to].decrypt(entry.bytes);
    });
    return {
      name: entry.name,
      note: entry.note,
      to: entry.to,
      messageHex: hex(entry.bytes),
      error: entry.error,
    };
  });
  // Nothing above changed a session: the undelivered r3 still opens.
  check(
    same(
      memberSession.decrypt(sent.get("r3") as Uint8Array),
      text("sent, not delivered in the script"),
    ),
    "r3 after the negatives",
  );

  write("double-ratchet.json", {
    description:
      'The Double Ratchet of the pairwise channel (docs/PROTOCOL.md, "Pairwise channel"; Signal\'s algorithm) on the X3DH of x3dh.json: a script of messages both ways (out of order within a chain included), with each DH ratchet step, the per-message keys and the PairwiseMessage bytes; then negative messages with the error each party must raise.',
    generator,
    seedRule:
      'The keys of x3dh.json. Every ratchet key pair is the next draw of its party\'s stream: the member\'s i-th draw is seed("pairwise/member", i) (draw 0 is EK, draw 1 its first ratchet key, then one per DH ratchet step), the owner\'s is seed("pairwise/owner", i) (draw 0 is SPK_O, its first ratchet key pair; then one per DH ratchet step).',
    verification: [
      'KDF_RK(rk, dh) = ExpandWithLabel(HKDF-Extract(salt = rk, ikm = dh), "ratchet root", "", 64) → rk\' = [0..32], ck = [32..64]; KDF_CK: mk = HMAC-SHA256(ck, 0x01), ck\' = HMAC-SHA256(ck, 0x02); key ‖ nonce = ExpandWithLabel(mk, "ratchet message", "", 44).',
      "ratchetSteps[] in order: dhHex = X25519(own secret, remote public), (rootKeyOutHex, chainKeyHex) = KDF_RK(rootKeyInHex, dhHex). The member starts from SK with SPK_O as remote key; the owner's first step starts from SK with its signed prekey as own key.",
      "script[] send steps: with the sender's sending chain key chainKeyHex, messageKeyHex, keyHex, nonceHex follow; aadHex = AD ‖ u32 version ‖ ratchet_key ‖ u32 n ‖ u32 pn ‖ (u8 0 | u8 1 ‖ IK_M ‖ IKdh_M ‖ EK ‖ u32 spk_id ‖ initiator_signature); AES-256-GCM(key, nonce, plaintext, aad) = ciphertextHex; messageHex is the PairwiseMessage. The member attaches the X3DH header until it has decrypted a message from the owner.",
      "script[] receive steps: the receiver (via `respond` for the owner's first message: X3DH responder + first decrypt; else `decrypt`) must get plaintextHex. Replaying the script with both parties' draws from their streams must give exactly the messageHex of every send.",
      "negative[]: after the whole script, each message must be refused with `error` by `to` (owner-prekeys: as a new session's initial message; owner / member: by the session) and leave the state unchanged; afterwards r3 must still decrypt.",
    ],
    sharedKeyHex: hex(sharedKey),
    associatedDataHex: hex(associatedData),
    signedPrekeyHex: hex(signedPrekey.publicKey),
    ratchetSteps,
    script: scriptJson,
    negative: drNegativeJson,
  });
}

// ---------------------------------------------------------------------------------------------

function hexBytes(value: string): Uint8Array {
  const out = new Uint8Array(value.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(value.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function main(): Promise<void> {
  mkdirSync(root, { recursive: true });
  kdfLabels();
  keySchedule();
  secretTree();
  senderRatchet();
  messageProtection();
  await keyUpdateFlat();
  await pairwise();
  // delegation.json: its own script (docs/DELEGATION.md), run here so that one command makes all.
  await import("./delegation-vectors.js");
}

await main();
