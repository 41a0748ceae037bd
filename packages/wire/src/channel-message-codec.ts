/**
 * A direct encoder of `ChannelMessage` (every message a client sends on a channel): the bytes
 * protobuf-es's `toBinary` writes for the same message (field order, implicit-presence defaults
 * left out, a set oneof case always written), without its reflection. `encodeChannelMessage` uses
 * it for plain init objects; a message made by `create()` (which may carry unknown fields) and any
 * value outside the usual shapes go the generic way (`encodeMessage`).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ChannelMessage, ChannelMessageSchema } from "./gen/orgchat/v1/client_pb.js";

type ChannelMessageInit = MessageInitShape<typeof ChannelMessageSchema>;

const utf8 = new TextEncoder();
const empty = new Uint8Array(0);
const maxUint64 = (1n << 64n) - 1n;
const channelMessageType = "orgchat.v1.ChannelMessage";

/**
 * The fields of a `ChannelMessage` init with protobuf's defaults filled in.
 * @param init - what `encodeChannelMessage` was given
 * @returns the full message, or `undefined` for a message made by `create()` or a value outside the
 *   usual shapes (the generic encoder judges those)
 */
export function channelMessageFields(init: ChannelMessageInit): ChannelMessage | undefined {
  if ("$typeName" in init) return undefined;
  const clock = init.clock ?? 0n;
  const sentAt = init.sentAt ?? 0n;
  if (typeof clock !== "bigint" || typeof sentAt !== "bigint") return undefined;
  const organizationId = init.organizationId ?? empty;
  const author = init.author ?? empty;
  const channelId = init.channelId ?? "";
  if (!(organizationId instanceof Uint8Array) || !(author instanceof Uint8Array)) return undefined;
  if (typeof channelId !== "string") return undefined;
  const body = init.body;
  let full: ChannelMessage["body"];
  if (body === undefined || body.case === undefined) {
    full = { case: undefined };
  } else {
    const value = body.value as Record<string, unknown> | undefined;
    if (value === undefined || value === null || "$typeName" in value) return undefined;
    const text = value.text ?? "";
    const messageId = value.messageId ?? "";
    if (typeof text !== "string" || typeof messageId !== "string") return undefined;
    switch (body.case) {
      case "post": {
        const replyTo = value.replyTo ?? "";
        if (typeof replyTo !== "string") return undefined;
        full = {
          case: "post",
          value: { $typeName: "orgchat.v1.ChannelPost", text, replyTo },
        };
        break;
      }
      case "edit":
        full = { case: "edit", value: { $typeName: "orgchat.v1.ChannelEdit", messageId, text } };
        break;
      case "delete":
        full = { case: "delete", value: { $typeName: "orgchat.v1.ChannelDelete", messageId } };
        break;
      case "pin": {
        const pinned = value.pinned ?? false;
        if (typeof pinned !== "boolean") return undefined;
        full = { case: "pin", value: { $typeName: "orgchat.v1.ChannelPin", messageId, pinned } };
        break;
      }
      default:
        return undefined;
    }
  }
  return {
    $typeName: channelMessageType,
    organizationId,
    channelId,
    author,
    clock,
    sentAt,
    body: full,
  };
}

/** Bytes of the unsigned LEB128 (protobuf varint) of `value` (0 ≤ value < 2^64). */
function varintSize(value: bigint | number): number {
  let size = 1;
  if (typeof value === "number") {
    for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
    return size;
  }
  // Clocks and times fit a safe integer: counted without bigint arithmetic (which allocates).
  if (value <= maxSafe) return varintSize(Number(value));
  for (let rest = value; rest >= 0x80n; rest >>= 7n) size++;
  return size;
}

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/** Where {@link writeChannelMessage} writes, and how far. */
interface Out {
  readonly bytes: Uint8Array;
  at: number;
}

function writeVarint(out: Out, value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.bytes[out.at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out.bytes[out.at++] = rest;
}

function writeBigVarint(out: Out, value: bigint): void {
  if (value <= maxSafe) {
    writeVarint(out, Number(value));
    return;
  }
  let rest = value;
  while (rest >= 0x80n) {
    out.bytes[out.at++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  out.bytes[out.at++] = Number(rest);
}

/**
 * A length-delimited field's content: bytes, or an ASCII string (its UTF-16 units are its UTF-8
 * bytes: written straight from the string, no array of its own).
 */
type Field = Uint8Array | string;

/** A length-delimited field (tag, length, bytes), left out when empty (implicit presence). */
function fieldSize(field: Field): number {
  // An ASCII string's length is its UTF-8 length.
  return field.length === 0 ? 0 : 1 + varintSize(field.length) + field.length;
}

function writeField(out: Out, tag: number, field: Field): void {
  const length = field.length;
  if (length === 0) return;
  out.bytes[out.at++] = tag;
  writeVarint(out, length);
  if (typeof field === "string") {
    const bytes = out.bytes;
    const at = out.at;
    for (let i = 0; i < length; i++) bytes[at + i] = field.charCodeAt(i);
  } else {
    out.bytes.set(field, out.at);
  }
  out.at += length;
}

/** A string field: the string itself when it is ASCII, else its UTF-8 bytes. */
function text(value: string): Field {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) >= 0x80) return utf8.encode(value);
  }
  return value;
}

