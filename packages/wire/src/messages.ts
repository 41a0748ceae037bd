/**
 * The named codec of every message of the wire format, the API applications call: `encodeX` checks
 * the protocol rules and the size cap before it encodes, `decodeX` enforces them on bytes from the
 * network and throws only {@link DecodeError}. Each is `encodeMessage` / `decodeMessage` of
 * `@orgchat/wire/schema` bound to one message.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  channelMessageFields,
  decodeCanonicalChannelMessage,
  writeChannelMessage,
} from "./channel-message-codec.js";
import {
  codecs,
  type DecodeOptions,
  decodeMessage,
  encodeChecked,
  encodeMessage,
} from "./codec.js";
import type { DecodeError } from "./errors.js";
import type {
  ChannelMessage,
  ChannelMessageSchema,
  DelegateEvent,
  DelegateEventSchema,
  PairwiseContent,
  PairwiseContentSchema,
  ResyncRequest,
  ResyncRequestSchema,
} from "./gen/orgchat/v1/client_pb.js";
import type {
  GroupMessage,
  GroupMessageSchema,
  KeyUpdate,
  KeyUpdateSchema,
  LeafHandover,
  LeafHandoverSchema,
  MemberKeys,
  MemberKeysSchema,
  PairwiseMessage,
  PairwiseMessageSchema,
  PrekeyBundle,
  PrekeyBundleSchema,
  Welcome,
  WelcomeSchema,
} from "./gen/orgchat/v1/crypto_pb.js";
import type {
  DescriptionDelta,
  DescriptionDeltaSchema,
  DescriptionPage,
  DescriptionPageSchema,
} from "./gen/orgchat/v1/description_page_pb.js";
import type { SignedEnvelope } from "./gen/orgchat/v1/envelope_pb.js";
import type { EpochRoster, EpochRosterSchema } from "./gen/orgchat/v1/epoch_roster_pb.js";
import type {
  ChatIdentity,
  ChatIdentitySchema,
  Grant,
  GrantSchema,
  IdentityImage,
  IdentityImageSchema,
  OrganizationAdminSettings,
  OrganizationAdminSettingsSchema,
  OrganizationCancelRequestToJoin,
  OrganizationCancelRequestToJoinSchema,
  OrganizationCategory,
  OrganizationCategorySchema,
  OrganizationChat,
  OrganizationChatSchema,
  OrganizationDescription,
  OrganizationDescriptionSchema,
  OrganizationInvitation,
  OrganizationInvitationSchema,
  OrganizationMember,
  OrganizationMemberSchema,
  OrganizationPermissions,
  OrganizationPermissionsSchema,
  OrganizationRequestToJoin,
  OrganizationRequestToJoinResponse,
  OrganizationRequestToJoinResponseSchema,
  OrganizationRequestToJoinSchema,
  OrganizationRequestToLeave,
  OrganizationRequestToLeaveSchema,
} from "./gen/orgchat/v1/organization_pb.js";
import { wireLimits } from "./limits.js";

/** Encodes an {@link IdentityImage}. @throws {RangeError} on a broken rule */
export const encodeIdentityImage = (message: MessageInitShape<typeof IdentityImageSchema>) =>
  encodeMessage(codecs.IdentityImage, message);
/** Decodes an {@link IdentityImage}. @throws {@link DecodeError} */
export const decodeIdentityImage = (bytes: Uint8Array, options?: DecodeOptions): IdentityImage =>
  decodeMessage(codecs.IdentityImage, bytes, options);

/** Encodes a {@link ChatIdentity}. @throws {RangeError} on a broken rule */
export const encodeChatIdentity = (message: MessageInitShape<typeof ChatIdentitySchema>) =>
  encodeMessage(codecs.ChatIdentity, message);
/** Decodes a {@link ChatIdentity}. @throws {@link DecodeError} */
export const decodeChatIdentity = (bytes: Uint8Array, options?: DecodeOptions): ChatIdentity =>
  decodeMessage(codecs.ChatIdentity, bytes, options);

/** Encodes a {@link Grant}. @throws {RangeError} on a broken rule */
export const encodeGrant = (message: MessageInitShape<typeof GrantSchema>) =>
  encodeMessage(codecs.Grant, message);
