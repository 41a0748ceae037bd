/**
 * The history of a memory network: every message published on it, sorted by (timestamp, id), with
 * per-message visibility while a partition is in place, paged like Waku Store v3 (the cursor is the
 * id of the last message of the previous page).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { NormalizedHistoryQuery } from "./checks.js";
import { InvalidCursorError } from "./errors.js";
import { nativeHash } from "./native-hash.js";
import type { HistoryPage, TransportMessage } from "./types.js";

interface StoredMessage {
  readonly message: TransportMessage;
  /** Indexes of the transports whose history shows it; undefined: every transport. */
  visibleTo: ReadonlySet<number> | undefined;
}

const encoder = new TextEncoder();
const idDomain = encoder.encode("orgchat/memory-transport/message/v1");
const cursorShape = /^[0-9a-f]{64}$/;

const native = nativeHash;

/** SHA-256 of `data` as 64 lowercase hex characters (native where there is one). */
export const sha256Hex: (data: Uint8Array) => string =
  native === undefined
    ? (data) => bytesToHex(sha256(data))
    : (data) => native("sha256", data, "hex");

/** Whether {@link sha256Hex} is the runtime's native hash (tests). */
export const sha256HexIsNative: boolean = native !== undefined;

/**
 * A publish's bytes laid out for its id: room for the id's header (filled by {@link sealMessageId}
 * once the timestamp and sequence are known), then a copy of the payload. One allocation holds both
 * the copy the network keeps and the input of the hash.
 */
export interface PreparedPublish {
  readonly buffer: Uint8Array;
  /** The network's copy of the payload: a view of `buffer` after the header. */
  readonly payload: Uint8Array;
  readonly topicBytes: number;
}

/**
 * Copies `payload` after room for the id's header of a message on `contentTopic`.
 * @param contentTopic - the message's content topic (already checked)
 * @param payload - the caller's bytes (copied: the caller may reuse its buffer)
 * @returns the laid-out bytes
 */
export function preparePublish(contentTopic: string, payload: Uint8Array): PreparedPublish {
  const topic = topicBytes(contentTopic);
  const headerBytes = idDomain.length + 1 + 4 + topic.length + 8 + 4 + 4;
  const buffer = historyBytes(headerBytes + payload.length);
  buffer.set(idDomain, 0);
  buffer[idDomain.length] = 0;
  writeUint32(buffer, idDomain.length + 1, topic.length);
  buffer.set(topic, idDomain.length + 5);
  buffer.set(payload, headerBytes);
  return { buffer, payload: buffer.subarray(headerBytes), topicBytes: topic.length };
}

/** A published message's bytes of at most this size are cut from a shared slab ({@link historyBytes}). */
const historySlabRecordMax = 4096;
/** The size of a history slab: ~80 messages of 256 B of text. */
const historySlabBytes = 64 * 1024;
let historySlab = new Uint8Array(0);
let historySlabAt = 0;

/**
 * `length` bytes for one publish's laid-out bytes (the network's copy of the payload): a view of a
 * slab shared by the process's networks, or its own array past {@link historySlabRecordMax}. A
 * history keeps every message for its network's life, so a slab holds little dead weight (at most
 * what it shares with networks that stopped), and one array buffer serves ~80 publishes (V8
 * allocates, sweeps and frees each array buffer apart). A view covers only its own bytes, and a
 * slab is written only at positions no view covers yet.
 */
function historyBytes(length: number): Uint8Array {
  if (length > historySlabRecordMax) return new Uint8Array(length);
  if (historySlabAt + length > historySlab.length) {
    historySlab = new Uint8Array(historySlabBytes);
    historySlabAt = 0;
  }
  const at = historySlabAt;
  // Views start 8-aligned.
  historySlabAt = (at + length + 7) & ~7;
  return new Uint8Array(historySlab.buffer, at, length);
}

/** The last topic encoded, and its bytes (a publisher names the same topic again and again). */
let lastTopic = "";
let lastTopicBytes = new Uint8Array(0);

function topicBytes(contentTopic: string): Uint8Array {
  if (contentTopic !== lastTopic) {
    lastTopicBytes = encoder.encode(contentTopic);
    lastTopic = contentTopic;
  }
  return lastTopicBytes;
}

function writeUint32(buffer: Uint8Array, offset: number, value: number): void {
  buffer[offset] = value >>> 24;
  buffer[offset + 1] = (value >>> 16) & 0xff;
  buffer[offset + 2] = (value >>> 8) & 0xff;
  buffer[offset + 3] = value & 0xff;
}

/** Big-endian float64 bytes of the id's timestamp, written here then copied (no view per id). */
const float64 = new DataView(new ArrayBuffer(8));
const float64Bytes = new Uint8Array(float64.buffer);

/**
 * Fills the header of `prepared` and hashes it: {@link messageId} of the same inputs.
 * @param prepared - from {@link preparePublish}
 * @param timestamp - the publish time, ms
 * @param publisher - the publisher's index on the network
 * @param sequence - the publisher's sequence number of this publish
 * @returns the id, 64 lowercase hex characters
 */
