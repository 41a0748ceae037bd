/**
 * The server side of Store v3 (`/vac/waku/store-query/3.0.0`, WAKU2-STORE v3): one request in, one
 * response out, both `StoreQueryRequest` / `StoreQueryResponse` of `@waku/proto`'s `store_v3`. The
 * libp2p stream handler (length-prefixed framing) lives in the node; this module never sees a stream.
 *
 * Behaviour, and where it comes from:
 * - Page size: unset or 0 → 20, above 100 → clamped to 100 (nwaku's `DefaultPageSize`/`MaxPageSize`,
 *   the spec's "apply its own internal maximum"); never refused.
 * - Every page is ascending by `(timestamp, hash)` even when paging backward (spec: "MUST be ordered
 *   in a forward direction"; nwaku reverses backward pages). The js-waku client (`@waku/core`
 *   `StoreCore.queryPerPage`) depends on it: it ignores `pagination_cursor` and takes the next cursor
 *   from the page itself — the last entry when forward, the **first** when backward — and it stops
 *   only on an empty page. So the page after the last one must be an empty 200, not an error.
 * - `pagination_cursor` is set only when more entries match: the hash of the last entry included in
 *   traversal order (the oldest of the page when backward), as in the spec and nwaku.
 * - Status codes: 200 OK; 400 for a malformed protobuf or an invalid query (nwaku answers 400 for an
 *   undecodable request but 300 "archive error" for invalid cursors and too many content topics; the
 *   spec's vocabulary says 400, and any code ≥ 300 is an error to js-waku, so 400 it is); 413 for a
 *   request larger than `maxRequestBytes` (nwaku's store reads without a limit; 413 is Waku's
 *   "payload too large" from LightPush v3); 503 when the archive is closed; 500 for anything else,
 *   without internal detail. The request id is echoed in every response once it could be decoded.
 * - Validation beyond nwaku, per the spec: `content_topics` without `pubsub_topic`, `time_start` >
 *   `time_end`, and a hash lookup combined with content topics or a time range are 400. A
 *   `pubsub_topic` alone is accepted (all content topics of that pubsub topic, as nwaku), also beside
 *   `message_hashes`, because `@waku/sdk` sends its decoder's pubsub topic with every hash lookup;
 *   there it filters like nwaku (the hash commits to the pubsub topic anyway).
 * - Time bounds are inclusive at both ends, as nwaku (`timestamp <= time_end`); the spec text calls
 *   `time_end` exclusive.
 * - A response never exceeds `maxResponseBytes`: the archive stops the page early (and sets the
 *   cursor) so that js-waku's `it-length-prefixed` decoder, limited to 4 MiB, can read it; 100
 *   messages of 150 KiB would otherwise make a 15 MiB response no client can receive, read from disk
 *   on every request. A page always carries at least one message.
 * - js-waku computes time bounds as `date.getTime() * 1_000_000` in floating point, so at today's
 *   magnitudes both bounds arrive up to 128 ns off (64 ns late in the tests): a message stamped
 *   exactly at the `timeStart` millisecond can fall outside. Clients that need exact millisecond
 *   bounds through `@waku/sdk` should widen `timeStart` by 1 ms and filter locally.
 */
import { type DiagnosticSink, reportDiagnostic } from "@orgchat/base";
import { proto_store } from "@waku/proto";
import type { ArchivePageEntry, ArchiveQuery, MessageArchive } from "./archive.js";
import { isArchiveClosedError, isCursorNotFoundError } from "./errors.js";
import { commonStatus, type ProtocolHandler } from "./protocol-server.js";
import type { RequestRateLimiter } from "./rate-limit.js";

/** The libp2p protocol id of Store v3. */
export const storeQueryCodec = "/vac/waku/store-query/3.0.0";

/** The status codes this server answers with (`status_code` of `StoreQueryResponse`). */
export const storeStatusCode = {
  ...commonStatus,
  requestTooLarge: 413,
  internalError: 500,
  serviceUnavailable: 503,
} as const;

