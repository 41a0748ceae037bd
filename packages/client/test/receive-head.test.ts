import type { StoreOp } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { receiveHeadInterval } from "../src/persistence.js";
import { faulty } from "./faulty-store.js";
import { encryptedOrg, type Peer, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

const writesHead = (batch: { ops: readonly StoreOp[] } | undefined) =>
  batch?.ops.some((op) => op.type === "put" && op.key === "group/") === true;

/** The reasons of the diagnostics a peer reported. */
const reasons = (peer: Peer) =>
  peer.events
    .filter(([name]) => name === "diagnostic")
    .map(([, d]) => (d as { reason: string }).reason);

describe("a receive's group head is written with every 64th receive, with other writes, and at close", () => {
  it("receives that only move chains leave the head to the 64th; a crash before it loses nothing and reads on", async () => {
    world = new World();
    const disk = faulty();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);
    // Deliveries and the owner's work, without the member coming to rest (`idle` settles its heads).
    const deliver = async () => {
      for (let i = 0; i < 10; i++) {
        await world.network.idle();
        await owner.client.idle();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const sent: string[] = [];
    const say = async (text: string) => {
      const before = disk.batches.length;
      await owner.client.sendMessage(orgId, "general", text);
      sent.push(text);
      await deliver();
      const batches = disk.batches.slice(before);
      expect(batches.length).toBeGreaterThan(0);
      return batches.some(writesHead);
    };
    // The join wrote the head; then one receive in `receiveHeadInterval` writes it.
    for (let n = 1; n <= receiveHeadInterval; n++) {
      expect(await say(`m${n}`)).toBe(n === receiveHeadInterval);
    }
    for (let n = 1; n <= 10; n++) expect(await say(`late${n}`)).toBe(false);
    expect(received(alice)).toEqual(sent);
    // SIGKILL: the saved head is ten receives behind the state that was in memory.
    disk.crash();
    await alice.client.close().catch(() => undefined);
    const again = await world.peer("alice-again", { store: disk.inner });
    await world.settle();
    for (const text of ["after-1", "after-2"]) {
      await owner.client.sendMessage(orgId, "general", text);
      await world.settle();
    }
    // The older head derives the keys again: the next messages open; the ten received before the
    // crash are committed with their seen marks and are not delivered a second time.
    expect(received(again)).toEqual(["after-1", "after-2"]);
    expect(reasons(again)).not.toContain("undecryptable");
    expect(reasons(again)).not.toContain("duplicate-generation");
    const history = again.client.history(orgId, "general").map((m) => m.text);
    expect(history.filter((text) => text.startsWith("late"))).toHaveLength(10);
    expect(history.slice(-2)).toEqual(["after-1", "after-2"]);
  });

  it("the head a receive left unsaved costs no batch of its own at rest; close writes it", async () => {
    world = new World();
    const disk = faulty();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);
    const before = disk.batches.length;
    await owner.client.sendMessage(orgId, "general", "hello");
    await world.settle();
    expect(received(alice)).toEqual(["hello"]);
    // One commit (the message), no head; coming to rest adds no batch.
    expect(disk.batches.length).toBe(before + 1);
    expect(writesHead(disk.batches.at(-1))).toBe(false);
    await alice.client.idle();
    expect(disk.batches.length).toBe(before + 1);
    await owner.client.sendMessage(orgId, "general", "bye");
    await world.settle();
    // Close writes it.
    const open = disk.batches.length;
    await alice.client.close();
    expect(disk.batches.slice(open).some(writesHead)).toBe(true);
    // What the store holds reads on: a restart opens what comes next.
    await world.resume(alice);
    await owner.client.sendMessage(orgId, "general", "again");
    await world.settle();
    expect(received(alice)).toEqual(["hello", "bye", "again"]);
  });
});
