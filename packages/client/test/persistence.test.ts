import { type BatchOptions, memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { channelTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { decodeJson, decodeStored, encodeJson, encodeStored } from "../src/encoding.js";
import { maxQueuedReceives } from "../src/sync.js";
import { encryptedOrg, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

/**
 * A memory store that records every batch and can "die" like a killed process: after `crash()`
 * every call rejects and nothing more is written; `inner` is what the disk kept.
 */
function crashable(inner: Store = memoryStore()) {
  let dead = false;
  const batches: Array<{ ops: readonly StoreOp[]; options: BatchOptions | undefined }> = [];
  const guard = () => {
    if (dead) return Promise.reject(new Error("the process is gone"));
    return undefined;
  };
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const refused = guard();
        if (refused !== undefined) return refused;
        if (name === "batch") {
          batches.push({ ops: args[0] as StoreOp[], options: args[1] as BatchOptions });
        } else if (["put", "delete", "append", "deleteEntries"].includes(String(name))) {
          batches.push({ ops: [], options: undefined });
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store,
    inner,
    batches,
    crash: () => {
      dead = true;
    },
  };
}

describe("persistence: one commit per message", () => {
  it("a send is one commit (durable when it reserves generations); a crash before the next commit re-publishes it, received once", async () => {
    world = new World();
    const disk = crashable();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);
    const outbox = `outbox/${orgId}`;
    let before = disk.batches.length;
    await alice.client.sendMessage(orgId, "general", "one");
    expect(disk.batches.length - before).toBe(1);
    expect(disk.batches.at(-1)?.options?.durable).toBe(true);
    // Published: its delete rides in the next commit.
    expect(await disk.inner.range(outbox)).toHaveLength(1);
    before = disk.batches.length;
    await alice.client.sendMessage(orgId, "general", "two");
    expect(disk.batches.length - before).toBe(1);
    // Inside the reserved stretch of generations: the group's head is not rewritten, nor synced.
    const second = disk.batches.at(-1);
    expect(second?.options?.durable).toBeUndefined();
    expect(second?.ops.some((op) => op.type === "put" && op.key.startsWith("group/"))).toBe(false);
    const left = await disk.inner.range(outbox);
    expect(left).toHaveLength(1);
    // SIGKILL before the next commit (a client at rest would commit the delete: below): nothing
    // more is written; a new process starts on what the disk kept.
    disk.crash();
    await alice.client.close().catch(() => undefined);
    await world.settle();
    const again = await world.peer("alice-again", { store: disk.inner });
    await world.settle();
    // "two" went out again at start: the owner, who had it, dedupes it by id.
    expect(received(owner)).toEqual(["one", "two"]);
    await again.client.sendMessage(orgId, "general", "three");
    await world.settle();
    expect(received(owner)).toEqual(["one", "two", "three"]);
    // At rest (idle), what the outbox holds is only what no peer took: nothing here.
    expect(await disk.inner.range(outbox)).toEqual([]);
  });

  it("a received message is one commit that writes neither meta nor the description; both reload", async () => {
    world = new World();
    const disk = crashable();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);
    const space = `org/${orgId}`;
    expect(await disk.inner.get(space, "description")).toBeDefined();
    expect(
      decodeJson<{ description?: unknown }>((await disk.inner.get(space, "meta")) as Uint8Array)
        .description,
    ).toBeUndefined();
    await owner.client.sendMessage(orgId, "general", "warm");
    await world.settle();
    const before = disk.batches.length;
    await owner.client.sendMessage(orgId, "general", "hello");
    await world.settle();
    const receiving = disk.batches.slice(before);
    expect(receiving).toHaveLength(1);
    const keys = receiving.flatMap(({ ops }) => ops.map((op) => ("key" in op ? op.key : op.log)));
    expect(keys).not.toContain("meta");
    expect(keys).not.toContain("description");
    expect(keys.filter((key) => key.startsWith("proven/"))).toEqual([]);
    expect(received(alice)).toEqual(["warm", "hello"]);
    await world.restart(alice);
    expect(alice.client.getOrganization(orgId).identity.displayName).toBe("Acme");
    expect(alice.client.history(orgId, "general").map((m) => m.text)).toEqual(["warm", "hello"]);
  });

  it("reads a store written before the binary records (JSON events and messages, description in meta, proven log)", async () => {
    world = new World();
    const disk = crashable();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);
    await owner.client.sendMessage(orgId, "general", "first");
    await alice.client.sendMessage(orgId, "general", "second");
    await world.settle();
    const history = alice.client.history(orgId, "general");
    await world.stop(alice);
    const store = disk.inner;
    const space = `org/${orgId}`;
    // Rewrite what the old client wrote: JSON everywhere, the description inside meta.
    const ops: StoreOp[] = [];
    for (const log of [`events/${orgId}`, `messages/${orgId}/general`]) {
      for (const entry of await store.range(log)) {
        const { value, flag } = decodeStored(entry.value);
        expect(entry.value[0]).not.toBe("{".charCodeAt(0));
        ops.push({ type: "deleteEntries", log, ids: [entry.id] });
        ops.push({ type: "append", log, entries: [{ ...entry, value: encodeJson(value) }] });
        if (flag) {
          ops.push({
            type: "append",
            log: `proven/${orgId}`,
            entries: [{ id: entry.id, sortKey: entry.sortKey, value: new Uint8Array(0) }],
          });
        }
      }
    }
    const description = decodeStored((await store.get(space, "description")) as Uint8Array).value;
    const meta = decodeJson<Record<string, unknown>>(
      (await store.get(space, "meta")) as Uint8Array,
    );
    ops.push(
      { type: "put", space, key: "meta", value: encodeJson({ ...meta, description }) },
      { type: "delete", space, key: "description" },
    );
    await store.batch(ops);
    expect(await store.range(`proven/${orgId}`)).not.toEqual([]);
    const old = await world.peer("alice-old", { store });
    expect(old.client.history(orgId, "general")).toEqual(history);
    expect(old.client.getOrganization(orgId).identity.displayName).toBe("Acme");
    // The next commit writes the description in its own record again.
    await owner.client.sendMessage(orgId, "general", "third");
    await world.settle();
    expect(received(old)).toEqual(["third"]);
    expect(encodeStored(description)).toEqual(await store.get(space, "description"));
  });
});

