/**
 * `@orgchat/transport/compliance`: the suite every transport passes. One call defines Vitest
 * `describe` / `it` blocks that check a transport against the contract of `Transport` (lifecycle,
 * delivery byte for byte, topic isolation, unsubscribe, failing handlers, at-least-once delivery,
 * payload limits, topic checks, abort, parallel publishes, history ranges and paging).
 *
 * Cases have stable ids (`[history/paging] …` in the test name, {@link transportComplianceCases}).
 * A case a transport cannot support is skipped visibly, with the reason in its name, by capability
 * (`capabilities.history`, `selfDelivery`, `ordered`) or through `ComplianceOptions.skip`; a case is
 * never left out.
 *
 * @example
 * ```ts
 * // test/compliance.test.ts
 * import { type MemoryNetwork, memoryNetwork } from "@orgchat/transport";
 * import { runTransportCompliance } from "@orgchat/transport/compliance";
 *
 * let network: MemoryNetwork | undefined;
 * const current = () => (network ??= memoryNetwork());
 * runTransportCompliance({
 *   name: "memory",
 *   async createPeers(count) {
 *     const peers = Array.from({ length: count }, () => current().transport());
 *     await Promise.all(peers.map((peer) => peer.start()));
 *     return peers;
 *   },
 *   createUnstarted: async () => current().transport(),
 *   async cleanup() {
 *     await network?.stop();
 *     network = undefined;
 *   },
 * });
 * ```
 *
 * @packageDocumentation
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  isAbortError,
  isEmptyPayloadError,
  isHistoryQueryFailedError,
  isHistoryUnsupportedError,
  isInvalidContentTopicError,
  isInvalidCursorError,
  isInvalidQueryError,
  isNoPeersError,
  isNotStartedError,
  isPayloadTooLargeError,
} from "./errors.js";
import type {
  HistoryQuery,
  PublishResult,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportEvents,
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

type CapabilityFlag = "history" | "selfDelivery" | "ordered";

interface CaseEnvironment {
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

interface ComplianceCase {
  readonly id: TransportComplianceCase;
  readonly title: string;
  readonly requires?: CapabilityFlag;
  run(env: CaseEnvironment): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomNonce(): string {
  // Random, not counted: a persistent store (a service node's SQLite) outlives one test run.
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return hex(bytes);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === "object" && error !== null && "name" in error) {
    return String((error as { name: unknown }).name);
  }
  return String(error);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deterministic bytes (xorshift32), so a failing case shows the same payload every run. */
function patternBytes(length: number, seed: number): Uint8Array {
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

function textOf(message: TransportMessage): string {
  return decoder.decode(message.payload);
}

/** Polls `condition` until it holds or `timeoutMs` passes (then fails with `what()`). */
async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what()}`);
    await sleep(10);
  }
}

/**
 * Awaits a call that must reject with an error one of `guards` accepts (never throw synchronously,
 * never resolve). Returns the error.
 */
async function expectRejection(
  call: () => Promise<unknown>,
  expected: string,
  ...guards: readonly ((error: unknown) => boolean)[]
): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    throw new Error(
      `Expected a rejection with ${expected}, but the call threw synchronously (${describeError(error)}); asynchronous calls must reject`,
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
    throw new Error(`Expected a rejection with ${expected}, got ${describeError(failure)}`);
  }
  return failure;
}

type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** Settles `promise` within `timeoutMs`, or fails: a pending call must not hang forever. */
async function settle<T>(
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

interface Inbox {
  readonly messages: TransportMessage[];
  readonly subscription: Subscription;
  /** Whether a message with this id arrived. */
  has(id: string): boolean;
}

async function listen(transport: Transport, contentTopics: readonly string[]): Promise<Inbox> {
  const messages: TransportMessage[] = [];
  const subscription = await transport.subscribe(contentTopics, (message) => {
    messages.push(message);
  });
  return { messages, subscription, has: (id) => messages.some((m) => m.id === id) };
}

async function waitForIds(
  inbox: Pick<Inbox, "has">,
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
  );
}

function checkPublishResult(result: PublishResult): void {
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

function checkDelivered(
  message: TransportMessage,
  expected: {
    readonly contentTopic: string;
    readonly payload: Uint8Array;
    readonly result: PublishResult;
  },
): void {
  expect(message.payload, "payload is a Uint8Array").toBeInstanceOf(Uint8Array);
  expect(bytesEqual(message.payload, expected.payload), "payload equals the published bytes").toBe(
    true,
  );
  expect(message.contentTopic).toBe(expected.contentTopic);
  expect(message.id, "id equals PublishResult.id").toBe(expected.result.id);
  expect(message.timestamp, "timestamp equals PublishResult.timestamp").toBe(
    expected.result.timestamp,
  );
}

/** Publishes one message per payload, one after the other, optionally spaced `gapMs` apart. */
async function publishAll(
  transport: Transport,
  contentTopic: string,
  payloads: readonly Uint8Array[],
  gapMs = 0,
): Promise<PublishResult[]> {
  const results: PublishResult[] = [];
  for (const [index, payload] of payloads.entries()) {
    if (index > 0 && gapMs > 0) await sleep(gapMs);
    const result = await transport.publish(contentTopic, payload);
    checkPublishResult(result);
    results.push(result);
  }
  return results;
}

/** Follows cursors until the transport says there is no more; fails on a runaway cursor loop. */
async function walkHistory(transport: Transport, query: HistoryQuery, maxPages = 500) {
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
async function waitForHistory(
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
    await sleep(25);
  }
}

function idsOf(messages: readonly { readonly id: string }[]): string[] {
  return messages.map((m) => m.id);
}

function expectSameIdSet(
  actual: readonly string[],
  expected: readonly string[],
  what: string,
): void {
  expect(new Set(actual).size, `${what}: no duplicates`).toBe(actual.length);
  expect([...actual].sort(), what).toEqual([...expected].sort());
}

function expectMonotone(
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

/** Publishes fresh payloads until `delivered()` holds: after a restart a mesh may need to re-form. */
async function publishUntil(
  transport: Transport,
  contentTopic: string,
  env: CaseEnvironment,
  delivered: (published: readonly PublishResult[]) => boolean,
  what: string,
): Promise<PublishResult[]> {
  const published: PublishResult[] = [];
  const timeoutMs = 2 * env.deliveryTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      published.push(await transport.publish(contentTopic, env.payload(`retry-${attempt}`)));
    } catch (error) {
      if (!isNoPeersError(error)) throw error;
    }
    const next = Math.min(deadline, Date.now() + 250);
    while (Date.now() < next) {
      if (delivered(published)) return published;
      await sleep(10);
    }
    if (delivered(published)) return published;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what}`);
  }
}

