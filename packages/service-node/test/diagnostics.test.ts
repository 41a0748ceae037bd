/**
 * Every drop and background failure of the node's components is reported as a Diagnostic through
 * the one hook (`onDiagnostic`), and the component keeps working: tested on each component alone,
 * without a network (the node-level reports are in bad-input.test.ts).
 */
import type { Stream } from "@libp2p/interface";
import type { Diagnostic } from "@orgchat/base";
import { proto_lightpush, proto_store } from "@waku/proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MessageArchive } from "../src/archive.ts";
import { resolveConfig } from "../src/config.ts";
import { FilterPusher } from "../src/filter-push.ts";
import { NodeTimers } from "../src/lifecycle.ts";
import { handleLightPushRequest, type LightPushContext } from "../src/light-push.ts";
import { requestedClusterId } from "../src/metadata.ts";
import { handleStoreQuery } from "../src/store-protocol.ts";

const utf8 = new TextEncoder();
const shard = "/waku/2/rs/55/3";

function collector() {
  const diagnostics: Diagnostic[] = [];
  return { diagnostics, sink: (d: Diagnostic) => void diagnostics.push(d) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("diagnostics", () => {
  it("light push: a message the node could not take is answered 500 and reported with its topic", async () => {
    const { diagnostics, sink } = collector();
    const failure = new Error("disk full");
    const context: LightPushContext = {
      maxPayloadBytes: 100,
      maxMessageBytes: 400,
      requireRelayPeers: false,
      servesPubsubTopic: () => true,
      pubsubTopicFor: () => shard,
      accept: async () => {
        throw failure;
      },
      onDiagnostic: sink,
    };
    const request = proto_lightpush.LightPushRequestV3.encode({
      requestId: "r",
      pubsubTopic: shard,
      message: { payload: utf8.encode("x"), contentTopic: "/a/1/b/proto" },
    });
    const reply = proto_lightpush.LightPushResponseV3.decode(
      await handleLightPushRequest(request, context),
    );
    expect(reply.statusCode).toBe(500);
    // Internal details stay on the node: in the diagnostic, not in the reply.
    expect(reply.statusDesc).not.toContain("disk full");
    expect(diagnostics).toEqual([
      {
        component: "service-node/light-push",
        reason: "accept-failed",
        topic: "/a/1/b/proto",
        error: failure,
      },
    ]);
  });

  it("store: an undecodable request and a failed query are reported; the replies stay 400 and 500", () => {
    const { diagnostics, sink } = collector();
    const archive = MessageArchive.open({ path: ":memory:" });
    try {
      const bad = proto_store.StoreQueryResponse.decode(
        handleStoreQuery(Uint8Array.from([0xff, 0xff, 0xff]), archive, undefined, sink),
      );
      expect(bad.statusCode).toBe(400);
      const failure = new Error("SQLITE_IOERR");
      const broken = {
        query: () => {
          throw failure;
        },
      } as unknown as MessageArchive;
      const request = proto_store.StoreQueryRequest.encode({
        requestId: "q",
        includeData: true,
        contentTopics: [],
        messageHashes: [],
      });
      const failed = proto_store.StoreQueryResponse.decode(
        handleStoreQuery(request, broken, undefined, sink),
      );
      expect(failed).toMatchObject({ requestId: "q", statusCode: 500 });
      expect(failed.statusDesc).not.toContain("SQLITE");
      expect(diagnostics).toMatchObject([
        { component: "service-node/store", reason: "undecodable" },
        { component: "service-node/store", reason: "query-failed", error: failure },
      ]);
    } finally {
      archive.close();
    }
  });

  it("metadata: an undecodable request is reported", () => {
    const { diagnostics, sink } = collector();
    expect(requestedClusterId(Uint8Array.from([0xff]), sink)).toBeUndefined();
    expect(diagnostics).toMatchObject([
      { component: "service-node/metadata", reason: "undecodable" },
    ]);
  });

  it("filter push: frames for an unreachable subscriber are counted as failed and reported", async () => {
    const { diagnostics, sink } = collector();
    const unreachable = new Error("no connection to bob");
    const pusher = new FilterPusher({
      open: async (): Promise<Stream> => {
        throw unreachable;
      },
      onDiagnostic: sink,
    });
    pusher.push(["bob"], Uint8Array.of(1, 2, 3));
    await pusher.stop(); // waits for the attempt to open the stream
    expect(pusher.stats).toEqual({ delivered: 0, dropped: 0, failed: 1 });
    expect(diagnostics).toEqual([
      {
        component: "service-node/filter-push",
        reason: "subscriber-unreachable",
        error: unreachable,
      },
    ]);
  });

  it("maintenance: a failing task is reported, the others still run, and it runs again next tick", () => {
    vi.useFakeTimers();
    const { diagnostics, sink } = collector();
    const timers = new NodeTimers(sink);
    const ran: string[] = [];
    timers.every(1_000, {
      prune: () => {
        ran.push("prune");
        throw new Error("database is locked");
      },
      expire: () => void ran.push("expire"),
    });
    vi.advanceTimersByTime(2_000);
    timers.clear();
    vi.advanceTimersByTime(5_000);
    expect(ran).toEqual(["prune", "expire", "prune", "expire"]);
    expect(diagnostics).toMatchObject([
      { component: "service-node/lifecycle", reason: "prune-failed" },
      { component: "service-node/lifecycle", reason: "prune-failed" },
    ]);
  });

  it("a sink that throws does not stop the component", async () => {
    const throwing = () => {
      throw new Error("the app's logger is broken");
    };
    expect(requestedClusterId(Uint8Array.from([0xff]), throwing)).toBeUndefined();
  });

  it("no hook given: the default ignores diagnostics", () => {
    const config = resolveConfig({ listen: [] });
    expect(() =>
      config.onDiagnostic({ component: "service-node/test", reason: "nothing" }),
    ).not.toThrow();
  });
});

describe("redial options", () => {
  it("keep their defaults, take partial values, and refuse delays outside 0 < initial <= max", () => {
    expect(resolveConfig({}).redial).toEqual({ initialDelayMs: 250, maxDelayMs: 30_000 });
    expect(resolveConfig({ redial: { initialDelayMs: 20, maxDelayMs: 100 } }).redial).toEqual({
      initialDelayMs: 20,
      maxDelayMs: 100,
    });
    expect(resolveConfig({ redial: { maxDelayMs: 1_000 } }).redial).toEqual({
      initialDelayMs: 250,
      maxDelayMs: 1_000,
    });
    expect(() => resolveConfig({ redial: { initialDelayMs: 0 } })).toThrow(RangeError);
    expect(() => resolveConfig({ redial: { initialDelayMs: 500, maxDelayMs: 100 } })).toThrow(
      RangeError,
    );
  });
});

describe("store limits", () => {
  it("are checked when the node is configured, not on every query", () => {
    expect(resolveConfig({}).storeLimits).toEqual(resolveConfig({ store: {} }).storeLimits);
    expect(
      resolveConfig({ store: { maxPageSize: 50, defaultPageSize: 10 } }).storeLimits,
    ).toMatchObject({ maxPageSize: 50, defaultPageSize: 10 });
    expect(() => resolveConfig({ store: { maxPageSize: 0 } })).toThrow(RangeError);
    expect(() => resolveConfig({ store: { maxRequestBytes: 1.5 } })).toThrow(RangeError);
    expect(() => resolveConfig({ store: { defaultPageSize: 200, maxPageSize: 100 } })).toThrow(
      RangeError,
    );
  });
});
