import type { PeerId } from "@libp2p/interface";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type ConnectionUpkeepInit,
  connectionMonitorInit,
  connectionUpkeep,
  maxPingTimeoutMs,
  minPingTimeoutMs,
  PeerIdMismatchError,
  pingIntervalMs,
  redialBackoff,
  type UpkeepNode,
} from "../src/connection-upkeep.js";
import { offlineNodeOptions } from "../src/node-options.js";
import { defaultNetworkConfig } from "../src/waku-message.js";

// Real peer ids (the multiaddr parser checks them); the fake node never does crypto with them.
const idA = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
const idB = "12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5";
const addressA = multiaddr(`/ip4/127.0.0.1/tcp/1/ws/p2p/${idA}`);
const addressB = multiaddr(`/ip4/127.0.0.1/tcp/2/ws/p2p/${idB}`);

const peer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId;

/**
 * A libp2p stand-in: each dial waits until the test settles it with `accept`/`refuse`, so every step
 * happens when the test says so (fake timers drive the backoff).
 */
class FakeNode implements UpkeepNode {
  readonly dials: { address: string; signal: AbortSignal; settle: (ok: boolean) => void }[] = [];
  readonly hungUp: string[] = [];
  readonly #target = new EventTarget();
  /** `status` of the connections dials resolve to. */
  status = "open";

  dial(address: Multiaddr, options: { signal: AbortSignal }) {
    return new Promise<{ remotePeer: PeerId; status: string }>((resolve, reject) => {
      this.dials.push({
        address: address.toString(),
        signal: options.signal,
        settle: (ok) =>
          ok
            ? resolve({ remotePeer: peer(address.getPeerId() ?? "?"), status: this.status })
            : reject(new Error("connection refused")),
      });
      options.signal.addEventListener("abort", () => reject(options.signal.reason), {
        once: true,
      });
    });
  }

  async hangUp(peerId: PeerId): Promise<void> {
    this.hungUp.push(peerId.toString());
    this.emit("peer:disconnect", peerId.toString());
  }

  addEventListener(type: string, listener: (event: CustomEvent<PeerId>) => void): void {
    this.#target.addEventListener(type, listener as (event: Event) => void);
  }

  removeEventListener(type: string, listener: (event: CustomEvent<PeerId>) => void): void {
    this.#target.removeEventListener(type, listener as (event: Event) => void);
  }

  emit(type: "peer:connect" | "peer:disconnect", id: string): void {
    this.#target.dispatchEvent(new CustomEvent(type, { detail: peer(id) }));
  }

  /** Settles the oldest unsettled dial and lets its continuation run. */
  async settleNext(ok: boolean): Promise<string> {
    const dial = this.dials.shift();
    if (!dial) throw new Error("no dial in flight");
    dial.settle(ok);
    await vi.advanceTimersByTimeAsync(0);
    return dial.address;
  }
}

