import {
  type CryptoProvider,
  defaultProvider,
  ed25519EnvelopeVerifier,
  type KeyUpdateChunk,
  openKeyUpdateEnvelope,
  type PrekeyBundleFields,
} from "@orgchat/crypto";
import type { Subscription, Transport, TransportMessage } from "@orgchat/transport";
import {
  decodeSignedEnvelope,
  descriptionTopic,
  keysTopic,
  MessageType,
  openEnvelope,
  publicKeyFromMemberId,
} from "@orgchat/wire";
import { hex as toHex } from "./bytes.js";
import { LeanMember, type LeanMemberInit } from "./lean-member.js";
import type { AloneCapture } from "./member-alone.js";
import { type KnownRoster, SharedRosters } from "./rosters.js";

/** History pages a crowd reads at start per topic (100 messages each): a bound on what it buffers. */
export const maxStartPages = 200;

/** KeyUpdate chunks a crowd keeps (the newest): enough for one re-key of 10,000+ members. */
export const maxKeptChunks = 1_024;

/** What {@link LeanCrowd.start} needs. */
export interface LeanCrowdInit {
  /** The crowd's one transport (every lean member publishes and listens through it). */
  readonly transport: Transport;
  /** The organization (hex). */
  readonly organizationId: string;
  /** @default defaultProvider() */
  readonly provider?: CryptoProvider;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A KeyUpdate chunk as received: the envelope (each follower opens it) and its decoded fields. */
export interface ReceivedChunk {
  readonly bytes: Uint8Array;
  readonly chunk: KeyUpdateChunk;
}

/**
 * Lean members of one organization sharing one transport (a memory network delivers every publish
 * to every transport: 10,000 transports would make each publish cost 10,000 deliveries) and what
 * every member reads the same way: the owner's prekey bundle and newest clock (description topic),
 * the epoch rosters and KeyUpdate chunks (keys topic of the organization's group). Each member's own
 * cryptography — X3DH, pairwise session, Welcome, add steps, KeyUpdates — is its own
 * (`lean-member.ts`). The crowd is started before the organization grows: it reads the two topics'
 * history once (at most {@link maxStartPages} pages each), then follows them live.
 */
export class LeanCrowd {
  readonly provider: CryptoProvider;
  readonly organizationId: string;
  readonly organizationKey: Uint8Array;
  readonly transport: Transport;
  readonly rosters: SharedRosters;
  readonly now: () => number;
  /** The owner's newest prekey bundle (verified envelope; X3DH checks its signature again). */
  bundle: PrekeyBundleFields | undefined;
  /** The highest clock of an owner envelope seen: a request is stamped one above. */
  clock = 0n;
  /** Members in this crowd, by member id. */
  readonly members = new Map<string, LeanMember>();
  /** KeyUpdate chunks received, by key id (hex), newest last. */
  readonly chunks = new Map<string, ReceivedChunk[]>();
  /** Envelopes on the crowd's topics that did not open. */
  unopenable = 0;
  /** When set, followers about to apply a KeyUpdate are captured here (`member-alone.ts`). */
  alone: AloneCapture | undefined;
  readonly #verify: ReturnType<typeof ed25519EnvelopeVerifier>;
  readonly #inboxes = new Map<string, LeanMember>();
  readonly #followers = new Set<LeanMember>();
  /** Members whose Welcome waits for its roster (a roster's arrival is checked against these only). */
  readonly #waitingWelcome = new Set<LeanMember>();
  #subscriptions: Subscription[] = [];
  #chunkCount = 0;
  /** While true, new rosters do not make followers catch up (see {@link pauseFollowing}). */
  #paused = false;

