import { equalBytes } from "@orgchat/base";
import { decodeKeyUpdate, decodeSignedEnvelope, encodeKeyUpdate } from "@orgchat/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expandWithLabel, u64 } from "../src/kdf.js";
import { deriveKeyId, evolveLeafSecret, type GroupId, groupContext } from "../src/key-schedule.js";
import {
  buildKeyUpdate,
  ed25519EnvelopeSigner,
  type KeyUpdateChunk,
  type KeyUpdateRecipient,
  keyUpdateLimits,
  openKeyUpdate,
  openKeyUpdateEnvelope,
  sealKeyUpdate,
} from "../src/key-update.js";
import { readKeyUpdateEnvelope } from "../src/key-update-envelopes.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { seeded, seededBytes } from "./seeded-provider.js";

const noble = nobleProvider();
const provider = seeded(noble, "key-update");
// node:crypto for the large N: noble X25519 takes about 1 ms per agreement.
const fast = seeded(nodeProvider(), "key-update node");
const random = seededBytes("key-update fixtures");

const orgKey = (() => {
  const secretKey = random(32);
  return { secretKey, publicKey: noble.ed25519PublicKey(secretKey) };
})();
const orgGroup: GroupId = { organizationId: orgKey.publicKey, channelId: "" };
// The longest channel id: the worst case for the sealed size.
const longChannel: GroupId = { organizationId: orgKey.publicKey, channelId: "c".repeat(64) };
const signer = ed25519EnvelopeSigner(noble, orgKey.secretKey);

interface Member {
  recipient: KeyUpdateRecipient;
  prekeySecret?: Uint8Array;
}

/**
 * `count` recipients; only the leaves in `openable` get real key pairs (X25519 key generation is
 * about 0.3 ms with noble), the others get random 32-byte prekeys, which are valid X25519 public keys.
 */
function members(
  count: number,
  openable: ReadonlySet<number>,
  p: CryptoProvider = provider,
): Member[] {
  const out: Member[] = [];
  for (let leaf = 1; leaf <= count; leaf++) {
    const leafSecret = random(32);
    if (openable.has(leaf)) {
      const pair = p.x25519KeyPair();
      out.push({
        recipient: { leaf, prekey: pair.publicKey, leafSecret },
        prekeySecret: pair.secretKey,
      });
    } else {
      out.push({ recipient: { leaf, prekey: random(32), leafSecret } });
    }
  }
  return out;
}

function sample(count: number, size: number): Set<number> {
  const picked = new Set<number>([1, count]);
  for (let i = 1; picked.size < Math.min(size, count); i++) picked.add(1 + ((i * 7919) % count));
  return picked;
}

function hintOf(entries: Uint8Array, index: number): number {
  return new DataView(entries.buffer, entries.byteOffset).getUint32(index * 36);
}

function expectSorted(chunk: KeyUpdateChunk): void {
  const count = chunk.entries.length / 36;
  for (let i = 1; i < count; i++) {
    expect(hintOf(chunk.entries, i)).toBeGreaterThanOrEqual(hintOf(chunk.entries, i - 1));
  }
}

const epoch = 7n;
const previousKeyId = random(8);
const rosterHash = random(32);

function build(
  group: GroupId,
  list: Member[],
  maxEntriesPerChunk?: number,
  p: CryptoProvider = provider,
) {
  const epochSecret = random(32);
  const chunks = buildKeyUpdate({
    provider: p,
    group,
    epoch,
    epochSecret,
    previousKeyId,
    rosterHash,
    recipients: list.map((m) => m.recipient),
    ...(maxEntriesPerChunk === undefined ? {} : { maxEntriesPerChunk }),
  });
  return { epochSecret, chunks };
}

function open(group: GroupId, chunk: KeyUpdateChunk, member: Member, p: CryptoProvider = provider) {
  return openKeyUpdate({
    provider: p,
    group,
    chunk,
    prekeySecret: member.prekeySecret as Uint8Array,
    leafSecret: member.recipient.leafSecret,
  });
}

