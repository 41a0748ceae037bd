/**
 * Input checks every transport shares, so that all of them refuse the same inputs with the same typed
 * errors (the compliance suite checks it). Implementer helpers: `@orgchat/transport/implement`.
 */
import {
  AbortError,
  EmptyPayloadError,
  InvalidContentTopicError,
  InvalidQueryError,
  PayloadTooLargeError,
} from "./errors.js";
import {
  defaultHistoryPageSize,
  type HistoryQuery,
  maxHistoryPageSize,
  type TransportCapabilities,
} from "./types.js";

const topicField = /^[^/\s]+$/;

/**
 * Content topics {@link assertContentTopic} accepted lately, so that a node publishing a burst on
 * one topic checks it once, not per message. Bounded: emptied when it reaches this many (each at
 * most 1,024 characters, so at most about 4 MB in the worst case; a few kB in practice).
 */
export const checkedContentTopicsMax = 1_024;
const checkedContentTopics = new Set<string>();

/** @returns how many content topics the check remembers now (tests of the bound). */
export function checkedContentTopicCount(): number {
  return checkedContentTopics.size;
}

/**
 * Checks the 23/WAKU2-TOPICS shape `/{application}/{version}/{topic-name}/{encoding}` (an optional
 * leading generation `/0` allowed), which Waku auto-sharding requires.
 * @throws InvalidContentTopicError
 */
export function assertContentTopic(contentTopic: string): void {
  if (checkedContentTopics.has(contentTopic)) return;
  if (typeof contentTopic !== "string" || contentTopic.length === 0) {
    throw new InvalidContentTopicError(String(contentTopic), "empty");
  }
  if (contentTopic.length > 1024) {
    throw new InvalidContentTopicError(contentTopic.slice(0, 64), "longer than 1024 characters");
  }
  const parts = contentTopic.split("/");
  if (parts[0] !== "") throw new InvalidContentTopicError(contentTopic, "must start with '/'");
  const fields = parts.slice(1);
  if (fields.length === 5) {
    if (fields[0] !== "0") {
      throw new InvalidContentTopicError(
        contentTopic,
        "the generation field, when present, must be 0",
      );
    }
    fields.shift();
  }
  if (fields.length !== 4 || !fields.every((f) => topicField.test(f))) {
    throw new InvalidContentTopicError(contentTopic, "expected 4 non-empty fields");
  }
  if (checkedContentTopics.size >= checkedContentTopicsMax) checkedContentTopics.clear();
  checkedContentTopics.add(contentTopic);
}

/**
 * Checks what `publish` checks before anything leaves the process.
 * @throws InvalidContentTopicError, EmptyPayloadError, PayloadTooLargeError, TypeError (payload not bytes)
 */
export function assertPublishable(
  contentTopic: string,
  payload: Uint8Array,
  capabilities: TransportCapabilities,
): void {
  assertContentTopic(contentTopic);
  if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
  if (payload.length === 0) throw new EmptyPayloadError();
  if (payload.length > capabilities.maxPayloadBytes) {
    throw new PayloadTooLargeError(payload.length, capabilities.maxPayloadBytes);
  }
}

/** A history query with its defaults filled in. */
export interface NormalizedHistoryQuery {
  readonly contentTopics: readonly string[];
  readonly from: number | undefined;
  readonly to: number | undefined;
  readonly direction: "forward" | "backward";
  readonly pageSize: number;
  readonly cursor: string | undefined;
}

/**
 * Validates a history query and fills in its defaults.
 * @throws InvalidQueryError, InvalidContentTopicError
 */
export function normalizeHistoryQuery(query: HistoryQuery): NormalizedHistoryQuery {
  if (!query || !Array.isArray(query.contentTopics) || query.contentTopics.length === 0) {
    throw new InvalidQueryError("contentTopics must list at least one topic");
  }
  for (const topic of query.contentTopics) assertContentTopic(topic);
  const pageSize = query.pageSize ?? defaultHistoryPageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxHistoryPageSize) {
    throw new InvalidQueryError(
      `pageSize must be an integer from 1 to ${maxHistoryPageSize}, got ${pageSize}`,
    );
  }
  for (const [key, value] of [
    ["from", query.from],
    ["to", query.to],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new InvalidQueryError(
        `${key} must be a non-negative number of milliseconds, got ${value}`,
      );
    }
  }
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    throw new InvalidQueryError(`from (${query.from}) is after to (${query.to})`);
  }
  const direction = query.direction ?? "backward";
  if (direction !== "forward" && direction !== "backward") {
    throw new InvalidQueryError(
      `direction must be "forward" or "backward", got ${String(direction)}`,
    );
  }
  if (
    query.cursor !== undefined &&
    (typeof query.cursor !== "string" || query.cursor.length === 0)
  ) {
    throw new InvalidQueryError("cursor must be a non-empty string from a previous page");
  }
  return {
    contentTopics: [...query.contentTopics],
    from: query.from,
    to: query.to,
    direction,
    pageSize,
    cursor: query.cursor,
  };
}

/** @throws AbortError when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortError(operation, { cause: signal.reason });
}