/** Limits applied to each query. */
export interface StoreLimits {
  /** Larger `pagination_limit`s are clamped to it. @default 100 (nwaku's MaxPageSize) */
  readonly maxPageSize: number;
  /** Page size when `pagination_limit` is unset or 0. @default 20 (nwaku's DefaultPageSize) */
  readonly defaultPageSize: number;
  /** More content topics in one query is a 400. @default 10 (nwaku's MaxContentTopicsPerQuery) */
  readonly maxContentTopics: number;
  /**
   * Larger requests are answered 413 without being decoded. The node's stream reader should use the
   * same bound. @default 262_144 (256 KiB: about 7,500 hashes in one lookup)
   */
  readonly maxRequestBytes: number;
  /**
   * Responses are cut short to stay within it. @default 4_190_208 (4 MiB, the default frame limit of
   * `it-length-prefixed` that js-waku reads responses with, less 4 KiB of margin)
   */
  readonly maxResponseBytes: number;
}

/** The limits used where {@link handleStoreQuery}'s `limits` leaves one out. */
export const defaultStoreLimits: StoreLimits = {
  maxPageSize: 100,
  defaultPageSize: 20,
  maxContentTopics: 10,
  maxRequestBytes: 256 * 1024,
  maxResponseBytes: 4 * 1024 * 1024 - 4096,
};

/** A request decoded and validated into an archive query, or the error response to send instead. */
export type ParsedStoreQuery =
  | { readonly ok: true; readonly requestId: string; readonly query: ArchiveQuery }
  | {
      readonly ok: false;
      readonly requestId: string;
      readonly statusCode: number;
      readonly statusDesc: string;
    };

const hashLength = 32;
const component = "service-node/store";

/**
 * Answers one Store v3 request from the archive. Never throws on what arrives from the network:
 * malformed bytes, invalid queries and archive failures all become a response with an error status.
 *
 * @param requestBytes - one `StoreQueryRequest`, without its length prefix.
 * @param archive - the message archive to read.
 * @param limits - overrides of {@link defaultStoreLimits}.
 * @param onDiagnostic - told about requests that do not decode and queries the archive failed.
 * @returns an encoded `StoreQueryResponse`, always.
 * @throws {RangeError} only for invalid `limits` (a programming error, not a network input).
 * @example
 * ```ts
 * await libp2p.handle(storeQueryCodec, async ({ stream }) => {
 *   await pipe(stream, (source) => lp.decode(source, { maxDataLength: defaultStoreLimits.maxRequestBytes }),
 *     async function* (source) { for await (const request of source) yield handleStoreQuery(request.subarray(), archive); },
 *     (source) => lp.encode(source), stream);
 * });
 * ```
 */
export function handleStoreQuery(
  requestBytes: Uint8Array,
  archive: MessageArchive,
  limits?: Partial<StoreLimits>,
  onDiagnostic?: DiagnosticSink,
): Uint8Array {
  const resolved = resolveLimits(limits);
  const parsed = parseStoreQuery(requestBytes, resolved, onDiagnostic);
  if (!parsed.ok) {
    return encodeResponse(parsed.requestId, parsed.statusCode, parsed.statusDesc);
  }
  try {
    const page = archive.query({
      ...parsed.query,
      maxBytes: resolved.maxResponseBytes - responseOverhead(parsed.requestId),
    });
    return proto_store.StoreQueryResponse.encode({
      requestId: parsed.requestId,
      statusCode: storeStatusCode.ok,
      statusDesc: "OK",
      messages: page.entries.map(toKeyValue),
      ...(page.cursor === undefined ? {} : { paginationCursor: page.cursor }),
    });
  } catch (error) {
    if (isCursorNotFoundError(error)) {
      return encodeResponse(
        parsed.requestId,
        storeStatusCode.badRequest,
        "BAD_REQUEST: pagination_cursor is not the hash of a stored message (unknown here, or pruned since); restart the query without a cursor",
      );
    }
    if (isArchiveClosedError(error)) {
      return encodeResponse(
        parsed.requestId,
        storeStatusCode.serviceUnavailable,
        "SERVICE_UNAVAILABLE: the store is shutting down",
      );
    }
    // Internal details (SQL, paths) stay on this node, and go to its diagnostics.
    reportDiagnostic(onDiagnostic, { component, reason: "query-failed", error });
    return encodeResponse(
      parsed.requestId,
      storeStatusCode.internalError,
      "INTERNAL_ERROR: the query failed on the store node",
    );
  }
}

