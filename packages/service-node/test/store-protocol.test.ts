/**
 * Store v3 server: real `StoreQueryRequest`s encoded with `@waku/proto`, responses decoded with it,
 * every status path, seeded fast-check fuzzing, and the unmodified `@waku/sdk` Store client paging
 * through `handleStoreQuery` over an in-process stream (no network).
 */
import { createDecoder, type DecodedMessage } from "@waku/core";
import { proto_store } from "@waku/proto";
import { Store } from "@waku/sdk";
import fc from "fast-check";
import * as lp from "it-length-prefixed";
import type { Uint8ArrayList } from "uint8arraylist";
import { afterEach, describe, expect, it } from "vitest";
import { type ArchivedMessage, MessageArchive } from "../src/archive.ts";
import {
  defaultStoreLimits,
  handleStoreQuery,
  type StoreLimits,
  storeQueryCodec,
  storeStatusCode,
} from "../src/store-protocol.ts";
import {
  archived,
  baseTimeNs,
  contentTopic,
  hashOf,
  hex,
  nsPerMs,
  otherContentTopic,
  pubsubTopic,
  series,
  storeOrder,
} from "./store-fixtures.ts";

const archives: MessageArchive[] = [];

function archiveWith(entries: readonly ArchivedMessage[]): MessageArchive {
  const archive = MessageArchive.open({ path: ":memory:" });
  archives.push(archive);
  archive.insertMany(entries);
  return archive;
}

afterEach(() => {
  for (const archive of archives.splice(0)) archive.close();
});

type RequestFields = Partial<proto_store.StoreQueryRequest>;

function encodeRequest(fields: RequestFields = {}): Uint8Array {
  return proto_store.StoreQueryRequest.encode({
    requestId: "request-1",
    includeData: true,
    contentTopics: [],
    messageHashes: [],
    paginationForward: true,
    ...fields,
  });
}

function ask(
  archive: MessageArchive,
  fields: RequestFields | Uint8Array,
  limits?: Partial<StoreLimits>,
): proto_store.StoreQueryResponse {
  const bytes = fields instanceof Uint8Array ? fields : encodeRequest(fields);
  return proto_store.StoreQueryResponse.decode(handleStoreQuery(bytes, archive, limits));
}

const hashes = (response: proto_store.StoreQueryResponse) =>
  response.messages.map((m) => hex(m.messageHash ?? new Uint8Array()));

/** Follows `pagination_cursor` to the end; returns the pages in the order they came. */
function pageThrough(
  archive: MessageArchive,
  fields: RequestFields,
  limits?: Partial<StoreLimits>,
): string[][] {
  const pages: string[][] = [];
  let cursor: Uint8Array | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const response = ask(
      archive,
      { ...fields, ...(cursor === undefined ? {} : { paginationCursor: cursor }) },
      limits,
    );
    expect(response.statusCode).toBe(200);
    pages.push(hashes(response));
    if (response.paginationCursor === undefined) return pages;
    cursor = response.paginationCursor;
  }
  throw new Error("paging did not end");
}