/** Every sampled member finds its secret in exactly one chunk and `undefined` in the others. */
function expectEveryoneOpens(
  group: GroupId,
  chunks: KeyUpdateChunk[],
  list: Member[],
  secret: Uint8Array,
  p: CryptoProvider = provider,
) {
  for (const member of list) {
    if (member.prekeySecret === undefined) continue;
    const found = chunks.map((chunk) => open(group, chunk, member, p));
    expect(found.filter((s) => s !== undefined)).toEqual([secret]);
  }
}

async function expectSealedFits(group: GroupId, chunks: KeyUpdateChunk[]) {
  const sealed = await sealKeyUpdate({ group, chunks, clock: (1n << 64n) - 1n, signer });
  expect(sealed).toHaveLength(chunks.length);
  for (const bytes of sealed) expect(bytes.length).toBeLessThanOrEqual(120 * 1024);
  return sealed;
}

describe("buildKeyUpdate / openKeyUpdate (FLAT)", () => {
  it("N = 1: one chunk of one 36-byte entry, opened by its member, sealed and reopened", async () => {
    const list = members(1, new Set([1]));
    const { epochSecret, chunks } = build(orgGroup, list);
    expect(chunks).toHaveLength(1);
    const [chunk] = chunks as [KeyUpdateChunk];
    expect(chunk).toMatchObject({ version: 1, channelId: "", epoch, chunkIndex: 0, chunkCount: 1 });
    expect(chunk.entries).toHaveLength(keyUpdateLimits.entryBytes);
    expect(chunk.keyId).toEqual(deriveKeyId(noble, orgGroup, epoch, epochSecret));
    expect(chunk.previousKeyId).toEqual(previousKeyId);
    expect(chunk.rosterHash).toEqual(rosterHash);
    expectEveryoneOpens(orgGroup, chunks, list, epochSecret);

    const [sealed] = (await expectSealedFits(orgGroup, chunks)) as [Uint8Array];
    const reopened = await openKeyUpdateEnvelope({
      provider: noble,
      group: orgGroup,
      bytes: sealed,
    });
    expect(open(orgGroup, reopened, list[0] as Member)).toEqual(epochSecret);
  });

  it("derives every entry exactly as docs/PROTOCOL.md writes it", () => {
    const list = members(3, new Set([1, 2, 3]));
    const { epochSecret, chunks } = build(longChannel, list);
    const [chunk] = chunks as [KeyUpdateChunk];
    const expected = list
      .map((member) => {
        const ss = noble.x25519(member.prekeySecret as Uint8Array, chunk.ephemeralPublicKey);
        const prk = noble.hkdfExtract(member.recipient.leafSecret, ss);
        const context = new Uint8Array([
          ...groupContext(longChannel),
          ...u64(epoch),
          ...chunk.ephemeralPublicKey,
          ...member.recipient.prekey,
        ]);
        const okm = expandWithLabel(noble, prk, "key update", context, 36);
        return [
          ...okm.subarray(0, 4),
          ...okm.subarray(4).map((byte, i) => byte ^ (epochSecret[i] as number)),
        ];
      })
      .sort((a, b) => hintOf(new Uint8Array(a), 0) - hintOf(new Uint8Array(b), 0));
    expect(chunk.entries).toEqual(new Uint8Array(expected.flat()));
  });

  it("N = 3,400: exactly one full chunk, sorted by hint, ≤ 120 KiB sealed with a 64-character channel id", async () => {
    const list = members(3400, sample(3400, 12), fast);
    const { epochSecret, chunks } = build(longChannel, list, undefined, fast);
    expect(chunks).toHaveLength(1);
    const [chunk] = chunks as [KeyUpdateChunk];
    expect(chunk.entries).toHaveLength(3400 * 36);
    expectSorted(chunk);
    expectEveryoneOpens(longChannel, chunks, list, epochSecret, fast);
    // The noble provider opens what the node provider built.
    expectEveryoneOpens(longChannel, chunks, list.slice(0, 1), epochSecret, provider);
    const [sealed] = (await expectSealedFits(longChannel, chunks)) as [Uint8Array];
    expect(decodeKeyUpdate(decodeSignedEnvelope(sealed).payload).entries).toEqual(chunk.entries);
  });

  it("N = 3,401: two chunks of 1,701 and 1,700 entries with their own ephemeral keys", async () => {
    const list = members(3401, sample(3401, 12), fast);
    const { epochSecret, chunks } = build(longChannel, list, undefined, fast);
    expect(chunks.map((c) => [c.chunkIndex, c.chunkCount, c.entries.length / 36])).toEqual([
      [0, 2, 1701],
      [1, 2, 1700],
    ]);
    expect(chunks[0]?.ephemeralPublicKey).not.toEqual(chunks[1]?.ephemeralPublicKey);
    expect(chunks[0]?.keyId).toEqual(chunks[1]?.keyId);
    for (const chunk of chunks) expectSorted(chunk);
    expectEveryoneOpens(longChannel, chunks, list, epochSecret, fast);
    await expectSealedFits(longChannel, chunks);
  });

  it("N = 10,000: three chunks, every sampled member finds and opens its entry, each sealed ≤ 120 KiB", async () => {
    const list = members(10_000, sample(10_000, 40), fast);
    const { epochSecret, chunks } = build(orgGroup, list, undefined, fast);
    expect(chunks.map((c) => c.entries.length / 36)).toEqual([3334, 3333, 3333]);
    expect(new Set(chunks.map((c) => Buffer.from(c.ephemeralPublicKey).toString("hex"))).size).toBe(
      3,
    );
    for (const chunk of chunks) expectSorted(chunk);
    expectEveryoneOpens(orgGroup, chunks, list, epochSecret, fast);
    const sealed = await expectSealedFits(orgGroup, chunks);
    // 36 bytes per member plus each chunk's share of header and envelope: under 40.
    expect(sealed.reduce((n, bytes) => n + bytes.length, 0) / 10_000).toBeLessThanOrEqual(40);
    const reopened = await Promise.all(
      sealed.map((bytes) => openKeyUpdateEnvelope({ provider: fast, group: orgGroup, bytes })),
    );
    expectEveryoneOpens(orgGroup, reopened, list, epochSecret, fast);
  });

  it("property: any N and chunk size, every member opens exactly one chunk to the epoch secret", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        (count, perChunk) => {
          const list = members(count, new Set(Array.from({ length: count }, (_, i) => i + 1)));
          const { epochSecret, chunks } = build(orgGroup, list, perChunk);
          expect(chunks).toHaveLength(Math.ceil(count / perChunk));
          expect(chunks.reduce((n, c) => n + c.entries.length / 36, 0)).toBe(count);
          for (const chunk of chunks) expect(() => encodeKeyUpdate(chunk)).not.toThrow();
          expectEveryoneOpens(orgGroup, chunks, list, epochSecret);
        },
      ),
      { seed: 0x6b657975, numRuns: 25 },
    );
  });

  it("tries every entry that carries our hint (4-byte hints collide)", () => {
    const list = members(2, new Set([1, 2]));
    const { epochSecret, chunks } = build(orgGroup, list);
    const [chunk] = chunks as [KeyUpdateChunk];
    // A decoy with member 1's hint and a random wrap, placed before and after the real entry.
    const member = list[0] as Member;
    const real = chunk.entries.findIndex((_, i) => {
      if (i % 36 !== 0) return false;
      const copy: KeyUpdateChunk = { ...chunk, entries: chunk.entries.subarray(i, i + 36) };
      return open(orgGroup, copy, member) !== undefined;
    });
    const decoy = new Uint8Array([...chunk.entries.subarray(real, real + 4), ...random(32)]);
    for (const entries of [
      new Uint8Array([...decoy, ...chunk.entries.subarray(real, real + 36)]),
      new Uint8Array([...chunk.entries.subarray(real, real + 36), ...decoy]),
    ]) {
      expect(open(orgGroup, { ...chunk, entries }, member)).toEqual(epochSecret);
    }
  });

  it("refuses bad arguments with errors naming them", () => {
    const list = members(2, new Set());
    const recipients = list.map((m) => m.recipient);
    const init = {
      provider,
      group: orgGroup,
      epoch,
      epochSecret: random(32),
      previousKeyId,
      rosterHash,
      recipients,
    };
    expect(() => buildKeyUpdate({ ...init, maxEntriesPerChunk: 0 })).toThrow(/maxEntriesPerChunk/);
    expect(() => buildKeyUpdate({ ...init, maxEntriesPerChunk: 3401 })).toThrow(
      /maxEntriesPerChunk/,
    );
    // The wire refuses a chunk count over 30 (wireLimits.maxKeyUpdateChunks): so does the builder.
    const many = members(keyUpdateLimits.maxChunks + 1, new Set()).map((m) => m.recipient);
    expect(build(orgGroup, members(keyUpdateLimits.maxChunks, new Set()), 1).chunks).toHaveLength(
      30,
    );
    expect(() => buildKeyUpdate({ ...init, recipients: many, maxEntriesPerChunk: 1 })).toThrow(
      /more than 30 chunks/,
    );
    expect(() => buildKeyUpdate({ ...init, epochSecret: random(31) })).toThrow(/epochSecret/);
    expect(() => buildKeyUpdate({ ...init, previousKeyId: random(7) })).toThrow(/previousKeyId/);
    expect(() =>
      buildKeyUpdate({
        ...init,
        recipients: [recipients[0] as KeyUpdateRecipient, recipients[0] as KeyUpdateRecipient],
      }),
    ).toThrow(/listed twice/);
    expect(buildKeyUpdate({ ...init, recipients: [] })).toEqual([]);
    // A small-order prekey (the all-zero point) names the leaf.
    expect(() =>
      buildKeyUpdate({
        ...init,
        recipients: [{ leaf: 9, prekey: new Uint8Array(32), leafSecret: random(32) }],
      }),
    ).toThrowError(
      expect.objectContaining({
        name: "InvalidPublicKeyError",
        message: expect.stringMatching(/leaf 9/),
      }),
    );
  });
});

