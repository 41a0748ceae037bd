/**
 * The owner's pairwise state at scale (owner-keys.ts): sessions and member keys read from the store
 * on demand into a bounded cache, the X3DH replay defence as a log per signed prekey written in the
 * commit of the session it opened, and its bound (a rotation once a prekey accepted its share).
 */
import { toHex } from "@orgchat/base";
import {
  defaultProvider,
  ed25519EnvelopeSigner,
  OwnerPrekeys,
  PairwiseSession,
  x3dhInitiate,
} from "@orgchat/crypto";
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { decodePairwiseMessage } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { newOwnerOrg, newTxn, type OwnerOrg } from "../src/org.js";
import {
  ownerKeyLimits,
  ownerKeyOps,
  ownerMemberKeys,
  ownerSession,
  readyToAdd,
  refuseReplayedEphemeralKey,
  rotatePrekeyWhenFull,
  setOwnerMemberKeys,
  x3dhLog,
} from "../src/owner-keys.js";
import { noteResyncAnswer } from "../src/resync-answers.js";
import { Vault } from "../src/vault.js";
import { type Peer, seededRandom, World } from "./helpers.js";

const provider = defaultProvider();

async function setup(store: Store = memoryStore()) {
  const random = seededRandom(7);
  const { vault } = await Vault.open({
    provider,
    random,
    passphrase: undefined,
    stored: undefined,
    scryptN: 16,
  });
  const organization = provider.ed25519KeyPair();
  const signing = provider.ed25519KeyPair();
  const prekey = provider.x25519KeyPair();
  const keys = {
    signingSecret: signing.secretKey,
    signingKey: signing.publicKey,
    prekeySecret: prekey.secretKey,
    prekey: prekey.publicKey,
  };
  const makeOrg = (prekeys: OwnerPrekeys): OwnerOrg =>
    newOwnerOrg(provider, organization.publicKey, keys, {
      orgSecret: organization.secretKey,
      signer: ed25519EnvelopeSigner(provider, organization.secretKey),
      prekeys,
    });
  const org = makeOrg(
    OwnerPrekeys.create(provider, { identitySecretKey: organization.secretKey, now: 1_000 }),
  );
  const deps = { store, vault, provider };
  const space = `org/${org.hex}`;
  /** A newcomer's first message under the owner's current bundle, and its member id. */
  const newcomer = (target: OwnerOrg = org) => {
    const identityKeyPair = provider.ed25519KeyPair();
    const session = PairwiseSession.initiate(
      provider,
      x3dhInitiate(provider, {
        identityKeyPair,
        identityDhKeyPair: provider.x25519KeyPair(),
        bundle: target.owner.prekeys.bundle(),
        organizationKey: organization.publicKey,
      }),
    );
    const first = session.encrypt(new Uint8Array([1]));
    const header = decodePairwiseMessage(first).x3dh;
    if (header === undefined) throw new Error("x3dh header");
    return { member: toHex(identityKeyPair.publicKey), first, header };
  };
  /** What the owner does with an initial message: the replay check, respond, commit. */
  const admit = async (target: OwnerOrg, message: ReturnType<typeof newcomer>, limit = 1000) => {
    await refuseReplayedEphemeralKey(deps, target, message.header);
    const { session } = PairwiseSession.respond(provider, target.owner.prekeys, message.first);
    target.owner.sessions.set(message.member, session);
    const txn = newTxn(target);
    txn.sessions.add(message.member);
    txn.prekeys = true;
    await rotatePrekeyWhenFull(deps, target, txn, 2_000, limit);
    const written = ownerKeyOps(vault, target, txn);
    await store.batch([...txn.ops, ...written.ops]);
    written.done();
  };
  /** The owner read back from its store (a restart): the prekeys record only. */
  const restart = async () => {
    const bytes = await store.get(space, "prekeys");
    if (bytes === undefined) throw new Error("no prekeys record");
    return makeOrg(OwnerPrekeys.deserialize(provider, vault.open(space, "prekeys", bytes)));
  };
  return { org, deps, store, vault, space, newcomer, admit, restart };
}

