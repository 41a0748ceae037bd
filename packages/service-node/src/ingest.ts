/**
 * Ingest: the one way a message enters the node, whether it arrived on relay from a peer or through
 * light push. Each message is taken once per hash (a bounded set of recent hashes), stored in the
 * archive (idempotent by hash; ephemeral messages are not stored) and pushed to the filter
 * subscribers of its (pubsub topic, content topic); light-pushed messages are then published on
 * relay. Validation happens before: the relay validator bounds what gossipsub accepts, the light
 * push handler what a light node may push.
 *
 * The archive judges each message on arrival (`MessageArchive.admit`): a timestamp too far from the
 * node's clock or a delivering peer over its quota keeps it out of the archive (reported), but it
 * is still delivered live and relayed, as nwaku does: the archive's rules protect what Store keeps,
 * not what relay carries. The delivering peer is the light push client, or the relay neighbour
 * gossipsub received the message from (its propagation source).
 */

import { type DiagnosticSink, reportDiagnostic, toHex } from "@orgchat/base";
import { type WakuRelay, wakuMessageHash } from "@orgchat/transport-waku/relay";
import { proto_filter_v2 } from "@waku/proto";
import type { MessageArchive } from "./archive.js";
import type { FilterPusher } from "./filter-push.js";
import type { FilterSubscriptions } from "./filter-subscriptions.js";
import type { AcceptResult, WakuMessage } from "./light-push.js";

/** Hashes remembered to take each message once (oldest forgotten first). */
export const recentHashLimit = 100_000;

/** What {@link MessageIngest} writes to. */
export interface MessageIngestInit {
  readonly archive: MessageArchive;
  readonly subscriptions: FilterSubscriptions;
  readonly pusher: FilterPusher;
  /** Told when the archive refuses a message (it is still delivered live). */
  readonly onDiagnostic: DiagnosticSink;
}

/**
 * Counters of {@link MessageIngest}: messages new to this node, by where they came from, and those
 * the archive refused (still delivered live).
 */
export interface IngestCounts {
  readonly lightPushed: number;
  readonly relayed: number;
  readonly archiveRefused: {
    /** Timestamp further than the allowed skew from the node's clock. */
    readonly timestampOutOfRange: number;
    /** The delivering peer was over its storage quota. */
    readonly peerOverQuota: number;
  };
}

/** Takes messages from relay and light push into the archive and to filter subscribers. */
export class MessageIngest {
  readonly #init: MessageIngestInit;
  readonly #recent = new Map<string, true>();
  #relay: WakuRelay | undefined;
  #lightPushed = 0;
  #relayed = 0;
  #timestampOutOfRange = 0;
  #peerOverQuota = 0;

  constructor(init: MessageIngestInit) {
    this.#init = init;
  }

  /** Messages new to this node so far. */
  get counts(): IngestCounts {
    return {
      lightPushed: this.#lightPushed,
      relayed: this.#relayed,
      archiveRefused: {
        timestampOutOfRange: this.#timestampOutOfRange,
        peerOverQuota: this.#peerOverQuota,
      },
    };
  }

  /**
   * Starts taking what relay delivers from peers, and publishing light-pushed messages on it.
   * @returns the function that stops observing the relay
   */
  attach(relay: WakuRelay): () => void {
    this.#relay = relay;
    // The relay tells each observer the peer it received the message from (gossipsub's propagation
    // source) and the message's hash, computed once per message.
    return relay.observe((pubsubTopic, message, _bytes, local, context) => {
      // Our own publishes (light push) were ingested before they were published.
      if (local) return;
      if (this.#take(pubsubTopic, message, context.from, context.hash)) this.#relayed += 1;
    });
  }

  /**
   * A light-pushed message (already validated): taken once, then published on relay. What the
   * light push handler's `accept` does.
   * @param peer - the light push client (its quota)
   * @throws Error before {@link attach}, or the relay's publish error
   */
  async lightPushed(
    pubsubTopic: string,
    message: WakuMessage,
    bytes: Uint8Array,
    peer?: string,
  ): Promise<AcceptResult> {
    const relay = this.#relay;
    if (relay === undefined) throw new Error("the relay is not running yet");
    const hash = wakuMessageHash(pubsubTopic, message);
    if (!this.#take(pubsubTopic, message, peer, hash)) return { relayPeers: 0, duplicate: true };
    this.#lightPushed += 1;
    // Commit before acknowledging: the archive may hold this turn's admissions in a transaction.
    this.#commitArchive(message.contentTopic);
    const result = await relay.publishRaw(pubsubTopic, bytes, { allowZeroPeers: true });
    return { relayPeers: result.recipients.length, duplicate: false };
  }

  /** Commits the archive's pending admissions; a failure is reported, like a failed insert. */
  #commitArchive(contentTopic: string): void {
    try {
      this.#init.archive.commit();
    } catch (error) {
      reportDiagnostic(this.#init.onDiagnostic, {
        component: "service-node/ingest",
        reason: "archive-insert-failed",
        topic: contentTopic,
        error,
      });
    }
  }

  /**
   * Offers a message to the archive and pushes it to filter subscribers, once per hash.
   * @param peer - the delivering peer (light push client, relay propagation source): its quota
   * @param hash - the message's deterministic hash on `pubsubTopic`
   * @returns whether it was new (not already seen or stored)
   */
  #take(
    pubsubTopic: string,
    message: WakuMessage,
    peer: string | undefined,
    hash: Uint8Array,
  ): boolean {
    const { archive, subscriptions, pusher } = this.#init;
    const key = toHex(hash);
    if (this.#recent.has(key)) return false;
    this.#recent.set(key, true);
    if (this.#recent.size > recentHashLimit) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
    let outcome: string | undefined;
    try {
      outcome = archive.admit({
        hash,
        pubsubTopic,
        message,
        ...(peer === undefined ? {} : { peer }),
      });
    } catch (error) {
      // A full disk or a closed archive must not stop live delivery; Store simply misses it.
      reportDiagnostic(this.#init.onDiagnostic, {
        component: "service-node/ingest",
        reason: "archive-insert-failed",
        topic: message.contentTopic,
        error,
      });
    }
    if (outcome === "duplicate") return false;
    if (outcome === "timestamp-out-of-range" || outcome === "peer-over-quota") {
      if (outcome === "timestamp-out-of-range") this.#timestampOutOfRange += 1;
      else this.#peerOverQuota += 1;
      reportDiagnostic(this.#init.onDiagnostic, {
        component: "service-node/ingest",
        reason: `archive-refused-${outcome}`,
        topic: message.contentTopic,
      });
    }
    // Ephemeral and refused messages are not stored, but they are delivered live.
    const subscribers = subscriptions.subscribers(pubsubTopic, message.contentTopic);
    if (subscribers.length > 0) {
      pusher.push(
        subscribers,
        proto_filter_v2.MessagePush.encode({ wakuMessage: message, pubsubTopic }),
      );
    }
    return true;
  }
}