function setup(init: Partial<ConnectionUpkeepInit> = {}) {
  const node = new FakeNode();
  const upkeep = connectionUpkeep(
    { peers: [addressA], initialDelayMs: 100, maxDelayMs: 1_000, ...init },
    { libp2p: node },
  );
  const delays: number[] = [];
  upkeep.on("redial:scheduled", ({ delayMs }) => delays.push(delayMs));
  return { node, upkeep, delays };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("libp2p connection monitor", () => {
  it("every node waits 30 s for a ping before aborting a connection (libp2p's floor is 5 s)", () => {
    expect(minPingTimeoutMs).toBe(30_000);
    expect(connectionMonitorInit.pingTimeout).toEqual({ minTimeout: 30_000, maxTimeout: 60_000 });
    // One ping at a time per connection: libp2p allows one outbound ping stream, and a ping due
    // while the last one still waits fails at once and aborts the connection.
    expect(connectionMonitorInit.pingInterval).toBe(pingIntervalMs);
    expect(pingIntervalMs).toBeGreaterThan(maxPingTimeoutMs);
    // Relay and light transports both start from these options.
    const options = offlineNodeOptions({
      networkConfig: defaultNetworkConfig,
      listen: [],
      transports: [],
      privateKey: undefined,
    });
    expect((options.libp2p as { connectionMonitor?: unknown }).connectionMonitor).toBe(
      connectionMonitorInit,
    );
  });
});

describe("connectionUpkeep", () => {
  it("dials every bootstrap peer at start, once", () => {
    const { node, upkeep } = setup({ peers: [addressA, addressB] });
    upkeep.start();
    upkeep.start();
    expect(node.dials.map((d) => d.address)).toEqual([addressA.toString(), addressB.toString()]);
    upkeep.stop();
  });

  it("redials a peer that cannot be reached with doubling delays up to the maximum", async () => {
    const { node, upkeep, delays } = setup();
    upkeep.start();
    for (let attempt = 0; attempt < 6; attempt += 1) {
      await node.settleNext(false);
      expect(node.dials).toHaveLength(0);
      // Not a moment before the delay…
      await vi.advanceTimersByTimeAsync((delays.at(-1) ?? 0) - 1);
      expect(node.dials).toHaveLength(0);
      // …and right at it.
      await vi.advanceTimersByTimeAsync(1);
      expect(node.dials).toHaveLength(1);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    upkeep.stop();
  });

  it('restarts the backoff after a successful dial ("dialed", the default)', async () => {
    const { node, upkeep, delays } = setup();
    const dialed: string[] = [];
    upkeep.on("peer:dialed", ({ peerId }) => dialed.push(peerId));
    upkeep.start();
    await node.settleNext(false);
    await vi.advanceTimersByTimeAsync(100);
    await node.settleNext(false);
    await vi.advanceTimersByTimeAsync(200);
    await node.settleNext(true);
    expect(dialed).toEqual([idA]);
    node.emit("peer:disconnect", idA);
    expect(delays).toEqual([100, 200, 100]);
    upkeep.stop();
  });

  it('keeps backing off a peer that connects but is never confirmed ("confirmed")', async () => {
    const { node, upkeep, delays } = setup({ resetBackoffOn: "confirmed" });
    upkeep.start();
    await node.settleNext(true);
    node.emit("peer:disconnect", idA);
    await vi.advanceTimersByTimeAsync(100);
    await node.settleNext(true);
    node.emit("peer:disconnect", idA);
    await vi.advanceTimersByTimeAsync(200);
    await node.settleNext(true);
    // Confirmed during this connection: the next drop redials quickly again.
    upkeep.confirm(idA);
    node.emit("peer:disconnect", idA);
    expect(delays).toEqual([100, 200, 100]);
    upkeep.stop();
  });

  it("redials when the dialed connection is already closed", async () => {
    const { node, upkeep, delays } = setup();
    node.status = "closed";
    upkeep.start();
    await node.settleNext(true);
    expect(delays).toEqual([100]);
    upkeep.stop();
  });

  it("ignores drops of peers it does not keep, and schedules one redial per peer at a time", async () => {
    const { node, upkeep, delays } = setup();
    upkeep.start();
    await node.settleNext(true);
    node.emit("peer:disconnect", idB);
    expect(delays).toEqual([]);
    node.emit("peer:disconnect", idA);
    node.emit("peer:disconnect", idA);
    expect(delays).toEqual([100]);
    upkeep.stop();
  });

  it("learns the peer id of an address without /p2p at the first dial", async () => {
    const bare = multiaddr("/ip4/127.0.0.1/tcp/3/ws");
    const node = new FakeNode();
    node.dial = (address, options) =>
      FakeNode.prototype.dial.call(node, multiaddr(`${address.toString()}/p2p/${idB}`), options);
    const upkeep = connectionUpkeep({ peers: [bare] }, { libp2p: node });
    expect(upkeep.peers).toEqual([{ address: bare, peerId: undefined }]);
    upkeep.start();
    await node.settleNext(true);
    expect(upkeep.peers).toEqual([{ address: bare, peerId: idB }]);
    upkeep.stop();
  });

  it("refuses a node whose peer id is not the address's: hangs it up, reports it, redials with backoff", async () => {
    const node = new FakeNode();
    // Whoever listens at A's address is B.
    node.dial = (_address, options) => FakeNode.prototype.dial.call(node, addressB, options);
    const upkeep = connectionUpkeep(
      { peers: [addressA], initialDelayMs: 100, maxDelayMs: 1_000 },
      { libp2p: node },
    );
    const failures: unknown[] = [];
    const dialed: string[] = [];
    upkeep.on("dial:failed", ({ error }) => failures.push(error));
    upkeep.on("peer:dialed", ({ peerId }) => dialed.push(peerId));
    const delays: number[] = [];
    upkeep.on("redial:scheduled", ({ delayMs }) => delays.push(delayMs));
    upkeep.start();
    await node.settleNext(true);
    expect(node.hungUp).toEqual([idB]);
    expect(dialed).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(PeerIdMismatchError);
    expect(failures[0]).toMatchObject({ expected: idA, actual: idB });
    // The impostor's id is not learnt: the peer is still A.
    expect(upkeep.peers).toEqual([{ address: addressA, peerId: idA }]);
    // The disconnect of the hang-up must not schedule a second redial.
    expect(delays).toEqual([100]);
    await vi.advanceTimersByTimeAsync(100);
    await node.settleNext(true);
    expect(delays).toEqual([100, 200]);
    upkeep.stop();
  });

  it("stop() aborts dials in flight, cancels pending redials and stops listening", async () => {
    const { node, upkeep, delays } = setup({ peers: [addressA, addressB] });
    const failures: unknown[] = [];
    upkeep.on("dial:failed", ({ error }) => failures.push(error));
    upkeep.start();
    await node.settleNext(false);
    expect(delays).toEqual([100]);
    const inFlight = node.dials[0];
    upkeep.stop();
    expect(inFlight?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    node.emit("peer:disconnect", idA);
    // The aborted dial is not reported as a failure and nothing is redialed after stop().
    expect(failures).toHaveLength(1);
    expect(delays).toEqual([100]);
    expect(node.dials).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("hangs up a peer still silent after the grace period, and only then", async () => {
    const silent = new Set([idA]);
    const { node, upkeep, delays } = setup({
      silentPeers: { graceMs: 2_000, isSilent: (p) => silent.has(p.toString()) },
    });
    const hungUp: string[] = [];
    upkeep.on("peer:hung-up", ({ peerId }) => hungUp.push(peerId));
    upkeep.start();
    await node.settleNext(true);
    node.emit("peer:connect", idA);
    node.emit("peer:connect", idB);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(node.hungUp).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    // idB spoke in time (it is not silent); idA did not and, being a bootstrap peer, is redialed.
    expect(node.hungUp).toEqual([idA]);
    expect(hungUp).toEqual([idA]);
    expect(delays).toEqual([100]);
    upkeep.stop();
  });

  it("forgets the silence check of a peer that disconnects first", async () => {
    const { node, upkeep } = setup({ silentPeers: { graceMs: 2_000, isSilent: () => true } });
    upkeep.start();
    await node.settleNext(true);
    node.emit("peer:connect", idB);
    node.emit("peer:disconnect", idB);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(node.hungUp).toEqual([]);
    upkeep.stop();
  });

  it("checks its options", () => {
    expect(() => redialBackoff({ initialDelayMs: 0 })).toThrow(RangeError);
    expect(() => redialBackoff({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(
      "reconnect delays must satisfy 0 < initialDelayMs <= maxDelayMs, got 500 and 100",
    );
    expect(redialBackoff(undefined)).toEqual({ initialDelayMs: 250, maxDelayMs: 10_000 });
    expect(redialBackoff({ maxDelayMs: 30_000 })).toEqual({
      initialDelayMs: 250,
      maxDelayMs: 30_000,
    });
    expect(() =>
      connectionUpkeep(
        { peers: [], silentPeers: { graceMs: 0, isSilent: () => true } },
        { libp2p: new FakeNode() },
      ),
    ).toThrow(RangeError);
  });
});
