/**
 * What the compliance cases share: the case shape and its environment, and the checks and waits
 * the cases are written with. Internal to `@orgchat/transport/compliance`.
 */
import { equalBytes, sleep, toHex } from "@orgchat/base";
import { expect } from "vitest";
import {
  isAbortError,
  isEmptyPayloadError,
  isHistoryQueryFailedError,
  isHistoryUnsupportedError,
  isInvalidContentTopicError,
  isInvalidCursorError,
  isInvalidQueryError,
  isNotStartedError,
  isPayloadTooLargeError,
} from "./errors.js";
import type {
  HistoryQuery,
  PublishResult,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportStatus,
} from "./types.js";

/** What the suite needs from a transport implementation. */
export interface TransportFixture {
  /** Shown in test names, e.g. "memory", "waku relay (3 nodes, ws)". */
  readonly name: string;
  /** Creates `count` started transports that can all exchange messages (mesh formed, peers connected). count is 1..3. */
  createPeers(count: number): Promise<readonly Transport[]>;
  /** Stops and frees everything createPeers/createUnstarted made. Called in afterEach. */
  cleanup(): Promise<void>;
  /**
   * A transport that is not started yet (lifecycle tests). Also called once while Vitest collects the
   * suite (before any `beforeAll` hook) to read the capabilities that decide the skips.
   */
  createUnstarted(): Promise<Transport>;
  /** Max wait for an expected delivery, ms. @default 5000 */
  readonly deliveryTimeoutMs?: number;
  /** Time for published messages to become visible to history queries, ms (store ingestion). @default 0 */
  readonly historySettleMs?: number;
}

/** Options of {@link runTransportCompliance}. */
export interface ComplianceOptions {
  /**
   * Cases to skip visibly, each as `"<case id>: <reason>"`, e.g.
   * `"history/paging: the store under test caps pages at 10"`. The reason appears in the test name.
   */
  readonly skip?: readonly string[];
}

/** Stable ids of the compliance cases, in the order they run. */
export const transportComplianceCases = [
  "capabilities/shape",
  "lifecycle/idempotent",
  "lifecycle/not-started",
  "lifecycle/stopped",
  "lifecycle/restart",
  "lifecycle/aborted-start",
  "delivery/byte-for-byte",
  "delivery/self",
  "delivery/topic-isolation",
  "delivery/multiple-topics",
  "delivery/subscribers",
  "delivery/at-least-once",
  "delivery/parallel-publishes",
  "delivery/ordered",
  "unsubscribe/stops-delivery",
  "handler/failure-isolated",
  "payload/max-size",
  "payload/empty",
  "topic/invalid",
  "abort/already-aborted",
  "abort/during-call",
  "history/capability",
  "history/messages",
  "history/time-range",
  "history/directions",
  "history/paging",
  "history/multiple-topics",
  "history/invalid-cursor",
  "history/invalid-query",
] as const;

/** Id of one compliance case. */
export type TransportComplianceCase = (typeof transportComplianceCases)[number];

export type CapabilityFlag = "history" | "selfDelivery" | "ordered";

export interface CaseEnvironment {
  readonly fixture: TransportFixture;
  readonly capabilities: TransportCapabilities;
  readonly deliveryTimeoutMs: number;
  readonly historySettleMs: number;
  /** A fresh content topic for this case: `/orgchat-compliance/1/<case>-<nonce>/proto`. */
  topic(label?: string): string;
  /** Fresh payload bytes, unique to this case run. */
  payload(label: string | number): Uint8Array;
  peers(count: number): Promise<readonly Transport[]>;
}

export interface ComplianceCase {
  readonly id: TransportComplianceCase;
  readonly title: string;
  readonly requires?: CapabilityFlag;
  run(env: CaseEnvironment): Promise<void>;
}

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export function randomNonce(): string {
  // Random, not counted: a persistent store (a service node's SQLite) outlives one test run.
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return toHex(bytes);
}

const pause = (ms: number) => sleep(ms);

export function describeFailure(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === "object" && error !== null && "name" in error) {
    return String((error as { name: unknown }).name);
  }
  return String(error);
}