describe("the owner's keys at scale", () => {
  it("an accepted ephemeral key is stored with its session: refused after a restart, never held in memory", async () => {
    const { org, deps, store, space, newcomer, admit, restart } = await setup();
    const alice = newcomer();
    await admit(org, alice);
    // Marked stored: memory holds no replay entry, the prekeys record no key of it.
    expect(org.owner.prekeys.unstoredEphemeralKeys()).toEqual([]);
    const before = (await store.get(space, "prekeys"))?.length;
    await admit(org, newcomer());
    expect((await store.get(space, "prekeys"))?.length).toBe(before);

    const restarted = await restart();
    expect(restarted.owner.sessions.size).toBe(0);
    await expect(refuseReplayedEphemeralKey(deps, restarted, alice.header)).rejects.toThrow(
      /already accepted/,
    );
    // The session is read on demand, and it is the one the message opened.
    const session = await ownerSession(deps, restarted, alice.member);
    expect(toHex(session?.initialEphemeralKey ?? new Uint8Array())).toBe(
      toHex(alice.header.ephemeralKey),
    );
    expect(restarted.owner.sessions.has(alice.member)).toBe(true);
  });

  it("a crash before the commit loses both the session and its ephemeral key (the message is taken again)", async () => {
    const { org, deps, vault, store, newcomer } = await setup();
    const alice = newcomer();
    const { session } = PairwiseSession.respond(provider, org.owner.prekeys, alice.first);
    org.owner.sessions.set(alice.member, session);
    const txn = newTxn(org);
    txn.sessions.add(alice.member);
    txn.prekeys = true;
    // The process dies before the batch applies: `done` never runs.
    expect(ownerKeyOps(vault, org, txn).ops.length).toBeGreaterThan(1);
    // Not committed: still held (refused by the prekeys themselves), nothing stored.
    expect(org.owner.prekeys.unstoredEphemeralKeys()).toHaveLength(1);
    expect(await store.get(`org/${org.hex}`, `pairwise/${alice.member}`)).toBeUndefined();
    await expect(refuseReplayedEphemeralKey(deps, org, alice.header)).resolves.toBeUndefined();
    expect(() => PairwiseSession.respond(provider, org.owner.prekeys, alice.first)).toThrow(
      /already accepted/,
    );
  });

  it("the replay log is bounded: a rotation every `limit` keys, the log of the prekey dropped deleted", async () => {
    const { org, store, newcomer, admit } = await setup();
    const limit = 2;
    const firstId = org.owner.prekeys.signedPrekeyId;
    for (let i = 0; i < 5 * limit; i++) await admit(org, newcomer(), limit);
    const held = org.owner.prekeys.signedPrekeyIds;
    expect(held[0]).toBeGreaterThan(firstId + 2);
    let stored = 0;
    for (let id = firstId; id <= (held[0] ?? 0); id++) {
      const entries = (await store.range(x3dhLog(org.hex, id))).length;
      if (!held.includes(id)) expect(entries).toBe(0);
      stored += entries;
    }
    expect(stored).toBeLessThanOrEqual(2 * limit);
  });

  it("the prekeys record is written once per prekeysRecordHeadroom admissions; restarts keep the log bounded", async () => {
    const { org, store, space, newcomer, admit, restart } = await setup();
    const headroom = ownerKeyLimits.prekeysRecordHeadroom;
    await admit(org, newcomer());
    const record = await store.get(space, "prekeys");
    // The admissions the record reserved do not write it again; the next one does.
    for (let i = 1; i < headroom + 1; i++) await admit(org, newcomer());
    expect(await store.get(space, "prekeys")).toEqual(record);
    await admit(org, newcomer());
    expect(await store.get(space, "prekeys")).not.toEqual(record);

    // Restarts between admissions: the count read back is never below the log, and the logs of
    // the held prekeys stay within twice the limit across rotations.
    const limit = 3 * headroom;
    let current = await restart();
    for (let i = 0; i < 4 * limit; i++) {
      if (i % 50 === 0) current = await restart();
      await admit(current, newcomer(current), limit);
      let stored = 0;
      for (const id of current.owner.prekeys.signedPrekeyIds) {
        const entries = (await store.range(x3dhLog(current.hex, id))).length;
        expect(entries).toBeLessThanOrEqual(current.owner.prekeys.acceptedEphemeralKeyCount(id));
        stored += entries;
      }
      expect(stored).toBeLessThanOrEqual(2 * limit);
    }
  });

  it("member keys and sessions are read on demand; the cache keeps at most maxCachedPeers after a commit", async () => {
    const { org, deps, vault, store, newcomer, admit, restart } = await setup();
    const alice = newcomer();
    await admit(org, alice);
    await store.batch([
      setOwnerMemberKeys(org, alice.member, {
        signingKey: new Uint8Array(32),
        prekey: new Uint8Array(32),
      }),
    ]);
    const restarted = await restart();
    expect(restarted.owner.memberKeys.size).toBe(0);
    expect(await readyToAdd(deps, restarted, [alice.member, "ab".repeat(32)])).toEqual(
      new Set([alice.member]),
    );
    expect((await ownerMemberKeys(deps, restarted, alice.member))?.prekey).toEqual(
      new Uint8Array(32),
    );

    // One unit of work touching more than the cache holds keeps them all until its commit.
    const session = restarted.owner.sessions.get(alice.member);
    if (session === undefined) throw new Error("session");
    const txn = newTxn(restarted);
    const many = ownerKeyLimits.maxCachedPeers + 10;
    for (let i = 0; i < many; i++) {
      const peer = i.toString(16).padStart(64, "0");
      restarted.owner.sessions.set(peer, session);
      txn.sessions.add(peer);
    }
    // A send moved its sending chain: one chain record per session (read from the store, its base
    // is known stored).
    session.encrypt(new Uint8Array([1]));
    const written = ownerKeyOps(vault, restarted, txn);
    const ops: StoreOp[] = written.ops;
    expect(ops).toHaveLength(many);
    expect(ops.every((op) => op.type === "put" && op.key.startsWith("pairwise-send/"))).toBe(true);
    written.done();
    // Alice's session (least recently used, not in the unit of work) made room; none of its own.
    expect(restarted.owner.sessions.size).toBe(many);
    expect(restarted.owner.sessions.has(alice.member)).toBe(false);
    // The next commit trims to the bound, least recently used first.
    ownerKeyOps(vault, restarted, newTxn(restarted)).done();
    expect(restarted.owner.sessions.size).toBe(ownerKeyLimits.maxCachedPeers);
    expect(restarted.owner.sessions.has(txn.sessions.values().next().value ?? "")).toBe(false);
  });
});

