import { getEventListeners } from "node:events";
import { raceAbort as baseRaceAbort, type Diagnostic } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { checkedContentTopicCount, checkedContentTopicsMax } from "../src/checks.ts";
import {
  abortErrorFor,
  assertContentTopic,
  assertPublishable,
  normalizeHistoryQuery,
  TransportEventEmitter,
  throwIfAborted,
} from "../src/implement.ts";
import {
  AbortError,
  defaultHistoryPageSize,
  historyPages,
  isAbortError,
  isEmptyPayloadError,
  isInvalidContentTopicError,
  isInvalidQueryError,
  isPayloadTooLargeError,
  maxHistoryPageSize,
  type TransportCapabilities,
} from "../src/index.ts";

/** `@orgchat/base`'s raceAbort with this package's AbortError, as transports call it. */
const raceAbort = <T>(promise: Promise<T>, signal: AbortSignal | undefined, operation: string) =>
  baseRaceAbort(promise, signal, abortErrorFor(operation));

const topic = "/orgchat/1/c-0123/proto";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("assertContentTopic", () => {
  it.each([
    topic,
    "/orgchat-compliance/1/case-abc/proto",
    "/0/orgchat/1/c-0123/proto",
    "/a/b/c/d",
    "/app/v1.2/name_with-chars/rfc26",
    // Four fields: read as application "0", not as a generation (what Waku's parser does too).
    "/0/orgchat/1/c",
  ])("accepts %s", (value) => {
    expect(() => assertContentTopic(value)).not.toThrow();
  });

  it.each([
    ["", "empty"],
    ["orgchat/1/c/proto", "no leading slash"],
    ["/orgchat/1/c", "three fields"],
    ["/orgchat/1/c/proto/", "trailing slash"],
    ["/orgchat/1/c/proto/x/y", "six fields"],
    ["/1/orgchat/1/c/proto", "generation other than 0"],
    ["/orgchat//c/proto", "an empty field"],
    ["/orgchat/1/with space/proto", "whitespace"],
    [`/orgchat/1/${"x".repeat(1100)}/proto`, "over 1024 characters"],
  ])("rejects %j (%s)", (value) => {
    expect(thrown(() => assertContentTopic(value))).toSatisfy(isInvalidContentTopicError);
  });

  it("rejects a non-string", () => {
    expect(thrown(() => assertContentTopic(42 as unknown as string))).toSatisfy(
      isInvalidContentTopicError,
    );
  });

  it("remembers accepted topics (a topic checked again passes), never a rejected one, and at most checkedContentTopicsMax", () => {
    const valid = "/orgchat/1/remembered/proto";
    assertContentTopic(valid);
    expect(() => assertContentTopic(valid)).not.toThrow();
    for (let round = 0; round < 2; round++) {
      expect(thrown(() => assertContentTopic("/orgchat/1/c"))).toSatisfy(
        isInvalidContentTopicError,
      );
    }
    for (let i = 0; i < checkedContentTopicsMax * 2 + 5; i++) {
      assertContentTopic(`/orgchat/1/topic-${i}/proto`);
      expect(checkedContentTopicCount()).toBeLessThanOrEqual(checkedContentTopicsMax);
    }
    expect(checkedContentTopicCount()).toBeGreaterThan(0);
  });
});

describe("assertPublishable", () => {
  const capabilities: TransportCapabilities = {
    history: true,
    selfDelivery: true,
    ordered: true,
    maxPayloadBytes: 4,
  };

  it("accepts 1 to maxPayloadBytes bytes", () => {
    expect(() => assertPublishable(topic, new Uint8Array(1), capabilities)).not.toThrow();
    expect(() => assertPublishable(topic, new Uint8Array(4), capabilities)).not.toThrow();
  });

  it("rejects empty, oversize, non-bytes and bad topics, topic first", () => {
    expect(thrown(() => assertPublishable(topic, new Uint8Array(0), capabilities))).toSatisfy(
      isEmptyPayloadError,
    );
    const tooLarge = thrown(() => assertPublishable(topic, new Uint8Array(5), capabilities));
    expect(tooLarge).toSatisfy(isPayloadTooLargeError);
    expect(tooLarge).toMatchObject({ size: 5, limit: 4 });
    expect(() => assertPublishable(topic, [1] as unknown as Uint8Array, capabilities)).toThrow(
      TypeError,
    );
    expect(thrown(() => assertPublishable("bad", new Uint8Array(0), capabilities))).toSatisfy(
      isInvalidContentTopicError,
    );
  });
});