export function sealMessageId(
  prepared: PreparedPublish,
  timestamp: number,
  publisher: number,
  sequence: number,
): string {
  const { buffer } = prepared;
  const offset = idDomain.length + 5 + prepared.topicBytes;
  float64.setFloat64(0, timestamp);
  buffer.set(float64Bytes, offset);
  writeUint32(buffer, offset + 8, publisher);
  writeUint32(buffer, offset + 12, sequence);
  return sha256Hex(buffer);
}

/**
 * sha256(domain ‖ 0 ‖ u32 topic length ‖ topic ‖ f64 timestamp ‖ u32 publisher ‖ u32 sequence ‖
 * payload): deterministic, and distinct for two identical publishes (the sequence differs).
 */
export function messageId(
  contentTopic: string,
  payload: Uint8Array,
  timestamp: number,
  publisher: number,
  sequence: number,
): string {
  return sealMessageId(preparePublish(contentTopic, payload), timestamp, publisher, sequence);
}

function compareMessages(a: TransportMessage, b: TransportMessage): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function copyMessage(message: TransportMessage): TransportMessage {
  return {
    contentTopic: message.contentTopic,
    payload: message.payload.slice(),
    timestamp: message.timestamp,
    id: message.id,
  };
}

/** The network's history. Viewers are transports, named by their index on the network. */
export class MemoryHistory {
  readonly #messages: StoredMessage[] = [];
  readonly #byId = new Map<string, StoredMessage>();
  /** Messages published during a partition, still hidden from some histories. */
  #restricted: StoredMessage[] = [];

  /**
   * Keeps `message`.
   * @param visibleTo - indexes of the transports whose history shows it (a partition is in place),
   *   or undefined for every transport
   */
  store(message: TransportMessage, visibleTo: ReadonlySet<number> | undefined): void {
    const stored: StoredMessage = { message, visibleTo };
    if (visibleTo !== undefined) this.#restricted.push(stored);
    this.#byId.set(message.id, stored);
    const messages = this.#messages;
    const last = messages[messages.length - 1];
    if (last === undefined || compareMessages(last.message, message) < 0) {
      messages.push(stored); // the common case: the newest
      return;
    }
    // Binary insertion keeps history sorted by (timestamp, id) even if the injected clock goes back.
    let low = 0;
    let high = this.#messages.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareMessages((this.#messages[mid] as StoredMessage).message, message) < 0)
        low = mid + 1;
      else high = mid;
    }
    this.#messages.splice(low, 0, stored);
  }

  /** The partition ended: every message is visible to every transport again. */
  heal(): void {
    for (const stored of this.#restricted) stored.visibleTo = undefined;
    this.#restricted = [];
  }

  /**
   * One page of `query` as transport `viewer` sees it.
   * @throws InvalidCursorError
   */
  query(viewer: number, query: NormalizedHistoryQuery): HistoryPage {
    const topics = new Set(query.contentTopics);
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const to = query.to ?? Number.POSITIVE_INFINITY;
    const matching = this.#messages.filter(
      (stored) =>
        topics.has(stored.message.contentTopic) &&
        stored.message.timestamp >= from &&
        stored.message.timestamp <= to &&
        visible(stored, viewer),
    );
    if (query.direction === "backward") matching.reverse();
    let start = 0;
    if (query.cursor !== undefined) {
      const anchor = this.#cursorAnchor(query.cursor, viewer, topics, from, to);
      const sign = query.direction === "forward" ? 1 : -1;
      while (
        start < matching.length &&
        sign * compareMessages((matching[start] as StoredMessage).message, anchor) <= 0
      ) {
        start++;
      }
    }
    const page = matching
      .slice(start, start + query.pageSize)
      .map((stored) => copyMessage(stored.message));
    const last = page[page.length - 1];
    return start + query.pageSize < matching.length && last !== undefined
      ? { messages: page, cursor: last.id }
      : { messages: page };
  }

  #cursorAnchor(
    cursor: string,
    viewer: number,
    topics: ReadonlySet<string>,
    from: number,
    to: number,
  ): TransportMessage {
    // The cursor is the id of the last message of the previous page, as in Waku Store v3.
    if (!cursorShape.test(cursor))
      throw new InvalidCursorError("it is not a cursor this transport made");
    const stored = this.#byId.get(cursor);
    if (stored === undefined || !visible(stored, viewer)) {
      throw new InvalidCursorError("it names no message in this history");
    }
    const { contentTopic, timestamp } = stored.message;
    if (!topics.has(contentTopic) || timestamp < from || timestamp > to) {
      throw new InvalidCursorError(
        "it comes from a query with other content topics or another time range",
      );
    }
    return stored.message;
  }
}

function visible(stored: StoredMessage, viewer: number): boolean {
  return stored.visibleTo === undefined || stored.visibleTo.has(viewer);
}
