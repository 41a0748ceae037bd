/**
 * Typed errors of the transport contract. Every transport throws these (never its library's own
 * errors) so that callers can branch on `err.name` or the `isX()` guards whatever transport they use.
 * Each message says what to do next (the `hint`).
 */
import { errorGuard, OrgchatError } from "@orgchat/base";

/** Thrown when a call needs a started transport: call `start()` first (after `stop()`, start again). */
export class NotStartedError extends OrgchatError {
  static readonly errorName = "NotStartedError";
  declare readonly name: "NotStartedError";
  constructor(operation: string) {
    super(NotStartedError.errorName, `Transport not started: ${operation} needs start() first`, {
      hint: "(a stopped transport can be started again).",
    });
  }
}

/** Thrown when a payload is larger than `capabilities.maxPayloadBytes`: split it or send less. */
export class PayloadTooLargeError extends OrgchatError {
  static readonly errorName = "PayloadTooLargeError";
  declare readonly name: "PayloadTooLargeError";
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      PayloadTooLargeError.errorName,
      `Payload of ${size} bytes exceeds this transport's limit of ${limit} bytes (capabilities.maxPayloadBytes).`,
      { hint: "Split the content or send less." },
    );
    this.size = size;
    this.limit = limit;
  }
}

/** Thrown when a payload is empty: Waku relay validators drop empty messages, so no transport sends one. */
export class EmptyPayloadError extends OrgchatError {
  static readonly errorName = "EmptyPayloadError";
  declare readonly name: "EmptyPayloadError";
  constructor() {
    super(
      EmptyPayloadError.errorName,
      "Empty payload: Waku relays drop messages without payload.",
      {
        hint: "Send at least one byte.",
      },
    );
  }
}

/**
 * Thrown when a content topic is not `/{application}/{version}/{topic-name}/{encoding}` (23/WAKU2-TOPICS).
 * Build topics with `@orgchat/wire`'s topic helpers.
 */
export class InvalidContentTopicError extends OrgchatError {
  static readonly errorName = "InvalidContentTopicError";
  declare readonly name: "InvalidContentTopicError";
  readonly contentTopic: string;
  constructor(contentTopic: string, detail: string) {
    super(
      InvalidContentTopicError.errorName,
      `Invalid content topic ${JSON.stringify(contentTopic)}: ${detail}.`,
      {
        hint: "Use /{application}/{version}/{topic-name}/{encoding}, e.g. from @orgchat/wire's topic helpers.",
      },
    );
    this.contentTopic = contentTopic;
  }
}

/**
 * Thrown when an operation was cancelled through its `AbortSignal`. `cause` holds the signal's reason.
 * Same `name` as the DOM's AbortError so existing `err.name === "AbortError"` checks keep working.
 */
export class AbortError extends OrgchatError {
  static readonly errorName = "AbortError";
  declare readonly name: "AbortError";
  constructor(operation: string, options?: { cause?: unknown }) {
    super(AbortError.errorName, `${operation} was aborted by its AbortSignal.`, { ...options });
  }
}

/**
 * The abort-error factory of one operation, for `@orgchat/base`'s `sleep` and `raceAbort`.
 * @param operation - what was aborted, e.g. `"publish"`
 * @returns a factory that makes `AbortError(operation, { cause: reason })`
 * @example
 * ```ts
 * await sleep(50, signal, abortErrorFor("publish"));
 * ```
 */
export function abortErrorFor(operation: string): (reason: unknown) => AbortError {
  return (reason) => new AbortError(operation, { cause: reason });
}

/**
 * Thrown when a publish could not reach any peer before its deadline (relay: no mesh peer on the
 * shard; light: every service node refused or was unreachable). Check the peer addresses, that a
 * peer or service node is running, and retry.
 */
export class NoPeersError extends OrgchatError {
  static readonly errorName = "NoPeersError";
  declare readonly name: "NoPeersError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(NoPeersError.errorName, `No peer reachable: ${detail}.`, {
      ...options,
      hint: "Check the peer / service node addresses and that one is running, then retry.",
    });
  }
}

