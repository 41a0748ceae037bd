/**
 * Issue #13 row 5: outsiders flood a public organization with signed 100 KB posts from fresh keys.
 * None is shown, and what a member persists because of them stays under a small quota (the held
 * events: `heldEventLimits`), not 50 MB re-folded on every start. The in-memory dedupe is bounded.
 */
import { fromHex } from "@orgchat/base";
import { defaultProvider, ed25519EnvelopeSigner } from "@orgchat/crypto";
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { channelTopic, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { heldEventLimits } from "../src/held-events.js";
import { maxSeenIds, SeenIds } from "../src/seen-ids.js";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A memory store that can say how many bytes it holds (keys, ids, sort keys and values). */
function measuredStore(): { store: Store; bytes(): Promise<number> } {
  const inner = memoryStore();
  const spaces = new Set<string>();
  const logs = new Set<string>();
  const note = (op: StoreOp) => {
    if (op.type === "put" || op.type === "delete") spaces.add(op.space);
    else logs.add(op.log);
  };
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === "batch") {
        return (ops: readonly StoreOp[], options?: object) => {
          for (const op of ops) note(op);
          return target.batch(ops, options);
        };
      }
      if (property === "put") {
        return (space: string, key: string, value: Uint8Array, options?: object) => {
          spaces.add(space);
          return target.put(space, key, value, options);
        };
      }
      if (property === "append") {
        return (log: string, entries: Parameters<Store["append"]>[1], options?: object) => {
          logs.add(log);
          return target.append(log, entries, options);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    store,
    async bytes() {
      let total = 0;
      for (const space of spaces) {
        for (const key of await inner.keys(space)) {
          total += space.length + key.length + ((await inner.get(space, key))?.length ?? 0);
        }
      }
      for (const log of logs) {
        for (const entry of await inner.range(log)) {
          total += log.length + entry.id.length + 8 + entry.value.length;
        }
      }
      return total;
    },
  };
}

const postTextBytes = 100_000;

/** `count` signed public posts of about 100 KB, each from a fresh key (outsiders). */
async function outsiderPosts(orgId: string, count: number, now: number): Promise<Uint8Array[]> {
  const provider = defaultProvider();
  const organizationId = fromHex(orgId);
  const contentTopic = channelTopic(organizationId, "general");
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const key = provider.ed25519KeyPair();
    const message = {
      organizationId,
      channelId: "general",
      author: key.publicKey,
      clock: 5n + BigInt(i),
      sentAt: BigInt(now),
      body: {
        case: "post" as const,
        value: { text: `${i} `.padEnd(postTextBytes, "x"), replyTo: "" },
      },
    };
    out.push(
      await sealEnvelope(
        { type: "channel-message", organizationId, clock: message.clock, contentTopic, message },
        ed25519EnvelopeSigner(provider, key.secretKey),
      ),
    );
  }
  return out;
}

describe("row 5: outsiders' posts in a public organization", () => {
  it("500 × 100 KB posts from fresh keys: none shown, ≤ 5 MB persisted per member, also after a restart", async () => {
    world = new World();
    const measured = { owner: measuredStore(), bob: measuredStore() };
    const owner = await world.peer("owner", { store: measured.owner.store });
    const orgId = await owner.client.createOrganization({
      name: "Open",
      access: "on-request",
      encrypted: false,
    });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await world.settle();
    const bob = await world.peer("bob", { store: measured.bob.store });
    await bob.client.discover(orgId);
    const requestId = await bob.client.requestToJoin(orgId, { displayName: "bob" });
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    const before = { owner: await measured.owner.bytes(), bob: await measured.bob.bytes() };

    const posts = await outsiderPosts(orgId, 500, world.time.now());
    expect(posts[0]?.length).toBeGreaterThan(postTextBytes);
    const hostile = world.network.transport({ name: "outsiders" });
    await hostile.start();
    const topic = channelTopic(fromHex(orgId), "general");
    for (const bytes of posts) await hostile.publish(topic, bytes);
    await hostile.stop();
    await world.settle();

    const peers: Array<[Peer, ReturnType<typeof measuredStore>, number]> = [
      [owner, measured.owner, before.owner],
      [bob, measured.bob, before.bob],
    ];
    for (const [peer, store, start] of peers) {
      expect(received(peer), peer.name).toEqual([]);
      expect(peer.client.history(orgId, "general"), peer.name).toEqual([]);
      const grown = (await store.bytes()) - start;
      console.log(`${peer.name}: ${grown} bytes persisted for 500 outsider posts of 100 KB`);
      expect(grown, peer.name).toBeLessThanOrEqual(5_000_000);
      expect(grown, peer.name).toBeLessThanOrEqual(heldEventLimits.maxBytes + 200_000);
    }
    // A start loads at most the quota again, and nothing comes back.
    await world.restart(bob);
    await world.restart(owner);
    for (const [peer, store, start] of peers) {
      expect(received(peer), peer.name).toEqual([]);
      expect((await store.bytes()) - start, `${peer.name} after a restart`).toBeLessThanOrEqual(
        heldEventLimits.maxBytes + 200_000,
      );
    }
    // The organization still works.
    await bob.client.sendMessage(orgId, "general", "still here");
    await world.settle();
    expect(received(owner)).toEqual(["still here"]);
  });

  it("a member's post held until the description lists its author is shown then, and kept", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"], { encrypted: false });
    const [alice] = members as [Peer];
    const carol = await world.peer("carol");
    await carol.client.discover(orgId);
    const requestId = await carol.client.requestToJoin(orgId, { displayName: "carol" });
    await world.settle();
    // Alice misses carol's admission (the description), then hears carol's first post.
    world.network.partition([[alice.transport]]);
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    world.network.heal();
    await carol.client.sendMessage(orgId, "general", "hello from carol");
    await world.settle();
    expect(received(alice)).toEqual([]);
    // The owner republishes the description: alice learns of carol, and reads the held post.
    await owner.client.setTags(orgId, ["republished"]);
    await world.settle();
    expect(received(alice)).toEqual(["hello from carol"]);
    await world.restart(alice);
    expect(alice.client.history(orgId, "general").map((m) => m.text)).toEqual(["hello from carol"]);
  });

  it("the in-memory seen set keeps the newest ids only", () => {
    const seen = new SeenIds(3);
    for (const id of ["a", "b", "c", "d"]) seen.add(id);
    expect(seen.size).toBe(3);
    expect(seen.has("a")).toBe(false);
    expect(seen.has("d")).toBe(true);
    const big = new SeenIds();
    for (let i = 0; i < maxSeenIds + 1000; i++) big.add(`id-${i}`);
    expect(big.size).toBe(maxSeenIds);
  });
});
