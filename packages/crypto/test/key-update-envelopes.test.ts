import { describe, expect, it } from "vitest";
import type { GroupId } from "../src/key-schedule.js";
import {
  ed25519EnvelopeSigner,
  type KeyUpdateChunk,
  keyUpdateLimits,
  sealKeyUpdate,
} from "../src/key-update.js";
import type { MemberGroup } from "../src/member-group.js";
import type { OwnerKeyUpdate } from "../src/owner-group.js";
import type { CryptoProvider } from "../src/provider.js";
import { nodeProvider } from "../src/providers/node.js";
import { createOwner, joiner, joinFromWelcome, type Person, person } from "./fixtures.js";
import { seeded, seededBytes } from "./seeded-provider.js";

const base = seeded(nodeProvider(), "key update envelopes");
const random = seededBytes("key update envelopes fixtures");

/** The provider with a count of Ed25519 verifications. */
function counting(p: CryptoProvider): { provider: CryptoProvider; verifications: () => number } {
  let count = 0;
  const provider = new Proxy(p, {
    get(target, key, receiver) {
      if (key === "ed25519Verify") {
        return (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => {
          count++;
          return target.ed25519Verify(publicKey, message, signature);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { provider, verifications: () => count };
}

const orgKey = base.ed25519KeyPair();
const group: GroupId = { organizationId: orgKey.publicKey, channelId: "" };
const signer = ed25519EnvelopeSigner(base, orgKey.secretKey);
/** Holds the organization's public key but signs nothing: its envelopes never verify. */
const forger = {
  scheme: "ed25519" as const,
  publicKey: orgKey.publicKey,
  sign: () => new Uint8Array(64),
};

/** An owner, 7 members, and a removal of leaf 3: 6 recipients in 3 chunks of 2. */
async function setup() {
  const { provider, verifications } = counting(base);
  const me = person(base, () => random(32));
  const owner = createOwner(me, { provider: base, group, now: 0, maxEntriesPerChunk: 2 });
  const people: Person[] = Array.from({ length: 7 }, () => person(base, () => random(32)));
  const added = owner.add(people.map(joiner), 1);
  const members: MemberGroup[] = [];
  for (const [i, { welcome }] of added.welcomes.entries()) {
    const joining = { provider, person: people[i] as Person, welcome, roster: added.roster };
    members.push(joinFromWelcome({ ...joining, now: 1 }));
  }
  const removal = owner.remove([3], 2);
  expect(removal.chunks).toHaveLength(3);
  const envelopes = await sealKeyUpdate({ group, chunks: removal.chunks, clock: 5n, signer });
  return { owner, members, removal, envelopes, verifications };
}

/** The index of the chunk holding `member`'s hint. */
function chunkOf(member: MemberGroup, removal: OwnerKeyUpdate): number {
  return removal.chunks.findIndex((chunk) => member.holdsKeyUpdateEntry(chunk, {}));
}

/** `chunk` with every wrap flipped, sealed without a valid signature. */
async function forged(chunk: KeyUpdateChunk): Promise<Uint8Array> {
  const entries = chunk.entries.slice();
  for (let offset = 4; offset < entries.length; offset += 36) {
    entries[offset] = (entries[offset] as number) ^ 1;
  }
  const [bytes] = await sealKeyUpdate({
    group,
    chunks: [{ ...chunk, entries }],
    clock: 5n,
    signer: forger,
  });
  return bytes as Uint8Array;
}

describe("MemberGroup.applyKeyUpdateEnvelopes", () => {
  it("verifies only the chunk holding the member's entry, even when it is the last one", async () => {
    const { owner, members, removal, envelopes, verifications } = await setup();
    const positions = new Set<number>();
    for (const [i, member] of members.entries()) {
      if (i === 2) continue;
      const index = chunkOf(member, removal);
      positions.add(index);
      const before = verifications();
      const outcome = await member.applyKeyUpdateEnvelopes(envelopes, 2, {
        roster: removal.roster,
      });
      expect(outcome).toMatchObject({
        transition: { status: "applied", epoch: 2n },
        verifiedChunks: 1,
        refusedChunks: 0,
      });
      expect(verifications() - before).toBe(1);
      expect(member.keyId).toEqual(owner.keyId);
    }
    expect(positions).toEqual(new Set([0, 1, 2]));
  });

  it("a removed member verifies every chunk before concluding removed", async () => {
    const { members, removal, envelopes, verifications } = await setup();
    const removed = members[2] as MemberGroup;
    const outcome = await removed.applyKeyUpdateEnvelopes(envelopes, 2, { roster: removal.roster });
    expect(outcome).toEqual({
      transition: { status: "removed", epoch: 2n },
      verifiedChunks: 3,
      refusedChunks: 0,
    });
    expect(verifications()).toBe(3);
    expect(removed.status).toBe("removed");
  });

  it("a forged chunk with the member's hint is refused and the real one still applies", async () => {
    const { owner, members, removal, envelopes } = await setup();
    const member = members[0] as MemberGroup;
    const index = chunkOf(member, removal);
    const fake = await forged(removal.chunks[index] as KeyUpdateChunk);
    expect(member.holdsKeyUpdateEntry(removal.chunks[index] as KeyUpdateChunk)).toBe(true);
    const outcome = await member.applyKeyUpdateEnvelopes([fake, ...envelopes], 2, {
      roster: removal.roster,
    });
    expect(outcome).toMatchObject({
      transition: { status: "applied" },
      verifiedChunks: 1,
      refusedChunks: 1,
    });
    expect(member.keyId).toEqual(owner.keyId);
  });

  it("a forged chunk never makes a member conclude it was removed, nor applies", async () => {
    const { members, removal, envelopes } = await setup();
    for (const [i, member] of members.entries()) {
      const index = i === 2 ? 1 : chunkOf(member, removal);
      const fake = await forged(removal.chunks[index] as KeyUpdateChunk);
      const others = envelopes.filter((_, j) => j !== index);
      const junk = new Uint8Array([1, 2, 3]);
      const outcome = await member.applyKeyUpdateEnvelopes([fake, ...others, junk], 2, {
        roster: removal.roster,
      });
      expect(outcome).toEqual({
        transition: { status: "not-in-chunk", epoch: 2n, missingChunks: [index] },
        verifiedChunks: 2,
        refusedChunks: 2,
      });
      expect(member.status).toBe("member");
      expect(member.epoch).toBe(1n);
    }
  });

  it("takes at most keyUpdateLimits.maxChunks (30) envelopes", async () => {
    const { members } = await setup();
    const member = members[0] as MemberGroup;
    const max = keyUpdateLimits.maxChunks;
    expect(max).toBe(30);
    const many = Array.from({ length: max + 1 }, () => new Uint8Array(1));
    await expect(member.applyKeyUpdateEnvelopes(many, 2)).rejects.toThrow(RangeError);
    await expect(member.applyKeyUpdateEnvelopes(many.slice(1), 2)).resolves.toEqual({
      transition: undefined,
      verifiedChunks: 0,
      refusedChunks: max,
    });
  });
});
