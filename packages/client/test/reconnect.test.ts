/**
 * Back online after an outage (issue #15, "Honest under outages"): when its transport goes from
 * offline to online, the client publishes what its outbox kept (a send whose publish failed
 * meanwhile) and reads from history what it missed live, without waiting for the periodic tick.
 */
import { memoryStore } from "@orgchat/store";
import {
  type MessageHandler,
  NoPeersError,
  type Transport,
  type TransportEvents,
  type TransportListener,
  type TransportStatus,
} from "@orgchat/transport";
import { afterEach, describe, expect, it } from "vitest";
import { type Client, createClient } from "../src/index.js";
import { orgWithMembers, received, seededProvider, seededRandom, World } from "./helpers.js";

/**
 * A memory transport whose service node can go away: while down, its status is `connecting`,
 * publishes fail with `NoPeersError` and live deliveries are lost (history still has them).
 */
class FlakyTransport implements Transport {
  readonly #inner: Transport;
  #down = false;
  readonly #listeners = new Set<TransportListener<"status:changed">>();

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  get capabilities() {
    return this.#inner.capabilities;
  }

  get status(): TransportStatus {
    return this.#down ? "connecting" : this.#inner.status;
  }

  down(): void {
    this.#down = true;
    for (const listener of this.#listeners) listener({ status: "connecting", peers: 0 });
  }

  up(): void {
    this.#down = false;
    for (const listener of this.#listeners) listener({ status: "online", peers: 1 });
  }

  start: Transport["start"] = (options) => this.#inner.start(options);
  stop: Transport["stop"] = (options) => this.#inner.stop(options);
  publish: Transport["publish"] = async (topic, payload, options) => {
    if (this.#down) throw new NoPeersError("the service node is away (test)");
    return this.#inner.publish(topic, payload, options);
  };
  subscribe: Transport["subscribe"] = (topics, handler: MessageHandler, options) =>
    this.#inner.subscribe(
      topics,
      (message) => {
        if (!this.#down) return handler(message);
      },
      options,
    );
  /** History queries made (what a catch-up costs). */
  queries = 0;
  queryHistory: Transport["queryHistory"] = (query, options) => {
    this.queries++;
    return this.#inner.queryHistory(query, options);
  };
  on<K extends keyof TransportEvents>(event: K, listener: TransportListener<K>): () => void {
    if (event !== "status:changed") return this.#inner.on(event, listener);
    const status = listener as TransportListener<"status:changed">;
    this.#listeners.add(status);
    const off = this.#inner.on("status:changed", (payload) => {
      if (!this.#down) status(payload);
    });
    return () => {
      this.#listeners.delete(status);
      off();
    };
  }
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** An owner's encrypted organization with #general, and alice, a member on a {@link FlakyTransport}. */
async function aliceOnFlakyTransport(w: World) {
  const { owner, orgId } = await orgWithMembers(w, []);
  const flaky = new FlakyTransport(w.network.transport({ name: "alice", history: true }));
  const random = seededRandom(99);
  const alice: Client = await createClient({
    transport: flaky,
    store: memoryStore(),
    now: w.time.now,
    timers: w.time.timers,
    random,
    provider: seededProvider(random),
    // No periodic tick: only the reconnection can republish.
    config: { ...w.config, republishIntervalMs: 0 },
  });
  const settle = async () => {
    await w.settle();
    await alice.idle();
    await w.settle();
  };
  await alice.discover(orgId);
  const requestId = await alice.requestToJoin(orgId, { displayName: "alice" });
  await settle();
  await owner.client.acceptRequest(orgId, requestId);
  await settle();
  expect(alice.getOrganization(orgId).role).toBe("member");
  return { owner, orgId, alice, flaky, settle };
}

describe("back online", () => {
  it("sends what the outbox kept and reads what it missed, at once, without the tick", async () => {
    world = new World();
    const { owner, orgId, alice, flaky, settle } = await aliceOnFlakyTransport(world);
    const aliceGot: string[] = [];
    alice.on("message:received", ({ message }) => {
      if (!message.own) aliceGot.push(message.text);
    });
    const errors: unknown[] = [];
    alice.on("error", ({ error }) => errors.push(error));

    flaky.down();
    const sent = await alice.sendMessage(orgId, "general", "typed while away");
    expect(errors.some((error) => error instanceof NoPeersError)).toBe(true);
    await owner.client.sendMessage(orgId, "general", "said while alice was away");
    await settle();
    expect(received(owner, orgId)).not.toContain("typed while away");
    expect(aliceGot).not.toContain("said while alice was away");

    flaky.up();
    await settle();
    expect(received(owner, orgId)).toContain("typed while away");
    expect(aliceGot).toContain("said while alice was away");
    // Published once more at most: the owner shows it once.
    expect(received(owner, orgId).filter((text) => text === sent.text)).toHaveLength(1);
    await alice.close();
  });

  it("a connection that flaps costs at most two catch-ups, not one per return", async () => {
    world = new World();
    const { alice, flaky, settle } = await aliceOnFlakyTransport(world);
    flaky.down();
    flaky.up();
    await settle();
    const once = flaky.queries;
    expect(once).toBeGreaterThan(0);
    flaky.queries = 0;
    for (let i = 0; i < 50; i++) {
      flaky.down();
      flaky.up();
    }
    await settle();
    expect(flaky.queries).toBeGreaterThan(0);
    expect(flaky.queries).toBeLessThanOrEqual(2 * once);
    await alice.close();
  });
});
