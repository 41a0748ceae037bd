/**
 * Waku Relay (11/WAKU2-RELAY) for libp2p 2.x: gossipsub 14.1.x mounted as `/vac/waku/relay/2.0.0`
 * with the settings nwaku and js-waku use, plus {@link WakuRelay}, an `IRelay` for `@waku/sdk`'s
 * `WakuNode`. npm's `@waku/relay` stops at 0.0.14 (libp2p 1.x) and `@waku/sdk` 0.0.36 ships no relay,
 * so this package owns the glue (`../shared/research/js-waku-transport.md` §1.6, §3.1).
 *
 * The transport (`wakuTransport({ mode: "relay" })`) and the service node are built on this module.
 *
 * @example
 * ```ts
 * import { createLibp2pAndUpdateOptions } from "@waku/sdk";
 * import { WakuRelay, defaultNetworkConfig, shardPubsubTopics, wakuRelayService } from "@orgchat/transport-waku/relay";
 *
 * const libp2p = await createLibp2pAndUpdateOptions({
 *   networkConfig: defaultNetworkConfig,
 *   libp2p: { addresses: { listen: ["/ip4/127.0.0.1/tcp/0/ws"] }, filterMultiaddrs: false,
 *             hideWebSocketInfo: true, services: { pubsub: wakuRelayService() } },
 * });
 * const relay = new WakuRelay(libp2p, shardPubsubTopics(defaultNetworkConfig));
 * relay.observe((pubsubTopic, message) => console.log(pubsubTopic, message.contentTopic));
 * ```
 *
 * @packageDocumentation
 */

import type { GossipSub, GossipsubEvents } from "@chainsafe/libp2p-gossipsub";
import { type Message, type PeerId, TopicValidatorResult } from "@libp2p/interface";
import { type DiagnosticSink, reportDiagnostic, toHex } from "@orgchat/base";
import { AbortError, NoPeersError } from "@orgchat/transport";
import {
  type Callback,
  type IAsyncIterator,
  type IDecodedMessage,
  type IDecoder,
  type IEncoder,
  type IMessage,
  type IRelay,
  LightPushError,
  type LightPushSDKResult,
} from "@waku/interfaces";
import { toAsyncIterator } from "@waku/utils";
import { WakuMessageRejectedError } from "./errors.js";
import {
  defaultMaxMessageBytes,
  encodeWakuMessage,
  validateWakuMessage,
  type WakuMessage,
  type WakuMessageFields,
  wakuMessageHash,
} from "./waku-message.js";

export {
  isWakuMessageRejectedError,
  WakuMessageRejectedError,
  type WakuMessageRejection,
} from "./errors.js";
export {
  relayCodec,
  relayOutboundBufferBytes,
  type WakuRelayServiceInit,
  wakuRelayService,
} from "./relay-service.js";
export type { BrokenRelayStream } from "./relay-streams.js";
export {
  defaultMaxMessageBytes,
  defaultMaxPayloadBytes,
  defaultNetworkConfig,
  encodeWakuMessage,
  envelopeAllowanceBytes,
  messageHashHex,
  pubsubTopicFor,
  shardPubsubTopics,
  validateWakuMessage,
  type WakuMessage,
  type WakuMessageFields,
  type WakuMessageValidation,
  wakuMessageHash,
  wakuMessageTimestampMs,
} from "./waku-message.js";

import { relayCodec } from "./relay-service.js";

/** Options of {@link WakuRelay}. */
export interface WakuRelayInit {
  /**
   * Cap on an encoded message, checked by the topic validators (larger messages are rejected and never
   * forwarded) and by `send` / `publishRaw`. @default defaultMaxMessageBytes (150 KiB + 4 KiB)
   */
  readonly maxMessageBytes?: number;
  /**
   * Told about every message the relay drops (refused by the validator, undecodable by a decoder) and
   * every observer that threw; the relay keeps going. Component `"transport-waku/relay"`.
   * @default none (dropped silently)
   */
  readonly onDiagnostic?: DiagnosticSink;
}

/** What a {@link RelayMessageListener} learns about a message besides its bytes. */
export interface RelayMessageContext {
  /**
   * The peer (id string) gossipsub received the message from, its propagation source; undefined
   * for this node's own publishes.
   */
  readonly from: string | undefined;
  /**
   * The message's deterministic hash ({@link wakuMessageHash}) on its pubsub topic, computed on
   * first read and shared by every listener of this delivery.
   */
  readonly hash: Uint8Array;
  /** {@link RelayMessageContext.hash}, lowercase hex (the orgchat message id, the Store cursor). */
  readonly hashHex: string;
}