const invalidTopics = [
  "",
  "orgchat-compliance",
  "orgchat-compliance/1/case/proto",
  "/orgchat-compliance/1/case",
  "/orgchat-compliance/1/case/proto/extra/field",
  "/1/orgchat-compliance/1/case/proto",
  "/orgchat-compliance//case/proto",
  "/orgchat-compliance/1/with space/proto",
];

const cases: readonly ComplianceCase[] = [
  {
    id: "capabilities/shape",
    title: "capabilities are well-formed and the same on every transport of the fixture",
    async run(env) {
      const caps = env.capabilities;
      for (const flag of ["history", "selfDelivery", "ordered"] as const) {
        expect(typeof caps[flag], `capabilities.${flag} is a boolean`).toBe("boolean");
      }
      expect(
        Number.isSafeInteger(caps.maxPayloadBytes) && caps.maxPayloadBytes > 0,
        "capabilities.maxPayloadBytes is a positive integer",
      ).toBe(true);
      const unstarted = await env.fixture.createUnstarted();
      expect({ ...unstarted.capabilities }).toEqual({ ...caps });
      for (const peer of await env.peers(2)) expect({ ...peer.capabilities }).toEqual({ ...caps });
    },
  },
  {
    id: "lifecycle/idempotent",
    title: "start() and stop() are idempotent, status follows them and stop reports 'stopped'",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      expect(transport.status).toBe("stopped");
      const statuses: TransportStatus[] = [];
      const off = transport.on("status:changed", (event) => statuses.push(event.status));
      await Promise.all([transport.start(), transport.start()]);
      await transport.start();
      expect(transport.status).not.toBe("stopped");
      expect({ ...transport.capabilities }, "capabilities are constant").toEqual({
        ...env.capabilities,
      });
      await transport.stop();
      await transport.stop();
      await Promise.all([transport.stop(), transport.stop()]);
      expect(transport.status).toBe("stopped");
      expect(statuses.at(-1), "the last status:changed after stop() says 'stopped'").toBe(
        "stopped",
      );
      expect({ ...transport.capabilities }, "capabilities are constant").toEqual({
        ...env.capabilities,
      });
      off();
    },
  },
  {
    id: "lifecycle/not-started",
    title: "publish, subscribe and queryHistory reject with NotStartedError before start()",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      const topic = env.topic();
      await expectRejection(
        () => transport.publish(topic, env.payload(1)),
        "NotStartedError",
        isNotStartedError,
      );
      await expectRejection(
        () => transport.subscribe([topic], () => {}),
        "NotStartedError",
        isNotStartedError,
      );
      await expectRejection(
        () => transport.queryHistory({ contentTopics: [topic] }),
        env.capabilities.history ? "NotStartedError" : "NotStartedError or HistoryUnsupportedError",
        isNotStartedError,
        ...(env.capabilities.history ? [] : [isHistoryUnsupportedError]),
      );
    },
  },
  {
    id: "lifecycle/stopped",
    title:
      "after stop(), calls reject with NotStartedError and ended subscriptions unsubscribe quietly",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      const topic = env.topic();
      await transport.start();
      const subscription = await transport.subscribe([topic], () => {});
      await transport.stop();
      await expectRejection(
        () => transport.publish(topic, env.payload(1)),
        "NotStartedError",
        isNotStartedError,
      );
      await expectRejection(
        () => transport.subscribe([topic], () => {}),
        "NotStartedError",
        isNotStartedError,
      );
      await expectRejection(
        () => transport.queryHistory({ contentTopics: [topic] }),
        env.capabilities.history ? "NotStartedError" : "NotStartedError or HistoryUnsupportedError",
        isNotStartedError,
        ...(env.capabilities.history ? [] : [isHistoryUnsupportedError]),
      );
      await subscription.unsubscribe();
      await subscription.unsubscribe();
    },
  },
  {
    id: "lifecycle/restart",
    title:
      "a stopped transport starts again and carries messages; its old subscriptions stay ended",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const beforeRestart = await listen(publisher, [topic]);
      const inbox = await listen(subscriber, [topic]);
      await publisher.stop();
      await publisher.start();
      expect(publisher.status).not.toBe("stopped");
      const own = env.capabilities.selfDelivery ? await listen(publisher, [topic]) : undefined;
      const published = await publishUntil(
        publisher,
        topic,
        env,
        (results) =>
          results.some((r) => inbox.has(r.id)) &&
          (own === undefined || results.some((r) => own.has(r.id))),
        "no message published after the restart reached the subscriber (and, with selfDelivery, the publisher)",
      );
      const after = new Set(idsOf(published));
      expect(
        beforeRestart.messages.filter((m) => after.has(m.id)),
        "a subscription made before stop() receives nothing after the restart",
      ).toEqual([]);
    },
  },
  {
    id: "lifecycle/aborted-start",
    title:
      "start() with an aborted signal rejects with AbortError and leaves the transport stopped",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      const controller = new AbortController();
      controller.abort(new Error("compliance: aborted on purpose"));
      await expectRejection(
        () => transport.start({ signal: controller.signal }),
        "AbortError",
        isAbortError,
      );
      expect(transport.status).toBe("stopped");
      await expectRejection(
        () => transport.publish(env.topic(), env.payload(1)),
        "NotStartedError",
        isNotStartedError,
      );
      await transport.start();
      expect(transport.status).not.toBe("stopped");
      await transport.stop();
    },
  },
  {
    id: "delivery/byte-for-byte",
    title:
      "a subscriber on another peer receives each payload byte for byte, with the published id and timestamp",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const inbox = await listen(subscriber, [topic]);
      const payloads = [
        Uint8Array.of(0),
        Uint8Array.from({ length: 256 }, (_, i) => i),
        patternBytes(1000, 7),
        encoder.encode(`héllo wörld ✓ 🌍 ${hex(env.payload("utf8"))}`),
        Uint8Array.of(0, 0, 0, 0),
      ];
      // Two of the payloads are the same every run: make each unique to this run where possible.
      const unique = payloads.map((p, i) => (i === 0 || i === 4 ? p : concat(p, env.payload(i))));
      const results = await publishAll(publisher, topic, unique);
      expect(new Set(idsOf(results)).size, "distinct messages get distinct ids").toBe(
        results.length,
      );
      await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, "the subscriber");
      for (const [i, result] of results.entries()) {
        for (const message of inbox.messages.filter((m) => m.id === result.id)) {
          checkDelivered(message, {
            contentTopic: topic,
            payload: unique[i] as Uint8Array,
            result,
          });
        }
      }
    },
  },
  {
    id: "delivery/self",
    title: "a transport receives its own publishes (capabilities.selfDelivery)",
    requires: "selfDelivery",
    async run(env) {
      const [publisher] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const inbox = await listen(publisher, [topic]);
      const payload = env.payload("self");
      const [result] = (await publishAll(publisher, topic, [payload])) as [PublishResult];
      await waitForIds(inbox, [result.id], env.deliveryTimeoutMs, "the publisher itself");
      for (const message of inbox.messages)
        checkDelivered(message, { contentTopic: topic, payload, result });
    },
  },
  {
    id: "delivery/topic-isolation",
    title: "a subscription receives only its own content topics",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const wanted = env.topic("wanted");
      const other = env.topic("other");
      const inbox = await listen(subscriber, [wanted]);
      const probe = await listen(subscriber, [other]);
      const [onOther] = (await publishAll(publisher, other, [env.payload("other")])) as [
        PublishResult,
      ];
      const [onWanted] = (await publishAll(publisher, wanted, [env.payload("wanted")])) as [
        PublishResult,
      ];
      await waitForIds(probe, [onOther.id], env.deliveryTimeoutMs, "the probe on the other topic");
      await waitForIds(inbox, [onWanted.id], env.deliveryTimeoutMs, "the subscriber");
      expect(
        inbox.messages.every((m) => m.contentTopic === wanted),
        "only the subscribed topic",
      ).toBe(true);
      expect(inbox.has(onOther.id), "the other topic's message did not leak").toBe(false);
      expect(probe.has(onWanted.id), "nor the other way round").toBe(false);
    },
  },
  {
    id: "delivery/multiple-topics",
    title: "one subscription on several content topics receives each with its topic",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const first = env.topic("first");
      const second = env.topic("second");
      const inbox = await listen(subscriber, [first, second]);
      expect([...inbox.subscription.contentTopics].sort()).toEqual([first, second].sort());
      const [a] = (await publishAll(publisher, first, [env.payload("first")])) as [PublishResult];
      const [b] = (await publishAll(publisher, second, [env.payload("second")])) as [PublishResult];
      await waitForIds(inbox, [a.id, b.id], env.deliveryTimeoutMs, "the subscriber");
      for (const message of inbox.messages) {
        expect(message.contentTopic).toBe(message.id === a.id ? first : second);
      }
    },
  },
  {
    id: "delivery/subscribers",
    title: "every subscribed peer receives every message",
    async run(env) {
      const [publisher, second, third] = (await env.peers(3)) as [Transport, Transport, Transport];
      const topic = env.topic();
      const inboxes = [await listen(second, [topic]), await listen(third, [topic])];
      const results = await publishAll(
        publisher,
        topic,
        [1, 2, 3].map((i) => env.payload(i)),
      );
      for (const [i, inbox] of inboxes.entries()) {
        await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, `peer ${i + 1}`);
      }
    },
  },
  {
    id: "delivery/at-least-once",
    title:
      "30 messages: the set received covers the set published (duplicates allowed, ids consistent)",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const inbox = await listen(subscriber, [topic]);
      const payloads = Array.from({ length: 30 }, (_, i) => env.payload(i));
      const results = await publishAll(publisher, topic, payloads);
      await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, "the subscriber");
      const byText = new Map(
        payloads.map((p, i) => [decoder.decode(p), results[i] as PublishResult]),
      );
      for (const message of inbox.messages) {
        const result = byText.get(textOf(message));
        expect(result, `received payload ${textOf(message)} was published`).toBeDefined();
        expect(message.id, "the same message always has the same id").toBe(result?.id);
        expect(message.timestamp).toBe(result?.timestamp);
      }
    },
  },
  {
    id: "delivery/parallel-publishes",
    title: "200 publishes in parallel all resolve and all arrive",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const inbox = await listen(subscriber, [topic]);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => publisher.publish(topic, env.payload(i))),
      );
      for (const result of results) checkPublishResult(result);
      expect(new Set(idsOf(results)).size, "200 distinct ids").toBe(200);
      await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, "the subscriber");
    },
  },
  {
    id: "delivery/ordered",
    title: "messages from one publisher arrive in publish order (capabilities.ordered)",
    requires: "ordered",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const inbox = await listen(subscriber, [topic]);
      const results = await publishAll(
        publisher,
        topic,
        Array.from({ length: 20 }, (_, i) => env.payload(i)),
      );
      await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, "the subscriber");
      const firstArrivals = [...new Set(idsOf(inbox.messages))];
      expect(firstArrivals).toEqual(idsOf(results));
    },
  },
  {
    id: "unsubscribe/stops-delivery",
    title:
      "after unsubscribe() resolves nothing more arrives; other subscriptions on the topic keep theirs",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const leaving = await listen(subscriber, [topic]);
      const staying = await listen(subscriber, [topic]);
      const [first] = (await publishAll(publisher, topic, [env.payload("first")])) as [
        PublishResult,
      ];
      await waitForIds(leaving, [first.id], env.deliveryTimeoutMs, "the leaving subscription");
      await waitForIds(staying, [first.id], env.deliveryTimeoutMs, "the staying subscription");
      await leaving.subscription.unsubscribe();
      const countAtUnsubscribe = leaving.messages.length;
      await leaving.subscription.unsubscribe();
      const later = await publishAll(publisher, topic, [
        env.payload("second"),
        env.payload("third"),
      ]);
      await waitForIds(staying, idsOf(later), env.deliveryTimeoutMs, "the staying subscription");
      expect(leaving.messages.length, "no delivery after unsubscribe() resolved").toBe(
        countAtUnsubscribe,
      );
    },
  },
  {
    id: "handler/failure-isolated",
    title:
      "a throwing or rejecting handler is reported through handler:failed and keeps its subscription",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const failures: TransportEvents["handler:failed"][] = [];
      subscriber.on("handler:failed", (event) => failures.push(event));
      const throws = env.payload("throws");
      const rejects = env.payload("rejects");
      const fine = env.payload("fine");
      const thrown = new Error("compliance: handler throws on purpose");
      const rejected = new Error("compliance: handler rejects on purpose");
      const seen: TransportMessage[] = [];
      await subscriber.subscribe([topic], (message) => {
        seen.push(message);
        if (bytesEqual(message.payload, throws)) throw thrown;
        if (bytesEqual(message.payload, rejects)) return Promise.reject(rejected);
        return undefined;
      });
      const bystander = await listen(subscriber, [topic]);
      const results = await publishAll(publisher, topic, [throws, rejects, fine]);
      const [throwsResult, rejectsResult] = results as [
        PublishResult,
        PublishResult,
        PublishResult,
      ];
      const seenBox = { has: (id: string) => seen.some((m) => m.id === id) };
      await waitForIds(seenBox, idsOf(results), env.deliveryTimeoutMs, "the failing handler");
      await waitForIds(
        bystander,
        idsOf(results),
        env.deliveryTimeoutMs,
        "another subscription on the topic",
      );
      await waitFor(
        () =>
          failures.some((f) => f.messageId === throwsResult.id) &&
          failures.some((f) => f.messageId === rejectsResult.id),
        env.deliveryTimeoutMs,
        () =>
          `handler:failed reported ${failures.length} failures, expected the throw and the rejection`,
      );
      for (const failure of failures) {
        expect(failure.contentTopic).toBe(topic);
        expect([throwsResult.id, rejectsResult.id]).toContain(failure.messageId);
        expect(failure.error).toBe(failure.messageId === throwsResult.id ? thrown : rejected);
      }
    },
  },
  {
    id: "payload/max-size",
    title:
      "a payload of exactly maxPayloadBytes is delivered; one byte more rejects with PayloadTooLargeError",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const max = env.capabilities.maxPayloadBytes;
      const inbox = await listen(subscriber, [topic]);
      const payload = patternBytes(max, max);
      payload.set(env.payload("max").subarray(0, Math.min(max, 32)));
      const [result] = (await publishAll(publisher, topic, [payload])) as [PublishResult];
      await waitForIds(inbox, [result.id], env.deliveryTimeoutMs, "the subscriber");
      for (const message of inbox.messages)
        checkDelivered(message, { contentTopic: topic, payload, result });
      const error = await expectRejection(
        () => publisher.publish(topic, new Uint8Array(max + 1).fill(0x5a)),
        "PayloadTooLargeError",
        isPayloadTooLargeError,
      );
      expect((error as { limit?: unknown }).limit, "PayloadTooLargeError.limit").toBe(max);
      expect((error as { size?: unknown }).size, "PayloadTooLargeError.size").toBe(max + 1);
    },
  },
  {
    id: "payload/empty",
    title: "an empty payload rejects with EmptyPayloadError",
    async run(env) {
      const [publisher] = (await env.peers(1)) as [Transport];
      await expectRejection(
        () => publisher.publish(env.topic(), new Uint8Array(0)),
        "EmptyPayloadError",
        isEmptyPayloadError,
      );
    },
  },
  {
    id: "topic/invalid",
    title:
      "malformed content topics reject with InvalidContentTopicError on publish, subscribe and history",
    async run(env) {
      const [transport] = (await env.peers(1)) as [Transport];
      for (const topic of invalidTopics) {
        const label = `content topic ${JSON.stringify(topic)}: InvalidContentTopicError`;
        await expectRejection(
          () => transport.publish(topic, env.payload(1)),
          label,
          isInvalidContentTopicError,
        );
        await expectRejection(
          () => transport.subscribe([topic], () => {}),
          label,
          isInvalidContentTopicError,
        );
        await expectRejection(
          () => transport.subscribe([env.topic(), topic], () => {}),
          `${label} (next to a valid one)`,
          isInvalidContentTopicError,
        );
        if (env.capabilities.history) {
          await expectRejection(
            () => transport.queryHistory({ contentTopics: [topic] }),
            `${label} or InvalidQueryError`,
            isInvalidContentTopicError,
            isInvalidQueryError,
          );
        }
      }
    },
  },
  {
    id: "abort/already-aborted",
    title:
      "an already-aborted signal makes publish, subscribe and queryHistory reject with AbortError, with no effect",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const controller = new AbortController();
      controller.abort(new Error("compliance: aborted on purpose"));
      const signal = controller.signal;
      const aborted = env.payload("aborted");
      await expectRejection(
        () => publisher.publish(topic, aborted, { signal }),
        "AbortError",
        isAbortError,
      );
      const ghost: TransportMessage[] = [];
      await expectRejection(
        () => subscriber.subscribe([topic], (message) => void ghost.push(message), { signal }),
        "AbortError",
        isAbortError,
      );
      if (env.capabilities.history) {
        await expectRejection(
          () => subscriber.queryHistory({ contentTopics: [topic] }, { signal }),
          "AbortError",
          isAbortError,
        );
      }
      const probe = await listen(subscriber, [topic]);
      const [after] = (await publishAll(publisher, topic, [env.payload("after")])) as [
        PublishResult,
      ];
      await waitForIds(probe, [after.id], env.deliveryTimeoutMs, "a probe subscription");
      expect(ghost, "the aborted subscription receives nothing").toEqual([]);
      expect(
        probe.messages.some((m) => bytesEqual(m.payload, aborted)),
        "the aborted publish sent nothing",
      ).toBe(false);
    },
  },
  {
    id: "abort/during-call",
    title:
      "aborting a pending call settles it (AbortError or done) and leaves no half-made subscription",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const accept = (outcome: Outcome<unknown>, what: string) => {
        if (!outcome.ok && !isAbortError(outcome.error)) {
          throw new Error(
            `${what} aborted mid-call: expected AbortError or success, got ${describeError(outcome.error)}`,
          );
        }
      };
      const publishAbort = new AbortController();
      const publishing = publisher.publish(topic, env.payload("mid-publish"), {
        signal: publishAbort.signal,
      });
      publishAbort.abort();
      accept(await settle(publishing, env.deliveryTimeoutMs, "publish"), "publish");

      const ghost: TransportMessage[] = [];
      const subscribeAbort = new AbortController();
      const subscribing = subscriber.subscribe([topic], (message) => void ghost.push(message), {
        signal: subscribeAbort.signal,
      });
      subscribeAbort.abort();
      const subscribed = await settle(subscribing, env.deliveryTimeoutMs, "subscribe");
      accept(subscribed, "subscribe");

      if (env.capabilities.history) {
        const queryAbort = new AbortController();
        const querying = subscriber.queryHistory(
          { contentTopics: [topic] },
          { signal: queryAbort.signal },
        );
        queryAbort.abort();
        accept(await settle(querying, env.deliveryTimeoutMs, "queryHistory"), "queryHistory");
      }

      // The transport still works, and a subscribe that rejected left nothing behind.
      const probe = await listen(subscriber, [topic]);
      const [after] = (await publishAll(publisher, topic, [env.payload("after")])) as [
        PublishResult,
      ];
      await waitForIds(probe, [after.id], env.deliveryTimeoutMs, "a probe subscription");
      if (subscribed.ok) {
        await subscribed.value.unsubscribe();
      } else {
        expect(ghost, "a subscribe that rejected with AbortError receives nothing").toEqual([]);
      }
    },
  },
  {
    id: "history/capability",
    title: "queryHistory agrees with capabilities.history (a page, or HistoryUnsupportedError)",
    async run(env) {
      const [transport] = (await env.peers(1)) as [Transport];
      const query = { contentTopics: [env.topic()] };
      if (env.capabilities.history) {
        const page = await transport.queryHistory(query);
        expect(page.messages, "an unused topic has no history").toEqual([]);
      } else {
        await expectRejection(
          () => transport.queryHistory(query),
          "HistoryUnsupportedError",
          isHistoryUnsupportedError,
        );
      }
    },
  },
  {
    id: "history/messages",
    title:
      "another peer finds published messages in history byte for byte, with their ids and timestamps",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const payloads = [
        Uint8Array.of(0),
        concat(
          Uint8Array.from({ length: 256 }, (_, i) => i),
          env.payload(1),
        ),
        env.payload(2),
      ];
      const results = await publishAll(publisher, topic, payloads);
      const messages = await waitForHistory(env, reader, [topic], idsOf(results));
      expectSameIdSet(
        idsOf(messages),
        idsOf(results),
        "history holds exactly the published messages",
      );
      for (const message of messages) {
        const i = results.findIndex((r) => r.id === message.id);
        checkDelivered(message, {
          contentTopic: topic,
          payload: payloads[i] as Uint8Array,
          result: results[i] as PublishResult,
        });
      }
    },
  },
  {
    id: "history/time-range",
    title: "from and to are inclusive bounds on the message timestamp",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      // Spaced so that real clocks give distinct timestamps; expectations come from the timestamps
      // the transport reports, so equal ones still give a right answer.
      const results = await publishAll(
        publisher,
        topic,
        [0, 1, 2, 3, 4].map((i) => env.payload(i)),
        3,
      );
      await waitForHistory(env, reader, [topic], idsOf(results));
      const stamps = results.map((r) => r.timestamp);
      const [, t1, t2, t3] = stamps as [number, number, number, number, number];
      const ranges: { from?: number; to?: number; label: string }[] = [
        { from: t1, to: t3, label: "from t1 to t3" },
        { from: t3, label: "from t3 on" },
        { to: t1, label: "up to t1" },
        { from: t2, to: t2, label: "exactly t2" },
      ];
      for (const { label, ...range } of ranges) {
        const { messages } = await walkHistory(reader, {
          contentTopics: [topic],
          direction: "forward",
          pageSize: 100,
          ...range,
        });
        const expected = results.filter(
          (r) =>
            (range.from === undefined || r.timestamp >= range.from) &&
            (range.to === undefined || r.timestamp <= range.to),
        );
        expectSameIdSet(idsOf(messages), idsOf(expected), `time range ${label}`);
      }
    },
  },
  {
    id: "history/directions",
    title: "forward pages run oldest first, backward pages newest first",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const results = await publishAll(
        publisher,
        topic,
        [0, 1, 2, 3, 4, 5].map((i) => env.payload(i)),
        3,
      );
      await waitForHistory(env, reader, [topic], idsOf(results));
      for (const direction of ["forward", "backward"] as const) {
        const { messages } = await walkHistory(reader, {
          contentTopics: [topic],
          direction,
          pageSize: 100,
        });
        expectSameIdSet(idsOf(messages), idsOf(results), `${direction} history`);
        expectMonotone(messages, direction);
        const first = await reader.queryHistory({ contentTopics: [topic], direction, pageSize: 2 });
        expect(first.messages.length, `${direction}: a first page of 2`).toBe(2);
        const firstIds = new Set(idsOf(first.messages));
        const rest = results.filter((r) => !firstIds.has(r.id)).map((r) => r.timestamp);
        for (const message of first.messages) {
          if (direction === "forward") {
            expect(message.timestamp, "forward starts with the oldest").toBeLessThanOrEqual(
              Math.min(...rest),
            );
          } else {
            expect(message.timestamp, "backward starts with the newest").toBeGreaterThanOrEqual(
              Math.max(...rest),
            );
          }
        }
      }
      const defaultPage = await reader.queryHistory({ contentTopics: [topic], pageSize: 1 });
      expect(
        defaultPage.messages[0]?.timestamp,
        "the default direction is backward (newest first)",
      ).toBe(Math.max(...results.map((r) => r.timestamp)));
    },
  },
  {
    id: "history/paging",
    title: "pages of 4 over 25 messages: no duplicates, no gaps, in order, both directions",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const results = await publishAll(
        publisher,
        topic,
        Array.from({ length: 25 }, (_, i) => env.payload(i)),
      );
      await waitForHistory(env, reader, [topic], idsOf(results));
      for (const direction of ["forward", "backward"] as const) {
        const { pages, messages } = await walkHistory(reader, {
          contentTopics: [topic],
          direction,
          pageSize: 4,
        });
        expect(
          pages.filter((page) => page.length > 0).length,
          `${direction}: at least 7 pages`,
        ).toBeGreaterThanOrEqual(7);
        expectSameIdSet(idsOf(messages), idsOf(results), `${direction} paging`);
        expectMonotone(messages, direction);
      }
    },
  },
  {
    id: "history/multiple-topics",
    title: "a query on several content topics returns the messages of those topics only",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topics = [env.topic("a"), env.topic("b"), env.topic("c")] as const;
      const byTopic = new Map<string, PublishResult[]>();
      for (const topic of topics) {
        byTopic.set(
          topic,
          await publishAll(publisher, topic, [
            env.payload(`${topic}-1`),
            env.payload(`${topic}-2`),
          ]),
        );
      }
      const [a, b, c] = topics;
      const wanted = [...(byTopic.get(a) ?? []), ...(byTopic.get(b) ?? [])];
      const messages = await waitForHistory(env, reader, [a, b], idsOf(wanted));
      expectSameIdSet(idsOf(messages), idsOf(wanted), "history of two topics");
      for (const message of messages) {
        expect(
          byTopic.get(message.contentTopic)?.some((r) => r.id === message.id),
          "topic matches",
        ).toBe(true);
      }
      const only = await waitForHistory(env, reader, [c], idsOf(byTopic.get(c) ?? []));
      expectSameIdSet(idsOf(only), idsOf(byTopic.get(c) ?? []), "history of the third topic");
    },
  },
  {
    id: "history/invalid-cursor",
    title: "a bogus cursor rejects with InvalidCursorError or HistoryQueryFailedError",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const results = await publishAll(publisher, topic, [env.payload(1), env.payload(2)]);
      await waitForHistory(env, reader, [topic], idsOf(results));
      for (const cursor of ["not-a-cursor", "%%%"]) {
        await expectRejection(
          () => reader.queryHistory({ contentTopics: [topic], pageSize: 1, cursor }),
          `cursor ${JSON.stringify(cursor)}: InvalidCursorError or HistoryQueryFailedError`,
          isInvalidCursorError,
          isHistoryQueryFailedError,
        );
      }
    },
  },
  {
    id: "history/invalid-query",
    title: "malformed history queries reject with InvalidQueryError",
    requires: "history",
    async run(env) {
      const [transport] = (await env.peers(1)) as [Transport];
      const topic = env.topic();
      const queries: [string, HistoryQuery][] = [
        ["no content topic", { contentTopics: [] }],
        ["pageSize 0", { contentTopics: [topic], pageSize: 0 }],
        ["pageSize 101", { contentTopics: [topic], pageSize: 101 }],
        ["pageSize 2.5", { contentTopics: [topic], pageSize: 2.5 }],
        ["from after to", { contentTopics: [topic], from: 2_000, to: 1_000 }],
        ["negative from", { contentTopics: [topic], from: -1 }],
        ["direction sideways", { contentTopics: [topic], direction: "sideways" as "forward" }],
        ["empty cursor", { contentTopics: [topic], cursor: "" }],
      ];
      for (const [label, query] of queries) {
        await expectRejection(
          () => transport.queryHistory(query),
          `${label}: InvalidQueryError`,
          isInvalidQueryError,
        );
      }
    },
  },
];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function parseSkips(skip: readonly string[] | undefined): Map<string, string> {
  const reasons = new Map<string, string>();
  const known = new Set<string>(transportComplianceCases);
  for (const entry of skip ?? []) {
    const separator = entry.indexOf(":");
    const id = (separator === -1 ? entry : entry.slice(0, separator)).trim();
    const reason = separator === -1 ? "" : entry.slice(separator + 1).trim();
    if (!known.has(id)) {
      throw new RangeError(
        `ComplianceOptions.skip: unknown case id ${JSON.stringify(id)}; the ids are: ${transportComplianceCases.join(", ")}`,
      );
    }
    if (reason === "") {
      throw new RangeError(
        `ComplianceOptions.skip: give a reason, as "${id}: <why this transport cannot pass it>"`,
      );
    }
    reasons.set(id, reason);
  }
  return reasons;
}

