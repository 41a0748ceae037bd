/**
 * The protobuf-es layer of `@orgchat/wire`, for code that works with descriptors rather than with
 * one message at a time: protobuf-es users (`create`, `toJson`, reflection), tests, fixtures and
 * vector generators.
 *
 * - `codecs`: every message of the wire format with its protocol rules, by short name.
 * - `encodeMessage` / `decodeMessage`: the generic codec behind every `encodeX` / `decodeX` of the
 *   main entry (same size caps, same rules, same errors).
 * - The generated descriptors: one `XSchema` per message and enum, and the `file_orgchat_v1_*`
 *   file descriptors.
 *
 * Applications call the named `encodeX` / `decodeX` of `@orgchat/wire` instead; the message types
 * and the enum objects (`MessageType`, `OrganizationMember_Roles`, …) live there too.
 *
 * @example
 * ```ts
 * import { toJson } from "@bufbuild/protobuf";
 * import { codecs, decodeMessage, GrantSchema } from "@orgchat/wire/schema";
 *
 * const grant = decodeMessage(codecs.Grant, bytes);
 * console.log(toJson(GrantSchema, grant));
 * ```
 *
 * @packageDocumentation
 */

export {
  codecs,
  decodeMessage,
  encodeMessage,
  type MessageCodec,
  type MessageName,
} from "./codec.js";
export {
  ChannelDeleteSchema,
  ChannelEditSchema,
  ChannelMessageSchema,
  ChannelPinSchema,
  ChannelPostSchema,
  file_orgchat_v1_client,
  PairwiseContentSchema,
  ResyncRequestSchema,
} from "./gen/orgchat/v1/client_pb.js";
export {
  file_orgchat_v1_crypto,
  GroupMessageSchema,
  KeyUpdateSchema,
  LeafHandoverSchema,
  MemberKeysSchema,
  PairwiseMessageSchema,
  PrekeyBundleSchema,
  WelcomeEpochSchema,
  WelcomeSchema,
  X3dhHeaderSchema,
} from "./gen/orgchat/v1/crypto_pb.js";
export {
  ChannelRosterChangeSchema,
  DescriptionDeltaSchema,
  DescriptionIndexSchema,
  DescriptionPageSchema,
  file_orgchat_v1_description_page,
} from "./gen/orgchat/v1/description_page_pb.js";
export {
  file_orgchat_v1_envelope,
  MessageTypeSchema,
  SignatureSchemeSchema,
  SignedEnvelopeSchema,
} from "./gen/orgchat/v1/envelope_pb.js";
export {
  EpochRosterSchema,
  file_orgchat_v1_epoch_roster,
  RosterChangeKindSchema,
  RosterDeltaSchema,
  RosterLeafSchema,
  RosterPageSchema,
} from "./gen/orgchat/v1/epoch_roster_pb.js";
export {
  ChatIdentitySchema,
  file_orgchat_v1_organization,
  GrantSchema,
  IdentityImage_SourceTypeSchema,
  IdentityImageSchema,
  ImageTypeSchema,
  OrganizationAdminSettingsSchema,
  OrganizationCancelRequestToJoinSchema,
  OrganizationCategorySchema,
  OrganizationChatSchema,
  OrganizationDescriptionSchema,
  OrganizationInvitationSchema,
  OrganizationMember_RolesSchema,
  OrganizationMemberSchema,
  OrganizationPermissions_AccessSchema,
  OrganizationPermissionsSchema,
  OrganizationRequestToJoinResponseSchema,
  OrganizationRequestToJoinSchema,
  OrganizationRequestToLeaveSchema,
} from "./gen/orgchat/v1/organization_pb.js";
