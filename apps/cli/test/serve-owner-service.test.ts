/**
 * The owner service of `serve --owner` in process (`src/owner-service.ts`, `src/owner-policy.ts`):
 * the owner's client with the settings the serve process gives it (`clientConfig(true)`), on a memory
 * network with an injected clock, answers requests by policy with nobody typing, and its own timers
 * drive the periodic refresh. End to end over real Waku: `serve-owner.test.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, type ClientTimers, createClient, ownerDeviceIdKey } from "@orgchat/client";
import { copyMemoryStore, memoryStore } from "@orgchat/store";
import {
  type MemoryNetwork,
  type MemoryTransport,
  memoryNetwork,
  type VirtualClock,
  virtualClock,
} from "@orgchat/transport";
import { afterEach, describe, expect, it } from "vitest";
import {
  admitModeOf,
  applyAdmitFlags,
  defaultOwnerPolicy,
  invitationOnlyReason,
  type OwnerPolicy,
  parseAdmitFlags,
  readOwnerPolicy,
  writeOwnerPolicy,
} from "../src/owner-policy.ts";
import { type OwnerServiceEvent, startOwnerService } from "../src/owner-service.ts";
import { clientConfig } from "../src/session.ts";

const hour = 60 * 60 * 1000;
const admitAll: OwnerPolicy = { admit: "all", admitByOrg: {} };

class World {
  readonly time: VirtualClock = virtualClock();
  readonly network: MemoryNetwork = memoryNetwork({ seed: 1 }, { now: this.time.now });
  /** The client's timers on the virtual clock (a handle is the task's cancel function). */
  readonly timers: ClientTimers = {
    setTimeout: (task, delayMs) => this.time.schedule(task, delayMs),
    clearTimeout: (handle) => (handle as () => void)(),
  };
  readonly clients: Client[] = [];
  /** Each client's transport and store, by name. */
  readonly peers = new Map<
    string,
    { transport: MemoryTransport; store: ReturnType<typeof memoryStore> }
  >();

  /** A client with the serve process's long-running settings, on this world's clock. */
  async client(name: string, store = memoryStore()): Promise<Client> {
    const transport = this.network.transport({ name, history: true });
    this.peers.set(name, { transport, store });
    const client = await createClient({
      transport,
      store,
      now: this.time.now,
      timers: this.timers,
      config: clientConfig(true),
    });
    this.clients.push(client);
    await this.settle();
    return client;
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await this.network.idle();
      await Promise.all(this.clients.map((c) => c.idle()));
      await new Promise((resolve) => setImmediate(resolve));
      if (this.network.deliveriesInFlight === 0) {
        await Promise.all(this.clients.map((c) => c.idle()));
        if (this.network.deliveriesInFlight === 0) return;
      }
    }
  }

  /** Moves the clock in steps (each runs the timers due and settles). */
  async advance(ms: number, step = 100): Promise<void> {
    for (let done = 0; done < ms; done += step) {
      this.time.advance(Math.min(step, ms - done));
      await this.settle();
    }
  }

  async close(): Promise<void> {
    for (const client of this.clients) await client.close();
    await this.network.stop();
  }
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** An owner with Acme (#general) and its owner service under `policy`. */
async function ownerWithService(
  access: "on-request" | "no-membership" | "invitation-only",
  policy: OwnerPolicy,
) {
  world = new World();
  const owner = await world.client("owner");
  const orgId = await owner.createOrganization({ name: "Acme", access, encrypted: true });
  await owner.createChannel(orgId, { id: "general", name: "General" });
  await world.settle();
  const events: OwnerServiceEvent[] = [];
  const service = startOwnerService({
    client: owner,
    policy: () => policy,
    report: (event) => events.push(event),
  });
  return { world, owner, orgId, events, service };
}

/** `name` asks to join and waits for the answer (the add window is a timer of the owner's). */
async function ask(w: World, orgId: string, name: string): Promise<Client> {
  const member = await w.client(name);
  await member.discover(orgId);
  await member.requestToJoin(orgId, { displayName: name });
  await w.advance(1_000);
  return member;
}

/** The member holds the owner's epoch and reads what the owner sends next. */
async function readsOwner(w: World, owner: Client, member: Client, orgId: string, text: string) {
  expect(member.getOrganization(orgId).epoch).toBe(owner.getOrganization(orgId).epoch);
  await owner.sendMessage(orgId, "general", text);
  await w.advance(1_000);
  expect(member.history(orgId, "general").map((m) => m.text)).toContain(text);
}

describe("the owner service (serve --owner)", () => {
  it("--admit all: a request is accepted with nobody typing; the newcomer gets the keys and reads", async () => {
    const {
      world: w,
      owner,
      orgId,
      events,
      service,
    } = await ownerWithService("on-request", admitAll);
    const bob = await ask(w, orgId, "Bob");
    await service.settled();
    await w.advance(1_000);
    expect(events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["request", "accepted", "joined"]),
    );
    expect(bob.getOrganization(orgId).role).toBe("member");
    await readsOwner(w, owner, bob, orgId, "welcome Bob");
  });

  it("--admit none: the request waits for a human; pending ones found at start are reported", async () => {
    const {
      world: w,
      owner,
      orgId,
      events,
    } = await ownerWithService("on-request", defaultOwnerPolicy);
    const bob = await ask(w, orgId, "Bob");
    expect(events.filter((e) => e.kind === "request")).toMatchObject([{ admit: "none" }]);
    expect(events.some((e) => e.kind === "accepted")).toBe(false);
    expect(owner.listRequests(orgId).map((r) => r.status)).toEqual(["pending"]);
    expect(bob.getOrganization(orgId).role).not.toBe("member");
    // A second service (the next start) sees the pending request and reports it once.
    const again: OwnerServiceEvent[] = [];
    const next = startOwnerService({
      client: owner,
      policy: () => admitAll,
      report: (event) => again.push(event),
    });
    await next.settled();
    await w.advance(1_000);
    expect(again.filter((e) => e.kind === "accepted")).toHaveLength(1);
    expect(bob.getOrganization(orgId).role).toBe("member");
  });

  it("--admit invited: a request no invitation covers is rejected at once, with the reason", async () => {
    const {
      world: w,
      orgId,
      events,
      service,
    } = await ownerWithService("on-request", {
      admit: "invited",
      admitByOrg: {},
    });
    const bob = await ask(w, orgId, "Bob");
    await service.settled();
    await w.advance(1_000);
    expect(events.filter((e) => e.kind === "rejected")).toHaveLength(1);
    expect(bob.getOrganization(orgId).request).toMatchObject({
      status: "rejected",
      reason: invitationOnlyReason,
    });
  });

  it("an open organization admits at once under any policy: the add step and Welcome run unattended", async () => {
    const {
      world: w,
      owner,
      orgId,
      events,
    } = await ownerWithService("no-membership", defaultOwnerPolicy);
    const dave = await ask(w, orgId, "Dave");
    expect(events.filter((e) => e.kind === "request")).toEqual([]);
    expect(events.filter((e) => e.kind === "joined")).toMatchObject([{ displayName: "Dave" }]);
    await readsOwner(w, owner, dave, orgId, "hello Dave");
  });

  it("delegates' decisions are ratified: the service follows alice's accept and ban, then refreshes 30 s later; bob reads the owner", async () => {
    let policy: OwnerPolicy = admitAll;
    world = new World();
    const w = world;
    const owner = await w.client("owner");
    const orgId = await owner.createOrganization({
      name: "Acme",
      access: "on-request",
      encrypted: true,
    });
    await owner.createChannel(orgId, { id: "general", name: "General" });
    await w.settle();
    const events: OwnerServiceEvent[] = [];
    startOwnerService({ client: owner, policy: () => policy, report: (e) => events.push(e) });
    const alice = await ask(w, orgId, "Alice");
    const carol = await ask(w, orgId, "Carol");
    await owner.setRoles(orgId, alice.memberId, ["all"]);
    await w.advance(1_000);
    policy = defaultOwnerPolicy;
    const bob = await ask(w, orgId, "Bob");
    const request = alice.listRequests(orgId).find((r) => r.status === "pending");
    await alice.acceptRequest(orgId, request?.id as string);
    await w.advance(1_000);
    await alice.banMember(orgId, carol.memberId);
    await w.advance(1_000);
    const delegates = alice.getOrganization(orgId).epoch ?? 0n;
    expect(owner.getOrganization(orgId).epoch).toBe(delegates);
    expect(
      events.filter((e) => e.kind === "epoch").map((e) => e.kind === "epoch" && e.epoch),
    ).toEqual(expect.arrayContaining([delegates - 1n, delegates]));
    await w.advance(30_000);
    expect(owner.getOrganization(orgId).epoch).toBe(delegates + 1n);
    await readsOwner(w, owner, bob, orgId, "the owner, refreshed");
    await readsOwner(w, owner, alice, orgId, "again");
    expect(carol.history(orgId, "general").map((m) => m.text)).not.toContain("again");
  });

  it("the periodic refresh runs on the serve process's own timers: a fresh epoch after 48 h, members follow", async () => {
    const { world: w, owner, orgId, events } = await ownerWithService("on-request", admitAll);
    const bob = await ask(w, orgId, "Bob");
    await w.advance(1_000);
    const before = owner.getOrganization(orgId).epoch ?? 0n;
    expect(bob.getOrganization(orgId).epoch).toBe(before);
    await w.advance(47 * hour, 10 * 60 * 1000);
    expect(owner.getOrganization(orgId).epoch).toBe(before);
    await w.advance(2 * hour, 10 * 60 * 1000);
    const after = owner.getOrganization(orgId).epoch ?? 0n;
    expect(after).toBeGreaterThan(before);
    expect(bob.getOrganization(orgId).epoch).toBe(after);
    expect(events.some((e) => e.kind === "epoch" && e.epoch === after)).toBe(true);
  });

  it("answers a member's resync request with nobody typing", async () => {
    const { world: w, owner, orgId, events } = await ownerWithService("on-request", admitAll);
    const bob = await ask(w, orgId, "Bob");
    await w.advance(2 * 60 * 1000, 1_000);
    await bob.resync(orgId);
    await w.advance(2_000);
    expect(events.filter((e) => e.kind === "resync")).toMatchObject([{ member: bob.memberId }]);
    expect(bob.getOrganization(orgId).epoch).toBe(owner.getOrganization(orgId).epoch);
  });
});

