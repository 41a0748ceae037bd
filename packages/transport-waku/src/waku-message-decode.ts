/**
 * A fast path for decoding the 14/WAKU2-MESSAGE protobuf every relay node decodes once per received
 * message (the topic validator). It reads only the layout a Waku publisher writes — `payload`,
 * `content_topic` (ASCII), `version`, `timestamp`, then optionally `meta` and `ephemeral`, each once
 * and in field order — and answers `undefined` for anything else (another field, a repeated or
 * reordered one, a non-ASCII topic, an over-long varint, a truncation), which the caller then
 * decodes with `@waku/proto` as before. Where it answers, it answers what `@waku/proto` decodes
 * (the tests compare both on generated and mutated messages): it only skips building a protons
 * reader, and turning the content topic's bytes into a string through a UTF-8 decoder.
 *
 * @packageDocumentation
 */
import type { proto_message } from "@waku/proto";

/** Longest varint the fast path reads for a length, the version or a flag (up to 2^28 − 1). */
const maxShortVarintBytes = 4;
/** Longest varint the fast path reads for the timestamp (below 2^63). */
const maxLongVarintBytes = 9;

/** A varint read at `at`: its value and the offset after it; undefined when over `maxBytes`. */
function readVarint(
  bytes: Uint8Array,
  at: number,
  maxBytes: number,
): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < maxBytes; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return { value, next: at + i + 1 };
  }
  return undefined;
}

/** A 64-bit varint read at `at` as a bigint; undefined when over {@link maxLongVarintBytes}. */
function readVarint64(bytes: Uint8Array, at: number): { value: bigint; next: number } | undefined {
  let value = 0n;
  for (let i = 0; i < maxLongVarintBytes; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) return undefined;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return { value, next: at + i + 1 };
  }
  return undefined;
}

/** A length-delimited field's bytes at `at` (a view, as protons gives); undefined when truncated. */
function readBytes(bytes: Uint8Array, at: number): { value: Uint8Array; next: number } | undefined {
  const length = readVarint(bytes, at, maxShortVarintBytes);
  if (length === undefined) return undefined;
  const end = length.next + length.value;
  if (end > bytes.length) return undefined;
  return { value: bytes.subarray(length.next, end), next: end };
}

/** `bytes` as a string when every byte is ASCII (then UTF-8 decoding is the identity). */
function asciiString(bytes: Uint8Array): string | undefined {
  let text = "";
  for (const byte of bytes) {
    if (byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * Decodes `bytes` when they have the usual layout of a Waku message (see the module
 * documentation), else returns undefined: decode those with `proto_message.WakuMessage.decode`.
 * @param bytes - an encoded 14/WAKU2-MESSAGE
 * @returns the message as `@waku/proto` decodes it, or undefined (not the usual layout)
 */
export function decodeWakuMessageFast(bytes: Uint8Array): proto_message.WakuMessage | undefined {
  // payload (1, bytes), content_topic (2, string): both present, in this order.
  if (bytes[0] !== 10) return undefined;
  const payload = readBytes(bytes, 1);
  if (payload === undefined || bytes[payload.next] !== 18) return undefined;
  const topic = readBytes(bytes, payload.next + 1);
  if (topic === undefined) return undefined;
  const contentTopic = asciiString(topic.value);
  if (contentTopic === undefined) return undefined;
  // version (3, uint32), timestamp (10, sint64): both present, in this order.
  if (bytes[topic.next] !== 24) return undefined;
  const version = readVarint(bytes, topic.next + 1, maxShortVarintBytes);
  if (version === undefined || bytes[version.next] !== 80) return undefined;
  const zigzag = readVarint64(bytes, version.next + 1);
  if (zigzag === undefined) return undefined;
  const message: proto_message.WakuMessage = {
    payload: payload.value,
    contentTopic,
    version: version.value,
    timestamp: (zigzag.value >> 1n) ^ -(zigzag.value & 1n),
  };
  let at = zigzag.next;
  // meta (11, bytes), ephemeral (31, bool as one byte 0 or 1): optional, in this order.
  if (at < bytes.length && bytes[at] === 90) {
    const meta = readBytes(bytes, at + 1);
    if (meta === undefined) return undefined;
    message.meta = meta.value;
    at = meta.next;
  }
  if (at < bytes.length && bytes[at] === 0xf8 && bytes[at + 1] === 0x01) {
    const flag = bytes[at + 2];
    if (flag !== 0 && flag !== 1) return undefined;
    message.ephemeral = flag === 1;
    at += 3;
  }
  return at === bytes.length ? message : undefined;
}
