/**
 * A member verifies only the KeyUpdate chunk holding its hint (docs/CLIENT.md, "KeyUpdate chunks"):
 * the other chunks are held unverified (bounded) and verified only before concluding "removed"; a
 * forged chunk never applies an entry nor counts towards "removed".
 *
 * The owner's one-chunk KeyUpdate is caught on its way out and split into one chunk per entry (same
 * ephemeral key, so every entry still opens), sealed again with the organization key read from the
 * owner's unsealed store: a genuine 3-chunk KeyUpdate, delivered to one member at a time.
 */
import { toHex } from "@orgchat/base";
import {
  defaultProvider,
  ed25519EnvelopeSigner,
  type KeyUpdateChunk,
  readKeyUpdateEnvelope,
  sealKeyUpdate,
} from "@orgchat/crypto";
import type { MemoryTransport } from "@orgchat/transport";
import { type EnvelopeSigner, keysTopic, openEnvelope, wireLimits } from "@orgchat/wire";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeJson, fromHex } from "../src/encoding.js";
import { HeldKeyUpdates, heldKeyUpdateLimits } from "../src/held-key-updates.js";
import { storedGroups } from "../src/inspect.js";
import type { OrgSecrets } from "../src/org-records.js";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await world?.close();
  world = undefined;
});

interface Setup {
  readonly world: World;
  readonly owner: Peer;
  readonly orgId: string;
  readonly members: Record<"alice" | "bob" | "carol" | "dave", Peer>;
  /** A transport of its own, to deliver chunks from. */
  readonly relay: MemoryTransport;
  /** The 3 chunks of the KeyUpdate that removed `removed` (decoded; index = chunk index). */
  readonly chunks: KeyUpdateChunk[];
  /** The same, sealed by the organization key. */
  readonly sealed: Uint8Array[];
  /** Seals chunks with the organization key. */
  readonly seal: (chunks: KeyUpdateChunk[]) => Promise<Uint8Array[]>;
  /** Seals a chunk with a signature that does not hold. */
  readonly forge: (chunk: KeyUpdateChunk) => Promise<Uint8Array>;
  /** Ed25519 verifications of the chunks' signatures so far (every client shares the provider). */
  readonly verifies: () => number;
}

/** Owner and 5 members; the owner removes `removed`, and the KeyUpdate is caught and split in 3. */
async function setup(removed: "erin" | "dave"): Promise<Setup> {
  world = new World();
  const names = ["alice", "bob", "carol", "dave", "erin"].filter((n) => n !== removed);
  const all = await orgWithMembers(world, [...names, removed]);
  const { owner, orgId } = all;
  const byName = Object.fromEntries(all.members.map((p) => [p.name, p])) as Setup["members"] &
    Record<string, Peer>;
  const provider = defaultProvider();
  const organizationId = fromHex(orgId);
  const group = { organizationId, channelId: "" };
  const topic = keysTopic(organizationId);
  const caught: Uint8Array[] = [];
  const publish = owner.transport.publish.bind(owner.transport);
  Object.assign(owner.transport, {
    publish: async (t: string, payload: Uint8Array, options?: { signal?: AbortSignal }) => {
      if (t === topic) {
        try {
          await readKeyUpdateEnvelope({ provider, group, bytes: payload });
          caught.push(payload);
          return;
        } catch {
          // Not a KeyUpdate (an epoch roster): on its way.
        }
      }
      return publish(t, payload, options);
    },
  });
  const target = byName[removed];
  if (target === undefined) throw new Error("setup");
  await owner.client.removeMember(orgId, target.client.memberId);
  await world.settle();
  expect(caught).toHaveLength(1);
  const original = caught[0] as Uint8Array;
  const { chunk } = await readKeyUpdateEnvelope({ provider, group, bytes: original });
  const opened = await openEnvelope(original, { contentTopic: topic, verify: () => true });
  const entries = chunk.entries.length / 36;
  expect(entries).toBe(4);
  // Three chunks: entries 0 | 1 | 2-3.
  const cuts = [0, 36, 72, chunk.entries.length];
  const chunks: KeyUpdateChunk[] = [0, 1, 2].map((index) => ({
    ...chunk,
    chunkIndex: index,
    chunkCount: 3,
    entries: chunk.entries.slice(cuts[index], cuts[index + 1]),
  }));
  const raw = await owner.store.get(`org/${orgId}`, "secrets");
  if (raw === undefined) throw new Error("setup: no secrets");
  const { orgSecret } = decodeJson<OrgSecrets>(raw);
  if (orgSecret === undefined) throw new Error("setup: not the owner");
  const signatures = new Set<string>();
  const seal = async (list: KeyUpdateChunk[]) => {
    const out = await sealKeyUpdate({
      group,
      chunks: list,
      clock: opened.clock,
      signer: ed25519EnvelopeSigner(provider, orgSecret),
    });
    for (const bytes of out) {
      await openEnvelope(bytes, {
        contentTopic: topic,
        verify: (request) => {
          signatures.add(toHex(request.signature));
          return true;
        },
      });
    }
    return out;
  };
  const sealed = await seal(chunks);
  const bad: EnvelopeSigner = {
    scheme: "ed25519",
    publicKey: organizationId,
    sign: () => {
      const signature = new Uint8Array(64).fill(7);
      return signature;
    },
  };
  signatures.add(toHex(new Uint8Array(64).fill(7)));
  let count = 0;
  const verify = provider.ed25519Verify.bind(provider);
  vi.spyOn(provider, "ed25519Verify").mockImplementation((publicKey, message, signature) => {
    if (signatures.has(toHex(signature))) count++;
    return verify(publicKey, message, signature);
  });
  const relay = world.network.transport({ name: "relay", history: true });
  await relay.start();
  return {
    world,
    owner,
    orgId,
    members: byName,
    relay,
    chunks,
    sealed,
    seal,
    forge: async (forged) =>
      (await sealKeyUpdate({ group, chunks: [forged], clock: opened.clock, signer: bad }))[0] ??
      new Uint8Array(0),
    verifies: () => count,
  };
}

