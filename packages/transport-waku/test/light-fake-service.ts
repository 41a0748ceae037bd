/**
 * Test helper: a scripted Waku service node (LightPush v3, Filter v2, Store v3, metadata) whose
 * answers each test chooses, to check how light mode maps what a service node says. The real
 * service node (`@orgchat/service-node`) is tested against light mode in its own package; this one
 * lets the tests here produce any status code and record every request.
 */
import type { IncomingStreamData, Libp2p, PeerId } from "@libp2p/interface";
import { FilterCodecs, LightPushCodec, MetadataCodec, StoreCodec } from "@waku/core";
import { proto_filter_v2, proto_lightpush, proto_metadata, proto_store } from "@waku/proto";
import { createLibp2pAndUpdateOptions } from "@waku/sdk";
import { libp2pTransportsFor, offlineNodeOptions, parseAddresses } from "../src/node-options.js";
import { defaultNetworkConfig } from "../src/relay.js";

type Answer<Request, Response> = (request: Request) => Partial<Response>;

/** The answers of a {@link FakeService}; anything left out answers success. */
export interface FakeServiceScript {
  lightPush?: Answer<proto_lightpush.LightPushRequestV3, proto_lightpush.LightPushResponseV3>;
  filter?: Answer<proto_filter_v2.FilterSubscribeRequest, proto_filter_v2.FilterSubscribeResponse>;
  store?: Answer<proto_store.StoreQueryRequest, proto_store.StoreQueryResponse>;
}

/** A running fake service node. */
export interface FakeService {
  readonly address: string;
  readonly libp2p: Libp2p;
  readonly requests: {
    readonly lightPush: proto_lightpush.LightPushRequestV3[];
    readonly filter: proto_filter_v2.FilterSubscribeRequest[];
    readonly store: proto_store.StoreQueryRequest[];
  };
  /** Sends `message` to `peer` over a filter-push stream, as a service node does. */
  push(peer: PeerId, pubsubTopic: string, message: proto_filter_v2.WakuMessage): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a fake service node on 127.0.0.1 (WebSocket) serving every shard of the default cluster. */
export async function startFakeService(script: FakeServiceScript = {}): Promise<FakeService> {
  const listen = parseAddresses(["/ip4/127.0.0.1/tcp/0/ws"], "listen");
  const libp2p = (await createLibp2pAndUpdateOptions(
    offlineNodeOptions({
      networkConfig: defaultNetworkConfig,
      listen,
      transports: await libp2pTransportsFor(listen),
      privateKey: undefined,
    }),
  )) as unknown as Libp2p;
  await libp2p.start();
  const requests = {
    lightPush: [] as proto_lightpush.LightPushRequestV3[],
    filter: [] as proto_filter_v2.FilterSubscribeRequest[],
    store: [] as proto_store.StoreQueryRequest[],
  };
  const serve = (codec: string, answer: (request: Uint8Array) => Uint8Array) =>
    libp2p.handle(
      codec,
      ({ stream }: IncomingStreamData) => {
        void (async () => {
          const chunks: Uint8Array[] = [];
          for await (const chunk of stream.source) chunks.push(chunk.subarray());
          const request = unframe(concat(chunks));
          // Written in pieces, as a real server may: the reader must join them.
          const reply = frame(answer(request));
          const pieces: Uint8Array[] = [];
          for (let at = 0; at < reply.length; at += 16_384) {
            pieces.push(reply.subarray(at, at + 16_384));
          }
          await stream.sink(pieces);
        })().catch((error: unknown) => stream.abort(error as Error));
      },
      { force: true },
    );
  await serve(LightPushCodec, (bytes) => {
    const request = proto_lightpush.LightPushRequestV3.decode(bytes);
    requests.lightPush.push(request);
    return proto_lightpush.LightPushResponseV3.encode({
      requestId: request.requestId,
      statusCode: 200,
      relayPeerCount: 1,
      ...script.lightPush?.(request),
    });
  });
  await serve(FilterCodecs.SUBSCRIBE, (bytes) => {
    const request = proto_filter_v2.FilterSubscribeRequest.decode(bytes);
    requests.filter.push(request);
    return proto_filter_v2.FilterSubscribeResponse.encode({
      requestId: request.requestId,
      statusCode: 200,
      ...script.filter?.(request),
    });
  });
  await serve(StoreCodec, (bytes) => {
    const request = proto_store.StoreQueryRequest.decode(bytes);
    requests.store.push(request);
    return proto_store.StoreQueryResponse.encode({
      requestId: request.requestId,
      statusCode: 200,
      messages: [],
      ...script.store?.(request),
    });
  });
  // Replaces the SDK's own metadata answer (no shards), which would make light nodes skip us.
  await serve(MetadataCodec, () =>
    proto_metadata.WakuMetadataResponse.encode({
      clusterId: defaultNetworkConfig.clusterId,
      shards: [0, 1, 2, 3, 4, 5, 6, 7],
    }),
  );
  return {
    address: libp2p.getMultiaddrs()[0]?.toString() ?? "",
    libp2p,
    requests,
    async push(peer, pubsubTopic, message) {
      const stream = await libp2p.dialProtocol(peer, FilterCodecs.PUSH);
      await stream.sink([
        frame(proto_filter_v2.MessagePush.encode({ pubsubTopic, wakuMessage: message })),
      ]);
    },
    stop: async () => {
      await libp2p.stop();
    },
  };
}

function frame(bytes: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let rest = bytes.length;
  while (rest >= 0x80) {
    prefix.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  prefix.push(rest);
  return concat([Uint8Array.from(prefix), bytes]);
}

function unframe(bytes: Uint8Array): Uint8Array {
  let length = 0;
  let scale = 1;
  let offset = 0;
  for (;;) {
    const byte = bytes[offset++] as number;
    length += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) break;
    scale *= 128;
  }
  return bytes.subarray(offset, offset + length);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
