import { memoryStore, type Store } from "@orgchat/store";
import { descriptionTopic, keysTopic, publicKeyFromMemberId } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../src/index.js";
import { names, type Peer, received, seededRandom, World } from "./helpers.js";
import { publishedPrekeyBundle, Stranger } from "./stranger.js";

// The add window (ClientConfig.addWindowMs, docs/CLIENT.md "Groups follow the state"): admissions
// inside it become one add step per group, one roster delta, one Welcome each, one description.

const windowMs = 1_000;
let world: World;

afterEach(async () => {
  await world.close();
});

/** Counts what is published on a topic from now on (a listener on its own transport). */
async function counter(topics: readonly string[]): Promise<() => number> {
  const transport = world.network.transport({ name: `counter-${topics[0]}`, history: false });
  await transport.start();
  let count = 0;
  await transport.subscribe(topics, () => {
    count++;
  });
  return () => count;
}

/** An encrypted organization (open: requests are accepted at once) and peers that discovered it. */
async function openOrg(
  joinerNames: readonly string[],
  access: "no-membership" | "on-request" = "no-membership",
  ownerStore?: Store,
) {
  const owner = await world.peer("owner", ownerStore === undefined ? {} : { store: ownerStore });
  const orgId = await owner.client.createOrganization({ name: "Acme", access, encrypted: true });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  await world.settle();
  const joiners: Peer[] = [];
  for (const name of joinerNames) {
    const peer = await world.peer(name);
    await peer.client.discover(orgId);
    joiners.push(peer);
  }
  const orgKey = publicKeyFromMemberId(orgId);
  return { owner, orgId, joiners, orgKey };
}

const epochOf = (peer: Peer, orgId: string) => peer.client.getOrganization(orgId).epoch;

