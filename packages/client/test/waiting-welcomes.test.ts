/**
 * Welcomes waiting for their roster when the member holds the group (`waiting-welcomes.ts`): strict
 * script 139 of `fork-convergence.test.ts`. n2 got a1's Welcome on a1's losing branch (e8) and a1's
 * Welcome on the winner (another e8) before either roster; it entered the loser's, then dropped the
 * winner's as stale and stayed on the losing branch. A sibling's waiting Welcome stays, and is
 * judged again (not entered blindly) once its roster comes. Its sender is stored with it, so
 * that one read back after a restart is judged as it would have been.
 */
import type { WelcomeInit } from "@orgchat/crypto";
import { keysTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { asideWelcomeLimits } from "../src/aside-welcomes.js";
import { decodeJson, fromHex, toHex } from "../src/encoding.js";
import { StoreCorruptedError } from "../src/errors.js";
import type { MemberOrg } from "../src/org.js";
import {
  noteWaitingWelcome,
  readWaitingWelcome,
  rejudgesWaitingWelcome,
  staleWaitingWelcomes,
  waitingWelcomeSource,
} from "../src/waiting-welcomes.js";
import { adminWithOwnerAway, asks, holdKeysTopic, type Peer, received, World } from "./helpers.js";

const keyId = (n: number) => new Uint8Array(8).fill(n);
const welcome = (epoch: bigint, key: number, channelId = ""): WelcomeInit =>
  ({ channelId, epoch, keyId: keyId(key) }) as unknown as WelcomeInit;

/** A member holding the organization's group at epoch 8, key id `keyId(80)`. */
function member(waiting: readonly WelcomeInit[]): MemberOrg {
  return {
    role: "member",
    member: {
      groups: new Map([["", { status: "member", epoch: 8n, keyId: keyId(80) }]]),
      waitingWelcomes: new Map(waiting.map((w) => [toHex(w.keyId), w])),
    },
  } as unknown as MemberOrg;
}

describe("staleWaitingWelcomes", () => {
  it("drops the group's own commit, keeps a sibling of its epoch and the newest lower ones", () => {
    const own = welcome(8n, 80);
    const sibling = welcome(8n, 81);
    const higher = welcome(9n, 90);
    const other = welcome(5n, 50, "ops");
    // Lower epochs (owner strict seed 0x0c5f, script 3): the newest `maxPerOrg` stay.
    const lower = [7n, 6n, 5n, 4n, 3n].map((epoch, i) => welcome(epoch, 70 - i));
    const org = member([own, sibling, higher, other, ...lower]);
    expect(asideWelcomeLimits.maxPerOrg).toBe(4);
    expect(staleWaitingWelcomes(org, "").sort()).toEqual(
      [toHex(keyId(80)), toHex(keyId(66))].sort(),
    );
    // A group not held: nothing is stale.
    expect(staleWaitingWelcomes(org, "ops")).toEqual([]);
  });
});

describe("rejudgesWaitingWelcome", () => {
  it("judges again a Welcome of another commit, lower epochs included", () => {
    const org = member([]);
    expect(rejudgesWaitingWelcome(org, welcome(8n, 81))).toBe(true);
    expect(rejudgesWaitingWelcome(org, welcome(9n, 90))).toBe(true);
    expect(rejudgesWaitingWelcome(org, welcome(7n, 70))).toBe(true);
    // The group's own commit, or a group not held: entered as before.
    expect(rejudgesWaitingWelcome(org, welcome(8n, 80))).toBe(false);
    expect(rejudgesWaitingWelcome(org, welcome(9n, 91, "ops"))).toBe(false);
  });

  it("remembers who sent a waiting Welcome; one read back after a restart is the owner's", () => {
    const fromDelegate = welcome(8n, 81);
    noteWaitingWelcome(fromDelegate, "delegate");
    expect(waitingWelcomeSource(fromDelegate)).toBe("delegate");
    expect(waitingWelcomeSource(welcome(8n, 81))).toBe("owner");
  });
});

describe("a waiting Welcome's sender across a restart", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("is stored with it: a delegate's read back after a restart is the delegate's", async () => {
    const w = new World();
    world = w;
    const { members, orgId } = await adminWithOwnerAway(w, ["alice"]);
    const alice = members[0] as Peer;
    const { bob, requestId } = await asks(w, orgId, "bob");
    // Alice's add step (its roster and chunk) is held on its way: bob's Welcome waits for it.
    const hold = holdKeysTopic(alice, orgId);
    try {
      await alice.client.acceptRequest(orgId, requestId);
      await w.settle();
    } finally {
      await hold.release(false);
    }
    expect(hold.held.length).toBeGreaterThan(0);
    const space = `org/${orgId}`;
    const topic = keysTopic(fromHex(orgId));
    const waiting = await bob.store.keys(space, { prefix: "welcome/" });
    expect(waiting).toHaveLength(1);
    const key = waiting[0] as string;
    // Restarted between the Welcome and its roster: read back with its sender.
    await w.restart(bob);
    const bytes = await bob.store.get(space, key);
    const record = decodeJson<{ from?: string }>(bytes ?? new Uint8Array());
    expect(record.from).toBe("delegate");
    expect(readWaitingWelcome(record, key)).toSatisfy(
      (read: WelcomeInit) => waitingWelcomeSource(read) === "delegate",
    );
    // Its roster comes: entered (a newcomer with no group), and its record gone.
    for (const payload of hold.held) await alice.transport.publish(topic, payload);
    await w.settle();
    expect(await bob.store.keys(space, { prefix: "welcome/" })).toEqual([]);
    await alice.client.sendMessage(orgId, "general", "hello bob");
    await w.settle();
    expect(received(bob, orgId)).toContain("hello bob");
  });

  it("reads a record stored before the sender was as the owner's; refuses a broken one", () => {
    const bare = welcome(8n, 82);
    const read = readWaitingWelcome(bare, "org/x/welcome/82");
    expect(read).toBe(bare);
    expect(waitingWelcomeSource(read)).toBe("owner");
    for (const broken of [
      null,
      7,
      { v: 2, from: "stranger", welcome: bare },
      { v: 2, from: "delegate" },
      { v: 3, from: "owner", welcome: bare },
    ]) {
      expect(() => readWaitingWelcome(broken, "org/x/welcome/82")).toThrow(StoreCorruptedError);
    }
  });
});