/** Decodes a {@link Grant}. @throws {@link DecodeError} */
export const decodeGrant = (bytes: Uint8Array, options?: DecodeOptions): Grant =>
  decodeMessage(codecs.Grant, bytes, options);

/** Encodes an {@link OrganizationMember}. @throws {RangeError} on a broken rule */
export const encodeOrganizationMember = (
  message: MessageInitShape<typeof OrganizationMemberSchema>,
) => encodeMessage(codecs.OrganizationMember, message);
/** Decodes an {@link OrganizationMember}. @throws {@link DecodeError} */
export const decodeOrganizationMember = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationMember => decodeMessage(codecs.OrganizationMember, bytes, options);

/** Encodes {@link OrganizationPermissions}. @throws {RangeError} on a broken rule */
export const encodeOrganizationPermissions = (
  message: MessageInitShape<typeof OrganizationPermissionsSchema>,
) => encodeMessage(codecs.OrganizationPermissions, message);
/** Decodes {@link OrganizationPermissions}. @throws {@link DecodeError} */
export const decodeOrganizationPermissions = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationPermissions => decodeMessage(codecs.OrganizationPermissions, bytes, options);

/** Encodes {@link OrganizationAdminSettings}. @throws {RangeError} on a broken rule */
export const encodeOrganizationAdminSettings = (
  message: MessageInitShape<typeof OrganizationAdminSettingsSchema>,
) => encodeMessage(codecs.OrganizationAdminSettings, message);
/** Decodes {@link OrganizationAdminSettings}. @throws {@link DecodeError} */
export const decodeOrganizationAdminSettings = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationAdminSettings => decodeMessage(codecs.OrganizationAdminSettings, bytes, options);

/** Encodes an {@link OrganizationChat}. @throws {RangeError} on a broken rule */
export const encodeOrganizationChat = (message: MessageInitShape<typeof OrganizationChatSchema>) =>
  encodeMessage(codecs.OrganizationChat, message);
/** Decodes an {@link OrganizationChat}. @throws {@link DecodeError} */
export const decodeOrganizationChat = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationChat => decodeMessage(codecs.OrganizationChat, bytes, options);

/** Encodes an {@link OrganizationCategory}. @throws {RangeError} on a broken rule */
export const encodeOrganizationCategory = (
  message: MessageInitShape<typeof OrganizationCategorySchema>,
) => encodeMessage(codecs.OrganizationCategory, message);
/** Decodes an {@link OrganizationCategory}. @throws {@link DecodeError} */
export const decodeOrganizationCategory = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationCategory => decodeMessage(codecs.OrganizationCategory, bytes, options);

/** Encodes an {@link OrganizationInvitation}. @throws {RangeError} on a broken rule */
export const encodeOrganizationInvitation = (
  message: MessageInitShape<typeof OrganizationInvitationSchema>,
) => encodeMessage(codecs.OrganizationInvitation, message);
/** Decodes an {@link OrganizationInvitation}. @throws {@link DecodeError} */
export const decodeOrganizationInvitation = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationInvitation => decodeMessage(codecs.OrganizationInvitation, bytes, options);

/** Encodes an {@link OrganizationRequestToJoin}. @throws {RangeError} on a broken rule */
export const encodeOrganizationRequestToJoin = (
  message: MessageInitShape<typeof OrganizationRequestToJoinSchema>,
) => encodeMessage(codecs.OrganizationRequestToJoin, message);
/** Decodes an {@link OrganizationRequestToJoin}. @throws {@link DecodeError} */
export const decodeOrganizationRequestToJoin = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationRequestToJoin => decodeMessage(codecs.OrganizationRequestToJoin, bytes, options);

/** Encodes an {@link OrganizationCancelRequestToJoin}. @throws {RangeError} on a broken rule */
export const encodeOrganizationCancelRequestToJoin = (
  message: MessageInitShape<typeof OrganizationCancelRequestToJoinSchema>,
) => encodeMessage(codecs.OrganizationCancelRequestToJoin, message);
/** Decodes an {@link OrganizationCancelRequestToJoin}. @throws {@link DecodeError} */
export const decodeOrganizationCancelRequestToJoin = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationCancelRequestToJoin =>
  decodeMessage(codecs.OrganizationCancelRequestToJoin, bytes, options);

