/**
 * The 14/WAKU2-MESSAGE format and its routing, as every orgchat node uses them: the default network
 * and limits, encoding, the relay validator's checks, the deterministic message hash, and which
 * pubsub topic (shard) a content topic travels on. Re-exported by `@orgchat/transport-waku/relay`.
 */
import { toHex } from "@orgchat/base";
import { InvalidContentTopicError } from "@orgchat/transport";
import type { AutoSharding, NetworkConfig } from "@waku/interfaces";
import { proto_message } from "@waku/proto";
import { createRoutingInfo, formatPubsubTopic, isAutoSharding } from "@waku/utils";
import type { WakuMessageRejection } from "./errors.js";
import { sha256 } from "./relay-hashes.js";
import { decodeWakuMessageFast } from "./waku-message-decode.js";

/**
 * The network every orgchat node joins unless told otherwise: a **private** cluster (55, after the spec
 * number; The Waku Network is cluster 1 and needs RLN to publish) with 8 auto-sharded shards, so the
 * shard of a message follows from its content topic's application and version fields.
 */
export const defaultNetworkConfig: AutoSharding = Object.freeze({
  clusterId: 55,
  numShardsInCluster: 8,
});

/** The largest payload The Waku Network accepts: nwaku's default `--max-msg-size` of 150 KiB (RFC 64). */
export const defaultMaxPayloadBytes = 153_600;

/**
 * Room for the rest of a 14/WAKU2-MESSAGE around a maximal payload: content topic (≤ 1024 characters
 * by `assertContentTopic`), timestamp, version, meta (≤ 64 bytes by spec), an RLN proof and the
 * protobuf tags.
 */
export const envelopeAllowanceBytes = 4096;

/** Default cap on an encoded message in the relay validator: 150 KiB of payload plus the envelope. */
export const defaultMaxMessageBytes = defaultMaxPayloadBytes + envelopeAllowanceBytes;

/** A decoded 14/WAKU2-MESSAGE (the `@waku/proto` type). `timestamp` is in nanoseconds. */
export type WakuMessage = proto_message.WakuMessage;

/** The fields of a message to encode; `timestampNs` defaults to now (ms precision). */
export interface WakuMessageFields {
  readonly contentTopic: string;
  readonly payload: Uint8Array;
  /** Nanoseconds since the Unix epoch. @default BigInt(Date.now()) * 1_000_000n */
  readonly timestampNs?: bigint;
  readonly meta?: Uint8Array;
  /** Store nodes do not keep ephemeral messages. @default false */
  readonly ephemeral?: boolean;
  /** 14/WAKU2-MESSAGE version (0 = plain payload). @default 0 */
  readonly version?: number;
}

const utf8 = new TextEncoder();
/** Scratch for {@link wakuMessageHash}'s big-endian timestamp (copied out at once: never shared). */
const timestampBytes = new Uint8Array(8);
const timestampView = new DataView(timestampBytes.buffer);

/**
 * Encodes a 14/WAKU2-MESSAGE. No checks: use {@link validateWakuMessage} or {@link WakuRelay.publishRaw}.
 * @returns the protobuf bytes
 */