describe("normalizeHistoryQuery", () => {
  it("fills in the defaults", () => {
    expect(normalizeHistoryQuery({ contentTopics: [topic] })).toEqual({
      contentTopics: [topic],
      from: undefined,
      to: undefined,
      direction: "backward",
      pageSize: defaultHistoryPageSize,
      cursor: undefined,
    });
  });

  it("keeps what the query says and copies the topic list", () => {
    const contentTopics = [topic, "/0/orgchat/1/c-1/proto"];
    const normalized = normalizeHistoryQuery({
      contentTopics,
      from: 0,
      to: 0,
      direction: "forward",
      pageSize: maxHistoryPageSize,
      cursor: "abc",
    });
    expect(normalized).toEqual({
      contentTopics,
      from: 0,
      to: 0,
      direction: "forward",
      pageSize: 100,
      cursor: "abc",
    });
    expect(normalized.contentTopics).not.toBe(contentTopics);
  });

  it.each([
    ["no topics", { contentTopics: [] }],
    ["topics not an array", { contentTopics: topic as unknown as string[] }],
    ["pageSize 0", { contentTopics: [topic], pageSize: 0 }],
    ["pageSize 101", { contentTopics: [topic], pageSize: 101 }],
    ["pageSize 1.5", { contentTopics: [topic], pageSize: 1.5 }],
    ["from NaN", { contentTopics: [topic], from: Number.NaN }],
    ["to Infinity", { contentTopics: [topic], to: Number.POSITIVE_INFINITY }],
    ["negative from", { contentTopics: [topic], from: -1 }],
    ["from after to", { contentTopics: [topic], from: 2, to: 1 }],
    ["bad direction", { contentTopics: [topic], direction: "up" as "forward" }],
    ["empty cursor", { contentTopics: [topic], cursor: "" }],
  ])("rejects %s with InvalidQueryError", (_label, query) => {
    expect(thrown(() => normalizeHistoryQuery(query))).toSatisfy(isInvalidQueryError);
  });

  it("rejects a malformed topic with InvalidContentTopicError", () => {
    expect(thrown(() => normalizeHistoryQuery({ contentTopics: ["/x"] }))).toSatisfy(
      isInvalidContentTopicError,
    );
  });
});

describe("throwIfAborted and raceAbort", () => {
  it("throwIfAborted throws AbortError with the signal's reason as cause", () => {
    expect(() => throwIfAborted(undefined, "op")).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal, "op")).not.toThrow();
    const controller = new AbortController();
    const reason = new Error("why");
    controller.abort(reason);
    const error = thrown(() => throwIfAborted(controller.signal, "publish"));
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ name: "AbortError", cause: reason });
  });

  it("passes the promise through without a signal", async () => {
    await expect(raceAbort(Promise.resolve(1), undefined, "op")).resolves.toBe(1);
  });

  it("rejects at once on an already-aborted signal, and swallows the late rejection", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      raceAbort(Promise.reject(new Error("late")), controller.signal, "op"),
    ).rejects.toSatisfy(isAbortError);
  });

  it("rejects when the signal aborts first, and leaves no listener on the signal", async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => {});
    const racing = raceAbort(never, controller.signal, "op");
    expect(getEventListeners(controller.signal, "abort").length).toBe(1);
    controller.abort();
    await expect(racing).rejects.toSatisfy(isAbortError);
    expect(getEventListeners(controller.signal, "abort").length).toBe(0);
  });

  it("leaves no listener after the promise settles either way", async () => {
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(2), controller.signal, "op")).resolves.toBe(2);
    await expect(
      raceAbort(Promise.reject(new Error("boom")), controller.signal, "op"),
    ).rejects.toThrow("boom");
    expect(getEventListeners(controller.signal, "abort").length).toBe(0);
  });
});

