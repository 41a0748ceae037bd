/**
 * Light mode, receiving: Filter v2 subscriptions on the service nodes. A subscription resolves once a
 * service node confirmed it (retried on transient failures until the deadline). Every subscription is
 * removed decoder by decoder before the node stops, so the SDK's per-topic intervals (1 s, 5 s, 60 s)
 * are cleared and the process can exit.
 *
 * The SDK's filter calls are made one at a time per pubsub topic ({@link FilterTurns}): `@waku/sdk`
 * 0.0.36's `Filter.subscribe` looks up its `Subscription` for the pubsub topic, creates one when
 * there is none, and stores it only after the first SUBSCRIBE round trip. Concurrent first
 * subscribes on one pubsub topic therefore each created their own; pushes went to the last one
 * stored, and the others (with their timers) were orphaned: their handlers never got a live message.
 */
import { raceAbort, sleep } from "@orgchat/base";
import {
  isAbortError,
  type MessageHandler,
  NoPeersError,
  NotStartedError,
  type Subscription,
  type TransportMessage,
} from "@orgchat/transport";
import {
  abortErrorFor,
  invokeHandler,
  type TransportEventEmitter,
  throwIfAborted,
} from "@orgchat/transport/implement";
import type { IDecodedMessage, IDecoder, IProtoMessage } from "@waku/interfaces";
import { retryDelayMs } from "./light-push.js";
import { type LightSession, waitForCarrier } from "./light-session.js";
import { plainBytes } from "./node-options.js";

/**
 * One SDK filter call at a time per pubsub topic, in call order. A call keeps its turn until it
 * settles, or for `holdMs` at most (a service node that never answers must not block the topic).
 */
export class FilterTurns {
  readonly #tails = new Map<string, Promise<void>>();

  /**
   * Runs `call` once every earlier call on `pubsubTopic` settled (or ran out its hold).
   * @param pubsubTopic - the key: the SDK keeps one subscription object per pubsub topic
   * @param holdMs - how long `call` may keep the next calls on this topic waiting, at most
   * @param call - the SDK call
   * @returns what `call` returns
   * @throws what `call` throws
   */
  run<T>(pubsubTopic: string, holdMs: number, call: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(pubsubTopic) ?? Promise.resolve();
    const result = previous.then(call);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const held = previous.then(
      () =>
        new Promise<void>((release) => {
          timer = setTimeout(release, holdMs);
          void tail.then(() => {
            clearTimeout(timer);
            release();
          });
        }),
    );
    this.#tails.set(pubsubTopic, held);
    void held.then(() => {
      if (this.#tails.get(pubsubTopic) === held) this.#tails.delete(pubsubTopic);
    });
    return result;
  }
}

/** How long an unsubscribe may take before it is reported and left behind, ms. */
const unsubscribeTimeoutMs = 2_000;

interface SubscriptionEntry {
  readonly handler: MessageHandler;
  /** pubsub topic → the decoders registered with the SDK filter for this subscription */
  readonly decoders: Map<string, IDecoder<IDecodedMessage>[]>;
  active: boolean;
}

/** What the subscriptions need from their transport. */
export interface LightFilterParts {
  readonly events: TransportEventEmitter;
  readonly publishTimeoutMs: number;
  readonly staticShard: number | undefined;
  /** The session running now, if any (an unsubscribe after a restart talks to the new one). */
  readonly currentSession: () => LightSession | undefined;
}

/** The filter subscriptions of one transport. */
export class LightSubscriptions {
  readonly #parts: LightFilterParts;
  readonly #entries = new Set<SubscriptionEntry>();
  /** Per light node: its SDK filter calls, one at a time per pubsub topic. */
  readonly #turns = new WeakMap<LightSession, FilterTurns>();

  constructor(parts: LightFilterParts) {
    this.#parts = parts;
  }

  /**
   * Subscribes `handler` to content topics already checked and grouped by pubsub topic.
   * @throws NoPeersError, NotStartedError (stopped meanwhile), AbortError
   */
  async subscribe(
    session: LightSession,
    byPubsub: ReadonlyMap<string, readonly string[]>,
    contentTopics: readonly string[],
    handler: MessageHandler,
    signal: AbortSignal | undefined,
  ): Promise<Subscription> {
    const entry: SubscriptionEntry = { handler, decoders: new Map(), active: true };
    this.#entries.add(entry);
    const deadline = performance.now() + this.#parts.publishTimeoutMs;
    try {
      for (const [pubsubTopic, topics] of byPubsub) {
        await this.#subscribeGroup(session, entry, pubsubTopic, topics, deadline, signal);
      }
    } catch (error) {
      entry.active = false;
      this.#entries.delete(entry);
      await this.#unsubscribeEntry(session, entry);
      throw error;
    }
    return {
      contentTopics: Object.freeze([...contentTopics]),
      unsubscribe: async (unsubscribeOptions = {}) => {
        throwIfAborted(unsubscribeOptions.signal, "unsubscribe");
        if (!entry.active) return;
        entry.active = false;
        this.#entries.delete(entry);
        const current = this.#parts.currentSession();
        if (current) await this.#unsubscribeEntry(current, entry);
      },
    };
  }