export function encodeWakuMessage(fields: WakuMessageFields): Uint8Array {
  const { payload, meta, ephemeral } = fields;
  const topic = utf8.encode(fields.contentTopic);
  const version = fields.version ?? 0;
  const timestamp = zigzag64(fields.timestampNs ?? BigInt(Date.now()) * 1_000_000n);
  // The fields protons writes for `proto_message.WakuMessage`, in its order, with its rules (an
  // empty payload or content topic is left out): byte for byte what it encodes, without building
  // the message object and its writer for every message a node publishes.
  let size = 0;
  if (payload.length > 0) size += 1 + varintSize(payload.length) + payload.length;
  if (topic.length > 0) size += 1 + varintSize(topic.length) + topic.length;
  size += 1 + varintSize(version) + 1 + varint64Size(timestamp);
  if (meta !== undefined) size += 1 + varintSize(meta.length) + meta.length;
  if (ephemeral !== undefined) size += 3;
  const out = new Uint8Array(size);
  let at = 0;
  if (payload.length > 0) at = writeBytesField(out, at, 10, payload);
  if (topic.length > 0) at = writeBytesField(out, at, 18, topic);
  out[at++] = 24;
  at = writeVarint(out, at, version);
  out[at++] = 80;
  at = writeVarint64(out, at, timestamp);
  if (meta !== undefined) at = writeBytesField(out, at, 90, meta);
  if (ephemeral !== undefined) {
    out[at++] = 0xf8;
    out[at++] = 0x01;
    out[at++] = ephemeral ? 1 : 0;
  }
  return out;
}

/** Writes a length-delimited field (`tag`, length, bytes) at `at`; returns the offset after it. */
function writeBytesField(out: Uint8Array, at: number, tag: number, value: Uint8Array): number {
  out[at] = tag;
  const start = writeVarint(out, at + 1, value.length);
  out.set(value, start);
  return start + value.length;
}

/** Bytes of `value` (a uint32) as a protobuf varint. */
function varintSize(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest !== 0; rest >>>= 7) size += 1;
  return size;
}

/** Bytes of `value` (a uint64) as a protobuf varint. */
function varint64Size(value: bigint): number {
  let size = 1;
  for (let rest = value >> 7n; rest !== 0n; rest >>= 7n) size += 1;
  return size;
}

