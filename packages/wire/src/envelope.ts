import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { equalBytes, toHex } from "@orgchat/base";
import { codecs, decodeMessage, encodeMessage, type MessageCodec } from "./codec.js";
import { DecodeError, EnvelopeMismatchError, InvalidSignatureError } from "./errors.js";
import {
  MessageType,
  SignatureScheme,
  type SignedEnvelope,
  SignedEnvelopeSchema,
} from "./gen/orgchat/v1/envelope_pb.js";
import { assertPublicKey } from "./ids.js";
import { wireLimits } from "./limits.js";
import { decodeSignedEnvelope } from "./messages.js";
import { isValidContentTopic } from "./topics.js";

/** The envelope format version this library writes and the only one it reads. */
export const envelopeVersion = 1;

/** The domain label that starts every envelope signing input (docs/PROTOCOL.md, "Envelope"). */
export const envelopeDomainLabel = "orgchat/v1/envelope";

/** Who may sign a message type. */
export type SignerRole =
  /** Only the organization key (the owner): `signer` must equal `organization_id`. */
  | "organization"
  /** Any key; the signer is the sender (a requester's identity key). */
  | "sender"
  /**
   * A group's epoch changes and invitations (docs/DELEGATION.md): the organization key, or a
   * delegate's identity key that the receiver names in `OpenEnvelopeOptions.committers` (whether
   * that key may commit or invite there is the receiver's state's call). A receiver that names none
   * accepts the organization key only.
   */
  | "committer";

/** One entry of the message-type registry. */
export interface MessageTypeSpec<Desc extends DescMessage> {
  /** The `MessageType` number on the wire. */
  readonly wireType: number;
  readonly codec: MessageCodec<Desc>;
  readonly signer: SignerRole;
  /** The payload's own Lamport clock, which must equal the envelope's. */
  readonly clockOf?: (message: MessageShape<Desc>) => bigint;
  /** The payload's own organization id, which must equal the envelope's. */
  readonly organizationIdOf?: (message: MessageShape<Desc>) => Uint8Array;
  /** The payload's own key of its author, which must equal the envelope's signer. */
  readonly signerOf?: (message: MessageShape<Desc>) => Uint8Array;
}

function spec<Desc extends DescMessage>(entry: MessageTypeSpec<Desc>): MessageTypeSpec<Desc> {
  return entry;
}

/**
 * The message-type registry: every payload an envelope may carry, who may sign it, and which
 * payload fields are bound to the envelope. Later layers add their types here (docs/PROTOCOL.md,
 * "Message types").
 */