describe("handleStoreQuery: 200", () => {
  it("answers a content-filtered query with messages, hashes, topics and the request id", () => {
    const entries = series();
    const archive = archiveWith([
      ...entries,
      archived({ index: 99, contentTopic: otherContentTopic }),
    ]);
    const response = ask(archive, {
      pubsubTopic,
      contentTopics: [contentTopic],
      paginationLimit: 10n,
    });
    expect(storeQueryCodec).toBe("/vac/waku/store-query/3.0.0");
    expect(response).toMatchObject({ requestId: "request-1", statusCode: 200, statusDesc: "OK" });
    const expected = storeOrder(entries).map((e) => hex(e.hash));
    expect(hashes(response)).toEqual(expected.slice(0, 10));
    expect(hex(response.paginationCursor ?? new Uint8Array())).toBe(expected[9]);
    for (const kv of response.messages) {
      expect(kv.pubsubTopic).toBe(pubsubTopic);
      // What a client checks: the hash it computes from the returned message is the key.
      expect(
        hex(hashOf(pubsubTopic, kv.message ?? { payload: new Uint8Array(), contentTopic: "" })),
      ).toBe(hex(kv.messageHash ?? new Uint8Array()));
    }
  });

  it.each([true, false])("pages through pagination_cursor (forward: %s)", (paginationForward) => {
    const entries = series();
    const archive = archiveWith(entries);
    const pages = pageThrough(archive, {
      pubsubTopic,
      contentTopics: [contentTopic],
      paginationForward,
      paginationLimit: 10n,
    });
    expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 10, 10, 7]);
    const expected = storeOrder(entries).map((e) => hex(e.hash));
    expect((paginationForward ? pages : [...pages].reverse()).flat()).toEqual(expected);
  });

  it("defaults the page size to 20 and clamps larger limits to 100", () => {
    const entries = Array.from({ length: 150 }, (_, index) => archived({ index }));
    const archive = archiveWith(entries);
    expect(ask(archive, {}).messages).toHaveLength(20);
    expect(ask(archive, { paginationLimit: 0n }).messages).toHaveLength(20);
    expect(ask(archive, { paginationLimit: 7n }).messages).toHaveLength(7);
    expect(ask(archive, { paginationLimit: 100n }).messages).toHaveLength(100);
    expect(ask(archive, { paginationLimit: 1000n }).messages).toHaveLength(100);
    expect(ask(archive, { paginationLimit: 2n ** 64n - 1n }).messages).toHaveLength(100);
    expect(ask(archive, { paginationLimit: 1000n }, { maxPageSize: 30 }).messages).toHaveLength(30);
  });

  it("answers an empty result with 200, no messages and no cursor", () => {
    const archive = archiveWith(series());
    const response = ask(archive, { pubsubTopic, contentTopics: ["/orgchat/1/nothing/proto"] });
    expect(response.statusCode).toBe(200);
    expect(response.messages).toEqual([]);
    expect(response.paginationCursor).toBeUndefined();
  });

  it("returns only hashes when include_data is false (the spec's default)", () => {
    const archive = archiveWith(series());
    const response = ask(archive, { includeData: false, paginationLimit: 5n });
    expect(response.messages).toHaveLength(5);
    for (const kv of response.messages) {
      expect(kv.messageHash).toHaveLength(32);
      expect(kv.message).toBeUndefined();
      expect(kv.pubsubTopic).toBeUndefined();
    }
    // Unset fields: backward, hashes only: the newest page.
    const bare = ask(archive, proto_store.StoreQueryRequest.encode({ requestId: "bare" }));
    expect(bare.statusCode).toBe(200);
    expect(bare.messages.every((kv) => kv.message === undefined)).toBe(true);
    expect(hashes(bare)).toEqual(
      storeOrder(series())
        .slice(-20)
        .map((e) => hex(e.hash)),
    );
  });

  it("looks messages up by hash, also with the pubsub topic @waku/sdk adds", () => {
    const entries = series();
    const archive = archiveWith(entries);
    const wanted = [entries[5], entries[30]] as ArchivedMessage[];
    const messageHashes = [...wanted.map((e) => e.hash), new Uint8Array(32).fill(3)];
    const expected = storeOrder(wanted).map((e) => hex(e.hash));
    expect(hashes(ask(archive, { messageHashes }))).toEqual(expected);
    expect(hashes(ask(archive, { messageHashes, pubsubTopic }))).toEqual(expected);
    expect(hashes(ask(archive, { messageHashes, pubsubTopic: "" }))).toEqual(expected);
    const presence = ask(archive, { messageHashes, includeData: false });
    expect(hashes(presence)).toEqual(expected);
    expect(presence.messages.every((kv) => kv.message === undefined)).toBe(true);
  });

  it("bounds time ranges inclusively", () => {
    const archive = archiveWith(series());
    const response = ask(archive, {
      timeStart: baseTimeNs + 2n * nsPerMs,
      timeEnd: baseTimeNs + 4n * nsPerMs,
      pubsubTopic,
      contentTopics: [contentTopic],
    });
    expect(response.messages).toHaveLength(9);
  });

  it("cuts a page to maxResponseBytes and sets the cursor, losing nothing", () => {
    const entries = Array.from({ length: 12 }, (_, index) =>
      archived({ index, payloadBytes: 40_000 }),
    );
    const archive = archiveWith(entries);
    const limits = { maxResponseBytes: 130_000 };
    const first = ask(archive, { paginationLimit: 100n }, limits);
    expect(first.messages.length).toBe(3);
    expect(proto_store.StoreQueryResponse.encode(first).length).toBeLessThanOrEqual(130_000);
    const expected = storeOrder(entries).map((e) => hex(e.hash));
    const forward = pageThrough(archive, { paginationLimit: 100n }, limits);
    expect(forward.flat()).toEqual(expected);
    const backward = pageThrough(
      archive,
      { paginationLimit: 100n, paginationForward: false },
      limits,
    );
    expect([...backward].reverse().flat()).toEqual(expected);
    // A single message larger than the budget still goes out alone.
    const tiny = pageThrough(archive, { paginationLimit: 100n }, { maxResponseBytes: 1000 });
    expect(tiny.map((p) => p.length)).toEqual(Array(12).fill(1));
  });
});

