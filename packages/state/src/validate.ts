import { utf8Length } from "@orgchat/base";
import { isChatId, isMemberId, wireLimits } from "@orgchat/wire";
import { clockLimits } from "./clock.js";
import { eventTypes } from "./event-types.js";
import { type EventType, type IdentityImage, type OrgEvent, type Role, roles } from "./events.js";
import { accessModes } from "./state.js";

/**
 * Bounds of event fields that docs/PROTOCOL.md ("Limits") does not fix for the wire messages. An
 * event that breaks one is `malformed`: every member refuses it the same way, and none of them
 * spends unbounded time or memory on it.
 */
export const eventLimits = {
  /**
   * Event ids (and the request, invitation and message ids that refer to them): 1-128 characters of
   * `[A-Za-z0-9_-]`.
   */
  maxEventIdLength: 128,
  /**
   * Lamport clocks: 0 to 2^63 − 1 ({@link clockLimits}.maxClock, what the client's store can file),
   * although the wire field is a uint64.
   */
  maxClock: clockLimits.maxClock,
  /** Epochs are unsigned 64-bit integers, as on the wire. */
  maxEpoch: (1n << 64n) - 1n,
  /** Text of a channel message, in UTF-8 bytes: what fits in one wire message. */
  maxMessageTextBytes: wireLimits.maxMessageBytes,
  /** Reason of a `request.rejected`, in UTF-8 bytes (the description limit). */
  maxReasonBytes: wireLimits.maxDescriptionBytes,
  /** Image payloads and encryption keys, in bytes: what fits in one wire message. */
  maxImageBytes: wireLimits.maxMessageBytes,
  /** Entries of one `channel.members.changed` (the largest organization we plan for). */
  maxChannelMembers: 10_000,
} as const;

const eventIdPattern = /^[A-Za-z0-9_-]+$/;
const keyIdPattern = /^[0-9a-f]{16}$/;
const eventTypeSet: ReadonlySet<string> = new Set(eventTypes);
const roleSet: ReadonlySet<string> = new Set(roles);
const accessSet: ReadonlySet<string> = new Set(accessModes);
const sourceTypes: ReadonlySet<string> = new Set<IdentityImage["sourceType"]>([
  "raw-payload",
  "ens-avatar",
  "unknown",
]);
const imageTypes: ReadonlySet<string> = new Set<IdentityImage["imageType"]>([
  "png",
  "jpeg",
  "webp",
  "gif",
  "unknown",
]);

type Fields = Record<string, unknown>;

/**
 * True when `value` is an event id: 1-128 characters of `[A-Za-z0-9_-]` (the client uses the hex
 * SHA-256 of the signed envelope). Ids are ASCII, so their byte order is their string order.
 */
export function isEventId(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= eventLimits.maxEventIdLength &&
    eventIdPattern.test(value)
  );
}

/**
 * Whether `value` is well-formed (no lone surrogate, which has no UTF-8 form: docs/PROTOCOL.md,
 * "Limits") and at most `maxBytes` once UTF-8 encoded. Counting stops past `maxBytes`.
 */
function fitsText(value: string, maxBytes: number): boolean {
  const bytes = utf8Length(value, maxBytes);
  return bytes >= 0 && bytes <= maxBytes;
}

function isText(value: unknown, maxBytes: number): value is string {
  return typeof value === "string" && fitsText(value, maxBytes);
}

function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isUint64(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value <= eventLimits.maxEpoch;
}

function isClock(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value <= eventLimits.maxClock;
}

function isOptionalChatId(value: unknown): value is string {
  return value === "" || (typeof value === "string" && isChatId(value));
}

function isChatIdValue(value: unknown): value is string {
  return typeof value === "string" && isChatId(value);
}

function isMemberIdValue(value: unknown): value is string {
  return typeof value === "string" && isMemberId(value);
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length <= eventLimits.maxImageBytes;
}