/** The member's group as persisted (epoch and status). */
async function groupOf(peer: Peer, orgId: string) {
  const group = (await storedGroups(peer.store, orgId, "member")).get("");
  if (group === undefined) throw new Error("no group");
  return { epoch: group.epoch, status: group.status, group };
}

/** Which of the chunks holds `peer`'s entry (by its persisted group's hints). */
async function chunkOf(s: Setup, peer: Peer): Promise<number> {
  const { group } = await groupOf(peer, s.orgId);
  const index = s.chunks.findIndex((chunk) => group.holdsKeyUpdateEntry(chunk));
  expect(index).toBeGreaterThanOrEqual(0);
  return index;
}

/** `peer`'s group before the KeyUpdate, and the chunk holding its entry. */
async function ownChunk(s: Setup, peer: Peer) {
  const before = await groupOf(peer, s.orgId);
  const mine = await chunkOf(s, peer);
  return { before, mine, real: s.chunks[mine] as KeyUpdateChunk };
}

/** Publishes `payloads` one at a time from the relay, heard by `peer` only. */
async function deliver(s: Setup, peer: Peer, payloads: readonly Uint8Array[]): Promise<void> {
  s.world.network.partition([[s.relay, peer.transport]]);
  for (const payload of payloads) {
    await s.relay.publish(keysTopic(fromHex(s.orgId)), payload);
    await s.world.settle();
  }
}