describe("handleStoreQuery: errors", () => {
  it.each([
    ["random bytes", new Uint8Array([0xff, 0xff, 0xff, 0xff])],
    [
      "a truncated request",
      encodeRequest({ pubsubTopic, contentTopics: [contentTopic] }).subarray(0, 9),
    ],
    ["a length past the end", new Uint8Array([0x0a, 0x20, 0x61])],
  ])("answers 400 to a malformed protobuf (%s)", (_, bytes) => {
    const response = ask(archiveWith([]), bytes);
    expect(response.statusCode).toBe(400);
    expect(response.statusDesc).toMatch(/^BAD_REQUEST: decoding the request failed/);
    expect(response.messages).toEqual([]);
  });

  it.each<[string, RequestFields, RegExp]>([
    [
      "time_start after time_end",
      { timeStart: baseTimeNs + 1n, timeEnd: baseTimeNs },
      /time_start .* is after time_end/,
    ],
    [
      "content topics without pubsub topic",
      { contentTopics: [contentTopic] },
      /requires pubsub_topic/,
    ],
    [
      "too many content topics",
      { pubsubTopic, contentTopics: Array.from({ length: 11 }, (_, i) => `/a/1/t${i}/proto`) },
      /too many content_topics: 11/,
    ],
    ["an empty content topic", { pubsubTopic, contentTopics: [""] }, /empty content topic/],
    [
      "a hash lookup with content topics",
      { messageHashes: [new Uint8Array(32).fill(1)], pubsubTopic, contentTopics: [contentTopic] },
      /hash lookup cannot be combined/,
    ],
    [
      "a hash lookup with a time range",
      { messageHashes: [new Uint8Array(32).fill(1)], timeStart: baseTimeNs },
      /hash lookup cannot be combined/,
    ],
    [
      "a short message hash",
      { messageHashes: [new Uint8Array(31)] },
      /invalid message_hashes entry: 31/,
    ],
    [
      "a short cursor",
      { paginationCursor: new Uint8Array(16) },
      /invalid pagination_cursor: 16 bytes/,
    ],
    ["an all-zero cursor", { paginationCursor: new Uint8Array(32) }, /all-zero/],
    [
      "an unknown cursor",
      { paginationCursor: new Uint8Array(32).fill(9) },
      /not the hash of a stored message/,
    ],
  ])("answers 400 to %s, echoing the request id", (_, fields, description) => {
    const response = ask(archiveWith(series()), fields);
    expect(response.statusCode).toBe(400);
    expect(response.requestId).toBe("request-1");
    expect(response.statusDesc).toMatch(description);
    expect(response.messages).toEqual([]);
    expect(response.paginationCursor).toBeUndefined();
  });

  it("accepts exactly maxContentTopics content topics", () => {
    const topics = Array.from({ length: 10 }, (_, i) => `/a/1/t${i}/proto`);
    expect(ask(archiveWith([]), { pubsubTopic, contentTopics: topics }).statusCode).toBe(200);
  });

  it("answers 413 to a request above maxRequestBytes without decoding it", () => {
    const archive = archiveWith([]);
    const big = encodeRequest({
      messageHashes: Array.from({ length: 8000 }, () => new Uint8Array(32).fill(5)),
    });
    expect(big.length).toBeGreaterThan(defaultStoreLimits.maxRequestBytes);
    const response = ask(archive, big);
    expect(response.statusCode).toBe(413);
    expect(response.statusDesc).toMatch(/exceeds this node's limit of 262144 bytes/);
    const small = encodeRequest({ pubsubTopic });
    expect(ask(archive, small, { maxRequestBytes: small.length }).statusCode).toBe(200);
    expect(ask(archive, small, { maxRequestBytes: small.length - 1 }).statusCode).toBe(413);
  });

  it("answers 503 when the archive is closed and 500 when it fails", () => {
    const closed = MessageArchive.open({ path: ":memory:" });
    closed.close();
    expect(ask(closed, {}).statusCode).toBe(storeStatusCode.serviceUnavailable);
    const failing = {
      query() {
        throw new Error("SQLITE_IOERR: disk I/O error at /secret/path");
      },
    } as unknown as MessageArchive;
    const response = ask(failing, {});
    expect(response).toMatchObject({ statusCode: 500, requestId: "request-1" });
    expect(response.statusDesc).not.toMatch(/secret/);
  });

  it("refuses invalid limits with RangeError (a programming error)", () => {
    const archive = archiveWith([]);
    expect(() => handleStoreQuery(encodeRequest(), archive, { maxPageSize: 0 })).toThrow(
      RangeError,
    );
    expect(() => handleStoreQuery(encodeRequest(), archive, { defaultPageSize: 200 })).toThrow(
      RangeError,
    );
  });
});

describe("handleStoreQuery: fuzzing (seeded)", () => {
  const allowed = new Set<number>([200, 400, 413]);

  function checkResponse(
    bytes: Uint8Array,
    archive: MessageArchive,
  ): proto_store.StoreQueryResponse {
    const response = proto_store.StoreQueryResponse.decode(handleStoreQuery(bytes, archive));
    expect(allowed.has(response.statusCode ?? 0)).toBe(true);
    if (response.statusCode !== 200) {
      expect(response.messages).toEqual([]);
      expect(response.statusDesc).toBeTruthy();
    } else {
      expect(response.messages.length).toBeLessThanOrEqual(defaultStoreLimits.maxPageSize);
    }
    return response;
  }

  it("never throws on random bytes", () => {
    const archive = archiveWith(series());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        checkResponse(bytes, archive);
      }),
      { seed: 0x5eed, numRuns: 3000 },
    );
  });

  it("never throws on mutated valid requests", () => {
    const entries = series();
    const archive = archiveWith(entries);
    const sorted = storeOrder(entries);
    const seeds = [
      encodeRequest({ pubsubTopic, contentTopics: [contentTopic], paginationLimit: 10n }),
      encodeRequest({ paginationCursor: sorted[20]?.hash as Uint8Array, paginationForward: false }),
      encodeRequest({ messageHashes: sorted.slice(0, 4).map((e) => e.hash) }),
      encodeRequest({
        timeStart: baseTimeNs,
        timeEnd: baseTimeNs + 9n * nsPerMs,
        includeData: false,
      }),
    ];
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
      fc.record({
        kind: fc.constant("drop" as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 8 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => {
          let bytes = Uint8Array.from(seed);
          for (const m of mutations) {
            const at = bytes.length === 0 ? 0 : m.at % bytes.length;
            if (m.kind === "flip") bytes[at] = m.value;
            else if (m.kind === "cut") bytes = bytes.slice(0, at);
            else if (m.kind === "insert")
              bytes = Uint8Array.from([...bytes.slice(0, at), ...m.bytes, ...bytes.slice(at)]);
            else bytes = Uint8Array.from([...bytes.slice(0, at), ...bytes.slice(at + m.length)]);
          }
          checkResponse(bytes, archive);
        },
      ),
      { seed: 0xc0ffee, numRuns: 3000 },
    );
  });

  it("answers every well-formed request with ordered pages or a 400", () => {
    const entries = series();
    const archive = archiveWith(entries);
    const known = storeOrder(entries).map((e) => e.hash);
    const hash = fc.oneof(
      fc.constantFrom(...known),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 40 }),
    );
    const time = fc.bigInt({ min: baseTimeNs - 5n * nsPerMs, max: baseTimeNs + 25n * nsPerMs });
    const request = fc.record(
      {
        requestId: fc.string({ maxLength: 40 }),
        includeData: fc.boolean(),
        pubsubTopic: fc.constantFrom(pubsubTopic, "", "/waku/2/rs/42/7"),
        contentTopics: fc.array(fc.constantFrom(contentTopic, otherContentTopic, ""), {
          maxLength: 12,
        }),
        timeStart: time,
        timeEnd: time,
        messageHashes: fc.array(hash, { maxLength: 5 }),
        paginationCursor: hash,
        paginationForward: fc.boolean(),
        paginationLimit: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      },
      {
        requiredKeys: [
          "requestId",
          "includeData",
          "contentTopics",
          "messageHashes",
          "paginationForward",
        ],
      },
    );
    const order = new Map(known.map((h, i) => [hex(h), i]));
    fc.assert(
      fc.property(request, (fields) => {
        const response = checkResponse(proto_store.StoreQueryRequest.encode(fields), archive);
        expect(response.requestId).toBe(fields.requestId);
        const positions = hashes(response).map((h) => order.get(h) ?? -1);
        expect(positions.every((p, i) => p >= 0 && (i === 0 || p > (positions[i - 1] ?? -1)))).toBe(
          true,
        );
      }),
      { seed: 1234, numRuns: 2000 },
    );
  });
});