export const messageTypes = {
  "organization-description": spec({
    wireType: MessageType.ORGANIZATION_DESCRIPTION,
    codec: codecs.OrganizationDescription,
    signer: "organization",
    clockOf: (message) => message.clock,
  }),
  // Signed by the organization key, or by a delegate (an admin or manager) that invites
  // (docs/DELEGATION.md, "Invitations by a delegate"): the invitee's state judges the delegate.
  "organization-invitation": spec({
    wireType: MessageType.ORGANIZATION_INVITATION,
    codec: codecs.OrganizationInvitation,
    signer: "committer",
    organizationIdOf: (message) => message.publicKey,
  }),
  "organization-request-to-join": spec({
    wireType: MessageType.ORGANIZATION_REQUEST_TO_JOIN,
    codec: codecs.OrganizationRequestToJoin,
    signer: "sender",
    clockOf: (message) => message.clock,
    organizationIdOf: (message) => message.organizationId,
  }),
  "organization-cancel-request-to-join": spec({
    wireType: MessageType.ORGANIZATION_CANCEL_REQUEST_TO_JOIN,
    codec: codecs.OrganizationCancelRequestToJoin,
    signer: "sender",
    clockOf: (message) => message.clock,
    organizationIdOf: (message) => message.organizationId,
  }),
  "organization-request-to-join-response": spec({
    wireType: MessageType.ORGANIZATION_REQUEST_TO_JOIN_RESPONSE,
    codec: codecs.OrganizationRequestToJoinResponse,
    signer: "organization",
    clockOf: (message) => message.clock,
    organizationIdOf: (message) => message.organizationId,
  }),
  "organization-request-to-leave": spec({
    wireType: MessageType.ORGANIZATION_REQUEST_TO_LEAVE,
    codec: codecs.OrganizationRequestToLeave,
    signer: "sender",
    clockOf: (message) => message.clock,
    organizationIdOf: (message) => message.organizationId,
  }),
  grant: spec({
    wireType: MessageType.GRANT,
    codec: codecs.Grant,
    signer: "organization",
    clockOf: (message) => message.clock,
    organizationIdOf: (message) => message.organizationId,
  }),
  "key-update": spec({
    wireType: MessageType.KEY_UPDATE,
    codec: codecs.KeyUpdate,
    signer: "committer",
  }),
  "prekey-bundle": spec({
    wireType: MessageType.PREKEY_BUNDLE,
    codec: codecs.PrekeyBundle,
    signer: "organization",
    signerOf: (message) => message.identityKey,
  }),
  "member-keys": spec({
    wireType: MessageType.MEMBER_KEYS,
    codec: codecs.MemberKeys,
    signer: "sender",
    signerOf: (message) => message.identityKey,
  }),
  // The roster of one group epoch, as a delta or a snapshot page (docs/PROTOCOL.md, "Epoch
  // rosters"). Nothing in it is bound to the envelope: the content topic (the group's keys topic)
  // and the organization key's signature are, and `roster_hash` binds the content.
  "epoch-roster": spec({
    wireType: MessageType.EPOCH_ROSTER,
    codec: codecs.EpochRoster,
    signer: "committer",
  }),
  // A delegate's X3DH bundle on the description topic (docs/DELEGATION.md, "Requests reach the
  // delegates"): signed by the delegate's identity key, which the bundle names. Whether that key is
  // a delegate (admin or manager in the description) is the receiver's call.
  "delegate-bundle": spec({
    wireType: MessageType.DELEGATE_BUNDLE,
    codec: codecs.PrekeyBundle,
    signer: "sender",
    signerOf: (message) => message.identityKey,
  }),
  // A delegate's decision on the description topic (docs/DELEGATION.md, "Decisions reach
  // everyone"): signed by the delegate, which the payload names as author. Whether that key may
  // decide is the receiver's state's call.
  "delegate-event": spec({
    wireType: MessageType.DELEGATE_EVENT,
    codec: codecs.DelegateEvent,
    signer: "sender",
    signerOf: (message) => message.author,
    clockOf: (message) => message.clock,
    organizationIdOf: (message) => message.organizationId,
  }),
  // Published on the description topic, like the unpaged description it replaces for large
  // organizations (docs/PROTOCOL.md, "Description pages").
  "description-page": spec({
    wireType: MessageType.DESCRIPTION_PAGE,
    codec: codecs.DescriptionPage,
    signer: "organization",
    clockOf: (message) => message.clock,
  }),
  // A change of the description from an earlier one (docs/PROTOCOL.md, "Description deltas").
  "description-delta": spec({
    wireType: MessageType.DESCRIPTION_DELTA,
    codec: codecs.DescriptionDelta,
    signer: "organization",
    clockOf: (message) => message.clock,
  }),
  // A public organization's channel message (docs/CLIENT.md); encrypted organizations carry the
  // same ChannelMessage inside a GroupMessage instead.
  "channel-message": spec({
    wireType: MessageType.CHANNEL_MESSAGE,
    codec: codecs.ChannelMessage,
    signer: "sender",
    signerOf: (message) => message.author,
    clockOf: (message) => message.clock,
    organizationIdOf: (message) => message.organizationId,
  }),
  // Owner ↔ member pairwise channel; the signer is the sender's identity key (the owner's is the
  // organization id), checked by the client against the X3DH identity it holds.
  pairwise: spec({
    wireType: MessageType.PAIRWISE,
    codec: codecs.PairwiseMessage,
    signer: "sender",
  }),
} as const;

/** Name of a registered message type. */
export type MessageTypeName = keyof typeof messageTypes;

type SchemaOf<K extends MessageTypeName> = (typeof messageTypes)[K]["codec"]["schema"];

/** The decoded payload of message type `K`. */
export type PayloadOf<K extends MessageTypeName> = MessageShape<SchemaOf<K>>;