describe("openKeyUpdate: negative cases", () => {
  const list = members(4, new Set([1, 2, 3, 4]));
  const { epochSecret, chunks } = build(orgGroup, list);
  const chunk = chunks[0] as KeyUpdateChunk;
  const member = list[2] as Member;

  function entryIndexOf(m: Member): number {
    for (let i = 0; i < chunk.entries.length; i += 36) {
      if (open(orgGroup, { ...chunk, entries: chunk.entries.subarray(i, i + 36) }, m)) return i;
    }
    throw new Error("entry not found");
  }

  it("a tampered wrap fails the key_id commitment: DecryptionFailedError", () => {
    const at = entryIndexOf(member);
    const entries = chunk.entries.slice();
    entries[at + 4 + 17] = (entries[at + 4 + 17] as number) ^ 1;
    expect(() => open(orgGroup, { ...chunk, entries }, member)).toThrowError(
      expect.objectContaining({ name: "DecryptionFailedError" }),
    );
    // The other members are unaffected.
    expect(open(orgGroup, { ...chunk, entries }, list[0] as Member)).toEqual(epochSecret);
  });

  it("a tampered hint hides the entry: undefined", () => {
    const at = entryIndexOf(member);
    const entries = chunk.entries.slice();
    entries[at] = (entries[at] as number) ^ 0x80;
    expect(open(orgGroup, { ...chunk, entries }, member)).toBeUndefined();
  });

  it("a wrong key_id: DecryptionFailedError for every member", () => {
    const keyId = chunk.keyId.slice();
    keyId[0] = (keyId[0] as number) ^ 1;
    for (const m of list) {
      expect(() => open(orgGroup, { ...chunk, keyId }, m)).toThrowError(
        expect.objectContaining({ name: "DecryptionFailedError" }),
      );
    }
  });

  it("a leaf secret of the wrong epoch (not evolved, or evolved once too often) finds nothing", () => {
    const notEvolved = { ...member, recipient: { ...member.recipient } };
    // The member's secret "one epoch earlier" cannot be computed (one-way), so use another epoch's
    // chain: the right secret evolved one step further, and a fresh unrelated one.
    for (const leafSecret of [
      evolveLeafSecret(noble, member.recipient.leafSecret, epoch + 1n),
      random(32),
    ]) {
      notEvolved.recipient = { ...member.recipient, leafSecret };
      expect(open(orgGroup, chunk, notEvolved)).toBeUndefined();
    }
  });

  it("a chunk for another group: undefined for another channel or organization", () => {
    expect(open(longChannel, chunk, member)).toBeUndefined();
    const otherOrg: GroupId = { organizationId: random(32), channelId: "" };
    expect(open(otherOrg, chunk, member)).toBeUndefined();
    // The same chunk moved to another epoch number derives other hints too.
    expect(open(orgGroup, { ...chunk, epoch: epoch + 1n }, member)).toBeUndefined();
  });

  it("a sealed chunk opened against another group's keys topic is refused by the envelope", async () => {
    const [sealed] = (await sealKeyUpdate({
      group: orgGroup,
      chunks: [chunk],
      clock: 1n,
      signer,
    })) as [Uint8Array];
    await expect(
      openKeyUpdateEnvelope({ provider: noble, group: longChannel, bytes: sealed }),
    ).rejects.toMatchObject({
      name: "EnvelopeMismatchError",
    });
    const stranger = ed25519EnvelopeSigner(noble, random(32));
    await expect(
      sealKeyUpdate({ group: orgGroup, chunks: [chunk], clock: 1n, signer: stranger }),
    ).rejects.toThrow(/organization key/);
  });

  it("a delegate's sealed chunk opens only where the receiver names the delegate", async () => {
    const delegateSecret = random(32);
    const delegate = ed25519EnvelopeSigner(noble, delegateSecret);
    const [sealed] = (await sealKeyUpdate({
      group: orgGroup,
      chunks: [chunk],
      clock: 2n,
      signer: delegate,
      delegate: true,
    })) as [Uint8Array];
    await expect(
      openKeyUpdateEnvelope({ provider: noble, group: orgGroup, bytes: sealed }),
    ).rejects.toMatchObject({ name: "EnvelopeMismatchError", field: "signer" });
    const named = {
      provider: noble,
      group: orgGroup,
      bytes: sealed,
      committers: (key: Uint8Array) => equalBytes(key, delegate.publicKey),
    };
    expect((await openKeyUpdateEnvelope(named)).keyId).toEqual(chunk.keyId);
    const read = await readKeyUpdateEnvelope(named);
    expect(read.signer).toEqual(delegate.publicKey);
    expect(read.verify()).toBe(true);
  });

  it("refuses malformed chunks and keys with errors naming them", () => {
    expect(() => open(orgGroup, { ...chunk, version: 2 }, member)).toThrow(/chunk.version/);
    expect(() => open(orgGroup, { ...chunk, entries: chunk.entries.subarray(1) }, member)).toThrow(
      /chunk.entries/,
    );
    expect(() => open(orgGroup, chunk, { ...member, prekeySecret: random(16) })).toThrow(
      /prekeySecret/,
    );
    expect(() =>
      open(orgGroup, { ...chunk, ephemeralPublicKey: new Uint8Array(32) }, member),
    ).toThrowError(expect.objectContaining({ name: "InvalidPublicKeyError" }));
  });

  it("the signer prints no secret", () => {
    expect(JSON.stringify(signer)).not.toContain(Buffer.from(orgKey.secretKey).toString("hex"));
    expect(Object.values(signer)).not.toContainEqual(orgKey.secretKey);
  });
});