function isImage(value: unknown): boolean {
  if (!isFields(value)) return false;
  const keys = value.encryptionKeys;
  return (
    isBytes(value.payload) &&
    typeof value.sourceType === "string" &&
    sourceTypes.has(value.sourceType) &&
    typeof value.imageType === "string" &&
    imageTypes.has(value.imageType) &&
    typeof value.encrypted === "boolean" &&
    Array.isArray(keys) &&
    keys.length <= wireLimits.maxEncryptionKeys &&
    keys.every(isBytes)
  );
}

function isIdentity(value: unknown): boolean {
  if (!isFields(value)) return false;
  if (
    !isText(value.displayName, wireLimits.maxNameBytes) ||
    !isText(value.description, wireLimits.maxDescriptionBytes) ||
    !isText(value.ensName, wireLimits.maxEnsNameBytes) ||
    !isFields(value.images)
  ) {
    return false;
  }
  const images = value.images;
  const names = Object.keys(images);
  if (names.length > wireLimits.maxImages) return false;
  return names.every(
    (name) =>
      name.length > 0 &&
      name.length <= wireLimits.maxImageKeyLength &&
      fitsText(name, wireLimits.maxImageKeyLength * 4) &&
      isImage(images[name]),
  );
}

function isPermissions(value: unknown): boolean {
  return (
    isFields(value) &&
    typeof value.access === "string" &&
    accessSet.has(value.access) &&
    typeof value.ensOnly === "boolean" &&
    typeof value.private === "boolean"
  );
}

function isTags(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length <= wireLimits.maxTags &&
    value.every((tag) => isText(tag, wireLimits.maxTagBytes))
  );
}

/** True when `value` is a list of known roles, at most `wireLimits.maxRoles` of them. */
export function isRoleList(value: unknown): value is readonly Role[] {
  return (
    Array.isArray(value) &&
    value.length <= wireLimits.maxRoles &&
    value.every((role) => typeof role === "string" && roleSet.has(role))
  );
}

function isChannelMembers(value: unknown): boolean {
  if (!isFields(value)) return false;
  const keys = Object.keys(value);
  if (keys.length > eventLimits.maxChannelMembers) return false;
  return keys.every((key) => isMemberId(key) && isRoleList(value[key]));
}

const bodyChecks: { readonly [K in EventType]: (body: Fields) => boolean } = {
  "org.created": (b) =>
    isIdentity(b.identity) &&
    isPermissions(b.permissions) &&
    typeof b.pinMessageAllMembersEnabled === "boolean" &&
    isTags(b.tags) &&
    typeof b.encrypted === "boolean",
  "org.identity.changed": (b) => isIdentity(b.identity),
  "org.permissions.changed": (b) => isPermissions(b.permissions),
  "org.admin-settings.changed": (b) => typeof b.pinMessageAllMembersEnabled === "boolean",
  "org.tags.changed": (b) => isTags(b.tags),
  "org.encryption.changed": (b) => typeof b.encrypted === "boolean",
  "channel.created": (b) =>
    isChatIdValue(b.channelId) &&
    isIdentity(b.identity) &&
    isPermissions(b.permissions) &&
    isOptionalChatId(b.categoryId),
  // An edit that names no field is refused: every applied event changes something it names.
  "channel.edited": (b) =>
    isChatIdValue(b.channelId) &&
    (b.identity !== undefined || b.permissions !== undefined || b.categoryId !== undefined) &&
    (b.identity === undefined || isIdentity(b.identity)) &&
    (b.permissions === undefined || isPermissions(b.permissions)) &&
    (b.categoryId === undefined || isOptionalChatId(b.categoryId)),
  "channel.removed": (b) => isChatIdValue(b.channelId),
  "channel.members.changed": (b) => isChatIdValue(b.channelId) && isChannelMembers(b.members),
  "category.created": (b) => isChatIdValue(b.categoryId) && isText(b.name, wireLimits.maxNameBytes),
  "category.edited": (b) => isChatIdValue(b.categoryId) && isText(b.name, wireLimits.maxNameBytes),
  "category.removed": (b) => isChatIdValue(b.categoryId),
  "request.sent": (b) =>
    isOptionalChatId(b.chatId) &&
    isText(b.ensName, wireLimits.maxEnsNameBytes) &&
    isText(b.displayName, wireLimits.maxNameBytes),
  "request.cancelled": (b) => isEventId(b.requestId),
  "request.accepted": (b) => isEventId(b.requestId),
  "request.rejected": (b) => isEventId(b.requestId) && isText(b.reason, eventLimits.maxReasonBytes),
  "invitation.issued": (b) => isMemberIdValue(b.invitee) && isOptionalChatId(b.chatId),
  "invitation.used": (b) =>
    isEventId(b.invitationId) &&
    (b.displayName === undefined || isText(b.displayName, wireLimits.maxNameBytes)),
  "leave.requested": () => true,
  "leave.resolved": (b) => isEventId(b.requestId) && typeof b.accepted === "boolean",
  "member.removed": (b) => isMemberIdValue(b.member),
  "member.banned": (b) => isMemberIdValue(b.member) && typeof b.deleteMessages === "boolean",
  "member.unbanned": (b) => isMemberIdValue(b.member),
  "member.roles.changed": (b) => isMemberIdValue(b.member) && isRoleList(b.roles),
  "grant.issued": (b) => isMemberIdValue(b.member) && isOptionalChatId(b.chatId),
  "grant.revoked": (b) => isMemberIdValue(b.member) && isOptionalChatId(b.chatId),
  "epoch.changed": (b) =>
    isOptionalChatId(b.channelId) &&
    isUint64(b.epoch) &&
    typeof b.keyId === "string" &&
    keyIdPattern.test(b.keyId),
  "message.posted": (b) =>
    isChatIdValue(b.channelId) && isText(b.text, eventLimits.maxMessageTextBytes),
  "message.edited": (b) =>
    isEventId(b.messageId) && isText(b.text, eventLimits.maxMessageTextBytes),
  "message.deleted": (b) => isEventId(b.messageId),
  "message.pinned": (b) => isEventId(b.messageId) && typeof b.pinned === "boolean",
};

