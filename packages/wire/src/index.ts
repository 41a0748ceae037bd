/**
 * The wire format of Waku v2 Organization Chats (spec 55/WAKU2-ORGANIZATION-CHATS).
 *
 * - Protobuf codecs for every message of the spec (`encodeX` / `decodeX`), generated with buf and
 *   protobuf-es from `proto/orgchat/v1`, with size caps and protocol rules enforced both ways.
 * - The signed, typed, versioned envelope that carries every control message (`sealEnvelope` /
 *   `openEnvelope`), with the signature algorithm injected.
 * - Content-topic derivation from the organization key (`descriptionTopic`, `requestsTopic`,
 *   `channelTopic`, `inboxTopic`).
 *
 * Decoders throw only {@link DecodeError} for bad bytes, whatever the bytes are.
 *
 * @example
 * ```ts
 * import { decodeOrganizationDescription, encodeOrganizationDescription } from "@orgchat/wire";
 *
 * const bytes = encodeOrganizationDescription({ clock: 1n, identity: { displayName: "Acme" } });
 * const description = decodeOrganizationDescription(bytes);
 * console.log(description.identity?.displayName); // "Acme"
 * ```
 *
 * @packageDocumentation
 */

export {
  codecs,
  type DecodeOptions,
  decodeChannelMessage,
  decodeChatIdentity,
  decodeDescriptionPage,
  decodeEpochRoster,
  decodeGrant,
  decodeGroupMessage,
  decodeIdentityImage,
  decodeKeyUpdate,
  decodeMemberKeys,
  decodeMessage,
  decodeOrganizationAdminSettings,
  decodeOrganizationCancelRequestToJoin,
  decodeOrganizationCategory,
  decodeOrganizationChat,
  decodeOrganizationDescription,
  decodeOrganizationInvitation,
  decodeOrganizationMember,
  decodeOrganizationPermissions,
  decodeOrganizationRequestToJoin,
  decodeOrganizationRequestToJoinResponse,
  decodeOrganizationRequestToLeave,
  decodePairwiseContent,
  decodePairwiseMessage,
  decodePrekeyBundle,
  decodeResyncRequest,
  decodeSignedEnvelope,
  decodeWelcome,
  encodeChannelMessage,
  encodeChatIdentity,
  encodeDescriptionPage,
  encodeEpochRoster,
  encodeGrant,
  encodeGroupMessage,
  encodeIdentityImage,
  encodeKeyUpdate,
  encodeMemberKeys,
  encodeMessage,
  encodeOrganizationAdminSettings,
  encodeOrganizationCancelRequestToJoin,
  encodeOrganizationCategory,
  encodeOrganizationChat,
  encodeOrganizationDescription,
  encodeOrganizationInvitation,
  encodeOrganizationMember,
  encodeOrganizationPermissions,
  encodeOrganizationRequestToJoin,
  encodeOrganizationRequestToJoinResponse,
  encodeOrganizationRequestToLeave,
  encodePairwiseContent,
  encodePairwiseMessage,
  encodePrekeyBundle,
  encodeResyncRequest,
  encodeWelcome,
  type MessageCodec,
  type MessageName,
} from "./codec.js";
export {
  type EnvelopeSigner,
  type EnvelopeSigningFields,
  type EnvelopeVerifier,
  envelopeDomainLabel,
  envelopeSigningInput,
  envelopeVersion,
  type MessageTypeName,
  type MessageTypeSpec,
  messageTypeName,
  messageTypes,
  type OpenEnvelopeOptions,
  type OpenedEnvelope,
  type OpenedEnvelopeOf,
  openEnvelope,
  type PayloadOf,
  type SealEnvelopeInit,
  type SignatureSchemeName,
  type SignerRole,
  sealEnvelope,
  type VerifyRequest,
} from "./envelope.js";
export {
  DecodeError,
  type DecodeErrorInit,
  type DecodeErrorReason,
  EnvelopeMismatchError,
  type EnvelopeMismatchField,
  InvalidSignatureError,
  isDecodeError,
  isEnvelopeMismatchError,
  isInvalidSignatureError,
} from "./errors.js";
export * from "./gen/orgchat/v1/client_pb.js";
export * from "./gen/orgchat/v1/crypto_pb.js";
export * from "./gen/orgchat/v1/description_page_pb.js";
export * from "./gen/orgchat/v1/envelope_pb.js";
export * from "./gen/orgchat/v1/epoch_roster_pb.js";
export * from "./gen/orgchat/v1/organization_pb.js";
export { isChatId, isMemberId, memberIdFromPublicKey, publicKeyFromMemberId } from "./ids.js";
export { wireLimits } from "./limits.js";
export {
  type ContentTopicParts,
  channelTopic,
  descriptionTopic,
  inboxTopic,
  isValidContentTopic,
  keysTopic,
  parseContentTopic,
  requestsTopic,
  type TopicKind,
  topicApplication,
  topicEncoding,
  topicVersion,
} from "./topics.js";
