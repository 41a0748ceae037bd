/**
 * A relay stream that breaks while its connection stays open (`src/relay-streams.ts`): gossipsub
 * alone keeps the dead stream or forgets the peer, and the receiver gets nothing more for the life of
 * the connection. Every wait here is on an event; the timeouts are safety nets only.
 */

import type { Connection } from "@libp2p/interface";
import type { Diagnostic } from "@orgchat/base";
import type { Libp2p } from "@waku/interfaces";
import { afterEach, describe, expect, it } from "vitest";
import { pubsubTopicFor, type WakuTransport, wakuRelayTransport } from "../src/index.js";
import type { WakuRelay } from "../src/relay.js";

const topic = "/org-chat/1/broken-stream/proto";
const pubsubTopic = pubsubTopicFor(topic);
const safetyMs = 60_000;

const started: WakuTransport[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.stop()));
});

/** The WakuRelay under a started relay transport. */
function relayOf(transport: WakuTransport): WakuRelay {
  const relay = (transport as WakuTransport & { readonly relay?: WakuRelay }).relay;
  if (!relay) throw new Error("a started relay transport has a relay");
  return relay;
}

/** Gossipsub's stream tables (run-time fields of the pinned 14.1.x). */
interface StreamTables {
  readonly streamsOutbound: Map<string, { readonly rawStream: { abort(error: Error): void } }>;
  readonly streamsInbound: Map<string, { readonly rawStream: { abort(error: Error): void } }>;
}
const tablesOf = (transport: WakuTransport) =>
  relayOf(transport).gossipSub as unknown as StreamTables;

/** Resolves when `holds()` is true, checked on every event `on` reports; rejects after `safetyMs`. */
function until(
  holds: () => boolean,
  on: (changed: () => void) => () => void,
  what: string,
): Promise<void> {
  if (holds()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`safety timeout (${safetyMs} ms): ${what}`));
    }, safetyMs);
    const off = on(() => {
      if (!holds()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Re-checks on every heartbeat and subscription change of either node's gossipsub. */
function onRelayChange(...transports: WakuTransport[]) {
  return (changed: () => void) => {
    const offs = transports.flatMap((t) => {
      const gs = relayOf(t).gossipSub;
      const listener = () => changed();
      gs.addEventListener("gossipsub:heartbeat", listener);
      gs.addEventListener("subscription-change", listener);
      return [
        () => gs.removeEventListener("gossipsub:heartbeat", listener),
        () => gs.removeEventListener("subscription-change", listener),
      ];
    });
    return () => {
      for (const off of offs) off();
    };
  };
}

/** Alice listens, bob dials her (she is his bootstrap peer); both joined and meshed. */
async function pair() {
  const alice = wakuRelayTransport({ mode: "relay", heartbeatIntervalMs: 100 });
  started.push(alice);
  await alice.start();
  const bob = wakuRelayTransport({
    mode: "relay",
    heartbeatIntervalMs: 100,
    peers: [...alice.multiaddrs],
  });
  started.push(bob);
  await bob.start();
  const texts: string[] = [];
  const received = new Set<() => void>();
  await bob.subscribe([topic], (m) => {
    texts.push(new TextDecoder().decode(m.payload));
    for (const wake of received) wake();
  });
  const diagnostics: Diagnostic[] = [];
  for (const t of [alice, bob]) t.on("diagnostic", (d) => void diagnostics.push(d));
  return {
    alice,
    bob,
    texts,
    diagnostics,
    onReceived: (changed: () => void) => {
      received.add(changed);
      return () => void received.delete(changed);
    },
  };
}

/** Both see each other on the shard, outbound streams open both ways. */
function linked(alice: WakuTransport, bob: WakuTransport): boolean {
  const a = relayOf(alice);
  const b = relayOf(bob);
  const aliceId = alice.peerId ?? "";
  const bobId = bob.peerId ?? "";
  return (
    a.getTopicPeers(pubsubTopic).some((p) => p.toString() === bobId) &&
    b.getTopicPeers(pubsubTopic).some((p) => p.toString() === aliceId) &&
    tablesOf(alice).streamsOutbound.has(bobId) &&
    tablesOf(bob).streamsOutbound.has(aliceId)
  );
}

describe("relay: a stream broken on a live connection", () => {
  it.each([
    [
      "alice's outbound stream to bob is reset (as a muxer resets a stream whose reader lags)",
      (alice: WakuTransport, bob: WakuTransport) =>
        tablesOf(alice)
          .streamsOutbound.get(bob.peerId ?? "")
          ?.rawStream.abort(new Error("injected reset")),
    ],
    [
      "bob's inbound stream from alice fails",
      (alice: WakuTransport, bob: WakuTransport) =>
        tablesOf(bob)
          .streamsInbound.get(alice.peerId ?? "")
          ?.rawStream.abort(new Error("injected read error")),
    ],
  ])(
    "%s: the peer is hung up and redialed, and bob receives again",
    async (_what, breakStream) => {
      const { alice, bob, texts, diagnostics, onReceived } = await pair();
      await until(() => linked(alice, bob), onRelayChange(alice, bob), "alice and bob linked");
      await alice.publish(topic, new TextEncoder().encode("before"));
      await until(() => texts.includes("before"), onReceived, "bob receives before the break");

      const disconnected = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`safety timeout (${safetyMs} ms): the connection stayed up`)),
          safetyMs,
        );
        const { libp2p } = (alice as unknown as { readonly session: { readonly libp2p: Libp2p } })
          .session;
        libp2p.addEventListener("peer:disconnect", (event) => {
          if (event.detail.toString() !== bob.peerId) return;
          clearTimeout(timer);
          resolve();
        });
      });
      breakStream(alice, bob);
      // Nothing disconnects by itself: gossipsub only repairs its streams on a disconnect.
      await disconnected;
      await until(
        () => linked(alice, bob),
        onRelayChange(alice, bob),
        "alice and bob linked again",
      );
      const after = Array.from({ length: 20 }, (_, i) => `after ${i}`);
      for (const text of after) await alice.publish(topic, new TextEncoder().encode(text));
      await until(
        () => after.every((text) => texts.includes(text)),
        onReceived,
        "bob receives every message sent after the break",
      );
      expect(diagnostics.map((d) => d.reason).filter((r) => r.startsWith("hung-up-"))).not.toEqual(
        [],
      );
    },
    180_000,
  );
});