describe("persistence: receive batching", () => {
  it("a burst of messages is one commit, written before the app hears of any", async () => {
    world = new World();
    const disk = crashable();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);
    const replayer = world.network.transport({ name: "replayer" });
    await replayer.start();
    const captured: Uint8Array[] = [];
    const general = channelTopic(Uint8Array.from(Buffer.from(orgId, "hex")), "general");
    const capture = await replayer.subscribe([general], (message) => {
      captured.push(message.payload);
    });
    world.network.partition([[owner.transport, replayer], [alice.transport]]);
    for (let i = 0; i < 10; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
    await world.settle();
    await capture.unsubscribe();
    expect(captured).toHaveLength(10);
    world.network.partition([[owner.transport], [alice.transport, replayer]]);
    const stored: boolean[] = [];
    alice.client.on("message:received", (event) => {
      void disk.inner.getEntry(`events/${orgId}`, event.message.id).then((entry) => {
        stored.push(entry !== undefined);
      });
    });
    const before = disk.batches.length;
    await Promise.all(captured.map((payload) => replayer.publish(general, payload)));
    await world.settle();
    expect(received(alice)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(disk.batches.length - before).toBe(1);
    expect(stored).toEqual(new Array(10).fill(true));
  });

  it("a burst over two channels is one commit with one messages append per channel", async () => {
    world = new World();
    const disk = crashable();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);
    await owner.client.createChannel(orgId, { id: "random", name: "Random" });
    await world.settle();
    const replayer = world.network.transport({ name: "replayer" });
    await replayer.start();
    const org = Uint8Array.from(Buffer.from(orgId, "hex"));
    const topics = [channelTopic(org, "general"), channelTopic(org, "random")];
    const captured: { topic: string; payload: Uint8Array }[] = [];
    const capture = await replayer.subscribe(topics, (message) => {
      captured.push({ topic: message.contentTopic, payload: message.payload });
    });
    world.network.partition([[owner.transport, replayer], [alice.transport]]);
    const channels = ["general", "random", "random", "general", "random"];
    for (const [i, channel] of channels.entries()) {
      await owner.client.sendMessage(orgId, channel, `m${i}`);
    }
    await world.settle();
    await capture.unsubscribe();
    expect(captured).toHaveLength(channels.length);
    world.network.partition([[owner.transport], [alice.transport, replayer]]);
    const before = disk.batches.length;
    await Promise.all(captured.map((m) => replayer.publish(m.topic, m.payload)));
    await world.settle();
    expect(disk.batches.length - before).toBe(1);
    const appends = (disk.batches[before]?.ops ?? []).filter(
      (op): op is Extract<StoreOp, { type: "append" }> =>
        op.type === "append" && op.log.startsWith("messages/"),
    );
    expect(appends.map((op) => [op.log, op.entries.length])).toEqual([
      [`messages/${orgId}/general`, 2],
      [`messages/${orgId}/random`, 3],
    ]);
    for (const channel of ["general", "random"]) {
      const held = await disk.inner.range(`messages/${orgId}/${channel}`);
      expect(held.map((entry) => entry.id).sort()).toEqual(
        alice.client
          .history(orgId, channel)
          .map((m) => m.id)
          .sort(),
      );
      expect(held).toHaveLength(channel === "general" ? 2 : 3);
    }
    expect(received(alice).sort()).toEqual(channels.map((_, i) => `m${i}`));
  });

  it(`keeps at most ${maxQueuedReceives} live messages waiting per organization; the rest is dropped unseen`, async () => {
    world = new World();
    let gate: Promise<void> | undefined;
    let open: () => void = () => undefined;
    const inner = memoryStore();
    const store = new Proxy(inner, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== "function") return value;
        if (name !== "batch") return value.bind(target);
        return async (...args: unknown[]) => {
          if (gate !== undefined) await gate;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { owner, alice, orgId } = await encryptedOrg(world, store);
    const general = channelTopic(Uint8Array.from(Buffer.from(orgId, "hex")), "general");
    const full: string[] = [];
    alice.client.on("diagnostic", (diagnostic) => {
      if (diagnostic.reason === "receive-queue-full") full.push(diagnostic.topic ?? "");
    });
    // Alice's next commit waits: her client is busy while the junk comes.
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    await owner.client.sendMessage(orgId, "general", "first");
    await world.network.idle();
    await new Promise((resolve) => setImmediate(resolve));
    const junk = world.network.transport({ name: "junk" });
    await junk.start();
    const extra = 5;
    await Promise.all(
      Array.from({ length: maxQueuedReceives + extra }, (_, i) =>
        junk.publish(general, Uint8Array.of(0x0a, i & 0xff, i >> 8, 1)),
      ),
    );
    await world.network.idle();
    expect(full).toHaveLength(extra);
    gate = undefined;
    open();
    await world.settle();
    expect(received(alice)).toEqual(["first"]);
    await owner.client.sendMessage(orgId, "general", "second");
    await world.settle();
    expect(received(alice)).toEqual(["first", "second"]);
  });
});

describe("persistence: message history retention", () => {
  it("maxMessagesPerChannel: history shows the newest posts; a start deletes the older ones and what targets them", async () => {
    world = new World();
    const owner = await world.peer("owner", { config: { maxMessagesPerChannel: 3 } });
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await owner.client.sendMessage(orgId, "general", `m${i}`)).id);
    }
    await owner.client.editMessage(orgId, ids[0] as string, "m0 edited");
    await world.settle();
    expect(owner.client.history(orgId, "general").map((m) => m.text)).toEqual(["m2", "m3", "m4"]);
    const events = async () => (await owner.store.range(`events/${orgId}`)).map((e) => e.id);
    expect(await events()).toContain(ids[0]);
    await world.stop(owner);
    const again = await world.peer("owner-again", {
      store: owner.store,
      config: { maxMessagesPerChannel: 3 },
    });
    expect(again.client.history(orgId, "general").map((m) => m.text)).toEqual(["m2", "m3", "m4"]);
    const left = await events();
    expect(left).not.toContain(ids[0]);
    expect(left).not.toContain(ids[1]);
    expect(left).toContain(ids[2]);
    expect(left).toHaveLength(new Set(left).size);
    const records = await owner.store.range(`messages/${orgId}/general`);
    expect(records.map((e) => e.id).sort()).toEqual(ids.slice(2).sort());
    // The edit of m0 went with it.
    const edits = (await owner.store.range(`events/${orgId}`)).filter(
      (e) => decodeStored<{ type: string }>(e.value).value.type === "message.edited",
    );
    expect(edits).toEqual([]);
  });

  it("a restarted peer keeps the config it was made with (test world)", async () => {
    world = new World();
    const owner = await world.peer("owner", { config: { maxMessagesPerChannel: 2 } });
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await world.restart(owner);
    for (let i = 0; i < 4; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
    await world.settle();
    expect(owner.client.history(orgId, "general").map((m) => m.text)).toEqual(["m2", "m3"]);
  });

  it("refuses a negative or fractional maxMessagesPerChannel", async () => {
    world = new World();
    for (const bad of [-1, 1.5]) {
      await expect(
        world.peer("bad", { config: { maxMessagesPerChannel: bad } }),
      ).rejects.toThrowError(RangeError);
    }
  });
});