/**
 * The protobuf encoding of a full `ChannelMessage` without unknown fields (what `toBinary` writes).
 * @param message - a message from {@link channelMessageFields}
 * @returns its bytes
 * @throws {RangeError} when `clock` or `sentAt` is outside 0 … 2^64 − 1
 */
export function writeChannelMessage(message: ChannelMessage): Uint8Array {
  const { clock, sentAt, body } = message;
  if (clock < 0n || clock > maxUint64 || sentAt < 0n || sentAt > maxUint64) {
    throw new RangeError("ChannelMessage: clock and sentAt must be uint64 values");
  }
  const channelId = text(message.channelId);
  // The body's two fields (at most), as tag and bytes; `pinned` as a varint.
  let first: Field = empty;
  let second: Field = empty;
  let pinned = false;
  let bodyTag = 0;
  switch (body.case) {
    case "post":
      bodyTag = 0x32;
      first = text(body.value.text);
      second = text(body.value.replyTo);
      break;
    case "edit":
      bodyTag = 0x3a;
      first = text(body.value.messageId);
      second = text(body.value.text);
      break;
    case "delete":
      bodyTag = 0x42;
      first = text(body.value.messageId);
      break;
    case "pin":
      bodyTag = 0x4a;
      first = text(body.value.messageId);
      pinned = body.value.pinned;
      break;
    default:
      break;
  }
  const bodySize = fieldSize(first) + fieldSize(second) + (pinned ? 2 : 0);
  const size =
    fieldSize(message.organizationId) +
    fieldSize(channelId) +
    fieldSize(message.author) +
    (clock === 0n ? 0 : 1 + varintSize(clock)) +
    (sentAt === 0n ? 0 : 1 + varintSize(sentAt)) +
    (bodyTag === 0 ? 0 : 1 + varintSize(bodySize) + bodySize);
  const out: Out = { bytes: new Uint8Array(size), at: 0 };
  writeField(out, 0x0a, message.organizationId);
  writeField(out, 0x12, channelId);
  writeField(out, 0x1a, message.author);
  if (clock !== 0n) {
    out.bytes[out.at++] = 0x20;
    writeBigVarint(out, clock);
  }
  if (sentAt !== 0n) {
    out.bytes[out.at++] = 0x28;
    writeBigVarint(out, sentAt);
  }
  if (bodyTag !== 0) {
    out.bytes[out.at++] = bodyTag;
    writeVarint(out, bodySize);
    writeField(out, 0x0a, first);
    writeField(out, 0x12, second);
    if (pinned) {
      out.bytes[out.at++] = 0x10;
      out.bytes[out.at++] = 1;
    }
  }
  return out.bytes;
}

const utf8Decoder = new TextDecoder();

/** A cursor over bytes being read by {@link readChannelMessage}. */
interface In {
  readonly bytes: Uint8Array;
  at: number;
  end: number;
}

/** A varint of at most 10 bytes as a bigint, or -1n when truncated or too long. */
function readBigVarint(input: In): bigint {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (input.at >= input.end) return -1n;
    const byte = input.bytes[input.at++] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return value;
    shift += 7n;
  }
  return -1n;
}

/** A length prefix (below 2^28, enough for any message under the size cap), or -1. */
function readLength(input: In): number {
  let value = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (input.at >= input.end) return -1;
    const byte = input.bytes[input.at++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return input.at + value <= input.end ? value : -1;
  }
  return -1;
}

/**
 * Reads bytes that {@link writeChannelMessage} would write, and only those: the fields in their
 * order, each once, with the wire types it writes. Anything else (unknown fields, another order,
 * a repeated field, a non-minimal varint, invalid UTF-8…) gives `undefined`, and so does any input
 * the writer would not write back byte for byte — the caller then decodes the generic way. What it
 * returns is what `fromBinary` returns for the same bytes: they are `toBinary`'s canonical
 * encoding of it (the caller checks by writing it back).
 * @param bytes - the encoded message
 * @returns the message, or `undefined` when the generic decoder must judge the bytes
 */