/** Deterministic bytes (xorshift32), so a failing case shows the same payload every run. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

export function textOf(message: TransportMessage): string {
  return decoder.decode(message.payload);
}

/** Tells whoever waits that something changed (a message arrived, an event fired). */
export type ChangeSource = (changed: () => void) => () => void;

/**
 * Waits until `condition` holds: re-checked whenever `changes` reports a change (or, without a
 * source, every 10 ms). `timeoutMs` is a safety net: reaching it fails the case with `what()`.
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: () => string,
  changes?: ChangeSource,
): Promise<void> {
  if (condition()) return;
  if (changes === undefined) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what()}`);
      await pause(10);
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`Timed out after ${timeoutMs} ms: ${what()}`));
    }, timeoutMs);
    const off = changes(() => {
      if (!condition()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** A {@link ChangeSource} that the owner triggers with `notify()`. */
export function changeNotifier(): { readonly on: ChangeSource; notify(): void } {
  const listeners = new Set<() => void>();
  return {
    on: (changed) => {
      listeners.add(changed);
      return () => {
        listeners.delete(changed);
      };
    },
    notify: () => {
      for (const listener of [...listeners]) listener();
    },
  };
}

/**
 * Awaits a call that must reject with an error one of `guards` accepts (never throw synchronously,
 * never resolve). Returns the error.
 */
export async function expectRejection(
  call: () => Promise<unknown>,
  expected: string,
  ...guards: readonly ((error: unknown) => boolean)[]
): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    throw new Error(
      `Expected a rejection with ${expected}, but the call threw synchronously (${describeFailure(error)}); asynchronous calls must reject`,
    );
  }
  let resolved = false;
  let failure: unknown;
  try {
    await promise;
    resolved = true;
  } catch (error) {
    failure = error;
  }
  if (resolved) throw new Error(`Expected a rejection with ${expected}, but the call resolved`);
  if (!guards.some((guard) => guard(failure))) {
    throw new Error(`Expected a rejection with ${expected}, got ${describeFailure(failure)}`);
  }
  return failure;
}

