/**
 * Issue #13, row 7 (invitation spam): an invitation is an offer. Anyone can make an organization
 * key and sign an invitation to any inbox, so the invitee keeps it only as pending (bounded,
 * persisted) and adopts, stores and subscribes to nothing until the user accepts it.
 */
import { toHex } from "@orgchat/base";
import { defaultProvider, ed25519EnvelopeSigner } from "@orgchat/crypto";
import { invitationToWire } from "@orgchat/state/wire";
import { memoryStore, type Store } from "@orgchat/store";
import type { MemoryTransport, Subscription, Transport } from "@orgchat/transport";
import { inboxTopic, publicKeyFromMemberId, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Client,
  type ClientEvents,
  createClient,
  defaultClientConfig,
  isUnknownTargetError,
} from "../src/index.js";
import { names, orgWithMembers, type Peer, received, seededRandom, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

const day = 24 * 60 * 60 * 1000;

/** A transport that counts what its client subscribes to (the subscriptions still active). */
function countingTransport(inner: MemoryTransport): {
  transport: MemoryTransport;
  active: () => string[];
  calls: () => number;
} {
  const active = new Map<object, readonly string[]>();
  let calls = 0;
  const subscribe: Transport["subscribe"] = async (topics, handler, options) => {
    calls++;
    const subscription = await inner.subscribe(topics, handler, options);
    const key = {};
    active.set(key, [...topics]);
    return new Proxy(subscription, {
      get(target, property) {
        if (property === "unsubscribe") {
          return (...args: Parameters<Subscription["unsubscribe"]>) => {
            active.delete(key);
            return target.unsubscribe(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  const transport = new Proxy(inner, {
    get(target, property) {
      if (property === "subscribe") return subscribe;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { transport, active: () => [...active.values()].flat(), calls: () => calls };
}

interface Invitee extends Peer {
  readonly subscriptions: ReturnType<typeof countingTransport>;
  readonly diagnostics: ClientEvents["diagnostic"][];
}

/** The invitee: a client whose transport counts subscriptions, recording its invitations. */
async function invitee(
  name: string,
  options: { store?: Store; history?: boolean } = {},
): Promise<Invitee> {
  const store = options.store ?? memoryStore();
  const subscriptions = countingTransport(
    world.network.transport({ name, history: options.history ?? true }),
  );
  const client = await openClient(store, subscriptions.transport);
  const peer: Invitee = {
    name,
    client,
    store,
    transport: subscriptions.transport,
    events: [],
    subscriptions,
    diagnostics: [],
  };
  listen(peer);
  world.peers.push(peer);
  await world.settle();
  return peer;
}

function openClient(store: Store, transport: MemoryTransport): Promise<Client> {
  return createClient({
    transport,
    store,
    now: world.time.now,
    timers: world.time.timers,
    random: seededRandom(900 + world.peers.length),
    config: world.config,
  });
}

function listen(peer: Invitee): void {
  peer.client.on("invitation:received", (event) => {
    peer.events.push(["invitation:received", event]);
  });
  peer.client.on("message:received", (event) => {
    peer.events.push(["message:received", event]);
  });
  peer.client.on("diagnostic", (event) => {
    peer.diagnostics.push(event);
  });
}

/** Closes and re-opens the invitee's client on the same store and transport (a restart). */
async function restart(peer: Invitee): Promise<void> {
  await peer.client.close();
  peer.client = await openClient(peer.store, peer.transport);
  listen(peer);
  await world.settle();
}

/** A throwaway organization key signs an invitation to `to` and publishes it in its inbox. */
async function spamInvitation(publisher: Transport, to: string): Promise<string> {
  const provider = defaultProvider();
  const org = provider.ed25519KeyPair();
  const orgHex = toHex(org.publicKey);
  const topic = inboxTopic(publicKeyFromMemberId(to));
  const event = {
    id: "",
    type: "invitation.issued" as const,
    author: orgHex,
    clock: 1n,
    sentAt: world.time.now(),
    body: { invitee: to, chatId: "" },
  };
  const bytes = await sealEnvelope(
    {
      type: "organization-invitation",
      organizationId: org.publicKey,
      clock: 1n,
      contentTopic: topic,
      message: invitationToWire(event, { organizationId: orgHex }),
    },
    ed25519EnvelopeSigner(provider, org.secretKey),
  );
  await publisher.publish(topic, bytes);
  return orgHex;
}

async function attacker(): Promise<Transport> {
  const transport = world.network.transport({ name: "mallory" });
  await transport.start();
  return transport;
}

describe("invitations are offers, not adoptions", () => {
  it("150 throwaway organizations invite one key: 0 adopted, 0 topics subscribed, pending bounded", async () => {
    world = new World();
    const alice = await invitee("alice");
    const baseline = alice.subscriptions.active();
    expect(baseline).toEqual([inboxTopic(publicKeyFromMemberId(alice.client.memberId))]);
    const mallory = await attacker();
    const spammers: string[] = [];
    for (let i = 0; i < 150; i++) {
      spammers.push(await spamInvitation(mallory, alice.client.memberId));
      // One invitation per tick, so that "oldest" is well defined.
      world.time.advance(1);
    }
    await world.settle();

    expect(alice.client.listOrganizations()).toEqual([]);
    expect(await alice.store.keys("orgs")).toEqual([]);
    expect(alice.subscriptions.active()).toEqual(baseline);
    expect(alice.subscriptions.calls()).toBe(1);
    // Each was shown as it arrived; only the newest `maxPendingInvitations` are kept.
    const max = defaultClientConfig.maxPendingInvitations;
    expect(names(alice.events, ["invitation:received"])).toHaveLength(150);
    const pending = alice.client.listInvitations();
    expect(pending.map((i) => i.organizationId)).toEqual(spammers.slice(150 - max));
    expect(await alice.store.keys("invitations")).toHaveLength(max);
    expect(alice.diagnostics.filter((d) => d.reason === "evicted")).toHaveLength(150 - max);
    await expect(alice.client.acceptInvitation(spammers[0] as string)).rejects.toSatisfy(
      isUnknownTargetError,
    );
  });

  it("a restart reads the inbox's 150 invitations again: the same 50 stay, none comes back", async () => {
    world = new World();
    const alice = await invitee("alice");
    const mallory = await attacker();
    for (let i = 0; i < 150; i++) {
      await spamInvitation(mallory, alice.client.memberId);
      world.time.advance(1);
    }
    await world.settle();
    const before = alice.client.listInvitations();
    const shown = names(alice.events, ["invitation:received"]).length;
    const evicted = alice.diagnostics.filter((d) => d.reason === "evicted").length;

    world.time.advance(60_000);
    await restart(alice);
    expect(alice.client.listInvitations()).toEqual(before);
    expect(names(alice.events, ["invitation:received"])).toHaveLength(shown);
    expect(alice.diagnostics.filter((d) => d.reason === "evicted")).toHaveLength(evicted);
    expect(alice.subscriptions.active()).toHaveLength(1);
  });

  it("one invitation per organization: the newest stays, the older one does not come back", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { access: "invitation-only" });
    const alice = await invitee("alice");
    await owner.client.invite(orgId, alice.client.memberId);
    await world.settle();
    const newest = await owner.client.invite(orgId, alice.client.memberId, { chatId: "general" });
    await world.settle();
    expect(alice.client.listInvitations()).toEqual([
      expect.objectContaining({ invitationId: newest, chatId: "general" }),
    ]);
    const shown = names(alice.events, ["invitation:received"]).length;
    await restart(alice);
    expect(alice.client.listInvitations()).toEqual([
      expect.objectContaining({ invitationId: newest, chatId: "general" }),
    ]);
    expect(names(alice.events, ["invitation:received"])).toHaveLength(shown);
    expect(alice.diagnostics.filter((d) => d.reason === "superseded")).toEqual([]);
  });

  it("the bound is a positive integer", async () => {
    world = new World();
    for (const maxPendingInvitations of [0, -1, 1.5, Number.NaN]) {
      await expect(
        createClient({
          transport: world.network.transport(),
          store: memoryStore(),
          config: { maxPendingInvitations },
        }),
      ).rejects.toThrow(RangeError);
    }
  });

  it("accept: the organization is adopted only then, and the invitee is a member at once", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { access: "invitation-only" });
    const alice = await invitee("alice");
    const invitationId = await owner.client.invite(orgId, alice.client.memberId);
    await world.settle();

    expect(names(alice.events, ["invitation:received"])).toEqual(["invitation:received"]);
    expect(alice.client.listOrganizations()).toEqual([]);
    expect(alice.subscriptions.active()).toHaveLength(1);
    expect(alice.client.listInvitations()).toEqual([
      expect.objectContaining({ organizationId: orgId, invitationId, chatId: "" }),
    ]);

    await alice.client.acceptInvitation(orgId, { displayName: "Alice" });
    await world.settle();
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    expect(alice.client.listInvitations()).toEqual([]);
    expect(await alice.store.keys("invitations")).toEqual([]);
    expect(alice.subscriptions.active().length).toBeGreaterThan(1);
    expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(true);
    await owner.client.sendMessage(orgId, "general", "welcome, invitee");
    await world.settle();
    expect(received(alice)).toEqual(["welcome, invitee"]);
  });

  it("an invitation from an organization the user discovered outlives spam from unknown ones", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { access: "invitation-only" });
    const alice = await invitee("alice");
    await alice.client.discover(orgId);
    await owner.client.invite(orgId, alice.client.memberId);
    await world.settle();
    const mallory = await attacker();
    for (let i = 0; i < 60; i++) {
      await spamInvitation(mallory, alice.client.memberId);
      world.time.advance(1);
    }
    await world.settle();
    const pending = alice.client.listInvitations();
    expect(pending).toHaveLength(defaultClientConfig.maxPendingInvitations);
    expect(pending.find((i) => i.organizationId === orgId)?.name).toBe("Acme");
    await alice.client.acceptInvitation(orgId);
    await world.settle();
    expect(alice.client.getOrganization(orgId).role).toBe("member");
  });

  it("decline forgets the invitation, also after a restart that reads the inbox again", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { access: "invitation-only" });
    const alice = await invitee("alice");
    const invitationId = await owner.client.invite(orgId, alice.client.memberId);
    await world.settle();

    expect(await alice.client.declineInvitation(orgId)).toBe(invitationId);
    expect(alice.client.listInvitations()).toEqual([]);
    await expect(alice.client.declineInvitation(orgId)).rejects.toSatisfy(isUnknownTargetError);

    await restart(alice);
    expect(alice.client.listInvitations()).toEqual([]);
    expect(names(alice.events, ["invitation:received"])).toEqual(["invitation:received"]);
    await expect(alice.client.acceptInvitation(orgId)).rejects.toSatisfy(isUnknownTargetError);
    expect(alice.client.listOrganizations()).toEqual([]);
    expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
  });

  it("a restart keeps the pending invitations (from the store: no history to read them from)", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { access: "invitation-only" });
    const alice = await invitee("alice", { history: false });
    const invitationId = await owner.client.invite(orgId, alice.client.memberId);
    await world.settle();
    const before = alice.client.listInvitations();
    expect(before.map((i) => i.invitationId)).toEqual([invitationId]);

    world.time.advance(60_000);
    await restart(alice);
    expect(alice.client.listInvitations()).toEqual(before);
    expect(alice.client.listOrganizations()).toEqual([]);
    expect(alice.subscriptions.active()).toHaveLength(1);

    // Expired (7 days after it was issued): it leaves the list, and a restart drops it from the store.
    world.time.advance(7 * day);
    expect(alice.client.listInvitations()).toEqual([]);
    await restart(alice);
    expect(await alice.store.keys("invitations")).toEqual([]);
  });
});