describe("KeyUpdate chunks: verify the one holding our hint", () => {
  it("a member whose entry is in the last of 3 chunks checks one signature", async () => {
    const s = await setup("erin");
    const alice = s.members.alice;
    const before = await groupOf(alice, s.orgId);
    const mine = await chunkOf(s, alice);
    const order = [0, 1, 2].filter((i) => i !== mine).concat(mine);
    await deliver(
      s,
      alice,
      order.slice(0, 2).map((i) => s.sealed[i] as Uint8Array),
    );
    // The two others are held, unverified.
    expect(s.verifies()).toBe(0);
    expect((await groupOf(alice, s.orgId)).epoch).toBe(before.epoch);
    await deliver(s, alice, [s.sealed[mine] as Uint8Array]);
    expect(s.verifies()).toBe(1);
    const after = await groupOf(alice, s.orgId);
    expect(after).toMatchObject({ epoch: before.epoch + 1n, status: "member" });
    // A chunk of the epoch reached is not verified either.
    await deliver(s, alice, [s.sealed[order[0] as number] as Uint8Array]);
    expect(s.verifies()).toBe(1);
  });

  it("a forged chunk with the member's hint is refused; the real one applies", async () => {
    const s = await setup("erin");
    const bob = s.members.bob;
    const { before, mine, real } = await ownChunk(s, bob);
    const entries = real.entries.slice();
    entries[10] = (entries[10] ?? 0) ^ 1; // the hint kept, the wrap changed
    const diagnostics: string[] = [];
    bob.client.on("diagnostic", (d) => {
      diagnostics.push(d.reason);
    });
    await deliver(s, bob, [await s.forge({ ...real, entries })]);
    expect(s.verifies()).toBe(1);
    expect(diagnostics).toContain("forged-key-update");
    expect((await groupOf(bob, s.orgId)).epoch).toBe(before.epoch);
    await deliver(s, bob, [s.sealed[mine] as Uint8Array]);
    expect(s.verifies()).toBe(2);
    expect((await groupOf(bob, s.orgId)).epoch).toBe(before.epoch + 1n);
  });

  it('"removed" only once every chunk was verified; a forged chunk does not count', async () => {
    // Dave is still in the roster, but the owner's KeyUpdate has no entry for him (sealed to a
    // leaf secret he does not hold, say): he concludes "removed" from the chunks alone.
    const s = await setup("erin");
    const dave = s.members.dave;
    const before = await groupOf(dave, s.orgId);
    const { group } = before;
    const all = s.chunks.flatMap((chunk) =>
      Array.from({ length: chunk.entries.length / 36 }, (_, i) =>
        chunk.entries.slice(i * 36, i * 36 + 36),
      ),
    );
    const others = all.filter(
      (entries) => !group.holdsKeyUpdateEntry({ ...s.chunks[0], entries } as KeyUpdateChunk),
    );
    expect(others).toHaveLength(3);
    const template = s.chunks[0] as KeyUpdateChunk;
    const chunks = others.map((entries, chunkIndex) => ({ ...template, entries, chunkIndex }));
    const sealed = await s.seal(chunks);
    await deliver(s, dave, [sealed[0] as Uint8Array, sealed[1] as Uint8Array]);
    expect(s.verifies()).toBe(0);
    // The third index, forged: all three are verified, the forged one refused, no conclusion.
    const third = chunks[2] as KeyUpdateChunk;
    const entries = third.entries.slice();
    entries[10] = (entries[10] ?? 0) ^ 1;
    await deliver(s, dave, [await s.forge({ ...third, entries })]);
    expect(s.verifies()).toBe(3);
    expect(await groupOf(dave, s.orgId)).toMatchObject({
      epoch: before.epoch,
      status: "member",
    });
    await deliver(s, dave, [sealed[2] as Uint8Array]);
    expect(s.verifies()).toBe(4);
    expect((await groupOf(dave, s.orgId)).status).toBe("removed");
  });

  it("unverified chunks held are bounded: one more verifies the oldest", async () => {
    const s = await setup("erin");
    const carol = s.members.carol;
    const { before, mine, real } = await ownChunk(s, carol);
    const extra = 4;
    const flood: Uint8Array[] = [];
    for (let i = 0; i < heldKeyUpdateLimits.maxChunks + extra; i++) {
      // No hint of carol's (random entries), distinct indexes of the largest update the wire
      // allows (30 chunks: more than the 20 of the flood).
      const entries = defaultProvider().randomBytes(36);
      const chunkCount = wireLimits.maxKeyUpdateChunks;
      flood.push(await s.forge({ ...real, entries, chunkIndex: i, chunkCount }));
    }
    const seenLog = `seen/${s.orgId}`;
    const marked = (await carol.store.range(seenLog)).length;
    await deliver(s, carol, flood);
    expect(s.verifies()).toBe(extra);
    // Junk is not persisted: no durable seen mark for a chunk held, dropped or refused.
    expect((await carol.store.range(seenLog)).length).toBe(marked);
    expect((await groupOf(carol, s.orgId)).epoch).toBe(before.epoch);
    await deliver(s, carol, [s.sealed[mine] as Uint8Array]);
    expect(s.verifies()).toBe(extra + 1);
    expect((await groupOf(carol, s.orgId)).epoch).toBe(before.epoch + 1n);
  });
});

describe("HeldKeyUpdates", () => {
  const held = (id: string, keyIdHex: string, chunkIndex: number, epoch = 2n) => ({
    id,
    keyIdHex,
    read: {
      chunk: { channelId: "", epoch, chunkIndex, chunkCount: 3 } as never,
      verify: () => true,
    },
  });

  it("pushes the oldest out past its bound, covers and takes an update's chunks", () => {
    const book = new HeldKeyUpdates(2);
    expect(book.add(held("a", "k1", 0))).toEqual([]);
    expect(book.add(held("a", "k1", 0))).toEqual([]);
    expect(book.add(held("b", "k1", 1))).toEqual([]);
    expect(book.add(held("c", "k2", 0)).map((h) => h.id)).toEqual(["a"]);
    expect(book.size).toBe(2);
    expect(book.covers(held("x", "k1", 0), [1])).toBe(true);
    expect(book.covers(held("x", "k1", 0), [0, 1])).toBe(false);
    expect(book.take(held("x", "k1", 0)).map((h) => h.id)).toEqual(["b"]);
    expect(book.dropReached("", 1n)).toEqual([]);
    expect(book.dropReached("", 2n).map((h) => h.id)).toEqual(["c"]);
    expect(book.size).toBe(0);
  });
});