/** Encodes an {@link OrganizationRequestToJoinResponse}. @throws {RangeError} on a broken rule */
export const encodeOrganizationRequestToJoinResponse = (
  message: MessageInitShape<typeof OrganizationRequestToJoinResponseSchema>,
) => encodeMessage(codecs.OrganizationRequestToJoinResponse, message);
/** Decodes an {@link OrganizationRequestToJoinResponse}. @throws {@link DecodeError} */
export const decodeOrganizationRequestToJoinResponse = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationRequestToJoinResponse =>
  decodeMessage(codecs.OrganizationRequestToJoinResponse, bytes, options);

/** Encodes an {@link OrganizationRequestToLeave}. @throws {RangeError} on a broken rule */
export const encodeOrganizationRequestToLeave = (
  message: MessageInitShape<typeof OrganizationRequestToLeaveSchema>,
) => encodeMessage(codecs.OrganizationRequestToLeave, message);
/** Decodes an {@link OrganizationRequestToLeave}. @throws {@link DecodeError} */
export const decodeOrganizationRequestToLeave = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationRequestToLeave => decodeMessage(codecs.OrganizationRequestToLeave, bytes, options);

/**
 * Encodes an {@link OrganizationDescription}.
 *
 * @param message - the description, or the init shape protobuf-es `create()` takes
 * @returns the protobuf encoding
 * @throws {RangeError} naming the field on a broken rule, or when the encoding is over 150 KiB
 *   (page the description: {@link encodeDescriptionPage})
 * @example
 * ```ts
 * const bytes = encodeOrganizationDescription({ clock: 1n, identity: { displayName: "Acme" } });
 * ```
 */
export const encodeOrganizationDescription = (
  message: MessageInitShape<typeof OrganizationDescriptionSchema>,
) => encodeMessage(codecs.OrganizationDescription, message);
/**
 * Decodes an {@link OrganizationDescription}.
 *
 * @param bytes - the bytes as received
 * @param options - the size cap (default 150 KiB)
 * @returns the description
 * @throws {@link DecodeError} for any bytes that are not a valid description (drop them)
 * @example
 * ```ts
 * try {
 *   const description = decodeOrganizationDescription(bytes);
 * } catch (error) {
 *   if (!isDecodeError(error)) throw error; // otherwise: drop the message
 * }
 * ```
 */
export const decodeOrganizationDescription = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): OrganizationDescription => decodeMessage(codecs.OrganizationDescription, bytes, options);

/**
 * Decodes a {@link SignedEnvelope} without verifying it. Use `openEnvelope()` to verify; this is
 * for tools that inspect traffic. @throws {@link DecodeError}
 */
export const decodeSignedEnvelope = (bytes: Uint8Array, options?: DecodeOptions): SignedEnvelope =>
  decodeMessage(codecs.SignedEnvelope, bytes, options);

/** Encodes a {@link GroupMessage}. @throws {RangeError} on a broken rule */
export const encodeGroupMessage = (message: MessageInitShape<typeof GroupMessageSchema>) =>
  encodeMessage(codecs.GroupMessage, message);
/** Decodes a {@link GroupMessage}. @throws {@link DecodeError} */
export const decodeGroupMessage = (bytes: Uint8Array, options?: DecodeOptions): GroupMessage =>
  decodeMessage(codecs.GroupMessage, bytes, options);

/** Encodes a {@link KeyUpdate} chunk. @throws {RangeError} on a broken rule */
export const encodeKeyUpdate = (message: MessageInitShape<typeof KeyUpdateSchema>) =>
  encodeMessage(codecs.KeyUpdate, message);
/** Decodes a {@link KeyUpdate} chunk. @throws {@link DecodeError} */
export const decodeKeyUpdate = (bytes: Uint8Array, options?: DecodeOptions): KeyUpdate =>
  decodeMessage(codecs.KeyUpdate, bytes, options);

/** Encodes a {@link Welcome}. @throws {RangeError} on a broken rule */
export const encodeWelcome = (message: MessageInitShape<typeof WelcomeSchema>) =>
  encodeMessage(codecs.Welcome, message);
/** Decodes a {@link Welcome}. @throws {@link DecodeError} */
export const decodeWelcome = (bytes: Uint8Array, options?: DecodeOptions): Welcome =>
  decodeMessage(codecs.Welcome, bytes, options);