export function readChannelMessage(bytes: Uint8Array): ChannelMessage | undefined {
  const input: In = { bytes, at: 0, end: bytes.length };
  let organizationId: Uint8Array = empty;
  let channelId = "";
  let author: Uint8Array = empty;
  let clock = 0n;
  let sentAt = 0n;
  let body: ChannelMessage["body"] = { case: undefined };
  let last = 0;
  while (input.at < input.end) {
    const tag = bytes[input.at++] as number;
    const field = tag >> 3;
    if (field <= last || field > 9) return undefined;
    last = field;
    if (tag === 0x20 || tag === 0x28) {
      const value = readBigVarint(input);
      if (value < 0n) return undefined;
      if (tag === 0x20) clock = value;
      else sentAt = value;
      continue;
    }
    if ((tag & 7) !== 2) return undefined;
    const length = readLength(input);
    if (length < 0) return undefined;
    const start = input.at;
    input.at += length;
    switch (field) {
      case 1:
        organizationId = bytes.slice(start, input.at);
        break;
      case 2:
        channelId = utf8Decoder.decode(bytes.subarray(start, input.at));
        break;
      case 3:
        author = bytes.slice(start, input.at);
        break;
      case 6:
      case 7:
      case 8:
      case 9: {
        if (body.case !== undefined) return undefined;
        const inner = readBody(field, { bytes, at: start, end: input.at });
        if (inner === undefined) return undefined;
        body = inner;
        break;
      }
      default:
        return undefined;
    }
  }
  return { $typeName: channelMessageType, organizationId, channelId, author, clock, sentAt, body };
}

/** The body of a post (6), edit (7), delete (8) or pin (9), as {@link readChannelMessage} reads. */
function readBody(field: number, input: In): ChannelMessage["body"] | undefined {
  const texts = ["", ""];
  let pinned = false;
  let last = 0;
  while (input.at < input.end) {
    const tag = input.bytes[input.at++] as number;
    if (field === 9 && tag === 0x10 && last < 2) {
      // `pinned`, written only when true, as the single byte 1.
      if (input.at >= input.end || input.bytes[input.at++] !== 1) return undefined;
      pinned = true;
      last = 2;
      continue;
    }
    const number = tag >> 3;
    const fields = field === 6 || field === 7 ? 2 : 1;
    if ((tag & 7) !== 2 || number <= last || number > fields) return undefined;
    last = number;
    const length = readLength(input);
    if (length < 0) return undefined;
    texts[number - 1] = utf8Decoder.decode(input.bytes.subarray(input.at, input.at + length));
    input.at += length;
  }
  const [first = "", second = ""] = texts;
  switch (field) {
    case 6:
      return {
        case: "post",
        value: { $typeName: "orgchat.v1.ChannelPost", text: first, replyTo: second },
      };
    case 7:
      return {
        case: "edit",
        value: { $typeName: "orgchat.v1.ChannelEdit", messageId: first, text: second },
      };
    case 8:
      return { case: "delete", value: { $typeName: "orgchat.v1.ChannelDelete", messageId: first } };
    default:
      return {
        case: "pin",
        value: { $typeName: "orgchat.v1.ChannelPin", messageId: first, pinned },
      };
  }
}

/**
 * Decodes the canonical bytes of a valid `ChannelMessage` directly: {@link readChannelMessage},
 * then written back by {@link writeChannelMessage} and compared, so that only bytes equal to the
 * encoding of what was read are taken (those `fromBinary` decodes to the same message). Anything
 * else — malformed, unknown fields, another field order, invalid UTF-8, or a message the protocol
 * rules refuse — gives `undefined`, for the generic decoder to decode or refuse with its error.
 * @param bytes - at most the size cap (checked by the caller)
 * @param valid - the protocol rules (`validateChannelMessage`)
 * @returns the message, or `undefined` for the generic decoder to judge the bytes
 */
export function decodeCanonicalChannelMessage(
  bytes: Uint8Array,
  valid: (message: ChannelMessage) => boolean,
): ChannelMessage | undefined {
  let message: ChannelMessage | undefined;
  let again: Uint8Array;
  try {
    message = readChannelMessage(bytes);
    if (message === undefined) return undefined;
    again = writeChannelMessage(message);
  } catch {
    return undefined;
  }
  if (again.length !== bytes.length) return undefined;
  for (let i = 0; i < again.length; i++) if (again[i] !== bytes[i]) return undefined;
  return valid(message) ? message : undefined;
}