describe("add window", () => {
  it("20 requests inside the window: one epoch, 20 Welcomes, one roster delta, one description", async () => {
    world = new World({ addWindowMs: windowMs });
    const joinerNames = Array.from({ length: 20 }, (_, i) => `j${i}`);
    const { owner, orgId, joiners, orgKey } = await openOrg(joinerNames);
    const before = epochOf(owner, orgId) as bigint;
    const keys = await counter([keysTopic(orgKey)]);
    const descriptions = await counter([descriptionTopic(orgKey)]);
    owner.events.length = 0;
    for (const joiner of joiners) await joiner.client.requestToJoin(orgId);
    await world.settle();
    // Decided and answered at once; the keys wait for the flush.
    expect(names(owner.events, ["request:accepted"])).toHaveLength(20);
    for (const joiner of joiners) {
      expect(joiner.client.getOrganization(orgId).role).toBe("member");
      expect(epochOf(joiner, orgId)).toBeUndefined();
    }
    expect(epochOf(owner, orgId)).toBe(before);
    expect(keys()).toBe(0);
    expect(descriptions()).toBe(0);
    await world.advance(windowMs);
    expect(epochOf(owner, orgId)).toBe(before + 1n);
    expect(names(owner.events, ["epoch:changed"])).toEqual(["epoch:changed"]);
    expect(keys()).toBe(1);
    expect(descriptions()).toBeGreaterThan(0);
    const oneDescription = descriptions();
    for (const joiner of joiners) {
      expect(epochOf(joiner, orgId)).toBe(before + 1n);
      expect(names(joiner.events, ["epoch:changed"])).toEqual(["epoch:changed"]);
    }
    // One publication (a description delta or a full description, and the prekey bundle), not
    // one per admission; the next owner operation publishes one more.
    expect(oneDescription).toBeLessThanOrEqual(3);
    await owner.client.editIdentity(orgId, { description: "more" });
    await world.settle();
    expect(descriptions() - oneDescription).toBeGreaterThan(0);
    expect(descriptions() - oneDescription).toBeLessThanOrEqual(3);
    await owner.client.sendMessage(orgId, "general", "hello all");
    await world.settle();
    for (const joiner of joiners) expect(received(joiner, orgId)).toEqual(["hello all"]);
    expect(owner.client.getOrganization(orgId).members.size).toBe(21);
  }, 60_000);

  it("requests in two windows make two epochs; inside one window, one", async () => {
    world = new World({ addWindowMs: windowMs });
    const { owner, orgId, joiners } = await openOrg(["a", "b", "c"]);
    const [a, b, c] = joiners as [Peer, Peer, Peer];
    const before = epochOf(owner, orgId) as bigint;
    await a.client.requestToJoin(orgId);
    await world.settle();
    await world.advance(windowMs / 2);
    await b.client.requestToJoin(orgId);
    await world.settle();
    expect(epochOf(owner, orgId)).toBe(before);
    // The window is counted from the first admission: b's joins with a's.
    await world.advance(windowMs / 2);
    expect(epochOf(owner, orgId)).toBe(before + 1n);
    expect(epochOf(a, orgId)).toBe(before + 1n);
    expect(epochOf(b, orgId)).toBe(before + 1n);
    await c.client.requestToJoin(orgId);
    await world.settle();
    expect(epochOf(c, orgId)).toBeUndefined();
    await world.advance(windowMs);
    expect(epochOf(owner, orgId)).toBe(before + 2n);
    for (const peer of [a, b, c]) expect(epochOf(peer, orgId)).toBe(before + 2n);
  });

  it("accepts by the owner wait for the window too; a joiner removed before the flush is never added", async () => {
    world = new World({ addWindowMs: windowMs });
    const { owner, orgId, joiners } = await openOrg(["a", "b"], "on-request");
    const [a, b] = joiners as [Peer, Peer];
    const before = epochOf(owner, orgId) as bigint;
    const requestA = await a.client.requestToJoin(orgId);
    const requestB = await b.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.acceptRequest(orgId, requestA);
    await owner.client.acceptRequest(orgId, requestB);
    await world.settle();
    expect(a.client.getOrganization(orgId).role).toBe("member");
    await owner.client.removeMember(orgId, a.client.memberId);
    await world.settle();
    owner.events.length = 0;
    await world.advance(windowMs);
    // One add step (b only), no re-key: a was never on the roster.
    expect(names(owner.events, ["epoch:changed"])).toEqual(["epoch:changed"]);
    expect(epochOf(owner, orgId)).toBe(before + 1n);
    expect(epochOf(b, orgId)).toBe(before + 1n);
    expect(epochOf(a, orgId)).toBeUndefined();
    expect(names(a.events, ["epoch:changed"])).toEqual([]);
    await owner.client.sendMessage(orgId, "general", "b only");
    await world.settle();
    expect(received(b, orgId)).toEqual(["b only"]);
    expect(received(a, orgId)).toEqual([]);
  });

  it("removals waiting in the same window are re-keyed first: the removed member cannot derive the newcomer's epoch", async () => {
    world = new World({ addWindowMs: windowMs, rekeyWindowMs: 4 * windowMs });
    const { owner, orgId, joiners } = await openOrg(["m", "j"]);
    const [m, j] = joiners as [Peer, Peer];
    await m.client.requestToJoin(orgId);
    await world.settle();
    await world.advance(windowMs);
    const before = epochOf(owner, orgId) as bigint;
    expect(epochOf(m, orgId)).toBe(before);
    await owner.client.removeMember(orgId, m.client.memberId);
    await j.client.requestToJoin(orgId);
    await world.settle();
    owner.events.length = 0;
    await world.advance(windowMs);
    // The re-key (m out), then the add step (j in): two epochs, at the add flush.
    expect(names(owner.events, ["epoch:changed"])).toEqual(["epoch:changed", "epoch:changed"]);
    expect(epochOf(owner, orgId)).toBe(before + 2n);
    expect(epochOf(j, orgId)).toBe(before + 2n);
    expect(epochOf(m, orgId)).toBe(before);
    // The re-key's own window has nothing left to do.
    await world.advance(4 * windowMs);
    expect(epochOf(owner, orgId)).toBe(before + 2n);
    await j.client.sendMessage(orgId, "general", "hi from j");
    await world.settle();
    expect(received(owner, orgId)).toEqual(["hi from j"]);
    expect(received(m, orgId)).toEqual([]);
  });

  it("a joiner whose keys cannot join a group does not fail the others' add step", async () => {
    world = new World({ addWindowMs: windowMs });
    const { owner, orgId, joiners } = await openOrg(["a", "b"]);
    const [a, b] = joiners as [Peer, Peer];
    const before = epochOf(owner, orgId) as bigint;
    const via = world.network.transport({ name: "hostile" });
    await via.start();
    const hostile = new Stranger(
      via,
      orgId,
      await publishedPrekeyBundle(via, orgId),
      seededRandom(7),
    );
    const diagnostics: string[] = [];
    owner.client.on("diagnostic", ({ reason }) => diagnostics.push(reason));
    await a.client.requestToJoin(orgId);
    // A small-order prekey (the all-zero point): no group can take it.
    await hostile.keys(1n, { signingKey: hostile.identity.publicKey, prekey: new Uint8Array(32) });
    await hostile.send(
      {
        case: "requestToJoin",
        value: {
          clock: 2n,
          organizationId: publicKeyFromMemberId(orgId),
          sentAt: BigInt(world.time.now()),
          ensName: "",
          chatId: "",
          displayName: "hostile",
        },
      },
      2n,
    );
    await b.client.requestToJoin(orgId);
    await world.settle();
    expect(owner.client.getOrganization(orgId).members.has(hostile.id)).toBe(true);
    await world.advance(windowMs);
    expect(epochOf(owner, orgId)).toBe(before + 1n);
    expect(epochOf(a, orgId)).toBe(before + 1n);
    expect(epochOf(b, orgId)).toBe(before + 1n);
    expect(names(owner.events, ["error"])).toEqual([]);
    expect(diagnostics).toContain("member-keys-unusable");
  });

  it("an organization made public inside the window adds no one at the flush", async () => {
    world = new World({ addWindowMs: windowMs });
    const { owner, orgId, joiners } = await openOrg(["a"]);
    const [a] = joiners as [Peer];
    const before = epochOf(owner, orgId) as bigint;
    await a.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.setEncrypted(orgId, false);
    await world.settle();
    owner.events.length = 0;
    await world.advance(windowMs);
    expect(names(owner.events, ["epoch:changed", "error"])).toEqual([]);
    expect(epochOf(a, orgId)).toBeUndefined();
    expect(owner.client.getOrganization(orgId).epoch).toBe(before);
    await owner.client.sendMessage(orgId, "general", "in the clear");
    await world.settle();
    expect(received(a, orgId)).toEqual(["in the clear"]);
  });

  it("an owner that closes with a flush pending sends the keys first", async () => {
    world = new World({ addWindowMs: windowMs });
    const { owner, orgId, joiners } = await openOrg(["a"]);
    const [a] = joiners as [Peer];
    const before = epochOf(owner, orgId) as bigint;
    await a.client.requestToJoin(orgId);
    await world.settle();
    expect(epochOf(a, orgId)).toBeUndefined();
    await world.stop(owner);
    await world.settle();
    expect(epochOf(a, orgId)).toBe(before + 1n);
    await world.resume(owner);
    expect(epochOf(owner, orgId)).toBe(before + 1n);
    // Nothing left armed: time passing makes no other epoch.
    await world.advance(windowMs);
    expect(epochOf(owner, orgId)).toBe(before + 1n);
  });

  it("an owner that crashes before the flush adds the joiner when it starts again", async () => {
    world = new World({ addWindowMs: windowMs });
    const inner = memoryStore();
    const crash = crashable(inner);
    const { owner, orgId, joiners } = await openOrg(["a"], "no-membership", crash.store);
    const [a] = joiners as [Peer];
    const before = epochOf(owner, orgId) as bigint;
    await a.client.requestToJoin(orgId);
    await world.settle();
    expect(a.client.getOrganization(orgId).role).toBe("member");
    // SIGKILL: nothing more reaches the store or the network from this process (its armed flush
    // timer then fails on a dead store, as a killed process would not run it at all).
    crash.kill();
    await owner.transport.stop();
    world.peers.splice(world.peers.indexOf(owner), 1);
    const transport = world.network.transport({ name: "owner-again" });
    const again = await createClient({
      transport,
      store: inner,
      now: world.time.now,
      timers: world.time.timers,
      random: seededRandom(1_000),
      config: world.config,
    });
    world.peers.push({ name: "owner-again", client: again, store: inner, transport, events: [] });
    await world.settle();
    expect(again.getOrganization(orgId).epoch).toBe(before + 1n);
    expect(epochOf(a, orgId)).toBe(before + 1n);
    await again.sendMessage(orgId, "general", "after the crash");
    await world.settle();
    expect(received(a, orgId)).toEqual(["after the crash"]);
    await world.advance(windowMs);
    expect(again.getOrganization(orgId).epoch).toBe(before + 1n);
    await owner.client.close().catch(() => undefined);
  });
});

/** A store that can be killed: every write after `kill()` throws, as in a process that died. */
function crashable(inner: Store): { store: Store; kill: () => void } {
  let dead = false;
  const store = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (
          dead &&
          ["batch", "put", "delete", "deleteEntries", "append"].includes(String(property))
        ) {
          return Promise.reject(new Error("killed"));
        }
        return value.apply(target, args);
      };
    },
  });
  return { store, kill: () => (dead = true) };
}
