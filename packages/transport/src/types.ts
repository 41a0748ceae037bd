/**
 * The transport contract (docs/ARCHITECTURE.md, "Transports"). The client publishes and receives
 * opaque bytes on content topics through this interface only, so that the in-memory transport, real
 * Waku relay, real Waku light push/filter/store, or a contributor's own transport are interchangeable.
 *
 * Delivery is **at least once and unordered** unless `capabilities.ordered` says otherwise: a message
 * may arrive twice (relay re-gossip, store backfill overlapping live delivery), so consumers dedupe by
 * `TransportMessage.id`. Time is milliseconds since the Unix epoch everywhere in this interface.
 */
import type { Diagnostic } from "@orgchat/base";

/** What a transport can do. The compliance suite skips, visibly, the cases a transport cannot support. */
export interface TransportCapabilities {
  /** `queryHistory` works (a store node or an in-process history is reachable). */
  readonly history: boolean;
  /** A subscriber on the same transport instance receives its own publishes. */
  readonly selfDelivery: boolean;
  /** Messages from one publisher arrive in publish order (no reordering). */
  readonly ordered: boolean;
  /** Largest payload `publish` accepts, in bytes; one more byte throws `PayloadTooLargeError`. */
  readonly maxPayloadBytes: number;
}

/** One message as delivered to a subscriber or returned by a history query. */
export interface TransportMessage {
  /** Content topic the message was published on. */
  readonly contentTopic: string;
  /** The bytes exactly as published. */
  readonly payload: Uint8Array;
  /** Publisher's timestamp, milliseconds since the Unix epoch (not authenticated: it is transport metadata). */
  readonly timestamp: number;
  /**
   * Stable identifier, the same on every delivery and in history (Waku: the deterministic message hash,
   * lowercase hex). Use it to drop duplicates.
   */
  readonly id: string;
}

/** Connectivity as the transport sees it. */
export type TransportStatus =
  /** Not started, or stopped. */
  | "stopped"
  /** Started, no peer yet (or all peers lost and reconnection is under way). */
  | "connecting"
  /** At least one peer can carry publishes. */
  | "online";

/** Events a transport emits (past-tense keys). */
export interface TransportEvents {
  /** Connectivity changed. `peers` is the number of peers that can carry this transport's traffic. */
  "status:changed": { readonly status: TransportStatus; readonly peers: number };
  /**
   * A subscription handler threw. The subscription stays live (one bad handler must not cut a member
   * off); the error is reported here instead.
   */
  "handler:failed": {
    readonly contentTopic: string;
    readonly messageId: string;
    readonly error: unknown;
  };
  /**
   * The transport dropped something it received (a message that does not decode, a peer's malformed
   * answer, …) or a background step failed. It keeps going either way; this event is the one place
   * where such drops become visible (`component` says which part of the transport, `reason` why, as a
   * stable kebab-case id). Silent drops are how missing messages hide.
   */
  diagnostic: Diagnostic;
}

/** Listener for one transport event. */
export type TransportListener<K extends keyof TransportEvents> = (
  event: TransportEvents[K],
) => void;

/** Options every asynchronous call accepts. */
export interface CallOptions {
  /** Cancels the call: it rejects with `AbortError` and leaves no half-done state behind. */
  readonly signal?: AbortSignal;
}

/** Result of a successful publish. */
export interface PublishResult {
  /** The message id subscribers and history will see. */
  readonly id: string;
  /** Timestamp carried by the message (ms). */
  readonly timestamp: number;
  /** Peers that accepted the message (relay: peers it was sent to; light: service nodes that acked). */
  readonly recipients: number;
}

/** Handler of delivered messages. It may be async; a rejection is reported like a throw. */
export type MessageHandler = (message: TransportMessage) => void | Promise<void>;

/** A live subscription. */
export interface Subscription {
  /** Content topics this subscription receives. */
  readonly contentTopics: readonly string[];
  /** Stops delivery to this handler (idempotent). Other subscriptions on the same topics are unaffected. */
  unsubscribe(options?: CallOptions): Promise<void>;
}

/** Direction in which history pages are returned. */
export type HistoryDirection = "forward" | "backward";

/** A history query: one or more content topics, an optional inclusive time range, paging. */
export interface HistoryQuery {
  /** Content topics to return (at least one). */
  readonly contentTopics: readonly string[];
  /** Oldest timestamp to include, ms (inclusive). @default no lower bound */
  readonly from?: number;
  /** Newest timestamp to include, ms (inclusive). @default no upper bound */
  readonly to?: number;
  /**
   * `forward`: oldest first, pages walk towards newer messages. `backward`: newest first, pages walk
   * towards older ones (what a chat needs to show the latest screen first).
   * @default "backward"
   */
  readonly direction?: HistoryDirection;
  /** Messages per page, 1 to 100 (the Waku Store v3 maximum). @default 20 */
  readonly pageSize?: number;
  /** Cursor from a previous page of the same query; absent for the first page. */
  readonly cursor?: string;
}

/** One page of history. Messages are in the query's direction. */
export interface HistoryPage {
  readonly messages: readonly TransportMessage[];
  /** Pass as `cursor` to get the next page; absent when there is nothing more. */
  readonly cursor?: string;
}

/** Largest page a history query may ask for (Waku Store v3's limit). */
export const maxHistoryPageSize = 100;
/** Page size when a query does not say. */
export const defaultHistoryPageSize = 20;

/**
 * A transport: moves opaque payloads on content topics between peers.
 *
 * Lifecycle: `start()` and `stop()` are idempotent; every other call before `start()` or after
 * `stop()` throws `NotStartedError`; a stopped transport can be started again. After `stop()` the
 * transport holds no timer, socket or listener, so a process exits promptly.
 */
export interface Transport {
  /** What this transport supports. Constant for the life of the instance. */
  readonly capabilities: TransportCapabilities;
  /** Current connectivity. */
  readonly status: TransportStatus;
  /**
   * Starts the transport (listens, dials bootstrap peers). Resolves when it can accept calls; it may
   * still be `"connecting"`: watch `status:changed` or just publish (publish waits for a peer).
   * @throws TransportStartError, AbortError
   */
  start(options?: CallOptions): Promise<void>;
  /** Stops the transport and releases every resource. Live subscriptions end. Idempotent. */
  stop(options?: CallOptions): Promise<void>;
  /**
   * Publishes `payload` on `contentTopic`.
   * @throws NotStartedError, EmptyPayloadError, PayloadTooLargeError, InvalidContentTopicError,
   *   NoPeersError (nobody reachable before the transport's deadline), AbortError
   */
  publish(contentTopic: string, payload: Uint8Array, options?: CallOptions): Promise<PublishResult>;
  /**
   * Delivers every message later published on any of `contentTopics` to `handler`, at least once.
   * Resolves once the subscription is active (a message published after that is delivered).
   * @throws NotStartedError, InvalidContentTopicError, NoPeersError (light mode: no filter node), AbortError
   */
  subscribe(
    contentTopics: readonly string[],
    handler: MessageHandler,
    options?: CallOptions,
  ): Promise<Subscription>;
  /**
   * Returns one page of stored messages matching `query`. Page with the returned `cursor`.
   * @throws NotStartedError, HistoryUnsupportedError (capabilities.history false), InvalidQueryError,
   *   InvalidCursorError, HistoryQueryFailedError, AbortError
   */
  queryHistory(query: HistoryQuery, options?: CallOptions): Promise<HistoryPage>;
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof TransportEvents>(event: K, listener: TransportListener<K>): () => void;
}