describe("the owner's resync answers remembered", () => {
  it("holds only the members answered within the interval, oldest dropped first", () => {
    const answered = new Map<string, number>();
    for (let i = 0; i < 100; i++) noteResyncAnswer(answered, `m${i % 7}`, i * 10, 60);
    // Answers at 930..990: the interval (60 ms) holds the last six.
    expect([...answered.values()]).toEqual([940, 950, 960, 970, 980, 990]);
    noteResyncAnswer(answered, "late", 5_000, 60);
    expect([...answered.keys()]).toEqual(["late"]);
  });
});

/** A store that records the keys read (`get`) and the prefixes listed (`keys`). */
function recording(base: Store, reads: string[]): Store {
  return new Proxy(base, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "get") reads.push(String(args[1]));
        if (prop === "keys") reads.push(`keys:${(args[1] as { prefix?: string })?.prefix}`);
        return value.apply(target, args);
      };
    },
  });
}

describe("the owner's keys on a running client", () => {
  let world: World;
  afterEach(async () => {
    await world.close();
  });

  async function join(owner: Peer, orgId: string, name: string): Promise<Peer> {
    const peer = await world.peer(name);
    await peer.client.discover(orgId);
    const requestId = await peer.client.requestToJoin(orgId, { displayName: name });
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    return peer;
  }

  it("a restart reads no member's session or keys; a member's message after it is read on demand", async () => {
    world = new World();
    const reads: string[] = [];
    const owner = await world.peer("owner", { store: recording(memoryStore(), reads) });
    const orgId = await owner.client.createOrganization({ name: "Acme", encrypted: true });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await world.settle();
    const alice = await join(owner, orgId, "alice");
    const bob = await join(owner, orgId, "bob");
    reads.length = 0;
    await world.restart(owner);
    const perMember = (key: string) => /pairwise\/|memberkeys\//.test(key);
    expect(reads.filter(perMember)).toEqual([]);

    // Bob's request to leave opens with his session, read from the store when it arrives.
    await bob.client.leave(orgId);
    await world.settle();
    expect(reads.filter(perMember)).toEqual([`pairwise/${bob.client.memberId}`]);
    expect([...owner.client.getOrganization(orgId).members.keys()]).not.toContain(
      bob.client.memberId,
    );
    // A newcomer after the restart is admitted and keyed; Alice still reads the owner.
    const carol = await join(owner, orgId, "carol");
    expect(carol.client.getOrganization(orgId).role).toBe("member");
    await owner.client.sendMessage(orgId, "general", "after the restart");
    await world.settle();
    expect(alice.events.some(([name]) => name === "message:received")).toBe(true);
  });

  it("40 full clients request at once: each one is pending or told 'full, try later', never silence", async () => {
    world = new World();
    const owner = await world.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", encrypted: true });
    await world.settle();
    const peers: Peer[] = [];
    for (let i = 0; i < 40; i++) {
      const peer = await world.peer(`p${i}`);
      await peer.client.discover(orgId);
      peers.push(peer);
    }
    const requestIds = await Promise.all(
      peers.map((peer, i) => peer.client.requestToJoin(orgId, { displayName: `p${i}` })),
    );
    await world.settle();
    const pending = new Set(
      owner.client
        .listRequests(orgId)
        .filter((r) => r.status === "pending")
        .map((r) => r.id),
    );
    let told = 0;
    for (const [i, peer] of peers.entries()) {
      const rejected = peer.events.filter(([name]) => name === "request:rejected");
      if (pending.has(requestIds[i] ?? "")) {
        expect(rejected).toEqual([]);
        continue;
      }
      expect(rejected.map(([, e]) => (e as { code: string }).code)).toEqual(["queue-full"]);
      told++;
    }
    expect(pending.size + told).toBe(peers.length);
    console.info(`40 full clients at once: ${pending.size} pending, ${told} told to retry`);
  }, 120_000);
});