/** Encodes {@link MemberKeys}. @throws {RangeError} on a broken rule */
export const encodeMemberKeys = (message: MessageInitShape<typeof MemberKeysSchema>) =>
  encodeMessage(codecs.MemberKeys, message);
/** Decodes {@link MemberKeys}. @throws {@link DecodeError} */
export const decodeMemberKeys = (bytes: Uint8Array, options?: DecodeOptions): MemberKeys =>
  decodeMessage(codecs.MemberKeys, bytes, options);

/** Encodes a {@link LeafHandover}. @throws {RangeError} on a broken rule */
export const encodeLeafHandover = (message: MessageInitShape<typeof LeafHandoverSchema>) =>
  encodeMessage(codecs.LeafHandover, message);
/** Decodes a {@link LeafHandover}. @throws {@link DecodeError} */
export const decodeLeafHandover = (bytes: Uint8Array, options?: DecodeOptions): LeafHandover =>
  decodeMessage(codecs.LeafHandover, bytes, options);

/** Encodes a {@link PrekeyBundle}. @throws {RangeError} on a broken rule */
export const encodePrekeyBundle = (message: MessageInitShape<typeof PrekeyBundleSchema>) =>
  encodeMessage(codecs.PrekeyBundle, message);
/** Decodes a {@link PrekeyBundle}. @throws {@link DecodeError} */
export const decodePrekeyBundle = (bytes: Uint8Array, options?: DecodeOptions): PrekeyBundle =>
  decodeMessage(codecs.PrekeyBundle, bytes, options);

/** Encodes a {@link PairwiseMessage}. @throws {RangeError} on a broken rule */
export const encodePairwiseMessage = (message: MessageInitShape<typeof PairwiseMessageSchema>) =>
  encodeMessage(codecs.PairwiseMessage, message);
/** Decodes a {@link PairwiseMessage}. @throws {@link DecodeError} */
export const decodePairwiseMessage = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): PairwiseMessage => decodeMessage(codecs.PairwiseMessage, bytes, options);

/**
 * Encodes a {@link DescriptionPage} (docs/PROTOCOL.md, "Description pages").
 *
 * @throws {RangeError} on a broken rule (no description, a clock that differs from the
 *   description's, a header with a `pageIndex`, page hashes that are not 32 bytes or do not match
 *   `pageCount`, more than `wireLimits.maxDescriptionPages` pages) or over 150 KiB
 * @example
 * ```ts
 * import { encodeDescriptionPage } from "@orgchat/wire";
 * const header = encodeDescriptionPage({
 *   clock: 7n,
 *   index: { pageCount: 1, pageHashes: [sha256(rosterPage)] },
 *   description: { clock: 7n, identity: { displayName: "Acme" } },
 * });
 * ```
 */
export const encodeDescriptionPage = (message: MessageInitShape<typeof DescriptionPageSchema>) =>
  encodeMessage(codecs.DescriptionPage, message);
/** Decodes a {@link DescriptionPage}. @throws {@link DecodeError} */
export const decodeDescriptionPage = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): DescriptionPage => decodeMessage(codecs.DescriptionPage, bytes, options);

/**
 * Encodes a {@link DescriptionDelta} (docs/PROTOCOL.md, "Description deltas").
 *
 * @throws {RangeError} on a broken rule (a clock not above the base clock, a digest that is not 32
 *   bytes, a header of another clock or carrying rosters, an id that is not a member id or chat id,
 *   a channel listed twice, more than `wireLimits.maxDescriptionDeltaEntries` entries) or over
 *   150 KiB
 * @example
 * ```ts
 * import { encodeDescriptionDelta } from "@orgchat/wire";
 * const delta = encodeDescriptionDelta({
 *   clock: 8n,
 *   baseClock: 7n,
 *   baseDigest,
 *   digest,
 *   members: { [newcomer]: {} },
 * });
 * ```
 */
export const encodeDescriptionDelta = (message: MessageInitShape<typeof DescriptionDeltaSchema>) =>
  encodeMessage(codecs.DescriptionDelta, message);
/** Decodes a {@link DescriptionDelta}. @throws {@link DecodeError} */
export const decodeDescriptionDelta = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): DescriptionDelta => decodeMessage(codecs.DescriptionDelta, bytes, options);

