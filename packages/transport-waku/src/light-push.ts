/**
 * Light mode, publishing: LightPush v3 to a ready service node, retried on transient failures until
 * the publish deadline (the SDK's own retry queue runs with `autoRetry: false`: it re-sends even after
 * a success), with a cap on pushes in flight and timestamps unique per transport.
 */
import { raceAbort, sleep } from "@orgchat/base";
import {
  AbortError,
  EmptyPayloadError,
  NoPeersError,
  NotStartedError,
  PayloadTooLargeError,
  type PublishResult,
  type TransportCapabilities,
} from "@orgchat/transport";
import { abortErrorFor } from "@orgchat/transport/implement";
import { type IEncoder, type IMessage, type IProtoMessage, LightPushError } from "@waku/interfaces";
import { proto_message } from "@waku/proto";
import { type LightSession, waitForCarrier } from "./light-session.js";
import type { UniqueTimestamps } from "./transport-common.js";
import { messageHashHex } from "./waku-message.js";

/** Pause between two attempts of a publish or subscribe that failed for a transient reason (ms). */
export const retryDelayMs = 50;
/**
 * Light pushes in flight per transport. libp2p allows 64 outbound streams per protocol and connection
 * by default; more parallel `lightPush.send` calls would fail with "No stream available".
 */
const maxConcurrentPushes = 32;

/** What the publisher needs from its transport. */
export interface LightPublisherParts {
  readonly capabilities: TransportCapabilities;
  readonly publishTimeoutMs: number;
  readonly staticShard: number | undefined;
  readonly timestamps: UniqueTimestamps;
}

/** Publishes through light push; one per transport (it caches encoders and caps pushes in flight). */
export class LightPublisher {
  readonly #parts: LightPublisherParts;
  readonly #encoders = new Map<string, IEncoder>();
  readonly #pushQueue: (() => void)[] = [];
  #pushesInFlight = 0;

  constructor(parts: LightPublisherParts) {
    this.#parts = parts;
  }

  /**
   * Publishes a checked payload (see `assertPublishable`) on `session`.
   * @throws NoPeersError, PayloadTooLargeError, EmptyPayloadError, NotStartedError (stopped meanwhile), AbortError
   */
  async publish(
    session: LightSession,
    contentTopic: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<PublishResult> {
    const { capabilities, publishTimeoutMs } = this.#parts;
    const base = this.#encoderFor(contentTopic, session);
    const timestampNs = this.#parts.timestamps.nextNs();
    const encoder = withTimestamp(base, timestampNs);
    const bytes = payload.slice();
    const id = messageHashHex(base.pubsubTopic, {
      payload: bytes,
      contentTopic,
      version: 0,
      timestamp: timestampNs,
    });
    const deadline = performance.now() + publishTimeoutMs;
    let lastFailure = "no service node connected";
    await this.#acquirePush(signal);
    try {
      for (;;) {
        if (!(await waitForCarrier(session, deadline, signal))) {
          if (session.closed) throw new NotStartedError("publish");
          throw new NoPeersError(
            `no service node accepted the message within ${publishTimeoutMs} ms (${lastFailure})`,
          );
        }
        if (session.closed) throw new NotStartedError("publish");
        const result = await raceAbort(
          session.node.lightPush.send(encoder, { payload: bytes }, { autoRetry: false }),
          signal,
          abortErrorFor("publish"),
        );
        if (result.successes.length > 0) {
          return {
            id,
            timestamp: Number(timestampNs / 1_000_000n),
            recipients: result.successes.length,
          };
        }
        const failure = result.failures[0]?.error ?? LightPushError.GENERIC_FAIL;
        if (failure === LightPushError.SIZE_TOO_BIG) {
          throw new PayloadTooLargeError(payload.length, capabilities.maxPayloadBytes);
        }
        if (failure === LightPushError.EMPTY_PAYLOAD) throw new EmptyPayloadError();
        // Everything else (no peer or stream yet, stream aborted, the service node answered an error
        // status such as 429 or 503) may pass: try again until the deadline.
        lastFailure = `last attempt: ${failure}`;
        if (performance.now() >= deadline) {
          throw new NoPeersError(
            `no service node accepted the message within ${publishTimeoutMs} ms (${lastFailure})`,
          );
        }
        await sleep(retryDelayMs, signal, abortErrorFor("publish"));
        if (session.closed) throw new NotStartedError("publish");
      }
    } finally {
      this.#releasePush();
    }
  }

  /** Forgets the encoders of a stopped session. */
  clear(): void {
    this.#encoders.clear();
  }

  async #acquirePush(signal: AbortSignal | undefined): Promise<void> {
    if (this.#pushesInFlight < maxConcurrentPushes) {
      this.#pushesInFlight += 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#pushQueue.indexOf(grant);
        if (index >= 0) this.#pushQueue.splice(index, 1);
        reject(new AbortError("publish", { cause: signal?.reason }));
      };
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.#pushesInFlight += 1;
        resolve();
      };
      this.#pushQueue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #releasePush(): void {
    this.#pushesInFlight -= 1;
    this.#pushQueue.shift()?.();
  }

  #encoderFor(contentTopic: string, session: LightSession): IEncoder {
    let encoder = this.#encoders.get(contentTopic);
    if (!encoder) {
      const shardId = this.#parts.staticShard;
      encoder = session.node.createEncoder(
        shardId === undefined ? { contentTopic } : { contentTopic, shardId },
      );
      this.#encoders.set(contentTopic, encoder);
    }
    return encoder;
  }
}

/**
 * The SDK's encoders stamp messages with a millisecond `Date`; two publishes of the same payload in
 * the same millisecond would then be one message (same hash). This wrapper sets a timestamp unique
 * per transport at nanosecond resolution.
 */
function withTimestamp(base: IEncoder, timestampNs: bigint): IEncoder {
  const toProtoObj = async (message: IMessage): Promise<IProtoMessage | undefined> => {
    const proto = await base.toProtoObj(message);
    return proto === undefined ? undefined : { ...proto, timestamp: timestampNs };
  };
  return {
    contentTopic: base.contentTopic,
    ephemeral: base.ephemeral,
    routingInfo: base.routingInfo,
    pubsubTopic: base.pubsubTopic,
    toProtoObj,
    toWire: async (message) => {
      const proto = await toProtoObj(message);
      if (proto === undefined) return undefined;
      const fields: Partial<proto_message.WakuMessage> = {
        payload: proto.payload,
        contentTopic: proto.contentTopic,
        timestamp: timestampNs,
      };
      if (proto.version !== undefined) fields.version = proto.version;
      if (proto.meta !== undefined) fields.meta = proto.meta;
      if (proto.ephemeral !== undefined) fields.ephemeral = proto.ephemeral;
      return proto_message.WakuMessage.encode(fields);
    },
  };
}
