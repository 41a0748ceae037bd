import type { StoreOp } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { faulty } from "./faulty-store.js";
import { encryptedOrg, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

const writesHead = (batch: { ops: readonly StoreOp[] } | undefined) =>
  batch?.ops.some((op) => op.type === "put" && op.key === "group/") === true;

describe("a send saves its group only when it changed the group's head", () => {
  it("63 sends in 64 write no group record; one whose commit failed leaves the group to the next commit, durably, and no generation is sent twice after a crash", async () => {
    world = new World();
    const disk = faulty();
    const { owner, alice, orgId } = await encryptedOrg(world, disk.store);

    // Generation 0 reserves 0..63 (its commit durable, with the head); 1..63 write no group record.
    const sent: string[] = [];
    for (let g = 0; g < 64; g++) {
      await alice.client.sendMessage(orgId, "general", `m${g}`);
      sent.push(`m${g}`);
      const batch = disk.batches.at(-1);
      expect(writesHead(batch)).toBe(g === 0);
      expect(batch?.ops.some((op) => op.type === "put" && op.key.startsWith("g"))).toBe(g === 0);
    }
    // Generation 64 moves the reservation: its commit fails (not published, the app is told).
    disk.failNextBatch();
    await expect(alice.client.sendMessage(orgId, "general", "lost")).rejects.toThrow("disk error");
    // The next send does not move the reservation, but its commit rewrites the group, durably.
    await alice.client.sendMessage(orgId, "general", "m65");
    sent.push("m65");
    expect(writesHead(disk.batches.at(-1))).toBe(true);
    expect(disk.batches.at(-1)?.options?.durable).toBe(true);
    await world.settle();
    // SIGKILL; a new process on what the disk kept resumes past every generation that left.
    disk.crash();
    await alice.client.close().catch(() => undefined);
    const again = await world.peer("alice-again", { store: disk.inner });
    await world.settle();
    for (const text of ["after-1", "after-2"]) {
      await again.client.sendMessage(orgId, "general", text);
      sent.push(text);
    }
    await world.settle();
    // A generation sent twice would be dropped by the owner ("duplicate-generation"): all arrive.
    expect(received(owner)).toEqual(sent);
  });
});
