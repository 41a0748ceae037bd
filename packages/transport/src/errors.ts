/**
 * Typed errors of the transport contract. Every transport throws these (never its library's own
 * errors) so that callers can branch on `err.name` or the `isX()` guards whatever transport they use.
 * Each message says what to do next.
 */

function hasName(value: unknown, name: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    "name" in value &&
    (value as { name: unknown }).name === name
  );
}

/** Thrown when a call needs a started transport: call `start()` first (after `stop()`, start again). */
export class NotStartedError extends Error {
  static readonly errorName = "NotStartedError";
  override readonly name = "NotStartedError";
  constructor(operation: string) {
    super(
      `Transport not started: ${operation} needs start() first (a stopped transport can be started again).`,
    );
  }
}

/** Thrown when a payload is larger than `capabilities.maxPayloadBytes`: split it or send less. */
export class PayloadTooLargeError extends Error {
  static readonly errorName = "PayloadTooLargeError";
  override readonly name = "PayloadTooLargeError";
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      `Payload of ${size} bytes exceeds this transport's limit of ${limit} bytes (capabilities.maxPayloadBytes). Split the content or send less.`,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** Thrown when a payload is empty: Waku relay validators drop empty messages, so no transport sends one. */
export class EmptyPayloadError extends Error {
  static readonly errorName = "EmptyPayloadError";
  override readonly name = "EmptyPayloadError";
  constructor() {
    super("Empty payload: Waku relays drop messages without payload. Send at least one byte.");
  }
}

/**
 * Thrown when a content topic is not `/{application}/{version}/{topic-name}/{encoding}` (23/WAKU2-TOPICS).
 * Build topics with `@orgchat/wire`'s topic helpers.
 */
export class InvalidContentTopicError extends Error {
  static readonly errorName = "InvalidContentTopicError";
  override readonly name = "InvalidContentTopicError";
  readonly contentTopic: string;
  constructor(contentTopic: string, detail: string) {
    super(
      `Invalid content topic ${JSON.stringify(contentTopic)}: ${detail}. Use /{application}/{version}/{topic-name}/{encoding}, e.g. from @orgchat/wire's topic helpers.`,
    );
    this.contentTopic = contentTopic;
  }
}

/**
 * Thrown when an operation was cancelled through its `AbortSignal`. `cause` holds the signal's reason.
 * Same `name` as the DOM's AbortError so existing `err.name === "AbortError"` checks keep working.
 */
export class AbortError extends Error {
  static readonly errorName = "AbortError";
  override readonly name = "AbortError";
  constructor(operation: string, options?: { cause?: unknown }) {
    super(`${operation} was aborted by its AbortSignal.`, options);
  }
}

/**
 * Thrown when a publish could not reach any peer before its deadline (relay: no mesh peer on the
 * shard; light: every service node refused or was unreachable). Check the peer addresses, that a
 * peer or service node is running, and retry.
 */
export class NoPeersError extends Error {
  static readonly errorName = "NoPeersError";
  override readonly name = "NoPeersError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `No peer reachable: ${detail}. Check the peer / service node addresses and that one is running, then retry.`,
      options,
    );
  }
}

/** Thrown by `queryHistory` on a transport whose `capabilities.history` is false: use a transport with a store. */
export class HistoryUnsupportedError extends Error {
  static readonly errorName = "HistoryUnsupportedError";
  override readonly name = "HistoryUnsupportedError";
  constructor(transport: string) {
    super(
      `${transport} keeps no history (capabilities.history is false). Use a transport connected to a store node (e.g. light mode with a service node).`,
    );
  }
}

/** Thrown when a history cursor was not produced by this transport for this query: restart paging without a cursor. */
export class InvalidCursorError extends Error {
  static readonly errorName = "InvalidCursorError";
  override readonly name = "InvalidCursorError";
  constructor(detail: string) {
    super(`Invalid history cursor: ${detail}. Restart the query without a cursor.`);
  }
}

/** Thrown when a history query is malformed (time range reversed, page size out of range, no topics). */
export class InvalidQueryError extends Error {
  static readonly errorName = "InvalidQueryError";
  override readonly name = "InvalidQueryError";
  constructor(detail: string) {
    super(`Invalid history query: ${detail}. Fix the query and retry.`);
  }
}

/**
 * Thrown when a store node answered a history query with an error, or none answered in time.
 * `status` carries the remote status code when there was one. Retry later or query another node.
 */
export class HistoryQueryFailedError extends Error {
  static readonly errorName = "HistoryQueryFailedError";
  override readonly name = "HistoryQueryFailedError";
  readonly status: number | undefined;
  constructor(detail: string, options?: { cause?: unknown; status?: number }) {
    super(`History query failed: ${detail}. Retry later or query another store node.`, options);
    this.status = options?.status;
  }
}

/** Thrown when `start()` cannot bring the transport up (bad listen address, port in use, bad peer multiaddr). */
export class TransportStartError extends Error {
  static readonly errorName = "TransportStartError";
  override readonly name = "TransportStartError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`Transport failed to start: ${detail}.`, options);
  }
}

/** @returns whether `value` is a {@link NotStartedError} (by name, so it works across package copies). */
export const isNotStartedError = (value: unknown): value is NotStartedError =>
  hasName(value, NotStartedError.errorName);
/** @returns whether `value` is a {@link PayloadTooLargeError}. */
export const isPayloadTooLargeError = (value: unknown): value is PayloadTooLargeError =>
  hasName(value, PayloadTooLargeError.errorName);
/** @returns whether `value` is an {@link EmptyPayloadError}. */
export const isEmptyPayloadError = (value: unknown): value is EmptyPayloadError =>
  hasName(value, EmptyPayloadError.errorName);
/** @returns whether `value` is an {@link InvalidContentTopicError}. */
export const isInvalidContentTopicError = (value: unknown): value is InvalidContentTopicError =>
  hasName(value, InvalidContentTopicError.errorName);
/** @returns whether `value` is an {@link AbortError} (ours or the DOM's). */
export const isAbortError = (value: unknown): value is AbortError =>
  hasName(value, AbortError.errorName);
/** @returns whether `value` is a {@link NoPeersError}. */
export const isNoPeersError = (value: unknown): value is NoPeersError =>
  hasName(value, NoPeersError.errorName);
/** @returns whether `value` is a {@link HistoryUnsupportedError}. */
export const isHistoryUnsupportedError = (value: unknown): value is HistoryUnsupportedError =>
  hasName(value, HistoryUnsupportedError.errorName);
/** @returns whether `value` is an {@link InvalidCursorError}. */
export const isInvalidCursorError = (value: unknown): value is InvalidCursorError =>
  hasName(value, InvalidCursorError.errorName);
/** @returns whether `value` is an {@link InvalidQueryError}. */
export const isInvalidQueryError = (value: unknown): value is InvalidQueryError =>
  hasName(value, InvalidQueryError.errorName);
/** @returns whether `value` is a {@link HistoryQueryFailedError}. */
export const isHistoryQueryFailedError = (value: unknown): value is HistoryQueryFailedError =>
  hasName(value, HistoryQueryFailedError.errorName);
/** @returns whether `value` is a {@link TransportStartError}. */
export const isTransportStartError = (value: unknown): value is TransportStartError =>
  hasName(value, TransportStartError.errorName);