/**
 * Decodes and validates one `StoreQueryRequest` into an {@link ArchiveQuery} (page size resolved,
 * defaults applied), or describes the error response. Never throws on the bytes.
 *
 * @param requestBytes - one `StoreQueryRequest`, without its length prefix.
 * @param limits - the limits to apply (all of them; see {@link defaultStoreLimits}).
 * @param onDiagnostic - told about requests that do not decode.
 * @returns `{ ok: true, query }` or `{ ok: false, statusCode, statusDesc }`.
 */
export function parseStoreQuery(
  requestBytes: Uint8Array,
  limits: StoreLimits,
  onDiagnostic?: DiagnosticSink,
): ParsedStoreQuery {
  if (requestBytes.byteLength > limits.maxRequestBytes) {
    return refuse(
      "",
      storeStatusCode.requestTooLarge,
      `request of ${requestBytes.byteLength} bytes exceeds this node's limit of ${limits.maxRequestBytes} bytes`,
    );
  }
  let request: proto_store.StoreQueryRequest;
  try {
    request = proto_store.StoreQueryRequest.decode(requestBytes);
  } catch (error) {
    reportDiagnostic(onDiagnostic, { component, reason: "undecodable", error });
    const detail = error instanceof Error ? error.message : String(error);
    return refuse("", storeStatusCode.badRequest, `decoding the request failed: ${detail}`);
  }
  const requestId = request.requestId;
  const bad = (detail: string) => refuse(requestId, storeStatusCode.badRequest, detail);

  // protons leaves an optional string field that was sent empty as "": treat it as unset (js-waku's
  // SDK sends "" when it has no pubsub topic for a hash lookup).
  const pubsubTopic = request.pubsubTopic === "" ? undefined : request.pubsubTopic;
  const { contentTopics, messageHashes, timeStart, timeEnd, paginationCursor } = request;

  if (paginationCursor !== undefined) {
    if (paginationCursor.length !== hashLength) {
      return bad(
        `invalid pagination_cursor: ${paginationCursor.length} bytes, a message hash has ${hashLength}`,
      );
    }
    if (paginationCursor.every((byte) => byte === 0)) {
      return bad("invalid pagination_cursor: all-zero hash");
    }
  }
  if (contentTopics.length > limits.maxContentTopics) {
    return bad(
      `too many content_topics: ${contentTopics.length}, this node allows ${limits.maxContentTopics} per query`,
    );
  }
  if (contentTopics.some((topic) => topic === "")) {
    return bad("content_topics contains an empty content topic");
  }
  if (contentTopics.length > 0 && pubsubTopic === undefined) {
    return bad("content_topics requires pubsub_topic: set both or neither");
  }
  if (timeStart !== undefined && timeEnd !== undefined && timeStart > timeEnd) {
    return bad(`time_start (${timeStart}) is after time_end (${timeEnd})`);
  }
  if (messageHashes.length > 0) {
    if (contentTopics.length > 0 || timeStart !== undefined || timeEnd !== undefined) {
      return bad(
        "a message hash lookup cannot be combined with content_topics, time_start or time_end",
      );
    }
    const wrong = messageHashes.find((hash) => hash.length !== hashLength);
    if (wrong !== undefined) {
      return bad(
        `invalid message_hashes entry: ${wrong.length} bytes, a message hash has ${hashLength}`,
      );
    }
  }

  const limit = request.paginationLimit;
  const pageSize =
    limit === undefined || limit === 0n
      ? limits.defaultPageSize
      : limit > BigInt(limits.maxPageSize)
        ? limits.maxPageSize
        : Number(limit);

  return {
    ok: true,
    requestId,
    query: {
      ...(pubsubTopic === undefined ? {} : { pubsubTopic }),
      ...(contentTopics.length === 0 ? {} : { contentTopics }),
      ...(timeStart === undefined ? {} : { timeStart }),
      ...(timeEnd === undefined ? {} : { timeEnd }),
      ...(messageHashes.length === 0 ? {} : { messageHashes }),
      ...(paginationCursor === undefined ? {} : { cursor: paginationCursor }),
      // The spec's defaults when unset: backward, hashes only. js-waku sets both explicitly.
      forward: request.paginationForward,
      includeData: request.includeData,
      pageSize,
    },
  };
}