const typeByWire = new Map<number, MessageTypeName>(
  (Object.keys(messageTypes) as MessageTypeName[]).map((name) => [
    messageTypes[name].wireType,
    name,
  ]),
);

/**
 * The registered name of a wire `MessageType` number.
 * @returns the name, or `undefined` for an unregistered number
 */
export function messageTypeName(wireType: number): MessageTypeName | undefined {
  return typeByWire.get(wireType);
}

/** Signature algorithms an envelope may use. */
export type SignatureSchemeName = "ed25519";

const schemes: Record<
  SignatureSchemeName,
  { wire: number; publicKeyBytes: number; signatureBytes: number }
> = {
  ed25519: {
    wire: SignatureScheme.ED25519,
    publicKeyBytes: wireLimits.publicKeyBytes,
    signatureBytes: wireLimits.signatureBytes,
  },
};

/**
 * Signs envelopes. Injected so that `@orgchat/wire` does not depend on a crypto implementation.
 */
export interface EnvelopeSigner {
  readonly scheme: SignatureSchemeName;
  readonly publicKey: Uint8Array;
  /** Signs `message` (the canonical signing input) with the private key of `publicKey`. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** What an {@link EnvelopeVerifier} is asked. */
export interface VerifyRequest {
  readonly scheme: SignatureSchemeName;
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Verifies one signature. Returns `false` (or throws) when it does not verify. Injected so that
 * `@orgchat/wire` does not depend on a crypto implementation.
 */
export type EnvelopeVerifier = (request: VerifyRequest) => boolean | Promise<boolean>;

/** The fields an envelope signature covers. */
export interface EnvelopeSigningFields {
  version: number;
  wireType: number;
  organizationId: Uint8Array;
  clock: bigint;
  contentTopic: string;
  signatureScheme: number;
  signer: Uint8Array;
  payload: Uint8Array;
}

const encoder = new TextEncoder();
const domainBytes = encoder.encode(envelopeDomainLabel);
const maxUint64 = (1n << 64n) - 1n;

/**
 * The canonical byte string an envelope signature covers:
 *
 * ```
 * "orgchat/v1/envelope" 0x00
 * u32 version ‖ u32 type ‖ u32 len ‖ organization_id ‖ u64 clock
 * ‖ u32 len ‖ content_topic (UTF-8) ‖ u32 signature_scheme ‖ u32 len ‖ signer ‖ u32 len ‖ payload
 * ```
 *
 * All integers big-endian. A fixed layout (not the protobuf encoding) so that every implementation
 * signs the same bytes whatever its protobuf encoder does with field order.
 *
 * @throws {RangeError} when `clock` is outside uint64 or a number field outside uint32
 */
export function envelopeSigningInput(fields: EnvelopeSigningFields): Uint8Array {
  if (fields.clock < 0n || fields.clock > maxUint64) {
    throw new RangeError(`clock: must be a uint64, got ${fields.clock}`);
  }
  const topic = encoder.encode(fields.contentTopic);
  const size =
    domainBytes.length +
    1 +
    4 +
    4 +
    4 +
    fields.organizationId.length +
    8 +
    4 +
    topic.length +
    4 +
    4 +
    fields.signer.length +
    4 +
    fields.payload.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  const u32 = (value: number, name: string) => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`${name}: must be a uint32, got ${value}`);
    }
    view.setUint32(offset, value);
    offset += 4;
  };
  const bytes = (value: Uint8Array) => {
    u32(value.length, "length");
    out.set(value, offset);
    offset += value.length;
  };
  out.set(domainBytes, 0);
  offset = domainBytes.length + 1;
  u32(fields.version, "version");
  u32(fields.wireType, "type");
  bytes(fields.organizationId);
  view.setBigUint64(offset, fields.clock);
  offset += 8;
  bytes(topic);
  u32(fields.signatureScheme, "signatureScheme");
  bytes(fields.signer);
  bytes(fields.payload);
  return out;
}

/** What {@link sealEnvelope} wraps. */
export interface SealEnvelopeInit<K extends MessageTypeName> {
  readonly type: K;
  /** The organization's 32-byte public key. */
  readonly organizationId: Uint8Array;
  /** Lamport clock; must equal the payload's own `clock` field where it has one. */
  readonly clock: bigint;
  /** The content topic the envelope will be published on (e.g. `descriptionTopic(id)`). */
  readonly contentTopic: string;
  readonly message: MessageInitShape<SchemaOf<K>>;
}