export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** Settles `promise` within `timeoutMs`, or fails: a pending call must not hang forever. */
export async function settle<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Outcome<T> => ({ ok: true, value }),
        (error: unknown): Outcome<T> => ({ ok: false, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Inbox {
  readonly messages: TransportMessage[];
  readonly subscription: Subscription;
  /** Whether a message with this id arrived. */
  has(id: string): boolean;
  /** Reports every arrival. */
  readonly changes: ChangeSource;
}

export async function listen(
  transport: Transport,
  contentTopics: readonly string[],
): Promise<Inbox> {
  const messages: TransportMessage[] = [];
  const arrivals = changeNotifier();
  const subscription = await transport.subscribe(contentTopics, (message) => {
    messages.push(message);
    arrivals.notify();
  });
  return {
    messages,
    subscription,
    has: (id) => messages.some((m) => m.id === id),
    changes: arrivals.on,
  };
}

export async function waitForIds(
  inbox: Pick<Inbox, "has" | "changes">,
  ids: readonly string[],
  timeoutMs: number,
  who: string,
): Promise<void> {
  await waitFor(
    () => ids.every((id) => inbox.has(id)),
    timeoutMs,
    () => {
      const missing = ids.filter((id) => !inbox.has(id));
      return `${who} received ${ids.length - missing.length} of ${ids.length} expected messages (missing ${missing.length}, e.g. ${missing.slice(0, 3).join(", ")})`;
    },
    inbox.changes,
  );
}

export function checkPublishResult(result: PublishResult): void {
  expect(typeof result.id, "PublishResult.id is a string").toBe("string");
  expect(result.id.length, "PublishResult.id is not empty").toBeGreaterThan(0);
  expect(Number.isFinite(result.timestamp), "PublishResult.timestamp is a number").toBe(true);
  // Milliseconds since the epoch: catches seconds or nanoseconds by mistake.
  expect(
    Math.abs(result.timestamp - Date.now()),
    "PublishResult.timestamp is in ms, near this machine's clock",
  ).toBeLessThan(24 * 3600 * 1000);
  expect(
    Number.isInteger(result.recipients) && result.recipients >= 0,
    "recipients is a count",
  ).toBe(true);
}

export function checkDelivered(
  message: TransportMessage,
  expected: {
    readonly contentTopic: string;
    readonly payload: Uint8Array;
    readonly result: PublishResult;
  },
): void {
  expect(message.payload, "payload is a Uint8Array").toBeInstanceOf(Uint8Array);
  expect(equalBytes(message.payload, expected.payload), "payload equals the published bytes").toBe(
    true,
  );
  expect(message.contentTopic).toBe(expected.contentTopic);
  expect(message.id, "id equals PublishResult.id").toBe(expected.result.id);
  expect(message.timestamp, "timestamp equals PublishResult.timestamp").toBe(
    expected.result.timestamp,
  );
}

/** Publishes one message per payload, one after the other, optionally spaced `gapMs` apart. */
export async function publishAll(
  transport: Transport,
  contentTopic: string,
  payloads: readonly Uint8Array[],
  gapMs = 0,
): Promise<PublishResult[]> {
  const results: PublishResult[] = [];
  for (const [index, payload] of payloads.entries()) {
    if (index > 0 && gapMs > 0) await pause(gapMs);
    const result = await transport.publish(contentTopic, payload);
    checkPublishResult(result);
    results.push(result);
  }
  return results;
}

/** Follows cursors until the transport says there is no more; fails on a runaway cursor loop. */
export async function walkHistory(transport: Transport, query: HistoryQuery, maxPages = 500) {
  const pages: (readonly TransportMessage[])[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await transport.queryHistory(cursor === undefined ? query : { ...query, cursor });
    expect(page.messages.length, "a page holds at most pageSize messages").toBeLessThanOrEqual(
      query.pageSize ?? 20,
    );
    pages.push(page.messages);
    if (page.cursor === undefined) return { pages, messages: pages.flat() };
    expect(
      typeof page.cursor === "string" && page.cursor.length > 0,
      "a cursor is a non-empty string",
    ).toBe(true);
    cursor = page.cursor;
  }
  throw new Error(`History paging did not end after ${maxPages} pages (does the cursor advance?)`);
}

/** Waits until a history query sees every id in `ids` (store ingestion can lag), then returns all it sees. */
export async function waitForHistory(
  env: CaseEnvironment,
  transport: Transport,
  contentTopics: readonly string[],
  ids: readonly string[],
): Promise<TransportMessage[]> {
  const timeoutMs = env.historySettleMs + env.deliveryTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { messages } = await walkHistory(transport, {
      contentTopics,
      direction: "forward",
      pageSize: 100,
    });
    const seen = new Set(messages.map((m) => m.id));
    const missing = ids.filter((id) => !seen.has(id));
    if (missing.length === 0) return messages;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms: history shows ${ids.length - missing.length} of ${ids.length} published messages`,
      );
    }
    await pause(25);
  }
}

export function idsOf(messages: readonly { readonly id: string }[]): string[] {
  return messages.map((m) => m.id);
}

export function expectSameIdSet(
  actual: readonly string[],
  expected: readonly string[],
  what: string,
): void {
  expect(new Set(actual).size, `${what}: no duplicates`).toBe(actual.length);
  expect([...actual].sort(), what).toEqual([...expected].sort());
}

export function expectMonotone(
  messages: readonly TransportMessage[],
  direction: "forward" | "backward",
): void {
  for (let i = 1; i < messages.length; i++) {
    const previous = (messages[i - 1] as TransportMessage).timestamp;
    const current = (messages[i] as TransportMessage).timestamp;
    if (direction === "forward") {
      expect(current, `forward history is oldest first (message ${i})`).toBeGreaterThanOrEqual(
        previous,
      );
    } else {
      expect(current, `backward history is newest first (message ${i})`).toBeLessThanOrEqual(
        previous,
      );
    }
  }
}

export const invalidTopics = [
  "",
  "orgchat-compliance",
  "orgchat-compliance/1/case/proto",
  "/orgchat-compliance/1/case",
  "/orgchat-compliance/1/case/proto/extra/field",
  "/1/orgchat-compliance/1/case/proto",
  "/orgchat-compliance//case/proto",
  "/orgchat-compliance/1/with space/proto",
];
/** The typed errors a compliance case expects, by name. */
const guards = {
  AbortError: isAbortError,
  EmptyPayloadError: isEmptyPayloadError,
  HistoryQueryFailedError: isHistoryQueryFailedError,
  HistoryUnsupportedError: isHistoryUnsupportedError,
  InvalidContentTopicError: isInvalidContentTopicError,
  InvalidCursorError: isInvalidCursorError,
  InvalidQueryError: isInvalidQueryError,
  NotStartedError: isNotStartedError,
  PayloadTooLargeError: isPayloadTooLargeError,
} as const;

/** Name of an error a compliance case can expect. */
export type ExpectedError = keyof typeof guards;

/**
 * Awaits a call that must reject with one of the named errors (see {@link expectRejection}).
 * @param names - the accepted error names
 * @param call - the call
 * @param context - what the call was, shown before the names in a failure
 * @returns the error
 */
export function rejectsWith(
  names: ExpectedError | readonly ExpectedError[],
  call: () => Promise<unknown>,
  context?: string,
): Promise<unknown> {
  const list: readonly ExpectedError[] = typeof names === "string" ? [names] : names;
  const expected = list.join(" or ");
  return expectRejection(
    call,
    context === undefined ? expected : `${context}: ${expected}`,
    ...list.map((name) => guards[name]),
  );
}

/**
 * Checks that publish, subscribe and queryHistory all reject with `NotStartedError` (a transport
 * without history may answer `HistoryUnsupportedError` instead).
 */
export async function expectNotStarted(
  transport: Transport,
  env: CaseEnvironment,
  topic: string,
): Promise<void> {
  await rejectsWith("NotStartedError", () => transport.publish(topic, env.payload(1)));
  await rejectsWith("NotStartedError", () => transport.subscribe([topic], () => {}));
  await rejectsWith(
    env.capabilities.history ? "NotStartedError" : ["NotStartedError", "HistoryUnsupportedError"],
    () => transport.queryHistory({ contentTopics: [topic] }),
  );
}

/** Two started peers, a fresh topic, and the subscriber's inbox on it (the most common set-up). */
export async function pairOnTopic(env: CaseEnvironment): Promise<{
  readonly publisher: Transport;
  readonly subscriber: Transport;
  readonly topic: string;
  readonly inbox: Inbox;
}> {
  const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
  const topic = env.topic();
  const inbox = await listen(subscriber, [topic]);
  return { publisher, subscriber, topic, inbox };
}

/** Publishes `payloads` one after the other and waits until `inbox` received them all. */
export async function publishAndAwait(
  env: CaseEnvironment,
  publisher: Transport,
  topic: string,
  payloads: readonly Uint8Array[],
  inbox: Pick<Inbox, "has" | "changes">,
  who: string,
): Promise<PublishResult[]> {
  const results = await publishAll(publisher, topic, payloads);
  await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, who);
  return results;
}

/**
 * Resolves once `transport.status` is `status` (watching `status:changed`), or fails after
 * `timeoutMs`: a safety net, never what decides a passing outcome.
 */
export function waitForStatus(
  transport: Transport,
  status: TransportStatus,
  timeoutMs: number,
): Promise<void> {
  if (transport.status === status) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `Timed out after ${timeoutMs} ms: status stayed ${transport.status}, expected ${status}`,
        ),
      );
    }, timeoutMs);
    const off = transport.on("status:changed", (event) => {
      if (event.status !== status) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * Two started peers and a fresh topic on which the first published `count` fresh payloads, spaced
 * `gapMs` apart, that the second already finds in history (store ingestion can lag).
 */
export async function publishedHistory(
  env: CaseEnvironment,
  count: number,
  gapMs = 0,
): Promise<{
  readonly publisher: Transport;
  readonly reader: Transport;
  readonly topic: string;
  readonly results: PublishResult[];
}> {
  const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
  const topic = env.topic();
  const payloads = Array.from({ length: count }, (_, i) => env.payload(i));
  const results = await publishAll(publisher, topic, payloads, gapMs);
  await waitForHistory(env, reader, [topic], idsOf(results));
  return { publisher, reader, topic, results };
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
