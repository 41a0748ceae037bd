/**
 * The generic codec: every message of the wire format with its protocol rules (`codecs`), and
 * `encodeMessage` / `decodeMessage`, which enforce the rules and the size cap for any of them. The
 * named `encodeX` / `decodeX` of the main entry (`messages.ts`) are these bound to one message; this
 * layer itself is public through `@orgchat/wire/schema`.
 */
import {
  create,
  type DescMessage,
  fromBinary,
  isMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { DecodeError } from "./errors.js";
import {
  ChannelMessageSchema,
  DelegateEventSchema,
  PairwiseContentSchema,
  ResyncRequestSchema,
} from "./gen/orgchat/v1/client_pb.js";
import {
  GroupMessageSchema,
  KeyUpdateSchema,
  LeafHandoverSchema,
  MemberKeysSchema,
  PairwiseMessageSchema,
  PrekeyBundleSchema,
  WelcomeSchema,
} from "./gen/orgchat/v1/crypto_pb.js";
import {
  DescriptionDeltaSchema,
  DescriptionPageSchema,
} from "./gen/orgchat/v1/description_page_pb.js";
import { SignedEnvelopeSchema } from "./gen/orgchat/v1/envelope_pb.js";
import { EpochRosterSchema } from "./gen/orgchat/v1/epoch_roster_pb.js";
import {
  ChatIdentitySchema,
  GrantSchema,
  IdentityImageSchema,
  OrganizationAdminSettingsSchema,
  OrganizationCancelRequestToJoinSchema,
  OrganizationCategorySchema,
  OrganizationChatSchema,
  OrganizationDescriptionSchema,
  OrganizationInvitationSchema,
  OrganizationMemberSchema,
  OrganizationPermissionsSchema,
  OrganizationRequestToJoinResponseSchema,
  OrganizationRequestToJoinSchema,
  OrganizationRequestToLeaveSchema,
} from "./gen/orgchat/v1/organization_pb.js";
import { wireLimits } from "./limits.js";
import {
  type Validator,
  validateChannelMessage,
  validateChatIdentity,
  validateDelegateEvent,
  validateDescriptionDelta,
  validateDescriptionPage,
  validateEpochRoster,
  validateGrant,
  validateGroupMessage,
  validateIdentityImage,
  validateKeyUpdate,
  validateLeafHandover,
  validateMemberKeys,
  validateOrganizationAdminSettings,
  validateOrganizationCancelRequestToJoin,
  validateOrganizationCategory,
  validateOrganizationChat,
  validateOrganizationDescription,
  validateOrganizationInvitation,
  validateOrganizationMember,
  validateOrganizationPermissions,
  validateOrganizationRequestToJoin,
  validateOrganizationRequestToJoinResponse,
  validateOrganizationRequestToLeave,
  validatePairwiseContent,
  validatePairwiseMessage,
  validatePrekeyBundle,
  validateResyncRequest,
  validateSignedEnvelope,
  validateWelcome,
} from "./validate.js";
import { findWireTypeMismatch } from "./wire-types.js";

/** Options of every `decodeX` function. */
export interface DecodeOptions {
  /**
   * Largest input accepted, in bytes. Inputs over it fail with reason `oversized` before any
   * parsing, so a hostile peer cannot make us allocate for a huge message.
   * @default wireLimits.maxMessageBytes (150 KiB)
   */
  maxBytes?: number;
}

/** A message schema with the protocol rules that bytes of it must follow. */
export interface MessageCodec<Desc extends DescMessage> {
  readonly schema: Desc;
  readonly validate: Validator<MessageShape<Desc>>;
}

function codec<Desc extends DescMessage>(
  schema: Desc,
  validate: Validator<MessageShape<Desc>>,
): MessageCodec<Desc> {
  return { schema, validate };
}

/**
 * Every message of the wire format with its rules, by short name: spec 55's fourteen messages,
 * orgchat's `SignedEnvelope`, the messages of orgchat's cryptography, and the description page.
 */
export const codecs = {
  IdentityImage: codec(IdentityImageSchema, validateIdentityImage),
  ChatIdentity: codec(ChatIdentitySchema, validateChatIdentity),
  Grant: codec(GrantSchema, validateGrant),
  OrganizationMember: codec(OrganizationMemberSchema, validateOrganizationMember),
  OrganizationPermissions: codec(OrganizationPermissionsSchema, validateOrganizationPermissions),
  OrganizationAdminSettings: codec(
    OrganizationAdminSettingsSchema,
    validateOrganizationAdminSettings,
  ),
  OrganizationChat: codec(OrganizationChatSchema, validateOrganizationChat),
  OrganizationCategory: codec(OrganizationCategorySchema, validateOrganizationCategory),
  OrganizationInvitation: codec(OrganizationInvitationSchema, validateOrganizationInvitation),
  OrganizationRequestToJoin: codec(
    OrganizationRequestToJoinSchema,
    validateOrganizationRequestToJoin,
  ),
  OrganizationCancelRequestToJoin: codec(
    OrganizationCancelRequestToJoinSchema,
    validateOrganizationCancelRequestToJoin,
  ),
  OrganizationRequestToJoinResponse: codec(
    OrganizationRequestToJoinResponseSchema,
    validateOrganizationRequestToJoinResponse,
  ),
  OrganizationRequestToLeave: codec(
    OrganizationRequestToLeaveSchema,
    validateOrganizationRequestToLeave,
  ),
  OrganizationDescription: codec(OrganizationDescriptionSchema, validateOrganizationDescription),
  SignedEnvelope: codec(SignedEnvelopeSchema, validateSignedEnvelope),
  GroupMessage: codec(GroupMessageSchema, validateGroupMessage),
  KeyUpdate: codec(KeyUpdateSchema, validateKeyUpdate),
  Welcome: codec(WelcomeSchema, validateWelcome),
  MemberKeys: codec(MemberKeysSchema, validateMemberKeys),
  PrekeyBundle: codec(PrekeyBundleSchema, validatePrekeyBundle),
  PairwiseMessage: codec(PairwiseMessageSchema, validatePairwiseMessage),
  DescriptionPage: codec(DescriptionPageSchema, validateDescriptionPage),
  DescriptionDelta: codec(DescriptionDeltaSchema, validateDescriptionDelta),
  ChannelMessage: codec(ChannelMessageSchema, validateChannelMessage),
  PairwiseContent: codec(PairwiseContentSchema, validatePairwiseContent),
  ResyncRequest: codec(ResyncRequestSchema, validateResyncRequest),
  EpochRoster: codec(EpochRosterSchema, validateEpochRoster),
  LeafHandover: codec(LeafHandoverSchema, validateLeafHandover),
  DelegateEvent: codec(DelegateEventSchema, validateDelegateEvent),
} as const;

/** Short name of a message of the wire format. */
export type MessageName = keyof typeof codecs;

/**
 * Decodes bytes as the message of `codec`, enforcing the size cap and the protocol rules: what every
 * `decodeX` of the main entry does for its own message.
 *
 * @param messageCodec - the message to read, e.g. `codecs.Grant`
 * @param bytes - the bytes as received
 * @param options - the size cap
 * @returns the decoded message
 * @example
 * ```ts
 * import { codecs, decodeMessage } from "@orgchat/wire/schema";
 * const grant = decodeMessage(codecs.Grant, bytes, { maxBytes: 1024 });
 * ```
 * @throws {@link DecodeError} for any input that is not a valid message (the only error thrown
 *   for a `Uint8Array`)
 * @throws {TypeError} when `bytes` is not a Uint8Array (a programming error)
 */
export function decodeMessage<Desc extends DescMessage>(
  messageCodec: MessageCodec<Desc>,
  bytes: Uint8Array,
  options?: DecodeOptions,
): MessageShape<Desc> {
  const { schema } = messageCodec;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`bytes: expected a Uint8Array to decode as ${schema.typeName}`);
  }
  const maxBytes = options?.maxBytes ?? wireLimits.maxMessageBytes;
  if (bytes.length > maxBytes) {
    throw new DecodeError({
      messageName: schema.typeName,
      reason: "oversized",
      detail: `${bytes.length} bytes, more than the limit of ${maxBytes}`,
    });
  }
  let message: MessageShape<Desc>;
  try {
    const mismatch = findWireTypeMismatch(schema, bytes);
    if (mismatch !== undefined) {
      throw new DecodeError({
        messageName: schema.typeName,
        reason: "malformed",
        detail: `a field has the wrong wire type (${mismatch})`,
      });
    }
    message = fromBinary(schema, bytes, { readUnknownFields: true });
  } catch (cause) {
    if (cause instanceof DecodeError) throw cause;
    // protobuf-es throws plain Errors (and deep nesting a RangeError); every one means "not this
    // message", so all become a DecodeError with the original kept as `cause`.
    throw new DecodeError({
      messageName: schema.typeName,
      reason: "malformed",
      detail: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  const problem = messageCodec.validate(message, schema.name);
  if (problem) {
    throw new DecodeError({
      messageName: schema.typeName,
      reason: "invalid-field",
      detail: problem.problem,
      path: problem.path,
    });
  }
  return message;
}

/**
 * Encodes a message of `codec` after checking the protocol rules, so that we never send what a
 * conforming receiver would refuse: what every `encodeX` of the main entry does for its own message.
 *
 * @param messageCodec - the message to write, e.g. `codecs.Grant`
 * @param message - a message of that type, or the init shape protobuf-es `create()` takes
 * @returns the protobuf encoding
 * @example
 * ```ts
 * import { codecs, encodeMessage } from "@orgchat/wire/schema";
 * const bytes = encodeMessage(codecs.ChatIdentity, { displayName: "Alice" });
 * ```
 * @throws {RangeError} naming the field when the message breaks a protocol rule or its encoding
 *   is larger than `wireLimits.maxMessageBytes`
 */
export function encodeMessage<Desc extends DescMessage>(
  messageCodec: MessageCodec<Desc>,
  message: MessageInitShape<Desc>,
): Uint8Array {
  const { schema } = messageCodec;
  const full = (
    isMessage(message, schema) ? message : create(schema, message)
  ) as MessageShape<Desc>;
  return encodeChecked(messageCodec, full, (checked) => toBinary(schema, checked));
}

/**
 * What {@link encodeMessage} does once it holds a full message: checks the protocol rules, writes
 * it with `write` (`toBinary`, or a direct encoder of the same bytes), checks the size cap.
 * @throws {RangeError} as {@link encodeMessage}
 */
export function encodeChecked<Desc extends DescMessage>(
  messageCodec: MessageCodec<Desc>,
  full: MessageShape<Desc>,
  write: (message: MessageShape<Desc>) => Uint8Array,
): Uint8Array {
  const { schema } = messageCodec;
  const problem = messageCodec.validate(full, schema.name);
  if (problem) {
    throw new RangeError(`${problem.path}: ${problem.problem}`);
  }
  const bytes = write(full);
  if (bytes.length > wireLimits.maxMessageBytes) {
    throw new RangeError(
      `${schema.name}: encodes to ${bytes.length} bytes, more than the ${wireLimits.maxMessageBytes}-byte message limit; split it (for a description, into pages)`,
    );
  }
  return bytes;
}