/**
 * Listener of every valid message on the relay's pubsub topics (see {@link WakuRelay.observe}).
 * @param pubsubTopic - the shard's pubsub topic
 * @param message - the decoded 14/WAKU2-MESSAGE
 * @param bytes - the message exactly as on the wire
 * @param local - true for a message this node published itself
 * @param context - where it came from and its hash (computed once per message for all listeners)
 */
export type RelayMessageListener = (
  pubsubTopic: string,
  message: WakuMessage,
  bytes: Uint8Array,
  local: boolean,
  context: RelayMessageContext,
) => void;

/** A delivery's {@link RelayMessageContext}: the hash is computed on first read, once. */
class DeliveryContext implements RelayMessageContext {
  readonly from: string | undefined;
  readonly #pubsubTopic: string;
  readonly #message: WakuMessage;
  #hash: Uint8Array | undefined;
  #hashHex: string | undefined;

  constructor(pubsubTopic: string, message: WakuMessage, from: string | undefined) {
    this.#pubsubTopic = pubsubTopic;
    this.#message = message;
    this.from = from;
  }

  get hash(): Uint8Array {
    this.#hash ??= wakuMessageHash(this.#pubsubTopic, this.#message);
    return this.#hash;
  }

  get hashHex(): string {
    this.#hashHex ??= toHex(this.hash);
    return this.#hashHex;
  }
}

/** Result of {@link WakuRelay.publishRaw}. */
export interface RelayPublishResult {
  /** Peers the message was sent to (empty when nobody was subscribed, or for a duplicate). */
  readonly recipients: readonly PeerId[];
  /**
   * The same bytes were already seen by this node (published or received): gossipsub does not send
   * them again. The message is on the network already; treat as success.
   */
  readonly duplicate: boolean;
  /** {@link messageHashHex} of the message on this pubsub topic. */
  readonly messageHash: string;
}

/** Options of {@link WakuRelay.waitForPeers}. */
export interface WaitForRelayPeersOptions {
  /** Topics that must each have peers. @default every configured pubsub topic */
  readonly pubsubTopics?: readonly string[];
  /**
   * `"mesh"`: grafted mesh peers (what forwarding needs; what js-waku waits for). `"topic"`: connected
   * peers subscribed to the topic, enough for this node's own publishes (gossipsub flood-publishes to
   * all topic peers). @default "mesh"
   */
  readonly kind?: "mesh" | "topic";
  /** Peers needed on each topic. @default 1 */
  readonly minPeers?: number;
  /** Reject with `NoPeersError` after this long. @default no timeout */
  readonly timeoutMs?: number;
  /** Reject with `AbortError` when aborted. */
  readonly signal?: AbortSignal;
}

interface DecoderObserver {
  readonly decoder: IDecoder<IDecodedMessage>;
  readonly callback: Callback<IDecodedMessage>;
}

/**
 * Waku Relay over a libp2p node whose `services.pubsub` is {@link wakuRelayService}. Implements
 * `IRelay` from `@waku/interfaces`, so it can be passed to `@waku/sdk`'s `WakuNode` constructor
 * (`new WakuNode(options, libp2p, {}, relay)`), and adds what a service node needs:
 * {@link WakuRelay.observe} (every valid message, raw) and {@link WakuRelay.publishRaw}.
 *
 * On construction it installs a topic validator on every pubsub topic and, if gossipsub is already
 * running (`createLibp2pAndUpdateOptions` starts libp2p), subscribes to them; otherwise call
 * {@link WakuRelay.start} after libp2p starts (and again after a libp2p restart: gossipsub forgets
 * its subscriptions when stopped).
 *
 * Like js-waku, a node does not receive its own messages through {@link WakuRelay.subscribe}
 * (gossipsub `emitSelf` is false); {@link WakuRelay.observe} listeners do see them, with `local` true.
 */
export class WakuRelay implements IRelay {
  /** The pubsub topics (shards) this relay validates, joins and publishes on. */
  readonly pubsubTopics: Set<string>;
  /** The gossipsub instance (libp2p's `services.pubsub`). */
  readonly gossipSub: GossipSub;
  /** Cap on an encoded message (validator and publish). */
  readonly maxMessageBytes: number;