/** Thrown by `queryHistory` on a transport whose `capabilities.history` is false: use a transport with a store. */
export class HistoryUnsupportedError extends OrgchatError {
  static readonly errorName = "HistoryUnsupportedError";
  declare readonly name: "HistoryUnsupportedError";
  constructor(transport: string) {
    super(
      HistoryUnsupportedError.errorName,
      `${transport} keeps no history (capabilities.history is false).`,
      {
        hint: "Use a transport connected to a store node (e.g. light mode with a service node).",
      },
    );
  }
}

/** Thrown when a history cursor was not produced by this transport for this query: restart paging without a cursor. */
export class InvalidCursorError extends OrgchatError {
  static readonly errorName = "InvalidCursorError";
  declare readonly name: "InvalidCursorError";
  constructor(detail: string) {
    super(InvalidCursorError.errorName, `Invalid history cursor: ${detail}.`, {
      hint: "Restart the query without a cursor.",
    });
  }
}

/** Thrown when a history query is malformed (time range reversed, page size out of range, no topics). */
export class InvalidQueryError extends OrgchatError {
  static readonly errorName = "InvalidQueryError";
  declare readonly name: "InvalidQueryError";
  constructor(detail: string) {
    super(InvalidQueryError.errorName, `Invalid history query: ${detail}.`, {
      hint: "Fix the query and retry.",
    });
  }
}

/**
 * Thrown when a store node answered a history query with an error, or none answered in time.
 * `status` carries the remote status code when there was one. Retry later or query another node.
 */
export class HistoryQueryFailedError extends OrgchatError {
  static readonly errorName = "HistoryQueryFailedError";
  declare readonly name: "HistoryQueryFailedError";
  readonly status: number | undefined;
  constructor(detail: string, options?: { cause?: unknown; status?: number }) {
    super(HistoryQueryFailedError.errorName, `History query failed: ${detail}.`, {
      ...(options && "cause" in options ? { cause: options.cause } : {}),
      hint: "Retry later or query another store node.",
    });
    this.status = options?.status;
  }
}

/** Thrown when `start()` cannot bring the transport up (bad listen address, port in use, bad peer multiaddr). */
export class TransportStartError extends OrgchatError {
  static readonly errorName = "TransportStartError";
  declare readonly name: "TransportStartError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(TransportStartError.errorName, `Transport failed to start: ${detail}.`, { ...options });
  }
}

/** @returns whether `value` is a {@link NotStartedError} (by name, so it works across package copies). */
export const isNotStartedError = errorGuard<NotStartedError>(NotStartedError.errorName);
/** @returns whether `value` is a {@link PayloadTooLargeError}. */
export const isPayloadTooLargeError = errorGuard<PayloadTooLargeError>(
  PayloadTooLargeError.errorName,
);
/** @returns whether `value` is an {@link EmptyPayloadError}. */
export const isEmptyPayloadError = errorGuard<EmptyPayloadError>(EmptyPayloadError.errorName);
/** @returns whether `value` is an {@link InvalidContentTopicError}. */
export const isInvalidContentTopicError = errorGuard<InvalidContentTopicError>(
  InvalidContentTopicError.errorName,
);
/** @returns whether `value` is an {@link AbortError} (ours or the DOM's). */
export const isAbortError = errorGuard<AbortError>(AbortError.errorName);
/** @returns whether `value` is a {@link NoPeersError}. */
export const isNoPeersError = errorGuard<NoPeersError>(NoPeersError.errorName);
/** @returns whether `value` is a {@link HistoryUnsupportedError}. */
export const isHistoryUnsupportedError = errorGuard<HistoryUnsupportedError>(
  HistoryUnsupportedError.errorName,
);
/** @returns whether `value` is an {@link InvalidCursorError}. */
export const isInvalidCursorError = errorGuard<InvalidCursorError>(InvalidCursorError.errorName);
/** @returns whether `value` is an {@link InvalidQueryError}. */
export const isInvalidQueryError = errorGuard<InvalidQueryError>(InvalidQueryError.errorName);
/** @returns whether `value` is a {@link HistoryQueryFailedError}. */
export const isHistoryQueryFailedError = errorGuard<HistoryQueryFailedError>(
  HistoryQueryFailedError.errorName,
);
/** @returns whether `value` is a {@link TransportStartError}. */
export const isTransportStartError = errorGuard<TransportStartError>(TransportStartError.errorName);
