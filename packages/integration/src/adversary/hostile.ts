/**
 * A hostile peer: keys of its own, a transport on the arena's network, and helpers that craft
 * valid-but-malicious bytes with the public packages only (`@orgchat/wire` envelopes and codecs,
 * `@orgchat/crypto` X3DH, pairwise sessions and group state). Everything it publishes is signed and
 * well-formed: what makes it hostile is the values it chooses (a clock near 2^63, a `sentAt` ten
 * years ahead, a key id nobody holds, a generation far ahead, a post from a group state kept after
 * a ban) and how many it sends.
 *
 * A member turned attacker is a `Hostile` made from that member's own store ({@link keptIdentity},
 * {@link keptGroups}): an attacker controls its disk, so it keeps whatever its client wrote.
 */
import {
  type CryptoProvider,
  defaultProvider,
  ed25519EnvelopeSigner,
  type KeyPair,
  type MemberGroup,
  PairwiseSession,
  type PrekeyBundleFields,
  x3dhInitiate,
} from "@orgchat/crypto";
import type { Transport } from "@orgchat/transport";
import {
  channelTopic,
  decodeGroupMessage,
  decodePairwiseMessage,
  descriptionTopic,
  type EnvelopeSigner,
  encodeChannelMessage,
  encodeGroupMessage,
  encodePairwiseContent,
  MessageType,
  memberIdFromPublicKey,
  openEnvelope,
  requestsTopic,
  sealEnvelope,
} from "@orgchat/wire";
import { hexOf, idOf, keyOf } from "./bytes.js";
import { junkBytes, seededProvider } from "./random.js";

/** What {@link Hostile} is made with. */
export interface HostileInit {
  readonly name: string;
  readonly transport: Transport;
  /** Seeded bytes: the hostile's keys come from here. */
  readonly random: (length: number) => Uint8Array;
  /** Its own wall clock (the `sentAt` it signs by default). */
  readonly now: () => number;
  /** Its identity key pairs; fresh (from `random`) when left out. */
  readonly identity?: { readonly signing: KeyPair; readonly dh: KeyPair };
}

/** The fields of a channel post a hostile peer chooses. */
export interface PostInit {
  readonly channelId?: string;
  /** Lamport clock (any uint64). @default 1n */
  readonly clock?: bigint;
  /** ms since the Unix epoch. @default the hostile's `now()` */
  readonly sentAt?: number;
  readonly text?: string;
}

/** What a pairwise message carries (`PairwiseContent.content`). */
export type PairwiseContentInit = Exclude<
  Parameters<typeof encodePairwiseContent>[0]["content"],
  undefined
>;

/** The fields of a request to join a hostile peer chooses. */
export interface RequestInit {
  /** Lamport clock of both envelopes (any uint64). @default 1n */
  readonly clock?: bigint;
  /** ms since the Unix epoch. @default the hostile's `now()` */
  readonly sentAt?: number;
  readonly displayName?: string;
}

/** A hostile peer on the network (see the module comment). */
export class Hostile {
  readonly name: string;
  readonly transport: Transport;
  readonly provider: CryptoProvider;
  readonly identity: KeyPair;
  readonly identityDh: KeyPair;
  readonly now: () => number;
  readonly #random: (length: number) => Uint8Array;
  /** Envelopes published, and their bytes. */
  published = 0;
  publishedBytes = 0;

  constructor(init: HostileInit) {
    this.name = init.name;
    this.transport = init.transport;
    this.now = init.now;
    this.#random = init.random;
    this.provider = seededProvider(defaultProvider(), init.random);
    const pair = (secretKey: Uint8Array, publicKey: (s: Uint8Array) => Uint8Array) => ({
      secretKey,
      publicKey: publicKey(secretKey),
    });
    this.identity =
      init.identity?.signing ?? pair(init.random(32), (s) => this.provider.ed25519PublicKey(s));
    this.identityDh =
      init.identity?.dh ?? pair(init.random(32), (s) => this.provider.x25519PublicKey(s));
  }