  readonly #decoderObservers = new Map<string, Map<string, Set<DecoderObserver>>>();
  readonly #listeners = new Set<RelayMessageListener>();
  /** {@link WakuRelay.#listeners} as an array, rebuilt when it changes (delivery iterates it). */
  #listenerList: readonly RelayMessageListener[] = [];
  /** Decoded by the validator, reused by the message handler (same `data` object in gossipsub). */
  readonly #validated = new WeakMap<Uint8Array, WakuMessage>();
  readonly #pendingWaits = new Set<(error: Error) => void>();
  readonly #onDiagnostic: DiagnosticSink | undefined;
  #active = false;

  /**
   * @param libp2p - a libp2p node with `services.pubsub` from {@link wakuRelayService}
   * @param pubsubTopics - shards to join, e.g. {@link shardPubsubTopics}(networkConfig)
   * @throws TypeError when `services.pubsub` is not a Waku relay gossipsub, or no topic is given
   */
  constructor(
    libp2p: { readonly services: { readonly pubsub?: unknown } },
    pubsubTopics: Iterable<string>,
    init: WakuRelayInit = {},
  ) {
    const pubsub = libp2p.services.pubsub as GossipSub | undefined;
    if (!pubsub?.multicodecs?.includes(relayCodec)) {
      throw new TypeError(
        `libp2p.services.pubsub does not speak ${relayCodec}: mount wakuRelayService() as services.pubsub`,
      );
    }
    this.gossipSub = pubsub;
    this.pubsubTopics = new Set(pubsubTopics);
    if (this.pubsubTopics.size === 0)
      throw new TypeError("WakuRelay needs at least one pubsub topic");
    this.maxMessageBytes = init.maxMessageBytes ?? defaultMaxMessageBytes;
    this.#onDiagnostic = init.onDiagnostic;
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < 1) {
      throw new RangeError(
        `maxMessageBytes must be a positive integer, got ${init.maxMessageBytes}`,
      );
    }
    this.#activate();
  }

  /** Starts gossipsub if needed and (re)subscribes to every pubsub topic. Idempotent. */
  async start(): Promise<void> {
    if (!this.gossipSub.isStarted()) await this.gossipSub.start();
    this.#activate();
  }

  /**
   * Detaches from gossipsub: unsubscribes the topics, removes the validators and listeners, and
   * rejects pending {@link WakuRelay.waitForPeers} calls. Does not stop libp2p. Idempotent.
   */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    this.gossipSub.removeEventListener("gossipsub:message", this.#onMessage);
    for (const topic of this.pubsubTopics) {
      if (this.gossipSub.topicValidators.get(topic) === this.#validate) {
        this.gossipSub.topicValidators.delete(topic);
      }
      if (this.gossipSub.isStarted()) this.gossipSub.unsubscribe(topic);
    }
    for (const reject of [...this.#pendingWaits]) {
      reject(new NoPeersError("the relay stopped while waiting for peers"));
    }
  }

  /**
   * Resolves when every topic has `minPeers` peers (mesh peers by default). Rejects with
   * `NoPeersError` after `timeoutMs` or when the relay stops, `AbortError` when `signal` aborts.
   * Leaves no timer or listener behind either way.
   */
  waitForPeers(options: WaitForRelayPeersOptions = {}): Promise<void> {
    const kind = options.kind ?? "mesh";
    const minPeers = options.minPeers ?? 1;
    const { signal, timeoutMs } = options;
    if (signal?.aborted)
      return Promise.reject(new AbortError("waitForPeers", { cause: signal.reason }));
    // Every publish asks first: when the peers are there, answer without building the waiter.
    if (this.#havePeers(options.pubsubTopics ?? this.pubsubTopics, kind, minPeers))
      return Promise.resolve();
    const topics = options.pubsubTopics ?? [...this.pubsubTopics];
    const missing = () => topics.filter((topic) => this.#peerCount(topic, kind) < minPeers);
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      const check = () => {
        if (!done && missing().length === 0) finish();
      };
      // A subscription arrives before the next heartbeat; check once gossipsub has updated its tables.
      const onSubscription = () => queueMicrotask(check);
      const onAbort = () => finish(new AbortError("waitForPeers", { cause: signal?.reason }));
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        this.gossipSub.removeEventListener("gossipsub:heartbeat", check);
        this.gossipSub.removeEventListener("gossipsub:graft", check);
        this.gossipSub.removeEventListener("subscription-change", onSubscription);
        signal?.removeEventListener("abort", onAbort);
        this.#pendingWaits.delete(finish);
        if (error) reject(error);
        else resolve();
      };
      this.gossipSub.addEventListener("gossipsub:heartbeat", check);
      this.gossipSub.addEventListener("gossipsub:graft", check);
      this.gossipSub.addEventListener("subscription-change", onSubscription);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pendingWaits.add(finish);
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            finish(
              new NoPeersError(`no ${kind} peer on ${missing().join(", ")} within ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      }
    });
  }

  /** @returns mesh peers (peer id strings) of `topic`, or of every configured topic when omitted. */
  getMeshPeers(topic?: string): string[] {
    if (topic !== undefined) return this.gossipSub.getMeshPeers(topic);
    const peers = new Set<string>();
    for (const t of this.pubsubTopics) for (const p of this.gossipSub.getMeshPeers(t)) peers.add(p);
    return [...peers];
  }

  /** @returns connected peers subscribed to `topic` (gossipsub flood-publishes own messages to them). */
  getTopicPeers(topic: string): PeerId[] {
    return this.gossipSub.getSubscribers(topic);
  }

  /**
   * `ISender.send`: encodes with `encoder` and publishes on its pubsub topic. Failures are returned,
   * not thrown: `Topic not configured`, `Size is too big`, `Payload is empty`, `No relay peers
   * available`. A duplicate (same bytes already seen) returns no successes and no failures.
   */
  async send(encoder: IEncoder, message: IMessage): Promise<LightPushSDKResult> {
    const fail = (error: LightPushError): LightPushSDKResult => ({
      successes: [],
      failures: [{ error }],
    });
    if (!this.pubsubTopics.has(encoder.pubsubTopic))
      return fail(LightPushError.TOPIC_NOT_CONFIGURED);
    const bytes = await encoder.toWire(message);
    if (!bytes) return fail(LightPushError.ENCODE_FAILED);
    const check = validateWakuMessage(bytes, this.maxMessageBytes);
    if (!check.ok) {
      return fail(
        check.reason === "too-large"
          ? LightPushError.SIZE_TOO_BIG
          : check.reason === "empty-payload"
            ? LightPushError.EMPTY_PAYLOAD
            : LightPushError.ENCODE_FAILED,
      );
    }
    const result = await this.#publish(encoder.pubsubTopic, bytes, check.message, undefined);
    if (result.recipients.length === 0 && !result.duplicate) return fail(LightPushError.NO_PEERS);
    return { successes: [...result.recipients], failures: [] };
  }

  /**
   * Publishes already-encoded 14/WAKU2-MESSAGE bytes (e.g. received through light push) on a pubsub
   * topic, after the validator's checks. {@link WakuRelay.observe} listeners see it with `local`
   * true (unless it is a duplicate or was sent to nobody without `allowZeroPeers`).
   * @param options.allowZeroPeers - publish (and notify observers) even with no topic peer
   *   @default the service's `allowPublishToZeroTopicPeers`
   * @returns the recipients (empty: nobody subscribed), whether it was a duplicate, and its hash
   * @throws RangeError (pubsub topic not configured), WakuMessageRejectedError (invalid message)
   */
  async publishRaw(
    pubsubTopic: string,
    bytes: Uint8Array,
    options: { readonly allowZeroPeers?: boolean } = {},
  ): Promise<RelayPublishResult> {
    this.#requireTopic(pubsubTopic);
    const check = validateWakuMessage(bytes, this.maxMessageBytes);
    if (!check.ok) {
      throw new WakuMessageRejectedError(
        check.reason,
        check.reason === "too-large"
          ? `${bytes.length} bytes, the cap is ${this.maxMessageBytes}`
          : `on ${pubsubTopic}`,
      );
    }
    return this.#publish(pubsubTopic, bytes, check.message, options.allowZeroPeers);
  }

  /**
   * Encodes and publishes a message built by this node: the checks of {@link WakuRelay.publishRaw}
   * (content topic and payload present, at most `maxMessageBytes` encoded) without decoding the bytes
   * it has just encoded.
   * @param fields - the message (see {@link WakuMessageFields})
   * @param options.allowZeroPeers - as in {@link WakuRelay.publishRaw}
   * @returns as {@link WakuRelay.publishRaw}
   * @throws RangeError (pubsub topic not configured), WakuMessageRejectedError (invalid message)
   */
  async publishMessage(
    pubsubTopic: string,
    fields: WakuMessageFields,
    options: { readonly allowZeroPeers?: boolean } = {},
  ): Promise<RelayPublishResult> {
    this.#requireTopic(pubsubTopic);
    const message: WakuMessage = {
      payload: fields.payload,
      contentTopic: fields.contentTopic,
      version: fields.version ?? 0,
      timestamp: fields.timestampNs ?? BigInt(Date.now()) * 1_000_000n,
      ...(fields.meta === undefined ? {} : { meta: fields.meta }),
      ...(fields.ephemeral === undefined ? {} : { ephemeral: fields.ephemeral }),
    };
    if (!message.contentTopic) {
      throw new WakuMessageRejectedError("missing-content-topic", `on ${pubsubTopic}`);
    }
    if (message.payload.length === 0) {
      throw new WakuMessageRejectedError("empty-payload", `on ${pubsubTopic}`);
    }
    const bytes = encodeWakuMessage({ ...fields, timestampNs: message.timestamp as bigint });
    if (bytes.length > this.maxMessageBytes) {
      throw new WakuMessageRejectedError(
        "too-large",
        `${bytes.length} bytes, the cap is ${this.maxMessageBytes}`,
      );
    }
    return this.#publish(pubsubTopic, bytes, message, options.allowZeroPeers);
  }

  /**
   * Calls `listener` for every valid message on this relay's pubsub topics: received ones (after the
   * validator accepted them, once per message: gossipsub drops duplicates) and this node's own
   * publishes (`local` true). A throwing listener is ignored.
   * @returns the function that removes the listener
   */
  observe(listener: RelayMessageListener): () => void {
    this.#listeners.add(listener);
    this.#listenerList = [...this.#listeners];
    return () => {
      this.#listeners.delete(listener);
      this.#listenerList = [...this.#listeners];
    };
  }

  /**
   * `IReceiver`: calls `callback` with messages matching a decoder's pubsub and content topic
   * (received ones only). @returns the unsubscribe function
   */
  subscribe<T extends IDecodedMessage>(
    decoders: IDecoder<T> | IDecoder<T>[],
    callback: Callback<T>,
  ): () => void {
    const added: [string, string, DecoderObserver][] = [];
    for (const decoder of Array.isArray(decoders) ? decoders : [decoders]) {
      const observer: DecoderObserver = {
        decoder: decoder as IDecoder<IDecodedMessage>,
        callback: callback as Callback<IDecodedMessage>,
      };
      let byContent = this.#decoderObservers.get(decoder.pubsubTopic);
      if (!byContent) {
        byContent = new Map();
        this.#decoderObservers.set(decoder.pubsubTopic, byContent);
      }
      let set = byContent.get(decoder.contentTopic);
      if (!set) {
        set = new Set();
        byContent.set(decoder.contentTopic, set);
      }
      set.add(observer);
      added.push([decoder.pubsubTopic, decoder.contentTopic, observer]);
    }
    return () => {
      for (const [pubsubTopic, contentTopic, observer] of added) {
        const byContent = this.#decoderObservers.get(pubsubTopic);
        const set = byContent?.get(contentTopic);
        set?.delete(observer);
        if (set?.size === 0) byContent?.delete(contentTopic);
        if (byContent?.size === 0) this.#decoderObservers.delete(pubsubTopic);
      }
    };
  }

  /** `IReceiver` (deprecated upstream): same as {@link WakuRelay.subscribe}. */
  readonly subscribeWithUnsubscribe = <T extends IDecodedMessage>(
    decoders: IDecoder<T> | IDecoder<T>[],
    callback: Callback<T>,
  ): (() => void) => this.subscribe(decoders, callback);

  /** `IReceiver` (deprecated upstream): messages as an async iterator. */
  toSubscriptionIterator<T extends IDecodedMessage>(
    decoders: IDecoder<T> | IDecoder<T>[],
  ): Promise<IAsyncIterator<T>> {
    return toAsyncIterator(this, decoders);
  }

  #activate(): void {
    if (!this.#active) {
      this.#active = true;
      this.gossipSub.addEventListener("gossipsub:message", this.#onMessage);
    }
    for (const topic of this.pubsubTopics)
      this.gossipSub.topicValidators.set(topic, this.#validate);
    if (this.gossipSub.isStarted()) {
      for (const topic of this.pubsubTopics) this.gossipSub.subscribe(topic);
    }
  }

  #requireTopic(pubsubTopic: string): void {
    if (!this.pubsubTopics.has(pubsubTopic)) {
      throw new RangeError(
        `pubsub topic ${pubsubTopic} is not configured on this relay (it joins ${[...this.pubsubTopics].join(", ")})`,
      );
    }
  }

  #havePeers(topics: Iterable<string>, kind: "mesh" | "topic", minPeers: number): boolean {
    for (const topic of topics) if (this.#peerCount(topic, kind) < minPeers) return false;
    return true;
  }

  #peerCount(topic: string, kind: "mesh" | "topic"): number {
    // The sizes of gossipsub's own sets (`topics` is private in its types, public at run time in
    // the pinned 14.1.x): `getMeshPeers` / `getSubscribers` would copy them, and build a PeerId per
    // subscriber, on every publish.
    if (kind === "mesh") return this.gossipSub.mesh.get(topic)?.size ?? 0;
    const topics = (this.gossipSub as unknown as { topics?: Map<string, Set<string>> }).topics;
    return topics?.get(topic)?.size ?? this.gossipSub.getSubscribers(topic).length;
  }

  #report(reason: string, pubsubTopic: string, error?: unknown): void {
    reportDiagnostic(this.#onDiagnostic, {
      component: "transport-waku/relay",
      reason,
      topic: pubsubTopic,
      ...(error === undefined ? {} : { error }),
    });
  }

  readonly #validate = (_peer: PeerId, message: Message): TopicValidatorResult => {
    const check = validateWakuMessage(message.data, this.maxMessageBytes);
    if (!check.ok) {
      this.#report(`rejected-${check.reason}`, message.topic);
      return TopicValidatorResult.Reject;
    }
    this.#validated.set(message.data, check.message);
    return TopicValidatorResult.Accept;
  };

  readonly #onMessage = (event: GossipsubEvents["gossipsub:message"]): void => {
    const { msg, propagationSource } = event.detail;
    if (!this.pubsubTopics.has(msg.topic)) return;
    let message = this.#validated.get(msg.data);
    if (message === undefined) {
      const check = validateWakuMessage(msg.data, this.maxMessageBytes);
      if (!check.ok) {
        this.#report(`rejected-${check.reason}`, msg.topic);
        return;
      }
      message = check.message;
    }
    this.#deliver(
      msg.topic,
      message,
      msg.data,
      new DeliveryContext(msg.topic, message, propagationSource.toString()),
    );
  };

  async #publish(
    pubsubTopic: string,
    bytes: Uint8Array,
    message: WakuMessage,
    allowZeroPeers: boolean | undefined,
  ): Promise<RelayPublishResult> {
    const context = new DeliveryContext(pubsubTopic, message, undefined);
    const hash = context.hashHex;
    let recipients: PeerId[];
    try {
      ({ recipients } = await this.gossipSub.publish(
        pubsubTopic,
        bytes,
        allowZeroPeers === undefined ? undefined : { allowPublishToZeroTopicPeers: allowZeroPeers },
      ));
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (text === "PublishError.Duplicate") {
        return { recipients: [], duplicate: true, messageHash: hash };
      }
      if (text === "PublishError.NoPeersSubscribedToTopic") {
        return { recipients: [], duplicate: false, messageHash: hash };
      }
      throw error;
    }
    this.#deliver(pubsubTopic, message, bytes, context);
    return { recipients, duplicate: false, messageHash: hash };
  }

  #deliver(
    pubsubTopic: string,
    message: WakuMessage,
    bytes: Uint8Array,
    context: DeliveryContext,
  ): void {
    const local = context.from === undefined;
    // A snapshot: a listener that adds or removes one changes the next delivery, not this one.
    for (const listener of this.#listenerList) {
      try {
        listener(pubsubTopic, message, bytes, local, context);
      } catch (error) {
        // An observer's bug must not stop delivery to the others.
        this.#report("observer-failed", pubsubTopic, error);
      }
    }
    if (local) return;
    const observers = this.#decoderObservers.get(pubsubTopic)?.get(message.contentTopic);
    if (!observers) return;
    for (const { decoder, callback } of [...observers]) {
      void (async () => {
        try {
          const proto = await decoder.fromWireToProtoObj(bytes);
          if (!proto) return;
          const decoded = await decoder.fromProtoObj(pubsubTopic, proto);
          if (decoded) await callback(decoded);
        } catch (error) {
          // A decoder that cannot read the message or a throwing callback: skip it, like js-waku.
          this.#report("decoder-failed", pubsubTopic, error);
        }
      })();
    }
  }
}
