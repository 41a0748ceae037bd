/**
 * The Store v3 client both modes share: a history query becomes one `StoreQueryRequest` on a fresh
 * stream of a connection to a store node, and its response becomes a `HistoryPage`.
 *
 * It speaks Store v3 directly rather than through the SDK's store client, which splits ranges longer
 * than 24 h into sequential sub-queries (the first page of a backward query would then be the oldest
 * day) and hides the server's pagination cursor (so a caller cannot tell a last page).
 */
import type { Connection, Stream } from "@libp2p/interface";
import { concatBytes, describeError, raceAbort } from "@orgchat/base";
import {
  type HistoryPage,
  type HistoryQuery,
  HistoryQueryFailedError,
  InvalidCursorError,
  InvalidQueryError,
  isAbortError,
  type TransportMessage,
} from "@orgchat/transport";
import { abortErrorFor, normalizeHistoryQuery } from "@orgchat/transport/implement";
import { StoreCodec } from "@waku/core";
import { proto_store } from "@waku/proto";
import { bytesToHex, hexToBytes } from "@waku/utils/bytes";
import { plainBytes } from "./node-options.js";
import { messageHashHex, wakuMessageTimestampMs } from "./waku-message.js";

/** Largest Store v3 response read (js-waku reads up to 4 MiB too). */
const maxStoreResponseBytes = 4 * 1024 * 1024;
/** The Store v3 server's limit on content topics per query (nwaku's `MaxContentTopicsPerQuery`). */
export const maxHistoryContentTopics = 10;
/** Deadline of one history query when the transport's options do not say, ms. */
export const defaultHistoryTimeoutMs = 10_000;

/** A history query checked and encoded, ready to send to any store node. */
export interface StoreQueryPlan {
  readonly request: Uint8Array;
  readonly pubsubTopic: string;
  readonly contentTopics: readonly string[];
  readonly direction: "forward" | "backward";
  readonly hasCursor: boolean;
}

/**
 * Checks `query` against what Store v3 can answer and encodes it, before any store node is asked.
 * @param pubsubTopicFor the shard of a content topic under the transport's network configuration
 * @throws InvalidQueryError (more than 10 topics, topics on different shards, bad fields),
 *   InvalidCursorError (a cursor that is not a message hash), InvalidContentTopicError
 */
export function planStoreQuery(
  query: HistoryQuery,
  pubsubTopicFor: (contentTopic: string) => string,
): StoreQueryPlan {
  const normalized = normalizeHistoryQuery(query);
  if (normalized.contentTopics.length > maxHistoryContentTopics) {
    throw new InvalidQueryError(
      `at most ${maxHistoryContentTopics} content topics per query (the Store v3 limit), got ${normalized.contentTopics.length}`,
    );
  }
  const pubsubTopics = new Set(normalized.contentTopics.map((t) => pubsubTopicFor(t)));
  if (pubsubTopics.size !== 1) {
    throw new InvalidQueryError(
      "the content topics are on different shards; query each shard's topics separately",
    );
  }
  const [pubsubTopic] = pubsubTopics as unknown as [string];
  let cursor: Uint8Array | undefined;
  if (normalized.cursor !== undefined) {
    if (!/^(0x)?[0-9a-f]{64}$/i.test(normalized.cursor)) {
      throw new InvalidCursorError("expected the 64 hex digits of a message hash");
    }
    cursor = hexToBytes(normalized.cursor.replace(/^0x/i, ""));
  }
  const request = proto_store.StoreQueryRequest.encode({
    requestId: globalThis.crypto.randomUUID(),
    includeData: true,
    pubsubTopic,
    contentTopics: [...normalized.contentTopics],
    ...(normalized.from === undefined
      ? {}
      : { timeStart: BigInt(Math.ceil(normalized.from)) * 1_000_000n }),
    // `to` is inclusive in ms; message timestamps are ns, so include the whole last millisecond.
    ...(normalized.to === undefined
      ? {}
      : { timeEnd: (BigInt(Math.floor(normalized.to)) + 1n) * 1_000_000n - 1n }),
    messageHashes: [],
    ...(cursor === undefined ? {} : { paginationCursor: cursor }),
    paginationForward: normalized.direction === "forward",
    paginationLimit: BigInt(normalized.pageSize),
  });
  return {
    request,
    pubsubTopic,
    contentTopics: normalized.contentTopics,
    direction: normalized.direction,
    hasCursor: cursor !== undefined,
  };
}

/**
 * Sends a planned query to the store node at the other end of `connection` and maps its answer.
 * @param timeoutMs deadline of the exchange (open a stream, send, read the page)
 * @throws AbortError, InvalidCursorError (the node refused the cursor with 400),
 *   HistoryQueryFailedError (no answer, an undecodable answer, any other non-2xx status)
 */