/**
 * True when `value` is a well-formed {@link OrgEvent}: a known type, an event id, a member id as
 * author, a Lamport clock in `0..2^63-1` (`clockLimits.maxClock`), a `sentAt` that is a non-negative safe integer, and a
 * body whose fields have the right types and stay within docs/PROTOCOL.md "Limits" and {@link
 * eventLimits}. Unknown extra fields are ignored (a newer peer may add some).
 *
 * This is the state-independent part of validation: an event that fails it is `malformed` wherever
 * it sorts. Whether the event is allowed is decided by `reduce`. Events are plain data (as
 * decoded): an object whose getters answer differently on each read is not supported.
 *
 * @param value - anything, typically a decoded remote event
 * @returns whether `value` is a well-formed event
 * @example
 * ```ts
 * if (!isOrgEvent(decoded)) return; // drop it: every member refuses it as malformed
 * ```
 */
export function isOrgEvent(value: unknown): value is OrgEvent {
  // A guard never throws: a hostile object (a throwing getter, a revoked proxy) is simply not an
  // event.
  try {
    return checkEvent(value);
  } catch {
    // Not a drop: `false` is what callers see, and `reduce`/`OrgLog` reject it as `malformed`.
    return false;
  }
}

function checkEvent(value: unknown): boolean {
  if (!isFields(value)) return false;
  const type = value.type;
  if (typeof type !== "string" || !eventTypeSet.has(type)) return false;
  const sentAt = value.sentAt;
  return (
    isEventId(value.id) &&
    isMemberIdValue(value.author) &&
    isClock(value.clock) &&
    typeof sentAt === "number" &&
    Number.isSafeInteger(sentAt) &&
    sentAt >= 0 &&
    isFields(value.body) &&
    bodyChecks[type as EventType](value.body)
  );
}

/** The id to report in a rejection of `value`, whatever `value` is. */
export function rejectionId(value: unknown): string {
  try {
    if (!isFields(value)) return "";
    const id = value.id;
    return typeof id === "string" ? id : "";
  } catch {
    // A hostile object's getter threw: the rejection is still reported, under the id "".
    return "";
  }
}
