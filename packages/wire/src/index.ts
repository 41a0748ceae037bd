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
  type MessageCodec,
  type MessageName,
  type DecodeOptions,
  codecs,
  decodeMessage,
  encodeMessage,
  encodeIdentityImage,
  decodeIdentityImage,
  encodeChatIdentity,
  decodeChatIdentity,
  encodeGrant,
  decodeGrant,
  encodeOrganizationMember,
  decodeOrganizationMember,
  encodeOrganizationPermissions,
  decodeOrganizationPermissions,
  encodeOrganizationAdminSettings,
  decodeOrganizationAdminSettings,
  encodeOrganizationChat,
  decodeOrganizationChat,
  encodeOrganizationCategory,
  decodeOrganizationCategory,
  encodeOrganizationInvitation,
  decodeOrganizationInvitation,
  encodeOrganizationRequestToJoin,
  decodeOrganizationRequestToJoin,
  encodeOrganizationCancelRequestToJoin,
  decodeOrganizationCancelRequestToJoin,
  encodeOrganizationRequestToJoinResponse,
  decodeOrganizationRequestToJoinResponse,
  encodeOrganizationRequestToLeave,
  decodeOrganizationRequestToLeave,
  encodeOrganizationDescription,
  decodeOrganizationDescription,
  decodeSignedEnvelope,
} from "./codec.js";
export {
  type EnvelopeSigner,
  type EnvelopeSigningFields,
  type EnvelopeVerifier,
  type MessageTypeName,
  type MessageTypeSpec,
  type OpenEnvelopeOptions,
  type OpenedEnvelope,
  type OpenedEnvelopeOf,
  type PayloadOf,
  type SealEnvelopeInit,
  type SignatureSchemeName,
  type SignerRole,
  type VerifyRequest,
  envelopeDomainLabel,
  envelopeSigningInput,
  envelopeVersion,
  messageTypeName,
  messageTypes,
  openEnvelope,
  sealEnvelope,
} from "./envelope.js";
export {
  type DecodeErrorInit,
  type DecodeErrorReason,
  type EnvelopeMismatchField,
  DecodeError,
  EnvelopeMismatchError,
  InvalidSignatureError,
  isDecodeError,
  isEnvelopeMismatchError,
  isInvalidSignatureError,
} from "./errors.js";
export * from "./gen/orgchat/v1/envelope_pb.js";
export * from "./gen/orgchat/v1/organization_pb.js";
export { isChatId, isMemberId, memberIdFromPublicKey, publicKeyFromMemberId } from "./ids.js";
export { wireLimits } from "./limits.js";
export {
  type ContentTopicParts,
  type TopicKind,
  channelTopic,
  descriptionTopic,
  inboxTopic,
  isValidContentTopic,
  parseContentTopic,
  requestsTopic,
  topicApplication,
  topicEncoding,
  topicVersion,
} from "./topics.js";
