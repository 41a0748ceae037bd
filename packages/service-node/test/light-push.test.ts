/** The LightPush v3 handler on its own: validation order, status codes and the relay outcome. */
import { proto_lightpush } from "@waku/proto";
import { describe, expect, it } from "vitest";
import {
  type AcceptResult,
  handleLightPushRequest,
  type LightPushContext,
  type WakuMessage,
} from "../src/light-push.ts";

const shard = "/waku/2/rs/55/3";
const utf8 = new TextEncoder();

function context(overrides: Partial<LightPushContext> = {}) {
  const accepted: [string, WakuMessage][] = [];
  const ctx: LightPushContext = {
    maxPayloadBytes: 100,
    maxMessageBytes: 400,
    requireRelayPeers: false,
    servesPubsubTopic: (topic) => topic === shard,
    pubsubTopicFor: (contentTopic) => (contentTopic.startsWith("/") ? shard : undefined),
    accept: async (pubsubTopic, message): Promise<AcceptResult> => {
      accepted.push([pubsubTopic, message]);
      return { relayPeers: 2, duplicate: false };
    },
    ...overrides,
  };
  return { ctx, accepted };
}

async function push(ctx: LightPushContext, fields: Partial<proto_lightpush.LightPushRequestV3>) {
  const bytes = proto_lightpush.LightPushRequestV3.encode({ requestId: "r", ...fields });
  return proto_lightpush.LightPushResponseV3.decode(await handleLightPushRequest(bytes, ctx));
}

const message = (fields: Partial<WakuMessage> = {}): WakuMessage => ({
  payload: utf8.encode("x"),
  contentTopic: "/a/1/b/proto",
  ...fields,
});

describe("handleLightPushRequest", () => {
  it("accepts a valid message and reports the relay peer count", async () => {
    const { ctx, accepted } = context();
    expect(await push(ctx, { pubsubTopic: shard, message: message() })).toEqual({
      requestId: "r",
      statusCode: 200,
      relayPeerCount: 2,
    });
    expect(accepted).toHaveLength(1);
  });

  it("checks the payload limit exactly", async () => {
    const { ctx } = context();
    const at = await push(ctx, {
      pubsubTopic: shard,
      message: message({ payload: new Uint8Array(100) }),
    });
    expect(at.statusCode).toBe(200);
    const over = await push(ctx, {
      pubsubTopic: shard,
      message: message({ payload: new Uint8Array(101) }),
    });
    expect(over.statusCode).toBe(413);
  });

  it("answers 413 when the rest of the envelope makes the message too large", async () => {
    const { ctx, accepted } = context();
    const reply = await push(ctx, {
      pubsubTopic: shard,
      message: message({ contentTopic: `/a/1/${"b".repeat(400)}/proto` }),
    });
    expect(reply.statusCode).toBe(413);
    expect(accepted).toHaveLength(0);
  });

  it("answers 505 for a message no relay peer took when told to behave like nwaku", async () => {
    const { ctx } = context({
      requireRelayPeers: true,
      accept: async () => ({ relayPeers: 0, duplicate: false }),
    });
    expect((await push(ctx, { pubsubTopic: shard, message: message() })).statusCode).toBe(505);
  });

  it("answers 200 to a message it already had (a retry), with no relay peer", async () => {
    const { ctx } = context({
      requireRelayPeers: true,
      accept: async () => ({ relayPeers: 0, duplicate: true }),
    });
    expect(await push(ctx, { pubsubTopic: shard, message: message() })).toMatchObject({
      statusCode: 200,
      relayPeerCount: 0,
    });
  });

  it("answers 500 without internals when the node fails to take the message", async () => {
    const { ctx } = context({
      accept: async () => {
        throw new Error("disk full");
      },
    });
    const reply = await push(ctx, { pubsubTopic: shard, message: message() });
    expect(reply.statusCode).toBe(500);
    expect(reply.statusDesc).not.toContain("disk");
  });
});