describe("TransportEventEmitter", () => {
  it("isolates a throwing listener from the others and from the caller", () => {
    const emitter = new TransportEventEmitter();
    const seen: number[] = [];
    emitter.on("status:changed", () => {
      throw new Error("listener bug");
    });
    emitter.on("status:changed", (event) => void seen.push(event.peers));
    expect(() => emitter.emit("status:changed", { status: "online", peers: 3 })).not.toThrow();
    expect(seen).toEqual([3]);
  });

  it("reports a throwing listener as a diagnostic, and drops a throwing diagnostic listener", () => {
    const emitter = new TransportEventEmitter();
    const bug = new Error("listener bug");
    const diagnostics: Diagnostic[] = [];
    emitter.on("diagnostic", () => {
      throw new Error("diagnostic listener bug");
    });
    emitter.on("diagnostic", (d) => void diagnostics.push(d));
    emitter.on("handler:failed", () => {
      throw bug;
    });
    expect(() =>
      emitter.emit("handler:failed", { contentTopic: topic, messageId: "m", error: null }),
    ).not.toThrow();
    expect(diagnostics).toEqual([
      { component: "transport/events", reason: "listener-failed", error: bug },
    ]);
    emitter.diagnostic({ component: "transport/test", reason: "undecodable", topic });
    expect(diagnostics).toHaveLength(2);
    expect(diagnostics[1]).toEqual({ component: "transport/test", reason: "undecodable", topic });
  });

  it("keeps events apart, removes a listener with the returned function, clears all", () => {
    const emitter = new TransportEventEmitter();
    const statuses: string[] = [];
    const failures: string[] = [];
    const off = emitter.on("status:changed", (event) => void statuses.push(event.status));
    emitter.on("handler:failed", (event) => void failures.push(event.messageId));
    emitter.emit("handler:failed", { contentTopic: topic, messageId: "m1", error: null });
    expect(statuses).toEqual([]);
    emitter.emit("status:changed", { status: "connecting", peers: 0 });
    off();
    off();
    emitter.emit("status:changed", { status: "online", peers: 1 });
    expect(statuses).toEqual(["connecting"]);
    emitter.clear();
    emitter.emit("handler:failed", { contentTopic: topic, messageId: "m2", error: null });
    expect(failures).toEqual(["m1"]);
  });

  it("a listener removed during an emit still gets that emit; one added does not", () => {
    const emitter = new TransportEventEmitter();
    const calls: string[] = [];
    let offSecond = () => {};
    emitter.on("status:changed", () => {
      calls.push("first");
      offSecond();
      emitter.on("status:changed", () => void calls.push("added"));
    });
    offSecond = emitter.on("status:changed", () => void calls.push("second"));
    emitter.emit("status:changed", { status: "online", peers: 1 });
    expect(calls).toEqual(["first", "second"]);
  });
});

describe("historyPages", () => {
  it("follows cursors until a page has none, passing the query and options on", async () => {
    const queries: unknown[] = [];
    const signal = new AbortController().signal;
    const pages = [
      { messages: [], cursor: "c1" },
      { messages: [], cursor: "c2" },
      { messages: [] },
    ];
    const transport = {
      async queryHistory(query: unknown, options: unknown) {
        queries.push(query);
        expect(options).toEqual({ signal });
        return pages[queries.length - 1] ?? { messages: [] };
      },
    };
    const seen = [];
    for await (const page of historyPages(
      transport,
      { contentTopics: [topic], pageSize: 5 },
      { signal },
    )) {
      seen.push(page);
    }
    expect(seen).toEqual(pages);
    expect(queries).toEqual([
      { contentTopics: [topic], pageSize: 5 },
      { contentTopics: [topic], pageSize: 5, cursor: "c1" },
      { contentTopics: [topic], pageSize: 5, cursor: "c2" },
    ]);
  });
});