  /** Its member id (hex identity key), as clients name authors and requesters. */
  get memberId(): string {
    return memberIdFromPublicKey(this.identity.publicKey);
  }

  /** Signs envelopes with its identity key. */
  get signer(): EnvelopeSigner {
    return ed25519EnvelopeSigner(this.provider, this.identity.secretKey);
  }

  /** Publishes bytes on a content topic. */
  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.transport.publish(topic, payload);
    this.published++;
    this.publishedBytes += payload.length;
  }

  /**
   * A public organization's channel message signed by this peer as its author (any clock and
   * `sentAt`): an outsider's post, or a member's with a chosen clock.
   * @returns the envelope bytes, to publish on `channelTopic(org, channelId)`
   */
  async publicPost(organizationId: string, init: PostInit = {}): Promise<Uint8Array> {
    const org = keyOf(organizationId);
    const channelId = init.channelId ?? "general";
    const clock = init.clock ?? 1n;
    return sealEnvelope(
      {
        type: "channel-message",
        organizationId: org,
        clock,
        contentTopic: channelTopic(org, channelId),
        message: this.#channelMessage(org, channelId, clock, init),
      },
      this.signer,
    );
  }

  /**
   * An encrypted organization's post, encrypted with `group` (a member's group state, e.g. one kept
   * after its ban), with any clock and `sentAt`. Consumes one generation of `group`.
   * @returns the group message bytes, to publish on `channelTopic(org, channelId)`
   */
  groupPost(group: MemberGroup, organizationId: string, init: PostInit = {}): Uint8Array {
    const org = keyOf(organizationId);
    const channelId = init.channelId ?? "general";
    return group.encrypt({
      contentType: MessageType.CHANNEL_MESSAGE,
      content: encodeChannelMessage(this.#channelMessage(org, channelId, init.clock ?? 1n, init)),
    });
  }

  /**
   * A group message `group` really signs, `skip` generations past this member's next one (the
   * skipped generations are consumed locally, never sent), whose last ciphertext byte is then
   * flipped: its sender data opens (the sample is the ciphertext's start), so a receiver learns
   * the far generation, but the content never authenticates. Fresh bytes each call.
   */
  forgedGeneration(group: MemberGroup, organizationId: string, skip: number): Uint8Array {
    for (let i = 0; i < skip; i++) group.encrypt({ contentType: 0, content: new Uint8Array(0) });
    const message = decodeGroupMessage(this.groupPost(group, organizationId, { text: "forged" }));
    const ciphertext = message.ciphertext.slice();
    ciphertext[ciphertext.length - 1] = (ciphertext[ciphertext.length - 1] ?? 0) ^ 0x01;
    return encodeGroupMessage({ ...message, ciphertext });
  }

  /**
   * A well-formed group message under a key id nobody holds (random unless given), padded with
   * cheap junk to `bytes` in all (at least 200). `seed` makes each one different.
   */
  junkGroupMessage(seed: number, bytes = 200, keyId?: Uint8Array): Uint8Array {
    const overhead = 64;
    const body = junkBytes(seed, Math.max(144, bytes - overhead));
    return encodeGroupMessage({
      version: 1,
      keyId: keyId ?? junkBytes(seed ^ 0x5a5a5a5a, 8),
      contentType: MessageType.CHANNEL_MESSAGE,
      senderData: junkBytes(seed ^ 0x3c3c3c3c, 28),
      ciphertext: body,
    });
  }

  /**
   * A request to join `organizationId` from this peer's keys, as a client sends it (its member keys,
   * then the request, both over a fresh X3DH session with the owner's prekey bundle read from
   * history), with any clock and `sentAt`. Publishes both envelopes.
   * @returns the request id (hex SHA-256 of the request's envelope, as the owner names it)
   * @throws Error when history holds no prekey bundle of the organization
   */
  async requestToJoin(organizationId: string, init: RequestInit = {}): Promise<string> {
    const { id, envelopes } = await this.craftRequestToJoin(organizationId, init);
    for (const envelope of envelopes)
      await this.publish(requestsTopic(keyOf(organizationId)), envelope);
    return id;
  }

  /**
   * The two envelopes of {@link Hostile.requestToJoin} (member keys, request), not published: to
   * publish on `requestsTopic(org)` in this order.
   */
  async craftRequestToJoin(
    organizationId: string,
    init: RequestInit = {},
  ): Promise<{ id: string; envelopes: [Uint8Array, Uint8Array] }> {
    const org = keyOf(organizationId);
    const session = PairwiseSession.initiate(
      this.provider,
      x3dhInitiate(this.provider, {
        identityKeyPair: this.identity,
        identityDhKeyPair: this.identityDh,
        bundle: await this.prekeyBundle(organizationId),
        organizationKey: org,
      }),
    );
    const clock = init.clock ?? 1n;
    const keys = await this.#pairwise(org, session, clock, {
      case: "memberKeys",
      value: {
        identityKey: this.identity.publicKey,
        signingKey: this.identity.publicKey,
        prekey: this.identityDh.publicKey,
        prekeyVersion: 0n,
      },
    });
    const request = await this.#pairwise(org, session, clock, {
      case: "requestToJoin",
      value: {
        clock,
        organizationId: org,
        sentAt: BigInt(init.sentAt ?? this.now()),
        ensName: "",
        chatId: "",
        displayName: init.displayName ?? this.name,
      },
    });
    return { id: idOf(request), envelopes: [keys, request] };
  }

  /**
   * A pairwise message to the owner over `session` (e.g. a member's kept session,
   * `keptOwnerSession`) carrying any content (a resync request, a leave …), with any clock.
   * @returns the envelope bytes, to publish on `requestsTopic(org)`
   */
  async toOwner(
    organizationId: string,
    session: PairwiseSession,
    content: PairwiseContentInit,
    clock = 1n,
  ): Promise<Uint8Array> {
    return this.#pairwise(keyOf(organizationId), session, clock, content);
  }

  /** The organization's prekey bundle, read from history on its description topic. */
  async prekeyBundle(organizationId: string): Promise<PrekeyBundleFields> {
    const org = keyOf(organizationId);
    const topic = descriptionTopic(org);
    const page = await this.transport.queryHistory({
      contentTopics: [topic],
      direction: "backward",
      pageSize: 100,
    });
    for (const message of page.messages) {
      try {
        const opened = await openEnvelope(message.payload, {
          contentTopic: topic,
          organizationId: org,
          accept: ["prekey-bundle"],
          verify: ({ publicKey, message: signed, signature }) =>
            this.provider.ed25519Verify(publicKey, signed, signature),
        });
        if (opened.type !== "prekey-bundle") continue;
        const m = opened.message;
        return {
          identityKey: m.identityKey,
          identityDhKey: m.identityDhKey,
          signedPrekey: m.signedPrekey,
          signedPrekeyId: m.signedPrekeyId,
          signature: m.signature,
        };
      } catch {
        // Another kind of description-topic message (a description page): not the bundle.
      }
    }
    throw new Error(`${this.name}: no prekey bundle of ${hexOf(org)} in history`);
  }

  async #pairwise(
    org: Uint8Array,
    session: PairwiseSession,
    clock: bigint,
    content: PairwiseContentInit,
  ): Promise<Uint8Array> {
    return sealEnvelope(
      {
        type: "pairwise",
        organizationId: org,
        clock,
        contentTopic: requestsTopic(org),
        message: decodePairwiseMessage(session.encrypt(encodePairwiseContent({ content }))),
      },
      this.signer,
    );
  }

  #channelMessage(org: Uint8Array, channelId: string, clock: bigint, init: PostInit) {
    return {
      organizationId: org,
      channelId,
      author: this.identity.publicKey,
      clock,
      sentAt: BigInt(init.sentAt ?? this.now()),
      body: { case: "post" as const, value: { text: init.text ?? "hostile", replyTo: "" } },
    };
  }

  /** Fresh random bytes from the hostile's seeded stream. */
  random(length: number): Uint8Array {
    return this.#random(length);
  }
}
