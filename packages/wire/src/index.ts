/**
 * The wire format of Waku v2 Organization Chats (spec 55/WAKU2-ORGANIZATION-CHATS).
 *
 * - Protobuf codecs for every message of the spec (`encodeX` / `decodeX`), generated with buf and
 *   protobuf-es from `proto/orgchat/v1`, with size caps and protocol rules enforced both ways. The
 *   message types and their enum objects (`MessageType`, `OrganizationMember_Roles`, …) come with
 *   them.
 * - The signed, typed, versioned envelope that carries every control message (`sealEnvelope` /
 *   `openEnvelope`), with the signature algorithm injected.
 * - Content-topic derivation from the organization key (`descriptionTopic`, `requestsTopic`,
 *   `channelTopic`, `inboxTopic`, `keysTopic`).
 * - Member and chat ids, the protocol's limits (`wireLimits`) and typed errors with `isX()` guards.
 *
 * Decoders throw only {@link DecodeError} for bad bytes, whatever the bytes are.
 *
 * The protobuf-es descriptors (`XSchema`), the `codecs` table and the generic
 * `encodeMessage` / `decodeMessage` are in `@orgchat/wire/schema`, for protobuf-es users, tests and
 * fixtures.
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

export type { DecodeOptions } from "./codec.js";
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
export type {
  ChannelDelete,
  ChannelEdit,
  ChannelMessage,
  ChannelPin,
  ChannelPost,
  DelegateEvent,
  PairwiseContent,
  ResyncRequest,
} from "./gen/orgchat/v1/client_pb.js";
export type {
  GroupMessage,
  KeyUpdate,
  LeafHandover,
  MemberKeys,
  PairwiseMessage,
  PrekeyBundle,
  Welcome,
  WelcomeEpoch,
  X3dhHeader,
} from "./gen/orgchat/v1/crypto_pb.js";
export type {
  ChannelRosterChange,
  DescriptionDelta,
  DescriptionIndex,
  DescriptionPage,
} from "./gen/orgchat/v1/description_page_pb.js";
// Enum objects stay here: fields of the messages above take their values (`type: MessageType.GRANT`).
export { MessageType, SignatureScheme, type SignedEnvelope } from "./gen/orgchat/v1/envelope_pb.js";
export {
  type EpochRoster,
  RosterChangeKind,
  type RosterDelta,
  type RosterLeaf,
  type RosterPage,
} from "./gen/orgchat/v1/epoch_roster_pb.js";
export {
  type ChatIdentity,
  type Grant,
  type IdentityImage,
  IdentityImage_SourceType,
  ImageType,
  type OrganizationAdminSettings,
  type OrganizationCancelRequestToJoin,
  type OrganizationCategory,
  type OrganizationChat,
  type OrganizationDescription,
  type OrganizationInvitation,
  type OrganizationMember,
  OrganizationMember_Roles,
  type OrganizationPermissions,
  OrganizationPermissions_Access,
  type OrganizationRequestToJoin,
  type OrganizationRequestToJoinResponse,
  type OrganizationRequestToLeave,
} from "./gen/orgchat/v1/organization_pb.js";
export { isChatId, isMemberId, memberIdFromPublicKey, publicKeyFromMemberId } from "./ids.js";
export { wireLimits } from "./limits.js";
export {
  decodeChannelMessage,
  decodeChatIdentity,
  decodeDelegateEvent,
  decodeDescriptionDelta,
  decodeDescriptionPage,
  decodeEpochRoster,
  decodeGrant,
  decodeGroupMessage,
  decodeIdentityImage,
  decodeKeyUpdate,
  decodeLeafHandover,
  decodeMemberKeys,
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
  encodeDelegateEvent,
  encodeDescriptionDelta,
  encodeDescriptionPage,
  encodeEpochRoster,
  encodeGrant,
  encodeGroupMessage,
  encodeIdentityImage,
  encodeKeyUpdate,
  encodeLeafHandover,
  encodeMemberKeys,
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
} from "./messages.js";
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
