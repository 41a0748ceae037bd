/**
 * A ban and its judgement in one unit of work (docs/DELEGATION.md, "An add step found invalid";
 * `Persistence` calls `AddStepJudge.judgeBans` before it builds a commit's batch): a member on an
 * add step of a joiner banned at a lower clock goes back to its parent in the very batch that
 * applies the ban, so a crash right after that batch never leaves the ban stored without the
 * return. Before, the return was a unit of work of its own after it (a listener on the ban).
 */

import { toHex } from "@orgchat/base";
import type { Store, StoreOp } from "@orgchat/store";
import { memoryStore } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { decodeStored } from "../src/encoding.js";
import { storedGroups } from "../src/inspect.js";
import { eventsLog } from "../src/persistence.js";
import { asks, orgWithMembers, type Peer, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/**
 * A memory store that dies (every later call rejects, like a killed process) right after the first
 * batch that appends a `member.banned` event of organization `orgHex`; `inner` is what the disk kept.
 */
function dyingAfterBan(orgHex: () => string | undefined) {
  const inner = memoryStore();
  let dead = false;
  const bans = (ops: readonly StoreOp[]) => {
    const hex = orgHex();
    if (hex === undefined) return false;
    return ops.some(
      (op) =>
        op.type === "append" &&
        op.log === eventsLog(hex) &&
        op.entries.some(
          (entry) => decodeStored<{ type: string }>(entry.value).value.type === "member.banned",
        ),
    );
  };
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (dead) throw new Error("the process is gone");
        const out = await (value as (...a: unknown[]) => unknown).apply(target, args);
        if (name === "batch" && bans(args[0] as StoreOp[])) dead = true;
        return out;
      };
    },
  }) as Store;
  return { store, inner, dead: () => dead };
}

async function groupOf(store: Store, orgId: string) {
  const group = (await storedGroups(store, orgId, "member")).get("");
  if (group === undefined) throw new Error("no group");
  return { epoch: group.epoch, keyId: toHex(group.keyId) };
}

describe("a ban is judged in its own unit of work", () => {
  it("a crash right after the batch that applies the ban: the return to the parent is in it", async () => {
    const w = new World();
    world = w;
    let orgHex: string | undefined;
    const disk = dyingAfterBan(() => orgHex);
    const { owner, members, orgId } = await orgWithMembers(w, ["alice", "carol", "dave"]);
    orgHex = orgId;
    const [alice, carol, dave] = members as [Peer, Peer, Peer];
    const gina = await w.peer("gina", { store: disk.store });
    await gina.client.discover(orgId);
    const ginaAsks = await gina.client.requestToJoin(orgId, { displayName: "gina" });
    await w.settle();
    await owner.client.acceptRequest(orgId, ginaAsks);
    await w.settle();
    await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
    await owner.client.setRoles(orgId, carol.client.memberId, ["all"]);
    await w.settle();
    await w.stop(owner);
    w.peers.splice(w.peers.indexOf(owner), 1);
    const { bob, requestId } = await asks(w, orgId, "bob");
    const parent = await groupOf(alice.store, orgId);
    // Carol accepts bob while alice, across a partition, bans him (a lower clock).
    w.network.partition([
      [alice, dave].map((p) => p.transport),
      [carol, bob, gina].map((p) => p.transport),
    ]);
    await carol.client.acceptRequest(orgId, requestId);
    await alice.client.banMember(orgId, bob.client.memberId);
    await w.settle();
    const onAdd = await groupOf(disk.inner, orgId);
    expect(onAdd.epoch).toBe(parent.epoch + 1n);
    // The heal brings gina the ban; her store dies right after the batch that applied it.
    w.network.heal();
    for (let i = 0; i < 4 && !disk.dead(); i++) await w.advance(60_000);
    expect(disk.dead()).toBe(true);
    w.peers.splice(w.peers.indexOf(gina), 1);
    await gina.client.close().catch(() => undefined);
    // What the disk kept: the ban, and gina back on the add step's parent.
    expect(await groupOf(disk.inner, orgId)).toEqual(parent);
  });
});