/**
 * Encodes `init.message`, signs it in context and returns the encoded `SignedEnvelope`.
 *
 * @param init - the message and its context (type, organization, clock, topic)
 * @param signer - the key that signs; for owner-only types it must be the organization key (for
 *   `"committer"` types, the organization key or a delegate's identity key)
 * @returns the envelope bytes, ready to publish on `init.contentTopic`
 * @throws {RangeError} when the message breaks a protocol rule, the context is inconsistent (clock or
 *   organization id differ from the payload's, an owner-only type signed by another key, an invalid
 *   content topic) or the envelope would exceed 150 KiB
 * @throws {TypeError} when the signer returns something other than a signature of its scheme
 * @example
 * ```ts
 * import { descriptionTopic, sealEnvelope } from "@orgchat/wire";
 * const bytes = await sealEnvelope(
 *   {
 *     type: "organization-description",
 *     organizationId: orgKey.publicKey,
 *     clock: 1n,
 *     contentTopic: descriptionTopic(orgKey.publicKey),
 *     message: { clock: 1n, identity: { displayName: "Acme" } },
 *   },
 *   orgKey, // { scheme: "ed25519", publicKey, sign }
 * );
 * ```
 */
export async function sealEnvelope<K extends MessageTypeName>(
  init: SealEnvelopeInit<K>,
  signer: EnvelopeSigner,
): Promise<Uint8Array> {
  const entry = messageTypes[init.type] as unknown as MessageTypeSpec<DescMessage> | undefined;
  if (entry === undefined) throw new RangeError(`type: unknown message type ${String(init.type)}`);
  assertPublicKey(init.organizationId, "organizationId");
  if (!isValidContentTopic(init.contentTopic)) {
    throw new RangeError(
      `contentTopic: ${JSON.stringify(init.contentTopic)} is not /{application}/{version}/{topic}/{encoding}`,
    );
  }
  const scheme = schemes[signer.scheme];
  if (scheme === undefined)
    throw new RangeError(`signer.scheme: unsupported ${String(signer.scheme)}`);
  if (signer.publicKey.length !== scheme.publicKeyBytes) {
    throw new RangeError(
      `signer.publicKey: expected ${scheme.publicKeyBytes} bytes, got ${signer.publicKey.length}`,
    );
  }
  if (entry.signer === "organization" && !equalBytes(signer.publicKey, init.organizationId)) {
    throw new RangeError(`signer: ${init.type} may only be signed by the organization key`);
  }
  const message = create(entry.codec.schema, init.message as MessageInitShape<DescMessage>);
  if (entry.clockOf && entry.clockOf(message) !== init.clock) {
    throw new RangeError(
      `clock: envelope clock ${init.clock} differs from the message clock ${entry.clockOf(message)}`,
    );
  }
  if (entry.organizationIdOf && !equalBytes(entry.organizationIdOf(message), init.organizationId)) {
    throw new RangeError("organizationId: differs from the organization id inside the message");
  }
  if (entry.signerOf && !equalBytes(entry.signerOf(message), signer.publicKey)) {
    throw new RangeError("signer: differs from the author key inside the message");
  }
  const payload = encodeMessage(entry.codec, message);
  const fields: EnvelopeSigningFields = {
    version: envelopeVersion,
    wireType: entry.wireType,
    organizationId: init.organizationId,
    clock: init.clock,
    contentTopic: init.contentTopic,
    signatureScheme: scheme.wire,
    signer: signer.publicKey,
    payload,
  };
  const signature = await signer.sign(envelopeSigningInput(fields));
  if (!(signature instanceof Uint8Array) || signature.length !== scheme.signatureBytes) {
    throw new TypeError(
      `signer.sign: expected a ${scheme.signatureBytes}-byte ${signer.scheme} signature`,
    );
  }
  return encodeMessage(codecs.SignedEnvelope, {
    version: fields.version,
    type: entry.wireType as MessageType,
    organizationId: fields.organizationId,
    clock: fields.clock,
    contentTopic: fields.contentTopic,
    signatureScheme: scheme.wire as SignatureScheme,
    signer: fields.signer,
    payload,
    signature,
  });
}