describe("the unmodified @waku/sdk Store client against handleStoreQuery", () => {
  /**
   * A libp2p stand-in with one open connection whose streams answer through `handleStoreQuery`
   * (length-prefixed, as the node's handler will): `@waku/sdk`'s `Store` and `@waku/core`'s
   * `StoreCore.queryPerPage` run unchanged on top of it.
   */
  function clientFor(archive: MessageArchive, limits?: Partial<StoreLimits>): Store {
    const connection = {
      status: "open",
      timeline: { open: 1 },
      streams: [] as unknown[],
      async newStream() {
        let respond: (bytes: Uint8ArrayList) => void = () => {};
        const response = new Promise<Uint8ArrayList>((resolve) => {
          respond = resolve;
        });
        return {
          id: "store-stream",
          protocol: storeQueryCodec,
          metadata: {},
          writeStatus: "ready",
          async sink(source: AsyncIterable<Uint8Array | Uint8ArrayList>) {
            for await (const request of lp.decode(source)) {
              respond(lp.encode.single(handleStoreQuery(request.subarray(), archive, limits)));
            }
          },
          source: (async function* () {
            yield await response;
          })(),
        };
      },
    };
    const peerId = { toString: () => "16Uiu2HAmStoreTestPeer" };
    const libp2p = {
      components: {
        events: new EventTarget(),
        connectionManager: { getConnections: () => [connection] },
      },
    };
    return new Store({
      libp2p,
      peerManager: { getPeers: async () => [peerId] },
    } as unknown as ConstructorParameters<typeof Store>[0]);
  }

  const decoder = createDecoder(contentTopic, { clusterId: 42, shardId: 0, pubsubTopic });

  async function collect(store: Store, options: Parameters<Store["queryGenerator"]>[1]) {
    const pages: string[][] = [];
    for await (const page of store.queryGenerator([decoder], options)) {
      const messages = (await Promise.all(page)).filter(
        (m): m is DecodedMessage => m !== undefined,
      );
      pages.push(messages.map((m) => hex(m.hash)));
    }
    return pages;
  }

  it("pages backward through 57 messages by 10 (cursor = first entry, stops on the empty page)", async () => {
    const entries = series();
    const store = clientFor(archiveWith(entries));
    const pages = await collect(store, { paginationForward: false, paginationLimit: 10 });
    expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 10, 10, 7]);
    expect([...pages].reverse().flat()).toEqual(storeOrder(entries).map((e) => hex(e.hash)));
  });

  it("pages forward by default, within a time range, and with pages cut by size", async () => {
    const entries = series();
    const archive = archiveWith(entries);
    const expected = storeOrder(entries).map((e) => hex(e.hash));
    const all = await collect(clientFor(archive), { paginationLimit: 25 });
    expect(all.flat()).toEqual(expected);
    const startMs = Number(baseTimeNs / nsPerMs) + 3;
    const endMs = startMs + 12;
    const ranged = await collect(clientFor(archive), {
      timeStart: new Date(startMs),
      timeEnd: new Date(endMs),
      paginationLimit: 7,
    });
    // js-waku converts with `getTime() * 1_000_000` in floating point: at today's magnitudes both
    // bounds land 64 ns late, so the messages of exactly `startMs` fall outside (3 of them here).
    const sentStart = BigInt(startMs * 1_000_000);
    const sentEnd = BigInt(endMs * 1_000_000);
    expect(sentStart - BigInt(startMs) * nsPerMs).toBe(64n);
    const inRange = storeOrder(entries)
      .filter(
        (e) => (e.message.timestamp ?? 0n) >= sentStart && (e.message.timestamp ?? 0n) <= sentEnd,
      )
      .map((e) => hex(e.hash));
    expect(inRange).toHaveLength(36);
    expect(ranged.flat()).toEqual(inRange);
    const cut = await collect(clientFor(archive, { maxResponseBytes: 1500 }), {
      paginationForward: false,
    });
    expect(cut.length).toBeGreaterThan(3);
    expect([...cut].reverse().flat()).toEqual(expected);
  });

  it("looks up messages by hash and surfaces an error status as a rejection", async () => {
    const entries = series();
    const archive = archiveWith(entries);
    const wanted = [entries[1], entries[44]] as ArchivedMessage[];
    const found = await collect(clientFor(archive), { messageHashes: wanted.map((e) => e.hash) });
    expect(found.flat()).toEqual(storeOrder(wanted).map((e) => hex(e.hash)));
    await expect(
      collect(clientFor(archive), { paginationCursor: new Uint8Array(32).fill(9) }),
    ).rejects.toThrow(/status code: 400/);
  });
});