/**
 * Resolves `limits` against {@link defaultStoreLimits}.
 *
 * @throws {RangeError} a limit is not a positive integer, or the default page size exceeds the maximum.
 */
export function resolveLimits(limits: Partial<StoreLimits> | undefined): StoreLimits {
  const resolved = { ...defaultStoreLimits, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`StoreLimits.${name} must be a positive integer, got ${value}`);
    }
  }
  if (resolved.defaultPageSize > resolved.maxPageSize) {
    throw new RangeError(
      `StoreLimits.defaultPageSize (${resolved.defaultPageSize}) exceeds maxPageSize (${resolved.maxPageSize})`,
    );
  }
  return resolved;
}

function refuse(requestId: string, statusCode: number, statusDesc: string): ParsedStoreQuery {
  const label =
    statusCode === storeStatusCode.requestTooLarge ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";
  return { ok: false, requestId, statusCode, statusDesc: `${label}: ${statusDesc}` };
}

/**
 * Store v3 as the protocol server mounts it: rate limited per peer, requests up to
 * `limits.maxRequestBytes`, answered from `archive` by {@link handleStoreQuery}.
 *
 * @param archive - the message archive to read
 * @param limits - the store limits (resolved on each request, as {@link handleStoreQuery} does)
 * @param limiter - the per-peer request budget
 * @param onDiagnostic - told about requests that do not decode and failed queries
 * @returns the handler to mount
 */
export function storeProtocol(
  archive: MessageArchive,
  limits: StoreLimits,
  limiter: RequestRateLimiter,
  onDiagnostic?: DiagnosticSink,
): ProtocolHandler {
  return {
    codec: storeQueryCodec,
    name: "store",
    maxRequestBytes: limits.maxRequestBytes,
    maxInboundStreams: 32,
    rateLimit: {
      limiter,
      reply: () =>
        encodeResponse(
          "N/A",
          storeStatusCode.tooManyRequests,
          "TOO_MANY_REQUESTS: request rejected due to too many requests",
        ),
    },
    tooLarge: () =>
      encodeResponse(
        "N/A",
        storeStatusCode.requestTooLarge,
        `PAYLOAD_TOO_LARGE: request exceeds ${limits.maxRequestBytes} bytes`,
      ),
    malformed: () =>
      encodeResponse("N/A", storeStatusCode.badRequest, "BAD_REQUEST: malformed request frame"),
    respond: (bytes) => handleStoreQuery(bytes, archive, limits, onDiagnostic),
  };
}

function encodeResponse(requestId: string, statusCode: number, statusDesc: string): Uint8Array {
  return proto_store.StoreQueryResponse.encode({ requestId, statusCode, statusDesc, messages: [] });
}

function toKeyValue(entry: ArchivePageEntry): proto_store.WakuMessageKeyValue {
  return {
    messageHash: entry.hash,
    ...(entry.message === undefined ? {} : { message: entry.message }),
    ...(entry.pubsubTopic === undefined ? {} : { pubsubTopic: entry.pubsubTopic }),
  };
}

/** Bytes of a 200 response besides its entries: request id, status, "OK", cursor, their framing. */
function responseOverhead(requestId: string): number {
  return 64 + Buffer.byteLength(requestId);
}
