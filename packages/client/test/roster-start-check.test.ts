/**
 * The start checks each kept roster against its recorded hash once (`loadRosterRecords` with
 * deferred checks, then `checkDeferredRosters`): a roster a restored group took from the book was
 * checked by the group's restore (an owner's retained epochs: at their first use) and is not hashed
 * again; any other is hashed after the groups; a corrupted roster record is still
 * `StoreCorruptedError` at start, or — a retained epoch's roster on an owner — refused at first use.
 */
import { fromHex, toHex } from "@orgchat/base";
import { type CryptoProvider, defaultProvider, type RosterLeaf } from "@orgchat/crypto";
import { memoryStore } from "@orgchat/store";
import { channelTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { StoreCorruptedError } from "../src/errors.js";
import { createClient, isStoreCorruptedError } from "../src/index.js";
import { checkDeferredRosters, type DeferredRosterChecks } from "../src/kept-rosters.js";
import { RosterBook } from "../src/roster-book.js";
import { loadRosterRecords, rosterRecordOps } from "../src/roster-records.js";
import { orgWithMembers, type Peer, received, seededRandom, World } from "./helpers.js";
import { nextEpoch, seededLeaves } from "./roster-fixtures.js";

let world: World;
afterEach(async () => {
  await world?.close();
});

const rosterLabel = new TextEncoder().encode("orgchat v1 roster");

/** A provider that counts the roster hashes it computes, by the bytes hashed. */
function countingProvider(): { provider: CryptoProvider; rosterHashes: Map<string, number> } {
  const base = defaultProvider();
  const rosterHashes = new Map<string, number>();
  const provider: CryptoProvider = {
    ...base,
    sha256: (data: Uint8Array) => {
      if (data.length >= rosterLabel.length && rosterLabel.every((byte, i) => data[i] === byte)) {
        const key = toHex(data);
        rosterHashes.set(key, (rosterHashes.get(key) ?? 0) + 1);
      }
      return base.sha256(data);
    },
  };
  return { provider, rosterHashes };
}

describe("roster checks at start", () => {
  it("an owner's start hashes each kept roster once", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const epoch = owner.client.getOrganization(orgId).epoch;
    await world.stop(owner);
    const space = `org/${orgId}`;
    const kept = await owner.store.keys(space, { prefix: "rr/" });
    expect(kept.length).toBeGreaterThan(0);
    const { provider, rosterHashes } = countingProvider();
    const client = await createClient({
      transport: world.network.transport({ name: "owner-again" }),
      store: owner.store,
      provider,
      now: world.time.now,
      timers: world.time.timers,
      random: seededRandom(99),
      config: world.config,
    });
    expect(client.getOrganization(orgId).epoch).toBe(epoch);
    expect(rosterHashes.size).toBeGreaterThan(0);
    expect([...rosterHashes.values()].every((count) => count === 1)).toBe(true);
    await client.close();
  });

  it("a corrupted kept roster record is StoreCorruptedError at start", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    await world.stop(owner);
    const space = `org/${orgId}`;
    for (const key of await owner.store.keys(space, { prefix: "rr/" })) {
      const bytes = (await owner.store.get(space, key)) as Uint8Array;
      const damaged = bytes.slice();
      damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 1;
      await owner.store.put(space, key, damaged);
    }
    await expect(world.peer("owner-again", { store: owner.store })).rejects.toSatisfy(
      isStoreCorruptedError,
    );
  });

  it("an owner's retained epoch with an altered roster: the start succeeds, a late message in it is refused", async () => {
    for (const alter of [false, true]) {
      world = new World();
      const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
      const [alice, bob] = members as [Peer, Peer];
      // Alice, cut off with a recorder, writes in the epoch she knows; meanwhile the owner removes
      // her (a new epoch without her leaf): the owner holds her epoch only for late messages.
      const recorder = world.network.transport({ name: "recorder" });
      await recorder.start();
      const topic = channelTopic(fromHex(orgId), "general");
      const heard: Uint8Array[] = [];
      await recorder.subscribe([topic], (message) => void heard.push(message.payload));
      world.network.partition([[alice.transport, recorder]]);
      await owner.client.removeMember(orgId, alice.client.memberId);
      await alice.client.sendMessage(orgId, "general", "late");
      await world.settle();
      expect(heard).toHaveLength(1);
      await world.stop(owner);
      // Alice's keys altered in the roster records (her leaf is not in the current epoch's roster).
      const space = `org/${orgId}`;
      const id = fromHex(alice.client.memberId);
      let altered = 0;
      for (const key of await owner.store.keys(space, { prefix: "rr/" })) {
        const bytes = (await owner.store.get(space, key)) as Uint8Array;
        const at = Buffer.from(bytes).indexOf(Buffer.from(id));
        if (at < 0 || !alter) continue;
        const damaged = bytes.slice();
        damaged[at] = (damaged[at] as number) ^ 1;
        await owner.store.put(space, key, damaged);
        altered++;
      }
      expect(altered > 0).toBe(alter);
      const refused: unknown[] = [];
      await world.resume(owner);
      owner.client.on("diagnostic", (diagnostic) => {
        if (diagnostic.reason === "undecryptable") refused.push(diagnostic.error);
      });
      // The late message arrives after the start (the partition kept it from the start's
      // catch-up): opened with intact records (its epoch's record
      // is written again: a chain stepped), else refused, nothing written. (Alice is removed: the
      // state does not show what she wrote after, either way.)
      const epochRecords = async () =>
        new Map(
          await Promise.all(
            (await owner.store.keys(space, { prefix: "ge/" })).map(
              async (key) =>
                [key, toHex((await owner.store.get(space, key)) as Uint8Array)] as const,
            ),
          ),
        );
      const before = await epochRecords();
      world.network.heal();
      await recorder.publish(topic, heard[0] as Uint8Array);
      await world.settle();
      const after = await epochRecords();
      const rewritten = [...after].filter(([key, value]) => before.get(key) !== value);
      expect(rewritten).toHaveLength(alter ? 0 : 1);
      expect(refused.map((error) => (error as Error).name)).toEqual(
        alter ? ["StateCorruptedError"] : [],
      );
      // The current epoch is unaffected.
      await bob.client.sendMessage(orgId, "general", "now");
      await world.settle();
      expect(received(owner)).toContain("now");
      await world.close();
    }
  });

  it("a deferred roster no restored group vouches for is hashed, and refused when altered", async () => {
    world = new World();
    const provider = defaultProvider();
    const store = memoryStore();
    const space = "org/test";
    const random = seededRandom(7);
    const leaves: Array<RosterLeaf | undefined> = seededLeaves(20, 1);
    const epoch = nextEpoch(undefined, leaves, random(8), "genesis", "");
    const book = new RosterBook(provider);
    book.add(epoch);
    await store.batch(rosterRecordOps(book, space, epoch));
    const keyIdHex = toHex(epoch.keyId);
    const key = `rr/${keyIdHex}`;
    const bytes = (await store.get(space, key)) as Uint8Array;
    const damaged = bytes.slice();
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 1;
    await store.put(space, key, damaged);

    // Loading defers the check: the altered roster is read without a hash.
    const deferred: DeferredRosterChecks = new Map();
    const loaded = new RosterBook(provider);
    await loadRosterRecords(store, space, loaded, deferred);
    expect([...deferred.keys()]).toEqual([keyIdHex]);
    expect(Object.isFrozen(loaded.get(keyIdHex)?.roster)).toBe(true);
    // A group that holds it with the recorded hash, but was not given it from the book: no voucher.
    const group = {
      epoch: 0n,
      readableEpochs: () => [0n],
      heldEpochs: () => [{ keyId: epoch.keyId, rosterHash: epoch.rosterHash }],
    };
    const check = () => checkDeferredRosters(loaded, space, new Map(deferred), new Set(), [group]);
    expect(check).toThrow(StoreCorruptedError);
    expect(check).toThrow(key);
    // Intact, it passes, and the list is emptied.
    await store.put(space, key, bytes);
    const intact: DeferredRosterChecks = new Map();
    const again = new RosterBook(provider);
    await loadRosterRecords(store, space, again, intact);
    checkDeferredRosters(again, space, intact, new Set(), []);
    expect(intact.size).toBe(0);
  });
});
