/**
 * A member offline for a whole re-key and many messages comes back and catches up from the store
 * alone (issue #7), over real Waku relay on loopback: its client is closed and its transport
 * stopped while the owner removes another member (a new epoch: roster and KeyUpdate on the keys
 * topic) and the others send many messages. When it starts again on the same store, the client
 * backfills every topic from the service node's Store v3 and opens everything, without asking the
 * owner for a resync.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "@orgchat/store-sqlite";
import { channelTopic, keysTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWorld,
  emitted,
  names,
  orgWithMembers,
  type Peer,
  received,
  viewOf,
  type World,
} from "../src/world.js";
import { channelHistory } from "./flows.js";

const messagesWhileAway = 60;

let world: World | undefined;
const directories: string[] = [];
afterEach(async () => {
  await world?.close();
  world = undefined;
  for (const dir of directories.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Carol keeps her state in SQLite, closed while she is away: a restart of her process. */
async function sqliteStoreFactory() {
  const dir = await mkdtemp(join(tmpdir(), "orgchat-catch-up-"));
  directories.push(dir);
  return () => openSqliteStore({ path: join(dir, "carol.db") });
}

/** Carol goes offline; bob is removed (re-key); owner and alice send; returns what was sent. */
async function missWholeRekey(w: World) {
  const { owner, members, orgId } = await orgWithMembers(w, ["alice", "bob", "carol"], {
    stores: { carol: await sqliteStoreFactory() },
  });
  const [alice, bob, carol] = members as [Peer, Peer, Peer];
  await owner.client.sendMessage(orgId, "general", "before");
  await w.until(() => received(carol).length === 1, "carol to read the first message");
  const epochBefore = owner.client.getOrganization(orgId).epoch as bigint;

  await w.stop(carol);
  await owner.client.removeMember(orgId, bob.client.memberId);
  const epochAfter = owner.client.getOrganization(orgId).epoch as bigint;
  expect(epochAfter).toBe(epochBefore + 1n);
  await w.until(() => viewOf(alice, orgId)?.epoch === epochAfter, "alice to follow the re-key");
  const sent: string[] = [];
  for (let i = 0; i < messagesWhileAway; i++) {
    const author = i % 2 === 0 ? owner : alice;
    const text = `while carol was away #${i} from ${author.name}`;
    await author.client.sendMessage(orgId, "general", text);
    sent.push(text);
  }
  await w.until(
    () => received(alice).length === 1 + messagesWhileAway / 2,
    "alice to read the owner's messages",
  );
  // Everything is in the store before carol comes back (the service node ingests asynchronously):
  // the channel, and the keys topic that carries the re-key.
  const org = Buffer.from(orgId, "hex");
  await w.stored(channelTopic(org, "general"));
  await w.stored(keysTopic(org));
  expect(await channelHistory(owner, orgId, "general")).toHaveLength(1 + messagesWhileAway);
  expect(received(carol)).toEqual(["before"]);
  return { owner, alice, bob, carol, orgId, sent, epochAfter };
}

describe("offline member catches up from store alone (Waku relay + service node store)", () => {
  it("with everyone else gone, only the store node answers: carol opens the new epoch and every message", async () => {
    world = await createWorld("relay");
    const w = world;
    const { owner, alice, bob, carol, orgId, sent, epochAfter } = await missWholeRekey(w);
    // Nobody could answer a resync: the owner and alice are offline too.
    await w.stop(owner);
    await w.stop(alice);
    await w.stop(bob);
    carol.events.length = 0;
    await w.resume(carol);
    await w.until(
      () => received(carol).length === messagesWhileAway,
      `carol to read the ${messagesWhileAway} messages she missed`,
    );
    await w.idle();
    expect(new Set(received(carol))).toEqual(new Set(sent));
    expect(received(carol)).toHaveLength(sent.length);
    const view = carol.client.getOrganization(orgId);
    expect(view.epoch).toBe(epochAfter);
    expect(view.members.has(bob.client.memberId)).toBe(false);
    expect(names(carol.events, ["resync:requested", "message:undecryptable"])).toEqual([]);
    expect(emitted(carol, "epoch:changed", (e) => e.epoch === epochAfter)).toBe(true);
  }, 180_000);

  it("with the owner online, carol catches up without a resync request and is heard again", async () => {
    world = await createWorld("relay");
    const w = world;
    const { owner, alice, carol, orgId, sent } = await missWholeRekey(w);
    owner.events.length = 0;
    carol.events.length = 0;
    await w.resume(carol);
    await w.until(
      () => received(carol).length === messagesWhileAway,
      `carol to read the ${messagesWhileAway} messages she missed`,
    );
    expect(new Set(received(carol))).toEqual(new Set(sent));
    await carol.client.sendMessage(orgId, "general", "carol is back");
    await w.until(
      () => received(owner).includes("carol is back") && received(alice).includes("carol is back"),
      "the owner and alice to read carol",
    );
    await w.idle();
    expect(names(carol.events, ["resync:requested", "message:undecryptable"])).toEqual([]);
    expect(names(owner.events, ["resync:requested"])).toEqual([]);
  }, 180_000);
});