/**
 * Defines the compliance suite for one transport as Vitest blocks: call it at the top level of a test
 * file. While collecting, the suite makes one `createUnstarted()` transport (then `cleanup()`) to read
 * the capabilities that decide which cases are skipped; each case then makes what it needs and
 * `cleanup()` runs after each.
 *
 * Every case uses fresh content topics of the shape `/orgchat-compliance/1/<case>-<nonce>/proto`
 * (one application and version, so Waku auto-sharding puts every case on one shard) and waits for
 * deliveries by polling up to `deliveryTimeoutMs`.
 *
 * @param fixture - how to make transports; see {@link TransportFixture}
 * @param options - cases to skip, each with its reason
 * @throws RangeError (while defining) when `options.skip` names an unknown case or gives no reason
 * @example
 * ```ts
 * runTransportCompliance(myFixture, { skip: ["delivery/parallel-publishes: rate-limited test relay"] });
 * ```
 */
export function runTransportCompliance(
  fixture: TransportFixture,
  options: ComplianceOptions = {},
): void {
  const skips = parseSkips(options.skip);
  const deliveryTimeoutMs = fixture.deliveryTimeoutMs ?? 5_000;
  const historySettleMs = fixture.historySettleMs ?? 0;
  const timeoutMs = 4 * deliveryTimeoutMs + 2 * historySettleMs + 30_000;

  describe(`transport compliance: ${fixture.name}`, async () => {
    const probe = await fixture.createUnstarted();
    const capabilities: TransportCapabilities = { ...probe.capabilities };
    await fixture.cleanup();

    afterEach(() => fixture.cleanup(), timeoutMs);

    const groups = new Map<string, ComplianceCase[]>();
    for (const spec of cases) {
      const group = spec.id.split("/")[0] as string;
      groups.set(group, [...(groups.get(group) ?? []), spec]);
    }
    for (const [group, specs] of groups) {
      describe(group, () => {
        for (const spec of specs) {
          const name = `[${spec.id}] ${spec.title}`;
          const fixtureReason = skips.get(spec.id);
          if (fixtureReason !== undefined) {
            it.skip(`${name} (skipped by the fixture: ${fixtureReason})`, () => {});
            continue;
          }
          if (spec.requires !== undefined && !capabilities[spec.requires]) {
            it.skip(`${name} (skipped: capabilities.${spec.requires} is false)`, () => {});
            continue;
          }
          it(
            name,
            async () => {
              const nonce = randomNonce();
              let topics = 0;
              let payloads = 0;
              const slug = spec.id.replace(/\//g, "-");
              const env: CaseEnvironment = {
                fixture,
                capabilities,
                deliveryTimeoutMs,
                historySettleMs,
                topic: (label) =>
                  `/orgchat-compliance/1/${slug}-${label ?? "t"}${topics++}-${nonce}/proto`,
                payload: (label) => encoder.encode(`${spec.id}#${label}#${payloads++}#${nonce}`),
                async peers(count) {
                  const peers = await fixture.createPeers(count);
                  expect(peers.length, `createPeers(${count}) made ${count} transports`).toBe(
                    count,
                  );
                  for (const peer of peers) {
                    expect(peer.status, "createPeers returns started transports").not.toBe(
                      "stopped",
                    );
                  }
                  return peers;
                },
              };
              await spec.run(env);
            },
            timeoutMs,
          );
        }
      });
    }
  });
}