  /** Ends every subscription and removes its decoders from the SDK filter (before the node stops). */
  async endAll(session: LightSession): Promise<void> {
    const entries = [...this.#entries];
    this.#entries.clear();
    for (const entry of entries) entry.active = false;
    // Remove every decoder first: the SDK's unsubscribeAll() would fire UNSUBSCRIBE_ALL requests
    // it does not await, which reject unhandled once libp2p is stopped under them.
    for (const entry of entries) await this.#unsubscribeEntry(session, entry);
    session.node.filter.unsubscribeAll();
  }

  async #subscribeGroup(
    session: LightSession,
    entry: SubscriptionEntry,
    pubsubTopic: string,
    topics: readonly string[],
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { publishTimeoutMs, staticShard } = this.#parts;
    for (;;) {
      if (!(await waitForCarrier(session, deadline, signal))) {
        if (session.closed) throw new NotStartedError("subscribe");
        throw new NoPeersError(
          `no filter service node confirmed the subscription within ${publishTimeoutMs} ms`,
        );
      }
      if (session.closed) throw new NotStartedError("subscribe");
      // Fresh decoder objects each attempt: the SDK keys callbacks by decoder and treats a decoder
      // it already holds as subscribed, without asking the service node again.
      const decoders = topics.map((contentTopic) =>
        session.node.createDecoder(
          staticShard === undefined ? { contentTopic } : { contentTopic, shardId: staticShard },
        ),
      );
      entry.decoders.set(pubsubTopic, decoders);
      const callback = (message: IDecodedMessage) => this.#deliver(entry, message);
      let ok = false;
      try {
        ok = await raceAbort(
          this.#turnsOf(session).run(pubsubTopic, publishTimeoutMs, async () =>
            // Given up while waiting for the turn: no request (the caller removes the decoders).
            session.closed || signal?.aborted === true
              ? false
              : session.node.filter.subscribe(decoders, callback),
          ),
          signal,
          abortErrorFor("subscribe"),
        );
      } catch (error) {
        if (isAbortError(error)) throw error;
        this.#report("filter-subscribe-failed", pubsubTopic, error);
        ok = false;
      }
      if (ok) return;
      entry.decoders.delete(pubsubTopic);
      await this.#unsubscribeDecoders(session, pubsubTopic, decoders);
      if (performance.now() >= deadline) {
        throw new NoPeersError(
          `no filter service node confirmed the subscription within ${publishTimeoutMs} ms`,
        );
      }
      await sleep(retryDelayMs, signal, abortErrorFor("subscribe"));
    }
  }

  async #unsubscribeEntry(session: LightSession, entry: SubscriptionEntry): Promise<void> {
    for (const [pubsubTopic, decoders] of entry.decoders) {
      await this.#unsubscribeDecoders(session, pubsubTopic, decoders);
    }
    entry.decoders.clear();
  }

  async #unsubscribeDecoders(
    session: LightSession,
    pubsubTopic: string,
    decoders: IDecoder<IDecodedMessage>[],
  ): Promise<void> {
    // Sends UNSUBSCRIBE without waiting for a reply (js-waku's client does not read one), and
    // stops the SDK's per-topic timers once no decoder is left on the topic. In turn with the
    // subscribes of the topic: the SDK drops its subscription object when it empties.
    await this.#turnsOf(session)
      .run(pubsubTopic, unsubscribeTimeoutMs, () =>
        withTimeout(session.node.filter.unsubscribe(decoders), unsubscribeTimeoutMs),
      )
      .catch((error: unknown) => this.#report("filter-unsubscribe-failed", pubsubTopic, error));
  }

  #turnsOf(session: LightSession): FilterTurns {
    let turns = this.#turns.get(session);
    if (turns === undefined) {
      turns = new FilterTurns();
      this.#turns.set(session, turns);
    }
    return turns;
  }

  #deliver(entry: SubscriptionEntry, decoded: IDecodedMessage): void {
    if (!entry.active) return;
    const proto = (decoded as { proto?: IProtoMessage }).proto;
    const message: TransportMessage = {
      contentTopic: decoded.contentTopic,
      payload: plainBytes(decoded.payload),
      timestamp:
        proto?.timestamp === undefined
          ? (decoded.timestamp?.getTime() ?? 0)
          : Number(proto.timestamp / 1_000_000n),
      id: decoded.hashStr,
    };
    invokeHandler(this.#parts.events, entry.handler, message);
  }

  #report(reason: string, topic: string, error: unknown): void {
    this.#parts.events.diagnostic({ component: "transport-waku/light", reason, topic, error });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