/**
 * Encodes a {@link ChannelMessage} (docs/CLIENT.md): a post, edit, delete or pin in one channel.
 * @throws {RangeError} on a broken rule (ids, 32-byte keys, text over `wireLimits.maxChannelTextBytes`,
 *   no body) or over 150 KiB
 */
export const encodeChannelMessage = (
  message: MessageInitShape<typeof ChannelMessageSchema>,
): Uint8Array => {
  // A plain init (what clients pass): written directly, the same bytes as `toBinary`.
  const fields = channelMessageFields(message);
  return fields === undefined
    ? encodeMessage(codecs.ChannelMessage, message)
    : encodeChecked(codecs.ChannelMessage, fields, writeChannelMessage);
};
/** Decodes a {@link ChannelMessage}. @throws {@link DecodeError} */
export const decodeChannelMessage = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): ChannelMessage => {
  // Canonical bytes of a valid message (what every client writes): read directly; anything else
  // the generic way, which decodes or refuses it with its error.
  const direct =
    bytes instanceof Uint8Array && bytes.length <= (options?.maxBytes ?? wireLimits.maxMessageBytes)
      ? decodeCanonicalChannelMessage(bytes, validChannelMessage)
      : undefined;
  return direct ?? decodeMessage(codecs.ChannelMessage, bytes, options);
};

const validChannelMessage = (message: ChannelMessage): boolean =>
  codecs.ChannelMessage.validate(message, "ChannelMessage") === undefined;

/** Encodes a {@link PairwiseContent}: the plaintext of one pairwise message. @throws {RangeError} */
export const encodePairwiseContent = (message: MessageInitShape<typeof PairwiseContentSchema>) =>
  encodeMessage(codecs.PairwiseContent, message);
/** Decodes a {@link PairwiseContent}. @throws {@link DecodeError} */
export const decodePairwiseContent = (
  bytes: Uint8Array,
  options?: DecodeOptions,
): PairwiseContent => decodeMessage(codecs.PairwiseContent, bytes, options);

/** Encodes a {@link DelegateEvent}. @throws {RangeError} on a broken rule */
export const encodeDelegateEvent = (message: MessageInitShape<typeof DelegateEventSchema>) =>
  encodeMessage(codecs.DelegateEvent, message);
/** Decodes a {@link DelegateEvent}. @throws {@link DecodeError} */
export const decodeDelegateEvent = (bytes: Uint8Array, options?: DecodeOptions): DelegateEvent =>
  decodeMessage(codecs.DelegateEvent, bytes, options);
/** Encodes a {@link ResyncRequest}. @throws {RangeError} on a broken rule */
export const encodeResyncRequest = (message: MessageInitShape<typeof ResyncRequestSchema>) =>
  encodeMessage(codecs.ResyncRequest, message);
/** Decodes a {@link ResyncRequest}. @throws {@link DecodeError} */
export const decodeResyncRequest = (bytes: Uint8Array, options?: DecodeOptions): ResyncRequest =>
  decodeMessage(codecs.ResyncRequest, bytes, options);

/**
 * Encodes an {@link EpochRoster} (docs/PROTOCOL.md, "Epoch rosters"): a delta or one snapshot page
 * of the roster of one group epoch.
 * @throws {RangeError} on a broken rule (version, key id and hash sizes, change kind, previous epoch
 *   fields, page bounds, leaf order, counts over `wireLimits`, no body) or over 150 KiB
 * @example
 * ```ts
 * const bytes = encodeEpochRoster({
 *   version: 1,
 *   epoch: 4n,
 *   keyId,
 *   previousKeyId,
 *   rosterHash,
 *   previousRosterHash,
 *   change: RosterChangeKind.REKEY,
 *   body: { case: "delta", value: { removedLeaves: [7], leafCount: 12 } },
 * });
 * ```
 */
export const encodeEpochRoster = (message: MessageInitShape<typeof EpochRosterSchema>) =>
  encodeMessage(codecs.EpochRoster, message);
/** Decodes an {@link EpochRoster}. @throws {@link DecodeError} */
export const decodeEpochRoster = (bytes: Uint8Array, options?: DecodeOptions): EpochRoster =>
  decodeMessage(codecs.EpochRoster, bytes, options);