/** What the receiver expects of an envelope. */
export interface OpenEnvelopeOptions {
  /** The content topic the bytes were received on. The envelope must name the same one. */
  readonly contentTopic: string;
  /** Checks the signature. */
  readonly verify: EnvelopeVerifier;
  /** When set, the envelope must be for this organization. */
  readonly organizationId?: Uint8Array;
  /** When set, only these message types are accepted on this topic. */
  readonly accept?: readonly MessageTypeName[];
  /**
   * Which keys besides the organization key may sign a `"committer"` type (`key-update`,
   * `epoch-roster`, `organization-invitation`): the delegates the receiver's state knows, or, for
   * an invitation in an inbox, any key (docs/DELEGATION.md). Asked only for
   * a signer that is not the organization key, before the signature is checked.
   * @default none: the organization key only
   */
  readonly committers?: (signer: Uint8Array) => boolean;
  /** @default wireLimits.maxMessageBytes */
  readonly maxBytes?: number;
}

/** A verified envelope of type `K`. */
export interface OpenedEnvelopeOf<K extends MessageTypeName> {
  readonly type: K;
  readonly message: PayloadOf<K>;
  readonly organizationId: Uint8Array;
  readonly clock: bigint;
  readonly contentTopic: string;
  readonly signatureScheme: SignatureSchemeName;
  /** The key that signed: the organization key, or the sender's identity key. */
  readonly signer: Uint8Array;
  /** The exact payload bytes that were signed. */
  readonly payload: Uint8Array;
}

/** A verified envelope, discriminated by `type`. */
export type OpenedEnvelope = { [K in MessageTypeName]: OpenedEnvelopeOf<K> }[MessageTypeName];

function schemeName(wire: number): SignatureSchemeName | undefined {
  for (const [name, scheme] of Object.entries(schemes)) {
    if (scheme.wire === wire) return name as SignatureSchemeName;
  }
  return undefined;
}

function invalidEnvelope(
  detail: string,
  path: string,
  reason: "invalid-field" | "unsupported-version" | "unknown-type" = "invalid-field",
): DecodeError {
  return new DecodeError({ messageName: SignedEnvelopeSchema.typeName, reason, detail, path });
}

/**
 * Decodes and verifies an envelope received on `options.contentTopic`, and decodes its payload.
 *
 * Checks, cheapest first: the encoding and size; the version; the type is registered (and in
 * `accept`); the signature scheme and key sizes; the content topic and organization match what the
 * receiver expects; an owner-only type is signed by the organization key; the signature verifies
 * over the canonical signing input; the payload decodes; and the payload's own clock, organization
 * id and author key equal the envelope's.
 *
 * @returns the verified envelope with its decoded payload
 * @throws {@link DecodeError} when the bytes or the payload are malformed, the version is not 1
 *   (`unsupported-version`) or the type is not registered (`unknown-type`)
 * @throws {@link EnvelopeMismatchError} when a signed envelope is out of context (topic,
 *   organization, signer role, accepted types, payload clock or organization id)
 * @throws {@link InvalidSignatureError} when the signature does not verify
 * @example
 * ```ts
 * import { descriptionTopic, openEnvelope } from "@orgchat/wire";
 * const opened = await openEnvelope(bytes, {
 *   contentTopic: descriptionTopic(orgId),
 *   organizationId: orgId,
 *   accept: ["organization-description"],
 *   verify: ({ publicKey, message, signature }) => ed25519.verify(signature, message, publicKey),
 * });
 * if (opened.type === "organization-description") console.log(opened.message.identity?.displayName);
 * ```
 */