describe("owner policies", () => {
  const acme = "a".repeat(64);
  const staff = "b".repeat(64);
  const keys: Record<string, string> = { Acme: acme, Staff: staff };
  const orgKey = (typed: string) => {
    const key = keys[typed];
    if (key === undefined) throw new Error(`unknown ${typed}`);
    return key;
  };

  it("reads --admit MODE and ORG=MODE; a mode for all drops the per-organization ones", () => {
    const flags = parseAdmitFlags(["Acme=all", "Staff=invited"]);
    const policy = applyAdmitFlags(defaultOwnerPolicy, flags, orgKey);
    expect(admitModeOf(policy, acme)).toBe("all");
    expect(admitModeOf(policy, staff)).toBe("invited");
    expect(admitModeOf(policy, "c".repeat(64))).toBe("none");
    const all = applyAdmitFlags(policy, parseAdmitFlags(["invited"]), orgKey);
    expect(all).toEqual({ admit: "invited", admitByOrg: {} });
    expect(() => parseAdmitFlags(["everyone"])).toThrow(/--admit takes none, all or invited/);
    expect(() => parseAdmitFlags(["=all"])).toThrow(/--admit takes/);
    expect(parseAdmitFlags(["a=b=all"])).toEqual([{ org: "a=b", mode: "all" }]);
  });

  it("says in a line when another device runs the organization as its owner too (halted)", async () => {
    const { world: w, owner, orgId, events } = await ownerWithService("on-request", admitAll);
    const original = w.peers.get("owner");
    if (original === undefined) throw new Error("no owner peer");
    // The owner's data directory copied to another machine and started there (a copy draws a new
    // device id): the two devices each write as owner while they cannot hear each other.
    const copy = copyMemoryStore(original.store);
    await copy.delete(ownerDeviceIdKey.space, ownerDeviceIdKey.key);
    const twin = await w.client("owner-twin", copy);
    const twinTransport = w.peers.get("owner-twin")?.transport;
    if (twinTransport === undefined) throw new Error("no twin peer");
    w.network.partition([[original.transport], [twinTransport]]);
    await owner.setTags(orgId, ["from-original"]);
    await twin.setTags(orgId, ["from-twin"]);
    await w.settle();
    w.network.heal();
    // The history sweep reads what the partition hid.
    await w.advance(10 * 60 * 1000, 5_000);
    const halted = events.filter((event) => event.kind === "halted");
    expect(halted).toEqual([
      { kind: "halted", organizationId: orgId, device: twin.ownerDevice(orgId).device },
    ]);
    expect(owner.ownerDevice(orgId).fork?.device).toBe(twin.ownerDevice(orgId).device);
  });

  it("remembers the policies in the profile and refuses a damaged file", () => {
    const dir = mkdtempSync(join(tmpdir(), "orgchat-policy-"));
    try {
      expect(readOwnerPolicy(dir)).toEqual(defaultOwnerPolicy);
      const policy: OwnerPolicy = { admit: "all", admitByOrg: { [acme]: "none" } };
      writeOwnerPolicy(dir, policy);
      expect(readOwnerPolicy(dir)).toEqual(policy);
      for (const broken of [
        "not json",
        "[]",
        '{"admit":"maybe","admitByOrg":{}}',
        '{"admit":"all","admitByOrg":{"Acme":"all"}}',
        '{"admit":"all","admitByOrg":{"__proto__":"all"}}',
      ]) {
        writeFileSync(join(dir, "owner-service.json"), broken);
        expect(() => readOwnerPolicy(dir)).toThrow(/is not an orgchat owner policy/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
