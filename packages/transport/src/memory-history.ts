/**
 * The history of a memory network: every message published on it, sorted by (timestamp, id), with
 * per-message visibility while a partition is in place, paged like Waku Store v3 (the cursor is the
 * id of the last message of the previous page).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { NormalizedHistoryQuery } from "./checks.js";
import { InvalidCursorError } from "./errors.js";
import type { HistoryPage, TransportMessage } from "./types.js";

interface StoredMessage {
  readonly message: TransportMessage;
  /** Indexes of the transports whose history shows it; undefined: every transport. */
  visibleTo: ReadonlySet<number> | undefined;
}

const encoder = new TextEncoder();
const idDomain = encoder.encode("orgchat/memory-transport/message/v1");
const cursorShape = /^[0-9a-f]{64}$/;

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
  const topic = encoder.encode(contentTopic);
  const header = new Uint8Array(idDomain.length + 1 + 4 + topic.length + 8 + 4 + 4);
  header.set(idDomain, 0);
  const view = new DataView(header.buffer);
  let offset = idDomain.length + 1;
  view.setUint32(offset, topic.length);
  offset += 4;
  header.set(topic, offset);
  offset += topic.length;
  view.setFloat64(offset, timestamp);
  offset += 8;
  view.setUint32(offset, publisher);
  offset += 4;
  view.setUint32(offset, sequence);
  return bytesToHex(sha256.create().update(header).update(payload).digest());
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
    this.#byId.set(message.id, stored);
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
