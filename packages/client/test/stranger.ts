/**
 * A stranger on the memory network, for tests that speak to an owner without running a client: keys
 * of its own, an X3DH session with the owner's published prekey bundle, and the pairwise messages a
 * client sends on the requests topic (its keys, a request to join), with any clock and `sentAt`.
 */
import {
  defaultProvider,
  ed25519EnvelopeSigner,
  type KeyPair,
  PairwiseSession,
  type PrekeyBundleFields,
  x3dhInitiate,
} from "@orgchat/crypto";
import type { MemoryTransport } from "@orgchat/transport";
import {
  decodePairwiseMessage,
  descriptionTopic,
  encodePairwiseContent,
  openEnvelope,
  requestsTopic,
  sealEnvelope,
} from "@orgchat/wire";
import { fromHex, toHex } from "../src/encoding.js";

const provider = defaultProvider();

/** What a pairwise message to the owner carries (`PairwiseContent.content`). */
export type PairwiseContentInit = NonNullable<
  Parameters<typeof encodePairwiseContent>[0]["content"]
>;

/**
 * The owner's prekey bundle, as a newcomer reads it from the description topic's history.
 * @throws Error when history holds none
 */
export async function publishedPrekeyBundle(
  transport: MemoryTransport,
  orgId: string,
): Promise<PrekeyBundleFields> {
  const org = fromHex(orgId);
  const page = await transport.queryHistory({
    contentTopics: [descriptionTopic(org)],
    direction: "backward",
    pageSize: 100,
  });
  for (const { payload } of page.messages) {
    const opened = await openEnvelope(payload, {
      contentTopic: descriptionTopic(org),
      organizationId: org,
      verify: ({ publicKey, message, signature }) =>
        provider.ed25519Verify(publicKey, message, signature),
    }).catch(() => undefined); // a description page, not the bundle
    if (opened?.type === "prekey-bundle") return opened.message;
  }
  throw new Error("no prekey bundle in history");
}

/** A key that is not a member, with its session to the owner of one organization. */
export class Stranger {
  readonly identity: KeyPair;
  readonly identityDh: KeyPair;
  readonly #session: PairwiseSession;
  readonly #org: Uint8Array;
  readonly #via: MemoryTransport;

  /**
   * @param via - the transport it publishes on
   * @param orgId - the organization (hex)
   * @param bundle - the owner's prekey bundle ({@link publishedPrekeyBundle})
   * @param random - where its keys come from (seeded in deterministic tests) @default fresh keys
   */
  constructor(
    via: MemoryTransport,
    orgId: string,
    bundle: PrekeyBundleFields,
    random?: (length: number) => Uint8Array,
  ) {
    const signing = random?.(32) ?? provider.ed25519KeyPair().secretKey;
    const dh = random?.(32) ?? provider.x25519KeyPair().secretKey;
    this.identity = { secretKey: signing, publicKey: provider.ed25519PublicKey(signing) };
    this.identityDh = { secretKey: dh, publicKey: provider.x25519PublicKey(dh) };
    this.#via = via;
    this.#org = fromHex(orgId);
    this.#session = PairwiseSession.initiate(
      provider,
      x3dhInitiate(provider, {
        identityKeyPair: this.identity,
        identityDhKeyPair: this.identityDh,
        bundle,
        organizationKey: this.#org,
      }),
    );
  }

  /** Its member id. */
  get id(): string {
    return toHex(this.identity.publicKey);
  }

  /** Seals `content` in its session, signed, at `clock`, and publishes it on the requests topic. */
  async send(content: PairwiseContentInit, clock: bigint): Promise<void> {
    const topic = requestsTopic(this.#org);
    const bytes = await sealEnvelope(
      {
        type: "pairwise",
        organizationId: this.#org,
        clock,
        contentTopic: topic,
        message: decodePairwiseMessage(this.#session.encrypt(encodePairwiseContent({ content }))),
      },
      ed25519EnvelopeSigner(provider, this.identity.secretKey),
    );
    await this.#via.publish(topic, bytes);
  }

  /** Sends its member keys (what a client sends first), at `clock`. */
  async keys(clock: bigint, keys?: { signingKey: Uint8Array; prekey: Uint8Array }): Promise<void> {
    await this.send(
      {
        case: "memberKeys",
        value: {
          identityKey: this.identity.publicKey,
          signingKey: keys?.signingKey ?? this.identity.publicKey,
          prekey: keys?.prekey ?? this.identityDh.publicKey,
          prekeyVersion: 0n,
        },
      },
      clock,
    );
  }

  /** Sends its keys, then a request to join signed at `sentAt`, both at `clock`. */
  async request(init: { clock: bigint; sentAt: number; displayName?: string }): Promise<void> {
    await this.keys(init.clock);
    await this.send(
      {
        case: "requestToJoin",
        value: {
          clock: init.clock,
          organizationId: this.#org,
          sentAt: BigInt(init.sentAt),
          ensName: "",
          chatId: "",
          displayName: init.displayName ?? "stranger",
        },
      },
      init.clock,
    );
  }
}
