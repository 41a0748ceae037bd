/**
 * The 14/WAKU2-MESSAGE format and its routing, as every orgchat node uses them: the default network
 * and limits, encoding, the relay validator's checks, the deterministic message hash, and which
 * pubsub topic (shard) a content topic travels on. Re-exported by `@orgchat/transport-waku/relay`.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "@orgchat/base";
import { InvalidContentTopicError } from "@orgchat/transport";
import type { AutoSharding, NetworkConfig } from "@waku/interfaces";
import { proto_message } from "@waku/proto";
import { createRoutingInfo, formatPubsubTopic, isAutoSharding } from "@waku/utils";
import type { WakuMessageRejection } from "./errors.js";

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

/**
 * Encodes a 14/WAKU2-MESSAGE. No checks: use {@link validateWakuMessage} or {@link WakuRelay.publishRaw}.
 * @returns the protobuf bytes
 */
export function encodeWakuMessage(fields: WakuMessageFields): Uint8Array {
  const message: Partial<WakuMessage> = {
    payload: fields.payload,
    contentTopic: fields.contentTopic,
    version: fields.version ?? 0,
    timestamp: fields.timestampNs ?? BigInt(Date.now()) * 1_000_000n,
  };
  if (fields.meta !== undefined) message.meta = fields.meta;
  if (fields.ephemeral !== undefined) message.ephemeral = fields.ephemeral;
  return proto_message.WakuMessage.encode(message);
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
    message = proto_message.WakuMessage.decode(bytes);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (!message.contentTopic) return { ok: false, reason: "missing-content-topic" };
  if (!message.payload || message.payload.length === 0) {
    return { ok: false, reason: "empty-payload" };
  }
  return { ok: true, message };
}

const utf8 = new TextEncoder();

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
  const hash = sha256.create().update(utf8.encode(pubsubTopic));
  if (message.payload !== undefined) hash.update(message.payload);
  hash.update(utf8.encode(message.contentTopic));
  if (message.meta !== undefined) hash.update(message.meta);
  if (message.timestamp) {
    const timestamp = new Uint8Array(8);
    new DataView(timestamp.buffer).setBigInt64(0, message.timestamp, false);
    hash.update(timestamp);
  }
  return hash.digest();
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