export async function openEnvelope(
  bytes: Uint8Array,
  options: OpenEnvelopeOptions,
): Promise<OpenedEnvelope> {
  const envelope: SignedEnvelope = decodeSignedEnvelope(
    bytes,
    options.maxBytes === undefined ? undefined : { maxBytes: options.maxBytes },
  );
  if (envelope.version !== envelopeVersion) {
    throw invalidEnvelope(
      `version ${envelope.version}; this library reads version ${envelopeVersion}`,
      "SignedEnvelope.version",
      "unsupported-version",
    );
  }
  const type = messageTypeName(envelope.type);
  if (type === undefined) {
    throw invalidEnvelope(
      `message type ${envelope.type} is not registered`,
      "SignedEnvelope.type",
      "unknown-type",
    );
  }
  const scheme = schemeName(envelope.signatureScheme);
  if (scheme === undefined) {
    throw invalidEnvelope(
      `signature scheme ${envelope.signatureScheme} is not supported`,
      "SignedEnvelope.signatureScheme",
    );
  }
  const { publicKeyBytes, signatureBytes } = schemes[scheme];
  if (envelope.signer.length !== publicKeyBytes) {
    throw invalidEnvelope(
      `${scheme} signer must be ${publicKeyBytes} bytes`,
      "SignedEnvelope.signer",
    );
  }
  if (envelope.signature.length !== signatureBytes) {
    throw invalidEnvelope(
      `${scheme} signature must be ${signatureBytes} bytes`,
      "SignedEnvelope.signature",
    );
  }
  if (options.accept !== undefined && !options.accept.includes(type)) {
    throw new EnvelopeMismatchError({
      field: "type",
      detail: `${type} is not accepted here (expected ${options.accept.join(", ")})`,
    });
  }
  if (envelope.contentTopic !== options.contentTopic) {
    throw new EnvelopeMismatchError({
      field: "contentTopic",
      detail: `signed for ${envelope.contentTopic}, received on ${options.contentTopic}`,
    });
  }
  if (
    options.organizationId !== undefined &&
    !equalBytes(envelope.organizationId, options.organizationId)
  ) {
    throw new EnvelopeMismatchError({
      field: "organizationId",
      detail: `signed for organization ${toHex(envelope.organizationId)}, expected ${toHex(options.organizationId)}`,
    });
  }
  const entry = messageTypes[type] as unknown as MessageTypeSpec<DescMessage>;
  if (entry.signer !== "sender" && !equalBytes(envelope.signer, envelope.organizationId)) {
    const delegate = entry.signer === "committer" && options.committers?.(envelope.signer) === true;
    if (!delegate) {
      throw new EnvelopeMismatchError({
        field: "signer",
        detail: `${type} must be signed by the organization key${entry.signer === "committer" ? " or a committer the receiver knows" : ""}, not ${toHex(envelope.signer)}`,
      });
    }
  }
  const signingInput = envelopeSigningInput({
    version: envelope.version,
    wireType: envelope.type,
    organizationId: envelope.organizationId,
    clock: envelope.clock,
    contentTopic: envelope.contentTopic,
    signatureScheme: envelope.signatureScheme,
    signer: envelope.signer,
    payload: envelope.payload,
  });
  let valid: boolean;
  try {
    valid = await options.verify({
      scheme,
      publicKey: envelope.signer,
      message: signingInput,
      signature: envelope.signature,
    });
  } catch (cause) {
    // A verifier may throw on a key that is not a curve point: that is a bad signature too.
    throw new InvalidSignatureError({ signerHex: toHex(envelope.signer), cause });
  }
  if (valid !== true) throw new InvalidSignatureError({ signerHex: toHex(envelope.signer) });
  const message = decodeMessage(entry.codec, envelope.payload);
  if (entry.clockOf && entry.clockOf(message) !== envelope.clock) {
    throw new EnvelopeMismatchError({
      field: "clock",
      detail: `envelope clock ${envelope.clock}, payload clock ${entry.clockOf(message)}`,
    });
  }
  if (
    entry.organizationIdOf &&
    !equalBytes(entry.organizationIdOf(message), envelope.organizationId)
  ) {
    throw new EnvelopeMismatchError({
      field: "organizationIdInPayload",
      detail: "the payload names another organization than the envelope",
    });
  }
  if (entry.signerOf && !equalBytes(entry.signerOf(message), envelope.signer)) {
    throw new EnvelopeMismatchError({
      field: "signerInPayload",
      detail: "the payload names another author key than the envelope's signer",
    });
  }
  return {
    type,
    message,
    organizationId: envelope.organizationId,
    clock: envelope.clock,
    contentTopic: envelope.contentTopic,
    signatureScheme: scheme,
    signer: envelope.signer,
    payload: envelope.payload,
  } as OpenedEnvelope;
}