describe("relay: a peer back on a new connection while the old one lingers", () => {
  it("moves both streams to the new connection: closing the old loses nothing, hangs up nobody", async () => {
    const { alice, bob, texts, diagnostics, onReceived } = await pair();
    await until(() => linked(alice, bob), onRelayChange(alice, bob), "alice and bob linked");
    const libp2pOf = (t: WakuTransport) =>
      (t as unknown as { readonly session: { readonly libp2p: Libp2p } }).session.libp2p;
    const [old] = libp2pOf(bob).getConnections();
    const [aliceOld] = libp2pOf(alice).getConnections();
    if (old === undefined || aliceOld === undefined) throw new Error("bob and alice are connected");
    // A second connection, as when bob redials a peer whose end of the first is dead to him but
    // not yet to her (a WebSocket takes a while to finish closing; a stalled peer's much longer).
    const fresh = await libp2pOf(bob).dial(old.remoteAddr, { force: true });
    expect(fresh.id).not.toBe(old.id);
    /** Whether `t`'s outbound stream to `peer` is on a connection other than `stale`. */
    const movedOff = (t: WakuTransport, peer: string | undefined, stale: Connection) => {
      const raw = (
        tablesOf(t).streamsOutbound.get(peer ?? "") as unknown as { rawStream: unknown } | undefined
      )?.rawStream;
      return (
        raw !== undefined &&
        !stale.streams.includes(raw as never) &&
        libp2pOf(t)
          .getConnections()
          .some((c) => c !== stale && c.streams.includes(raw as never))
      );
    };
    await until(
      () => movedOff(bob, alice.peerId, old) && movedOff(alice, bob.peerId, aliceOld),
      onRelayChange(alice, bob),
      "both outbound streams on the new connection",
    );
    await old.close();
    const after = Array.from({ length: 20 }, (_, i) => `after ${i}`);
    for (const text of after) await alice.publish(topic, new TextEncoder().encode(text));
    await until(
      () => after.every((text) => texts.includes(text)),
      onReceived,
      "bob receives every message sent after the old connection closed",
    );
    expect(diagnostics.filter((d) => d.reason.startsWith("hung-up-"))).toEqual([]);
  }, 180_000);
});