/** Writes `value` (a uint32) as a varint at `at`; returns the offset after it. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  let rest = value >>> 0;
  let offset = at;
  while (rest >= 0x80) {
    out[offset++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[offset++] = rest;
  return offset;
}

/** Writes `value` (a uint64) as a varint at `at`; returns the offset after it. */
function writeVarint64(out: Uint8Array, at: number, value: bigint): number {
  let rest = value;
  let offset = at;
  while (rest >= 0x80n) {
    out[offset++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  out[offset++] = Number(rest);
  return offset;
}

/** Protobuf `sint64` zigzag encoding of `value`, as the uint64 written on the wire. */
function zigzag64(value: bigint): bigint {
  const wrapped = BigInt.asIntN(64, value);
  return BigInt.asUintN(64, (wrapped << 1n) ^ (wrapped >> 63n));
}

/** Result of {@link validateWakuMessage}. */
export type WakuMessageValidation =
  | { readonly ok: true; readonly message: WakuMessage }
  | { readonly ok: false; readonly reason: WakuMessageRejection };

/**
 * The relay validator's checks, usable on their own (light push does the same before republishing):
 * a 14/WAKU2-MESSAGE protobuf, a non-empty content topic and payload, at most `maxMessageBytes` encoded.
 * @param bytes - the encoded message
 * @param maxMessageBytes - cap on `bytes.length` @default defaultMaxMessageBytes
 */
export function validateWakuMessage(
  bytes: Uint8Array,
  maxMessageBytes: number = defaultMaxMessageBytes,
): WakuMessageValidation {
  if (bytes.length > maxMessageBytes) return { ok: false, reason: "too-large" };
  let message: WakuMessage;
  try {
    message = decodeWakuMessageFast(bytes) ?? proto_message.WakuMessage.decode(bytes);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (!message.contentTopic) return { ok: false, reason: "missing-content-topic" };
  if (!message.payload || message.payload.length === 0) {
    return { ok: false, reason: "empty-payload" };
  }
  return { ok: true, message };
}

/**
 * The deterministic 14/WAKU2-MESSAGE hash: sha256 of pubsub topic, payload, content topic, meta and
 * timestamp (8 bytes big-endian, left out when 0 or absent), the same bytes as `messageHash` of
 * `@waku/core`, hashed incrementally (no concatenated copy of the message).
 * @param pubsubTopic - the pubsub topic the message travels on
 * @param message - the decoded message (only the hashed fields are read)
 * @returns the 32-byte hash
 */
export function wakuMessageHash(
  pubsubTopic: string,
  message: Pick<WakuMessage, "payload" | "contentTopic" | "meta" | "timestamp">,
): Uint8Array {
  // One buffer, one native hash call (see relay-hashes.ts): the same digest as hashing the parts
  // in turn. The topics are UTF-8-encoded straight into it (at most 3 bytes per UTF-16 unit).
  const { contentTopic, payload, meta, timestamp } = message;
  const room =
    3 * (pubsubTopic.length + contentTopic.length) +
    (payload?.length ?? 0) +
    (meta?.length ?? 0) +
    (timestamp ? 8 : 0);
  const input = new Uint8Array(room);
  let at = utf8.encodeInto(pubsubTopic, input).written;
  if (payload !== undefined) {
    input.set(payload, at);
    at += payload.length;
  }
  at += utf8.encodeInto(contentTopic, input.subarray(at)).written;
  if (meta !== undefined) {
    input.set(meta, at);
    at += meta.length;
  }
  if (timestamp) {
    timestampView.setBigInt64(0, timestamp, false);
    input.set(timestampBytes, at);
    at += 8;
  }
  return sha256(input.subarray(0, at));
}

/**
 * The deterministic 14/WAKU2-MESSAGE hash ({@link wakuMessageHash}), lowercase hex. It is the orgchat
 * message id and the Store v3 cursor.
 */
export function messageHashHex(pubsubTopic: string, message: WakuMessage): string {
  return toHex(wakuMessageHash(pubsubTopic, message));
}

/** @returns the message's timestamp in milliseconds (0 when the sender set none). */
export function wakuMessageTimestampMs(message: WakuMessage): number {
  return message.timestamp === undefined ? 0 : Number(message.timestamp / 1_000_000n);
}

/**
 * The pubsub topic (`/waku/2/rs/<cluster>/<shard>`) a content topic is routed on.
 * Auto-sharding: the shard follows from the content topic's application and version (RFC 51).
 * Static sharding: `shardId` is required.
 * @throws InvalidContentTopicError (auto-sharding, malformed topic), TypeError (static sharding without shardId)
 */
export function pubsubTopicFor(
  contentTopic: string,
  networkConfig: NetworkConfig = defaultNetworkConfig,
  shardId?: number,
): string {
  if (!isAutoSharding(networkConfig) && shardId === undefined) {
    throw new TypeError(
      "pubsubTopicFor: static sharding (networkConfig without numShardsInCluster) needs a shardId",
    );
  }
  try {
    return createRoutingInfo(
      networkConfig,
      shardId === undefined ? { contentTopic } : { contentTopic, shardId },
    ).pubsubTopic;
  } catch (error) {
    throw new InvalidContentTopicError(
      contentTopic,
      `not routable by auto-sharding (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/**
 * The pubsub topics a relay of this network joins: every shard of an auto-sharded cluster (so any
 * content topic can be published and received), or the given static shards.
 * @param shards - shard ids to join @default all shards (auto-sharding) or [0] (static sharding)
 * @throws RangeError when a shard id is not an integer in range
 */
export function shardPubsubTopics(
  networkConfig: NetworkConfig = defaultNetworkConfig,
  shards?: readonly number[],
): string[] {
  const count = isAutoSharding(networkConfig) ? networkConfig.numShardsInCluster : undefined;
  const ids = shards ?? (count === undefined ? [0] : Array.from({ length: count }, (_, i) => i));
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > 1023 || (count !== undefined && id >= count)) {
      throw new RangeError(
        `shard ${id} is not a shard of cluster ${networkConfig.clusterId}` +
          (count === undefined ? " (0..1023)" : ` (0..${count - 1})`),
      );
    }
  }
  return [...new Set(ids)].map((id) => formatPubsubTopic(networkConfig.clusterId, id));
}