  private constructor(init: LeanCrowdInit) {
    this.provider = init.provider ?? defaultProvider();
    this.organizationId = init.organizationId.toLowerCase();
    this.organizationKey = publicKeyFromMemberId(this.organizationId);
    this.transport = init.transport;
    this.now = init.now ?? Date.now;
    this.rosters = new SharedRosters(this.provider);
    this.#verify = ed25519EnvelopeVerifier(this.provider);
    this.rosters.onRoster((roster) => this.#onRoster(roster));
  }

  /** Starts the transport, reads the description and keys topics, then follows them. */
  static async start(init: LeanCrowdInit): Promise<LeanCrowd> {
    const crowd = new LeanCrowd(init);
    if (crowd.transport.status === "stopped") await crowd.transport.start();
    const topics = [descriptionTopic(crowd.organizationKey), keysTopic(crowd.organizationKey)];
    crowd.#subscriptions.push(
      await crowd.transport.subscribe(topics, (message) => crowd.#onTopic(message)),
    );
    for (const topic of topics) {
      let cursor: string | undefined;
      for (let page = 0; page < maxStartPages; page++) {
        const read = await crowd.transport.queryHistory({
          contentTopics: [topic],
          direction: "forward",
          pageSize: 100,
          ...(cursor === undefined ? {} : { cursor }),
        });
        for (const message of read.messages) await crowd.#onTopic(message);
        cursor = read.cursor;
        if (cursor === undefined) break;
      }
    }
    return crowd;
  }

  /** A new lean member (fresh keys), not yet asking to join. */
  member(init: LeanMemberInit = {}): LeanMember {
    const member = new LeanMember(this, init);
    this.members.set(member.memberId, member);
    return member;
  }

  /** Listens on `member`'s inbox until {@link stopInbox} (only while a request is pending). */
  async listenInbox(member: LeanMember, topic: string): Promise<Subscription> {
    this.#inboxes.set(topic, member);
    return await this.transport.subscribe([topic], (message) => member.onInbox(message));
  }

  /** Forgets `topic`'s member. */
  stopInbox(topic: string): void {
    this.#inboxes.delete(topic);
  }

  /** `member` holds a group and follows add steps and KeyUpdates from now on. */
  follow(member: LeanMember): void {
    this.#followers.add(member);
    member.followUp();
  }

  /** `member` stops following and drops its group (like {@link LeanMember.release}). */
  unfollow(member: LeanMember): void {
    this.#followers.delete(member);
    member.stopFollowing();
  }

  /**
   * Holds the followers' catch-up on new rosters until {@link resumeFollowing} (rosters are still
   * collected): what thousands of devices do in parallel on their own, this process would do in
   * turn on the path of whatever is timed meanwhile (the newcomer's join).
   */
  pauseFollowing(): void {
    this.#paused = true;
  }

  /** Lets every follower catch up on what arrived while paused. */
  resumeFollowing(): void {
    this.#paused = false;
    for (const member of this.#followers) member.followUp();
  }

  /** Members holding a group. */
  get followers(): ReadonlySet<LeanMember> {
    return this.#followers;
  }

  /** Stops listening (the transport is the caller's). */
  async close(): Promise<void> {
    for (const subscription of this.#subscriptions) await subscription.unsubscribe();
    this.#subscriptions = [];
  }

  /** `member` holds a Welcome whose roster has not come yet (until {@link unwait}). */
  wait(member: LeanMember): void {
    this.#waitingWelcome.add(member);
  }

  /** `member`'s Welcome opened (or it gave up). */
  unwait(member: LeanMember): void {
    this.#waitingWelcome.delete(member);
  }

  #onRoster(roster: KnownRoster): void {
    for (const member of [...this.#waitingWelcome]) member.onRoster(roster);
    if (this.#paused) return;
    for (const member of this.#followers) member.followUp();
  }

  async #onTopic(message: TransportMessage): Promise<void> {
    let type: MessageType;
    let clock: bigint;
    try {
      const envelope = decodeSignedEnvelope(message.payload);
      type = envelope.type;
      clock = envelope.clock;
    } catch {
      this.unopenable++;
      return;
    }
    const base = { contentTopic: message.contentTopic, organizationId: this.organizationKey };
    try {
      if (type === MessageType.KEY_UPDATE) {
        const chunk = await openKeyUpdateEnvelope({
          provider: this.provider,
          group: { organizationId: this.organizationKey, channelId: "" },
          bytes: message.payload,
        });
        this.#noteClock(clock);
        this.#addChunk({ bytes: message.payload, chunk });
        return;
      }
      if (type === MessageType.EPOCH_ROSTER) {
        const opened = await openEnvelope(message.payload, {
          ...base,
          accept: ["epoch-roster"],
          verify: this.#verify,
        });
        if (opened.type !== "epoch-roster" || opened.message.channelId !== "") return;
        this.#noteClock(clock);
        this.rosters.add(opened.message);
        return;
      }
      if (type === MessageType.PREKEY_BUNDLE) {
        const opened = await openEnvelope(message.payload, {
          ...base,
          accept: ["prekey-bundle"],
          verify: this.#verify,
        });
        if (opened.type !== "prekey-bundle") return;
        const m = opened.message;
        this.bundle = {
          identityKey: m.identityKey,
          identityDhKey: m.identityDhKey,
          signedPrekey: m.signedPrekey,
          signedPrekeyId: m.signedPrekeyId,
          signature: m.signature,
        };
        this.#noteClock(clock);
        return;
      }
      // Description pages and deltas: only their clock matters here, once the owner's signature holds.
      await openEnvelope(message.payload, { ...base, verify: this.#verify });
      this.#noteClock(clock);
    } catch {
      this.unopenable++;
    }
  }

  #noteClock(clock: bigint): void {
    if (clock > this.clock) this.clock = clock;
  }

  #addChunk(received: ReceivedChunk): void {
    const keyIdHex = toHex(received.chunk.keyId);
    const list = this.chunks.get(keyIdHex) ?? [];
    list.push(received);
    this.chunks.set(keyIdHex, list);
    this.#chunkCount++;
    while (this.#chunkCount > maxKeptChunks) {
      const [oldest, dropped] = this.chunks.entries().next().value as [string, ReceivedChunk[]];
      this.chunks.delete(oldest);
      this.#chunkCount -= dropped.length;
    }
    if (this.#paused) return;
    for (const member of this.#followers) member.followUp();
  }
}
