import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import type { Diagnostic } from "@orgchat/base";
import { messageHash as wakuCoreMessageHash } from "@waku/core";
import type { IProtoMessage } from "@waku/interfaces";
import { proto_message } from "@waku/proto";
import { createDecoder, WakuNode } from "@waku/sdk";
import { afterEach, describe, expect, it } from "vitest";
import {
  defaultMaxMessageBytes,
  defaultNetworkConfig,
  encodeWakuMessage,
  isWakuMessageRejectedError,
  messageHashHex,
  pubsubTopicFor,
  type RelayMessageContext,
  relayCodec,
  shardPubsubTopics,
  validateWakuMessage,
  type WakuMessage,
  WakuRelay,
  wakuMessageHash,
  wakuMessageTimestampMs,
} from "../src/relay.js";
import { messageIdKey, messageIdKeyMaxBytes, sha256, sha256IsNative } from "../src/relay-hashes.js";
import { link, nextValue, type RelayNode, startRelayNode } from "./relay-nodes.js";

const contentTopic = "/org-chat/1/relay-test/proto";
const pubsubTopic = pubsubTopicFor(contentTopic);
const bytesOf = (text: string) => new TextEncoder().encode(text);

const nodes: RelayNode[] = [];
async function node(options: Parameters<typeof startRelayNode>[1] = {}): Promise<RelayNode> {
  const started = await startRelayNode([pubsubTopic], options);
  nodes.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

interface Observed {
  readonly pubsubTopic: string;
  readonly message: WakuMessage;
  readonly bytes: Uint8Array;
  readonly local: boolean;
  readonly context: RelayMessageContext;
}
const observed = (relay: WakuRelay, accept?: (o: Observed) => boolean) =>
  nextValue<Observed>(
    (push) =>
      relay.observe((t, message, bytes, local, context) =>
        push({ pubsubTopic: t, message, bytes, local, context }),
      ),
    accept,
  );

describe("network helpers", () => {
  it("defaults to private cluster 55 with 8 auto-sharded shards", () => {
    expect(defaultNetworkConfig).toEqual({ clusterId: 55, numShardsInCluster: 8 });
    expect(shardPubsubTopics()).toEqual(
      Array.from({ length: 8 }, (_, shard) => `/waku/2/rs/55/${shard}`),
    );
  });

  it("routes a content topic by its application and version only", () => {
    const topic = pubsubTopicFor("/org-chat/1/a/proto");
    expect(topic).toMatch(/^\/waku\/2\/rs\/55\/[0-7]$/);
    expect(pubsubTopicFor("/org-chat/1/something-else/json")).toBe(topic);
    expect(pubsubTopicFor("/0/org-chat/1/a/proto")).toBe(topic);
  });

  it("uses the given shard under static sharding and refuses to guess one", () => {
    expect(pubsubTopicFor("/org-chat/1/a/proto", { clusterId: 7 }, 3)).toBe("/waku/2/rs/7/3");
    expect(() => pubsubTopicFor("/org-chat/1/a/proto", { clusterId: 7 })).toThrow(TypeError);
    expect(shardPubsubTopics({ clusterId: 7 })).toEqual(["/waku/2/rs/7/0"]);
    expect(shardPubsubTopics({ clusterId: 7 }, [2, 5])).toEqual([
      "/waku/2/rs/7/2",
      "/waku/2/rs/7/5",
    ]);
  });

  it("refuses malformed content topics and shards outside the cluster", () => {
    expect(() => pubsubTopicFor("not-a-topic")).toThrowError(
      expect.objectContaining({ name: "InvalidContentTopicError" }),
    );
    expect(() => shardPubsubTopics(defaultNetworkConfig, [8])).toThrow(RangeError);
    expect(() => shardPubsubTopics(defaultNetworkConfig, [-1])).toThrow(RangeError);
  });

  it("hashes like @waku/core's decoder (the id is the Store cursor)", async () => {
    const bytes = encodeWakuMessage({
      contentTopic,
      payload: bytesOf("x"),
      timestampNs: 1_700_000_000_123_456_789n,
    });
    const check = validateWakuMessage(bytes);
    if (!check.ok) throw new Error(check.reason);
    const decoder = createDecoder(contentTopic, { clusterId: 55, shardId: 0, pubsubTopic });
    const proto = await decoder.fromWireToProtoObj(bytes);
    if (!proto) throw new Error("the SDK decoder could not read the message");
    const decoded = await decoder.fromProtoObj(pubsubTopic, proto);
    expect(messageHashHex(pubsubTopic, check.message)).toBe(decoded?.hashStr);
    expect(messageHashHex(pubsubTopic, check.message)).toMatch(/^[0-9a-f]{64}$/);
    expect(wakuMessageTimestampMs(check.message)).toBe(1_700_000_000_123);
  });

  it.each([
    ["a plain message", { timestampNs: 1_700_000_000_123_456_789n }],
    ["meta", { timestampNs: 5n, meta: Uint8Array.of(1, 2, 3) }],
    ["timestamp 0 (left out of the hash)", { timestampNs: 0n }],
    ["a negative int64 timestamp", { timestampNs: -1n }],
    ["ephemeral, version 1", { timestampNs: 9n, ephemeral: true, version: 1 }],
  ])("wakuMessageHash hashes %s like @waku/core's messageHash", (_name, fields) => {
    const check = validateWakuMessage(
      encodeWakuMessage({ contentTopic, payload: bytesOf("payload"), ...fields }),
    );
    if (!check.ok) throw new Error(check.reason);
    const { payload, version, timestamp, meta, ephemeral } = check.message;
    const proto: IProtoMessage = {
      payload,
      contentTopic,
      version,
      timestamp,
      meta,
      ephemeral,
      rateLimitProof: undefined,
    };
    const expected = wakuCoreMessageHash(pubsubTopic, proto);
    expect(wakuMessageHash(pubsubTopic, check.message)).toEqual(expected);
    expect(wakuMessageHash("/waku/2/rs/55/1", check.message)).not.toEqual(expected);
  });
});

describe("wakuMessageHash and encodeWakuMessage against the SDK (seeded random messages)", () => {
  // xorshift32: the same 300 messages on every run.
  let seed = 0x9e3779b9;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const int = (below: number) => Math.floor(next() * below);
  const bytes = (length: number) => Uint8Array.from({ length }, () => int(256));
  // ASCII, Latin-1, CJK, a surrogate pair and a lone surrogate (UTF-8 turns it into U+FFFD).
  const pieces = ["a", "/", "Z", "é", "ß", "漢", "😀", "\ud800", "-", "0"];
  const text = (max: number) =>
    Array.from({ length: int(max) + 1 }, () => pieces[int(pieces.length)]).join("");
  const cases = Array.from({ length: 300 }, () => ({
    pubsubTopic: text(30),
    contentTopic: text(60),
    payload: bytes(1 + int(600)),
    meta: next() < 0.3 ? bytes(int(70)) : undefined,
    timestamp:
      next() < 0.1 ? undefined : BigInt.asIntN(64, BigInt(int(2 ** 32)) << BigInt(int(33))),
  }));

  it("hashes 300 messages (any UTF-16 topic, meta or none, any int64 timestamp) like @waku/core", () => {
    for (const { pubsubTopic: topic, contentTopic: content, payload, meta, timestamp } of cases) {
      const proto: IProtoMessage = {
        payload,
        contentTopic: content,
        version: 0,
        timestamp,
        meta,
        ephemeral: undefined,
        rateLimitProof: undefined,
      };
      const message = {
        payload,
        contentTopic: content,
        ...(meta === undefined ? {} : { meta }),
        ...(timestamp === undefined ? {} : { timestamp }),
      };
      expect(wakuMessageHash(topic, message)).toEqual(wakuCoreMessageHash(topic, proto));
    }
  });

  it("encodes the same 300 messages byte for byte like @waku/proto", () => {
    for (const { contentTopic: content, payload, meta, timestamp } of cases) {
      // protons writes a lone surrogate as its 3-byte CESU-8 form, TextEncoder (ours, and
      // @waku/core's hash) as U+FFFD: those topics differ on the wire, skip them here.
      if (/[\ud800-\udfff]/.test(content.replaceAll("😀", ""))) continue;
      // protons-runtime (@waku/proto's encoder) mis-encodes some negative sint64 (its own decoder
      // reads -464394704679600128 back as -464394708974567424; ours round-trips): compare the
      // timestamps a sender sets (≥ 0).
      const timestampNs = timestamp === undefined ? 1n : timestamp < 0n ? -timestamp : timestamp;
      const withMeta = meta === undefined ? {} : { meta };
      const ours = encodeWakuMessage({ contentTopic: content, payload, timestampNs, ...withMeta });
      const theirs = proto_message.WakuMessage.encode({
        payload,
        contentTopic: content,
        version: 0,
        timestamp: timestampNs,
        ...withMeta,
      });
      expect(ours).toEqual(theirs);
    }
  });
});

describe("validateWakuMessage", () => {
  it("accepts a well-formed message", () => {
    const result = validateWakuMessage(encodeWakuMessage({ contentTopic, payload: bytesOf("hi") }));
    expect(result.ok).toBe(true);
  });
  it.each([
    ["empty-payload", encodeWakuMessage({ contentTopic, payload: new Uint8Array() })],
    ["missing-content-topic", encodeWakuMessage({ contentTopic: "", payload: bytesOf("hi") })],
    ["malformed", Uint8Array.of(0xff, 0xff, 0xff)],
    [
      "too-large",
      encodeWakuMessage({ contentTopic, payload: new Uint8Array(defaultMaxMessageBytes) }),
    ],
  ])("rejects %s", (reason, bytes) => {
    expect(validateWakuMessage(bytes)).toEqual({ ok: false, reason });
  });
  it("applies the given cap to the encoded size", () => {
    const bytes = encodeWakuMessage({ contentTopic, payload: new Uint8Array(100) });
    expect(validateWakuMessage(bytes, bytes.length).ok).toBe(true);
    expect(validateWakuMessage(bytes, bytes.length - 1)).toEqual({
      ok: false,
      reason: "too-large",
    });
  });
});

describe("WakuRelay", () => {
  it("mounts gossipsub as Waku Relay with nwaku's settings", async () => {
    const a = await node();
    expect(a.relay.gossipSub.multicodecs).toEqual([relayCodec]);
    expect(a.relay.gossipSub.globalSignaturePolicy).toBe("StrictNoSign");
    expect(a.libp2p.getProtocols()).toContain(relayCodec);
    expect(a.relay.gossipSub.getTopics()).toEqual([pubsubTopic]);
  });

  it("refuses a libp2p node without the relay service", () => {
    expect(() => new WakuRelay({ services: {} }, [pubsubTopic])).toThrow(TypeError);
  });

  it("observes received messages (local false) and its own publishes (local true)", async () => {
    const [a, b] = [await node(), await node()];
    await link(b, a);
    const bytes = encodeWakuMessage({ contentTopic, payload: bytesOf("observed") });
    const atA = observed(a.relay);
    const atB = observed(b.relay);
    const result = await b.relay.publishRaw(pubsubTopic, bytes);
    expect(result.recipients.map(String)).toEqual([a.libp2p.peerId.toString()]);
    expect(result.duplicate).toBe(false);
    const [remote, local] = await Promise.all([atA, atB]);
    expect(remote.local).toBe(false);
    expect(local.local).toBe(true);
    // The propagation source of a received message; none for an own publish.
    expect(remote.context.from).toBe(b.libp2p.peerId.toString());
    expect(local.context.from).toBeUndefined();
    for (const seen of [remote, local]) {
      expect(seen.pubsubTopic).toBe(pubsubTopic);
      expect(seen.bytes).toEqual(bytes);
      expect(new TextDecoder().decode(seen.message.payload)).toBe("observed");
      expect(messageHashHex(pubsubTopic, seen.message)).toBe(result.messageHash);
      expect(seen.context.hashHex).toBe(result.messageHash);
      expect(seen.context.hash).toEqual(wakuMessageHash(pubsubTopic, seen.message));
    }
  });

  it("publishMessage encodes once, checks like publishRaw, and observers see the same message", async () => {
    const [a, b] = [await node({ relay: { maxMessageBytes: 1_000 } }), await node()];
    await link(b, a);
    const atA = observed(a.relay);
    const fields = { contentTopic, payload: bytesOf("built here"), timestampNs: 42_000_000n };
    const result = await b.relay.publishMessage(pubsubTopic, fields);
    expect(result.recipients.map(String)).toEqual([a.libp2p.peerId.toString()]);
    const seen = await atA;
    expect(seen.bytes).toEqual(encodeWakuMessage(fields));
    expect(seen.context.hashHex).toBe(result.messageHash);
    expect((await b.relay.publishMessage(pubsubTopic, fields)).duplicate).toBe(true);
    const reason = (f: Parameters<WakuRelay["publishMessage"]>[1]) =>
      a.relay.publishMessage(pubsubTopic, f).then(
        () => "published",
        (e: unknown) => (isWakuMessageRejectedError(e) ? e.reason : String(e)),
      );
    expect(await reason({ contentTopic, payload: new Uint8Array() })).toBe("empty-payload");
    expect(await reason({ contentTopic: "", payload: bytesOf("x") })).toBe("missing-content-topic");
    expect(await reason({ contentTopic, payload: new Uint8Array(1_000) })).toBe("too-large");
    await expect(a.relay.publishMessage("/waku/2/rs/55/7", fields)).rejects.toThrow(RangeError);
  });

  it("an observer's remove function stops its deliveries; one added during a delivery sees the next", async () => {
    const [a, b] = [await node(), await node()];
    await link(b, a);
    const seen: string[] = [];
    const text = (message: WakuMessage) => new TextDecoder().decode(message.payload);
    let removeLate: (() => void) | undefined;
    const removeFirst = b.relay.observe((_t, message) => {
      seen.push(`first ${text(message)}`);
      removeLate ??= b.relay.observe((_t2, later) => seen.push(`late ${text(later)}`));
    });
    const publish = (payload: string) =>
      b.relay.publishMessage(pubsubTopic, { contentTopic, payload: bytesOf(payload) });
    await publish("1");
    removeFirst();
    await publish("2");
    removeLate?.();
    await publish("3");
    expect(seen).toEqual(["first 1", "late 2"]);
  });

  it("never builds gossipsub 1.2 IDONTWANTs (a Waku relay speaks no /meshsub/1.2.0)", async () => {
    const a = await node();
    const opts = (a.relay.gossipSub as unknown as { opts: { idontwantMinDataSize: number } }).opts;
    expect(opts.idontwantMinDataSize).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("encodes a publish once for all its peers, and keys message ids with messageIdKey", async () => {
    const a = await node();
    expect(a.relay.gossipSub.opts.batchPublish).toBe(true);
    expect(a.relay.gossipSub.opts.msgIdToStrFn).toBe(messageIdKey);
  });

  it("drops empty payloads, missing content topics and oversize messages in its validator, reporting each", async () => {
    const diagnostics: Diagnostic[] = [];
    const a = await node({
      relay: { maxMessageBytes: 1_000, onDiagnostic: (d) => diagnostics.push(d) },
    });
    const b = await node({ relay: { maxMessageBytes: 10_000 } });
    await link(b, a);
    const seen: string[] = [];
    a.relay.observe((_t, message) =>
      seen.push(new TextDecoder().decode(message.payload.subarray(0, 6))),
    );
    const failure = new Error("observer bug");
    a.relay.observe(() => {
      throw failure;
    });
    const marker = observed(
      a.relay,
      (o) => new TextDecoder().decode(o.message.payload) === "marker",
    );
    // Bypass b's own checks: publish straight through gossipsub, as a misbehaving peer would.
    const raw = (bytes: Uint8Array) => b.relay.gossipSub.publish(pubsubTopic, bytes);
    await raw(encodeWakuMessage({ contentTopic, payload: new Uint8Array() }));
    await raw(encodeWakuMessage({ contentTopic: "", payload: bytesOf("no-topic") }));
    await raw(Uint8Array.of(0x0a, 0xff, 0xff));
    // Valid for b (cap 10,000), too large for a (cap 1,000).
    await b.relay.publishRaw(
      pubsubTopic,
      encodeWakuMessage({ contentTopic, payload: new Uint8Array(2_000).fill(65) }),
    );
    await b.relay.publishRaw(
      pubsubTopic,
      encodeWakuMessage({ contentTopic, payload: bytesOf("marker") }),
    );
    await marker;
    // Same stream, same order: everything before the marker has been validated.
    expect(seen).toEqual(["marker"]);
    // Every drop was reported, in order, and so was the observer that threw on the marker.
    expect(diagnostics.map((d) => d.reason)).toEqual([
      "rejected-empty-payload",
      "rejected-missing-content-topic",
      "rejected-malformed",
      "rejected-too-large",
      "observer-failed",
    ]);
    for (const d of diagnostics) {
      expect(d).toMatchObject({ component: "transport-waku/relay", topic: pubsubTopic });
    }
    expect(diagnostics.at(-1)?.error).toBe(failure);
  });

  it("delivers A→C across a 3-node chain A–B–C", async () => {
    const [a, b, c] = [await node(), await node(), await node()];
    await link(a, b);
    await link(c, b);
    expect(a.libp2p.getPeers().map(String)).toEqual([b.libp2p.peerId.toString()]);
    const atC = observed(c.relay);
    const bytes = encodeWakuMessage({ contentTopic, payload: bytesOf("two hops") });
    await a.relay.publishRaw(pubsubTopic, bytes);
    const seen = await atC;
    expect(seen.bytes).toEqual(bytes);
    expect(seen.local).toBe(false);
  });

  it("refuses unconfigured topics and invalid bytes in publishRaw, reports duplicates", async () => {
    const [a, b] = [await node(), await node()];
    await link(b, a);
    const bytes = encodeWakuMessage({ contentTopic, payload: bytesOf("once") });
    await expect(b.relay.publishRaw("/waku/2/rs/55/7", bytes)).rejects.toThrow(RangeError);
    const empty = encodeWakuMessage({ contentTopic, payload: new Uint8Array() });
    const error = await b.relay.publishRaw(pubsubTopic, empty).catch((e: unknown) => e);
    expect(isWakuMessageRejectedError(error)).toBe(true);
    expect((error as { reason: string }).reason).toBe("empty-payload");
    expect((await b.relay.publishRaw(pubsubTopic, bytes)).duplicate).toBe(false);
    const again = await b.relay.publishRaw(pubsubTopic, bytes);
    expect(again).toMatchObject({ duplicate: true, recipients: [] });
  });

  it("returns no recipients with no topic peer, unless zero peers are allowed", async () => {
    const a = await node();
    const bytes = encodeWakuMessage({ contentTopic, payload: bytesOf("alone") });
    expect(await a.relay.publishRaw(pubsubTopic, bytes)).toMatchObject({
      recipients: [],
      duplicate: false,
    });
    const local = observed(a.relay);
    expect(await a.relay.publishRaw(pubsubTopic, bytes, { allowZeroPeers: true })).toMatchObject({
      recipients: [],
      duplicate: false,
    });
    expect((await local).local).toBe(true);
  });

  it("waitForPeers times out with NoPeersError and aborts with AbortError, leaving no listener", async () => {
    const a = await node();
    const gossipSub = a.relay.gossipSub;
    const listeners = () =>
      ["gossipsub:heartbeat", "gossipsub:graft", "subscription-change"].map((type) =>
        gossipSub.listenerCount(type),
      );
    const before = listeners();
    await expect(a.relay.waitForPeers({ timeoutMs: 50 })).rejects.toMatchObject({
      name: "NoPeersError",
    });
    expect(listeners()).toEqual(before);
    const controller = new AbortController();
    const waiting = a.relay.waitForPeers({ signal: controller.signal, timeoutMs: 60_000 });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    expect(listeners()).toEqual(before);
    const b = await node();
    const meshed = a.relay.waitForPeers({ timeoutMs: 60_000 });
    await link(b, a);
    await meshed;
    expect(listeners()).toEqual(before);
    const stopped = a.relay.waitForPeers({ minPeers: 5 });
    a.relay.stop();
    await expect(stopped).rejects.toMatchObject({ name: "NoPeersError" });
    expect(listeners()).toEqual(before);
  });

  it("works as the relay of @waku/sdk's WakuNode (encoders, decoders, send, subscribe)", async () => {
    const [a, b] = [await node(), await node()];
    await link(b, a);
    const options = { networkConfig: defaultNetworkConfig };
    const waku = new WakuNode(options, b.libp2p, {}, b.relay);
    await waku.start();
    try {
      const decoder = waku.createDecoder({ contentTopic });
      const received = nextValue<string>((push) =>
        a.relay.subscribe(decoder, (m) => push(m.hashStr)),
      );
      const result = await waku.relay?.send(waku.createEncoder({ contentTopic }), {
        payload: bytesOf("sdk"),
      });
      expect(result?.failures).toEqual([]);
      expect(result?.successes.map(String)).toEqual([a.libp2p.peerId.toString()]);
      expect(await received).toMatch(/^[0-9a-f]{64}$/);
      const wrongShard = await waku.relay?.send(
        waku.createEncoder({ contentTopic: "/other-app/1/x/proto" }),
        { payload: bytesOf("x") },
      );
      expect(wrongShard?.failures).toEqual([{ error: "Topic not configured" }]);
    } finally {
      await waku.stop();
    }
  });
});

describe("encodeWakuMessage and sha256", () => {
  const payloads = [new Uint8Array(0), bytesOf("x"), new Uint8Array(300).fill(7)];
  it.each([
    ["plain", {}],
    ["meta", { meta: Uint8Array.of(1, 2, 3) }],
    ["empty meta", { meta: new Uint8Array(0) }],
    ["ephemeral true", { ephemeral: true }],
    ["ephemeral false", { ephemeral: false }],
    ["version 1", { version: 1 }],
    ["version 300", { version: 300 }],
    ["timestamp 0", { timestampNs: 0n }],
    ["timestamp -1", { timestampNs: -1n }],
    ["int64 max", { timestampNs: 2n ** 63n - 1n }],
    ["a negative timestamp", { timestampNs: -1_700_000_000_123_456_789n }],
    ["a large timestamp", { timestampNs: 1_700_000_000_123_456_789n }],
    ["an empty content topic", { contentTopic: "" }],
    ["a long content topic", { contentTopic: `/app/1/${"é".repeat(100)}/proto` }],
  ])("encodes %s byte for byte like @waku/proto (protons)", (_name, fields) => {
    for (const payload of payloads) {
      const message = { contentTopic, payload, timestampNs: 42n, ...fields };
      const reference: Partial<WakuMessage> = {
        payload: message.payload,
        contentTopic: message.contentTopic,
        version: "version" in message ? message.version : 0,
        timestamp: message.timestampNs,
      };
      if ("meta" in message) reference.meta = message.meta;
      if ("ephemeral" in message) reference.ephemeral = message.ephemeral;
      expect(encodeWakuMessage(message)).toEqual(proto_message.WakuMessage.encode(reference));
    }
  });

  it("hashes like @noble/hashes (native or not), as a plain Uint8Array", () => {
    for (const size of [0, 1, 55, 56, 64, 300, 5000]) {
      const data = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
      const digest = sha256(data);
      expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype);
      expect(digest).toEqual(nobleSha256(data));
    }
    // Node 22 has crypto.hash: the fast path is the one under test here.
    expect(sha256IsNative).toBe(true);
  });
});

describe("messageIdKey", () => {
  it("keys equal ids equally and different ids (of any length) differently", () => {
    const ids = [
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(0, 0),
      Uint8Array.of(255),
      nobleSha256(bytesOf("a")),
      nobleSha256(bytesOf("b")),
      new Uint8Array(messageIdKeyMaxBytes).fill(0x31),
      new Uint8Array(messageIdKeyMaxBytes + 1).fill(0x31),
      new Uint8Array(100_000).fill(7),
    ];
    const keys = ids.map(messageIdKey);
    expect(new Set(keys).size).toBe(ids.length);
    expect(ids.map((id) => messageIdKey(id.slice()))).toEqual(keys);
    for (const [i, id] of ids.entries()) {
      const key = keys[i] ?? "";
      if (id.length <= messageIdKeyMaxBytes) expect(key.length).toBe(id.length);
      else expect(key.length).toBeGreaterThan(2 * messageIdKeyMaxBytes);
    }
  });
});