export async function runStoreQuery(
  connection: Connection,
  plan: StoreQueryPlan,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<HistoryPage> {
  let responseBytes: Uint8Array;
  try {
    responseBytes = await raceAbort(
      storeExchange(connection, plan.request, Math.max(1, Math.ceil(timeoutMs))),
      signal,
      abortErrorFor("queryHistory"),
    );
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new HistoryQueryFailedError(`the store node did not answer (${describeError(error)})`, {
      cause: error,
    });
  }
  let response: proto_store.StoreQueryResponse;
  try {
    response = proto_store.StoreQueryResponse.decode(responseBytes);
  } catch (error) {
    throw new HistoryQueryFailedError("the store node sent an undecodable response", {
      cause: error,
    });
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    if (status === 400 && plan.hasCursor) {
      throw new InvalidCursorError(
        `the store node refused it (${response.statusDesc ?? "400 BAD_REQUEST"})`,
      );
    }
    throw new HistoryQueryFailedError(
      `the store node answered ${status} ${response.statusDesc ?? ""}`.trim(),
      { status },
    );
  }
  const messages: TransportMessage[] = [];
  for (const entry of response.messages) {
    const message = entry.message;
    if (message === undefined) continue;
    if (!plan.contentTopics.includes(message.contentTopic)) continue;
    messages.push({
      contentTopic: message.contentTopic,
      payload: plainBytes(message.payload),
      timestamp: wakuMessageTimestampMs(message),
      id: messageHashHex(entry.pubsubTopic ?? plan.pubsubTopic, message),
    });
  }
  // Store v3 pages are ascending whatever the direction; the contract returns them in its order.
  if (plan.direction === "backward") messages.reverse();
  return response.paginationCursor === undefined || response.paginationCursor.length === 0
    ? { messages }
    : { messages, cursor: bytesToHex(response.paginationCursor) };
}

/**
 * One Store v3 request/response on a fresh stream of `connection`. The response is read until the
 * server closes its end, so the stream is released only after that close arrived: with mplex, a
 * close that arrives for an already released stream counts against the connection (more than 5 per
 * second and the remote drops it).
 */
async function storeExchange(
  connection: Connection,
  request: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  // A ref'd timer, not `AbortSignal.timeout` (whose timer is unref'd): the deadline must keep the
  // process alive until it ends the exchange. Otherwise a one-shot process whose connection holds no
  // handle any more (its socket gone, the stream never told) runs out of events with the query
  // pending, and Node ends it with exit code 13 instead of this error.
  const deadline = new AbortController();
  const signal = deadline.signal;
  const timer = setTimeout(() => deadline.abort(new Error("store query timed out")), timeoutMs);
  let stream: Stream;
  try {
    stream = await connection.newStream(StoreCodec, { signal });
  } catch (error) {
    clearTimeout(timer);
    throw signal.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error;
  }
  const onAbort = () => stream.abort(new Error("store query timed out"));
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await stream.sink([concatBytes(encodeVarint(request.length), request)]);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of stream.source) {
      const bytes = chunk.subarray();
      size += bytes.length;
      if (size > maxStoreResponseBytes + 10) {
        throw new Error(`response larger than ${maxStoreResponseBytes} bytes`);
      }
      chunks.push(bytes);
    }
    return readLengthPrefixed(chunks, maxStoreResponseBytes);
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    throw signal.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/** The first unsigned-varint length-prefixed frame in `chunks` (Waku req/resp framing). */
function readLengthPrefixed(chunks: readonly Uint8Array[], maxBytes: number): Uint8Array {
  // One copy of the whole response (joining chunk by chunk would copy it once per chunk).
  let buffer = chunks[0] ?? new Uint8Array(0);
  if (chunks.length > 1) {
    buffer = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, offset);
      offset += chunk.length;
    }
  }
  const decoded = decodeVarint(buffer);
  if (decoded === undefined) throw new Error("the stream ended before a complete response");
  const [length, offset] = decoded;
  if (length > maxBytes) throw new Error(`response frame of ${length} bytes exceeds ${maxBytes}`);
  if (buffer.length - offset < length) {
    throw new Error("the stream ended before a complete response");
  }
  return buffer.subarray(offset, offset + length);
}

function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

/** @returns [value, bytes used], or undefined when more bytes are needed. @throws on an overlong varint */
function decodeVarint(bytes: Uint8Array): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, i + 1];
    scale *= 128;
    if (i >= 7) throw new Error("malformed length prefix");
  }
  return undefined;
}
