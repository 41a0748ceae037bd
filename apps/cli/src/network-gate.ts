/**
 * The network opens only when a command needs it. A one-shot command first checks its arguments and
 * the profile's local state (unknown organization, not the owner, …) with the client running on its
 * store; only then does it connect. The client, though, starts its transport, subscribes and begins
 * catching up as soon as it is created: {@link networkGate} stands between the two. Before
 * {@link NetworkGate.open}, `start` does nothing, `subscribe` is recorded (and answered with a
 * subscription that becomes real on open), and `publish` / `queryHistory` wait. `open` starts the
 * real transport, makes the recorded subscriptions (together, so that their round trips overlap), and
 * only then lets the waiting calls through (so that, as without the gate, a topic is subscribed before
 * its history is read). A command that
 * ends without the network {@link NetworkGate.refuse}s the waiting calls: nothing was sent, and the
 * client's outbox keeps what it had (persist before send).
 *
 * Nothing here is fed by the network: what waits is the client's own calls, one per subscription or
 * operation of this process.
 */
import type {
  CallOptions,
  HistoryPage,
  HistoryQuery,
  MessageHandler,
  PublishResult,
  Subscription,
  Transport,
} from "@orgchat/transport";

/** A transport that connects on {@link NetworkGate.open}. */
export interface NetworkGate {
  /** What the client is given. */
  readonly transport: Transport;
  /** Whether {@link NetworkGate.open} was called. */
  readonly opened: boolean;
  /**
   * Starts the real transport, makes the subscriptions recorded so far, then lets waiting calls
   * through. Idempotent: every call returns the same promise.
   * @returns when the transport is started and the recorded subscriptions are active
   * @throws what the transport's `start` or `subscribe` threw (waiting calls reject with it too)
   */
  open(): Promise<void>;
  /**
   * Rejects every call waiting for {@link NetworkGate.open} with `error`, and every later one, unless
   * the gate was opened already.
   * @param error - what the waiting calls reject with
   */
  refuse(error: unknown): void;
}

/** A subscription asked for before the network opened; real once it did. */
class DeferredSubscription implements Subscription {
  readonly contentTopics: readonly string[];
  real: Subscription | undefined;
  cancelled = false;
  constructor(contentTopics: readonly string[]) {
    this.contentTopics = [...contentTopics];
  }
  async unsubscribe(options?: CallOptions): Promise<void> {
    this.cancelled = true;
    await this.real?.unsubscribe(options);
  }
}

/**
 * Wraps `inner` so that it connects only on {@link NetworkGate.open}.
 * @param inner - the real transport (not started)
 * @returns the gate and the transport to give the client
 */
export function networkGate(inner: Transport): NetworkGate {
  let opening: Promise<void> | undefined;
  let settled = false;
  let release: () => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const gate = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  // Nobody may be waiting when it is refused.
  gate.catch(() => undefined);
  const recorded: Array<{ subscription: DeferredSubscription; handler: MessageHandler }> = [];

  const open = (): Promise<void> => {
    opening ??= (async () => {
      try {
        await inner.start();
        // One at a time. Concurrent subscribe() calls on a light wakuTransport used to lose the live
        // delivery of some topics (a race in @waku/sdk 0.0.36's Filter.subscribe: the owner's
        // requests topic was then read only by the history sweep, ~4.5 s later). transport-waku now
        // queues them itself (`FilterTurns` in light-filter.ts); this order is kept as a second
        // guard for other transports. A round trip each, a few ms on loopback.
        for (const { subscription, handler } of recorded.splice(0)) {
          if (subscription.cancelled) continue;
          const real = await inner.subscribe(subscription.contentTopics, handler);
          if (subscription.cancelled) await real.unsubscribe();
          else subscription.real = real;
        }
      } catch (error) {
        settled = true;
        fail(error);
        throw error;
      }
      settled = true;
      release();
    })();
    return opening;
  };

  const transport: Transport = {
    get capabilities() {
      return inner.capabilities;
    },
    get status() {
      return inner.status;
    },
    // The client starts its transport when it is created: the real start waits for open().
    start: async () => undefined,
    stop: (options) => {
      if (!settled) {
        settled = true;
        fail(new Error("the transport was stopped before it connected"));
      }
      return inner.stop(options);
    },
    async publish(
      topic: string,
      payload: Uint8Array,
      options?: CallOptions,
    ): Promise<PublishResult> {
      await gate;
      return inner.publish(topic, payload, options);
    },
    async subscribe(
      topics: readonly string[],
      handler: MessageHandler,
      options?: CallOptions,
    ): Promise<Subscription> {
      if (opening === undefined) {
        const subscription = new DeferredSubscription(topics);
        recorded.push({ subscription, handler });
        return subscription;
      }
      await gate;
      return inner.subscribe(topics, handler, options);
    },
    async queryHistory(query: HistoryQuery, options?: CallOptions): Promise<HistoryPage> {
      await gate;
      return inner.queryHistory(query, options);
    },
    on: (event, listener) => inner.on(event, listener),
  };

  return {
    transport,
    get opened() {
      return opening !== undefined;
    },
    open,
    refuse(error) {
      if (opening !== undefined || settled) return;
      settled = true;
      fail(error);
    },
  };
}
