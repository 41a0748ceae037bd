/**
 * The mapping between the domain types of `events.ts` and the wire messages of spec 55
 * (`@orgchat/wire`), both ways.
 *
 * Everything read from the wire is remote input, so every `…FromWire` function is **total**: whatever
 * object it is given (a decoded message, or anything else at run time) it returns a
 * {@link WireMappingResult} and never throws. The `…ToWire` functions take local, well-typed values
 * and return message init objects for the `encodeX` / `sealEnvelope` functions of `@orgchat/wire`,
 * which check the protocol limits.
 *
 * What the events do not carry (and where it goes instead):
 *
 * | wire message | event | not carried by the event |
 * | --- | --- | --- |
 * | OrganizationRequestToJoin | `request.sent` | `organization_id` (bound by the envelope) |
 * | OrganizationCancelRequestToJoin | `request.cancelled` | `ens_name`, `display_name`, `organization_id`; `chat_id` only finds the request when `request_id` is empty |
 * | OrganizationRequestToJoinResponse | `request.accepted` / `request.rejected` | `organization` (a description: apply it with `stateFromDescription`), `grant` (a signed envelope: open it and use {@link grantFromWire}), `organization_id`; `rejection_reason` of an acceptance |
 * | OrganizationRequestToLeave | `leave.requested` | `organization_id` |
 * | Grant | `grant.issued` | `organization_id` (the event's author is the organization) |
 * | OrganizationInvitation | `invitation.issued` | `organization_description`, `grant` (signed envelopes, opened separately), `public_key` |
 *
 * orgchat adds fields numbered from 100 to these messages (spec-55 readers skip them):
 * `sent_at` (all six), `request_id` (cancel, response), `rejection_reason` (response) and
 * `invitee_public_key` (invitation). The `…ToWire` functions always write them. A plain spec-55
 * sender leaves them empty, and then the `…FromWire` functions fall back:
 *
 * - the event id, author and clock always come from the opened envelope (id = hex SHA-256 of its
 *   bytes, author = its signer, clock = its clock); `sentAt` comes from `sent_at`, or from the
 *   caller's {@link WireEventContext} when it is 0 (absent). A `sent_at` above
 *   `Number.MAX_SAFE_INTEGER` is `malformed`;
 * - a cancel or a join response names its request in `request_id`; when that is empty, the request
 *   is found in the state (the requester's latest request before the message's clock), or the
 *   mapping reports `unknown-target` (buffer the message and retry when the request arrives);
 * - a rejection's reason is `rejection_reason` (`""` from a spec-55 sender);
 * - an invitation names its invitee in `invitee_public_key`; when that is empty, and always for a
 *   response's requester, it is the owner of the inbox it arrived on. The binding holds because the
 *   envelope signs its content topic: check `opened.contentTopic === inboxTopic(key)` for that key
 *   before mapping.
 *
 * Enums are open on the wire (a newer peer may send a role or access mode this version does not
 * know). The `…FromWire` functions refuse such values (`malformed`) unless asked for the documented
 * fallbacks (`{ unknownEnums: "fallback" }`): an unknown role grants nothing (it is dropped), an
 * unknown access mode reads as `invitation-only` (nobody joins by request on a rule we cannot
 * check). Image source and image types have an `"unknown"` domain value and map to it either way.
 *
 * @module
 */

import {
  type encodeChatIdentity,
  type encodeGrant,
  type encodeIdentityImage,
  type encodeOrganizationCancelRequestToJoin,
  type encodeOrganizationDescription,
  type encodeOrganizationInvitation,
  type encodeOrganizationPermissions,
  type encodeOrganizationRequestToJoin,
  type encodeOrganizationRequestToJoinResponse,
  type encodeOrganizationRequestToLeave,
  IdentityImage_SourceType,
  ImageType,
  isChatId,
  isMemberId,
  memberIdFromPublicKey,
  OrganizationMember_Roles,
  OrganizationPermissions_Access,
  publicKeyFromMemberId,
  wireLimits,
} from "@orgchat/wire";
import { type Map as ImmutableMap, isMap as isImmutableMap } from "immutable";
import type {
  AccessMode,
  Identity,
  IdentityImage,
  MemberId,
  OrgEventOf,
  Permissions,
  Role,
} from "./events.js";
import type { JoinRequest } from "./state.js";

// ---------------------------------------------------------------------------------------------
// Results and shapes
// ---------------------------------------------------------------------------------------------

/**
 * Why a wire message could not be mapped.
 *
 * - `malformed`: a field has the wrong type, breaks a protocol limit, or holds an enum value this
 *   version does not know (in the default `unknownEnums: "refuse"` mode).
 * - `unknown-target`: the message answers a request the state does not hold (yet).
 */
export type WireMappingFailure = "malformed" | "unknown-target";

/** The outcome of mapping remote input: a value, or why not (never a throw). */
export type WireMappingResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly reason: WireMappingFailure;
      /** The offending field, for logs and tests (never branch on it). */
      readonly field: string;
    };

/** How `…FromWire` functions read enum values this version does not know. */
export interface FromWireInit {
  /**
   * `"refuse"`: an unknown role or access mode is `malformed`. `"fallback"`: an unknown role is
   * dropped and an unknown access mode reads as `invitation-only` (see the module docs).
   * @default "refuse"
   */
  readonly unknownEnums?: "refuse" | "fallback";
}

interface WireEncoders {
  IdentityImage: typeof encodeIdentityImage;
  ChatIdentity: typeof encodeChatIdentity;
  Grant: typeof encodeGrant;
  OrganizationPermissions: typeof encodeOrganizationPermissions;
  OrganizationInvitation: typeof encodeOrganizationInvitation;
  OrganizationRequestToJoin: typeof encodeOrganizationRequestToJoin;
  OrganizationCancelRequestToJoin: typeof encodeOrganizationCancelRequestToJoin;
  OrganizationRequestToJoinResponse: typeof encodeOrganizationRequestToJoinResponse;
  OrganizationRequestToLeave: typeof encodeOrganizationRequestToLeave;
  OrganizationDescription: typeof encodeOrganizationDescription;
}

/**
 * The init object of a wire message, exactly the input type of its `encodeX` function in
 * `@orgchat/wire` (protobuf-es's `MessageInitShape<typeof XSchema>`: plain fields, defaults for the
 * ones left out). It is also what `sealEnvelope` takes as `message` for the message's envelope type
 * and what a `PairwiseContent` case takes as `value`, so every `…ToWire` result goes to the wire
 * without a cast (test/wire-boundary.test.ts checks it).
 *
 * @example
 * ```ts
 * const message: WireMessageInit<"OrganizationRequestToLeave"> = requestToLeaveToWire(event, orgId);
 * encodePairwiseContent({ content: { case: "requestToLeave", value: message } });
 * ```
 */
export type WireMessageInit<K extends keyof WireEncoders> = Parameters<WireEncoders[K]>[0];

/**
 * What the envelope of a control message tells about it, which spec 55's payloads do not: who
 * signed it, its clock, the event id the client gives it, and the author's wall-clock time.
 */
export interface WireEventContext {
  /** The event id: the client uses the hex SHA-256 of the signed envelope. */
  readonly id: string;
  /** The envelope's signer, as a member id (`memberIdFromPublicKey(opened.signer)`). */
  readonly author: MemberId;
  /** The envelope's Lamport clock (equal to the payload's own clock where it has one). */
  readonly clock: bigint;
  /**
   * The author's wall-clock time in ms to use when the message has no `sent_at` (0: a plain
   * spec-55 sender); the client supplies its best value. A non-zero `sent_at` wins.
   */
  readonly sentAt: number;
}

// ---------------------------------------------------------------------------------------------
// Small total readers
// ---------------------------------------------------------------------------------------------

const maxUint64 = (1n << 64n) - 1n;
const maxSafeInteger = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextEncoder();

type Failure = Extract<WireMappingResult<never>, { ok: false }>;

function ok<T>(value: T): WireMappingResult<T> {
  return { ok: true, value };
}

function malformed(field: string): Failure {
  return { ok: false, reason: "malformed", field };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function utf8Length(value: string): number {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) return utf8.encode(value).length;
  }
  return value.length;
}

function isText(value: unknown, maxBytes: number): value is string {
  return typeof value === "string" && utf8Length(value) <= maxBytes;
}

function isUint64(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value <= maxUint64;
}

function isPublicKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === wireLimits.publicKeyBytes;
}

function isOptionalChatId(value: unknown): value is string {
  return typeof value === "string" && (value === "" || isChatId(value));
}

/** Own enumerable entries of a record, or undefined when `value` is not one. */
function entriesOf(value: unknown): [string, unknown][] | undefined {
  return isRecord(value) ? Object.entries(value) : undefined;
}

/**
 * Sets `record[key]` as an own property even for keys like `__proto__` (a valid chat id and image
 * name), which plain assignment would turn into a prototype change.
 *
 * @internal
 */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__") {
    Object.defineProperty(record, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    record[key] = value;
  }
}

function checkContext(context: unknown): Failure | undefined {
  if (!isRecord(context)) return malformed("context");
  if (typeof context.id !== "string" || context.id === "") return malformed("context.id");
  if (typeof context.author !== "string" || !isMemberId(context.author)) {
    return malformed("context.author");
  }
  if (!isUint64(context.clock)) return malformed("context.clock");
  if (typeof context.sentAt !== "number" || !Number.isFinite(context.sentAt)) {
    return malformed("context.sentAt");
  }
  return undefined;
}

/** The payload's own clock must be the envelope's (openEnvelope checks it; this keeps us total). */
function checkClock(
  message: Record<string, unknown>,
  context: WireEventContext,
): Failure | undefined {
  const clock = message.clock ?? 0n;
  return isUint64(clock) && clock === context.clock ? undefined : malformed("clock");
}

function envelopeFields(context: WireEventContext, sentAt: number) {
  return {
    id: context.id,
    author: context.author,
    clock: context.clock,
    sentAt,
  } as const;
}

/**
 * The `sent_at` of a message as ms: 0 (absent, a spec-55 sender) reads as `context.sentAt`; more
 * than `Number.MAX_SAFE_INTEGER` is `malformed`.
 */
function readSentAt(message: Record<string, unknown>, context: WireEventContext): number | Failure {
  const sentAt = message.sentAt ?? 0n;
  if (!isUint64(sentAt) || sentAt > maxSafeInteger) return malformed("sentAt");
  return sentAt === 0n ? context.sentAt : Number(sentAt);
}

/**
 * The `sent_at` of a local event.
 * @throws {RangeError} when `sentAt` is not a non-negative safe integer
 */
function sentAtToWire(sentAt: number): bigint {
  if (!Number.isSafeInteger(sentAt) || sentAt < 0) {
    throw new RangeError(`sentAt: expected a non-negative safe integer of ms, got ${sentAt}`);
  }
  return BigInt(sentAt);
}

/** Limits of the orgchat additions, shared with `@orgchat/wire`'s own checks. */
const { maxRequestIdLength, maxRejectionReasonBytes } = wireLimits;
const requestIdPattern = /^[A-Za-z0-9_-]+$/;

/** A message's `request_id`: `""` (absent) or 1-128 characters [A-Za-z0-9_-]. */
function readRequestId(message: Record<string, unknown>): string | Failure {
  const requestId = message.requestId ?? "";
  if (
    typeof requestId !== "string" ||
    requestId.length > maxRequestIdLength ||
    (requestId !== "" && !requestIdPattern.test(requestId))
  ) {
    return malformed("requestId");
  }
  return requestId;
}

// ---------------------------------------------------------------------------------------------
// Roles, access, permissions, identity
// ---------------------------------------------------------------------------------------------

const roleWire: Readonly<Record<Role, OrganizationMember_Roles>> = {
  all: OrganizationMember_Roles.ROLE_ALL,
  "manage-users": OrganizationMember_Roles.ROLE_MANAGE_USERS,
  "moderate-content": OrganizationMember_Roles.ROLE_MODERATE_CONTENT,
};

const roleByWire: ReadonlyMap<unknown, Role> = new Map(
  (Object.entries(roleWire) as [Role, number][]).map(([role, wire]) => [wire, role]),
);

/**
 * The wire value of a role (`OrganizationMember.Roles`).
 *
 * @example
 * ```ts
 * roleToWire("manage-users"); // OrganizationMember_Roles.ROLE_MANAGE_USERS (2)
 * ```
 */
export function roleToWire(role: Role): OrganizationMember_Roles {
  return roleWire[role];
}

/**
 * The role of a wire value. `UNKNOWN_ROLE` and values this version does not know are `malformed`.
 *
 * @param value - an `OrganizationMember.Roles` value (any value at run time)
 * @returns the role, or `malformed`; never throws
 */
export function roleFromWire(value: unknown): WireMappingResult<Role> {
  const role = roleByWire.get(value);
  return role === undefined ? malformed("role") : ok(role);
}

/** The wire values of a list of roles, in order. */
export function rolesToWire(roles: Iterable<Role>): OrganizationMember_Roles[] {
  const out: OrganizationMember_Roles[] = [];
  for (const role of roles) out.push(roleWire[role]);
  return out;
}

/**
 * The roles of a wire `roles` list, in order. In `"fallback"` mode an unknown value is dropped (a
 * role this version does not understand grants nothing); in `"refuse"` mode it is `malformed`.
 *
 * @param values - a repeated `OrganizationMember.Roles` (any value at run time)
 * @param init - how to read unknown values
 * @returns the roles, or `malformed`; never throws
 */
export function rolesFromWire(values: unknown, init?: FromWireInit): WireMappingResult<Role[]> {
  if (!Array.isArray(values) || values.length > wireLimits.maxRoles) return malformed("roles");
  const fallback = init?.unknownEnums === "fallback";
  const roles: Role[] = [];
  for (const value of values) {
    const role = roleByWire.get(value);
    if (role !== undefined) roles.push(role);
    else if (!fallback) return malformed("roles");
  }
  return ok(roles);
}

const accessWire: Readonly<Record<AccessMode, OrganizationPermissions_Access>> = {
  "no-membership": OrganizationPermissions_Access.NO_MEMBERSHIP,
  "invitation-only": OrganizationPermissions_Access.INVITATION_ONLY,
  "on-request": OrganizationPermissions_Access.ON_REQUEST,
};

const accessByWire: ReadonlyMap<unknown, AccessMode> = new Map(
  (Object.entries(accessWire) as [AccessMode, number][]).map(([access, wire]) => [wire, access]),
);

/**
 * What an access mode this version does not know reads as in `"fallback"` mode: the most
 * restrictive one, so that nobody joins by a rule we cannot check.
 */
export const unknownAccessFallback: AccessMode = "invitation-only";

/** The wire value of an access mode (`OrganizationPermissions.Access`). */
export function accessToWire(access: AccessMode): OrganizationPermissions_Access {
  return accessWire[access];
}

/**
 * The access mode of a wire value. `UNKNOWN_ACCESS` and unknown values are `malformed`, or
 * {@link unknownAccessFallback} in `"fallback"` mode.
 *
 * @returns the access mode, or `malformed`; never throws
 */
export function accessFromWire(value: unknown, init?: FromWireInit): WireMappingResult<AccessMode> {
  const access = accessByWire.get(value);
  if (access !== undefined) return ok(access);
  return init?.unknownEnums === "fallback" ? ok(unknownAccessFallback) : malformed("access");
}

/** Permissions as an `OrganizationPermissions` init. */
export function permissionsToWire(
  permissions: Permissions,
): WireMessageInit<"OrganizationPermissions"> {
  return {
    ensOnly: permissions.ensOnly,
    private: permissions.private,
    access: accessWire[permissions.access],
  };
}

/**
 * The permissions of a wire `OrganizationPermissions`. An absent message (proto3: all defaults)
 * reads as `UNKNOWN_ACCESS`, so it is `malformed`, or {@link unknownAccessFallback} with
 * `"fallback"`.
 *
 * @returns the permissions, or `malformed`; never throws
 */
export function permissionsFromWire(
  value: unknown,
  init?: FromWireInit,
): WireMappingResult<Permissions> {
  const message = value === undefined ? {} : value;
  if (!isRecord(message)) return malformed("permissions");
  const ensOnly = message.ensOnly ?? false;
  const isPrivate = message.private ?? false;
  if (typeof ensOnly !== "boolean") return malformed("permissions.ensOnly");
  if (typeof isPrivate !== "boolean") return malformed("permissions.private");
  const access = accessFromWire(message.access ?? 0, init);
  if (!access.ok) return malformed("permissions.access");
  return ok({ access: access.value, ensOnly, private: isPrivate });
}

type SourceType = IdentityImage["sourceType"];
type ImageKind = IdentityImage["imageType"];

const sourceTypeWire: Readonly<Record<SourceType, IdentityImage_SourceType>> = {
  unknown: IdentityImage_SourceType.UNKNOWN_SOURCE_TYPE,
  "raw-payload": IdentityImage_SourceType.RAW_PAYLOAD,
  "ens-avatar": IdentityImage_SourceType.ENS_AVATAR,
};

const imageTypeWire: Readonly<Record<ImageKind, ImageType>> = {
  unknown: ImageType.UNKNOWN_IMAGE_TYPE,
  png: ImageType.PNG,
  jpeg: ImageType.JPEG,
  webp: ImageType.WEBP,
  gif: ImageType.GIF,
};

const sourceTypeByWire: ReadonlyMap<unknown, SourceType> = new Map(
  (Object.entries(sourceTypeWire) as [SourceType, number][]).map(([name, wire]) => [wire, name]),
);
const imageTypeByWire: ReadonlyMap<unknown, ImageKind> = new Map(
  (Object.entries(imageTypeWire) as [ImageKind, number][]).map(([name, wire]) => [wire, name]),
);

/** An identity image as an `IdentityImage` init. */
export function imageToWire(image: IdentityImage): WireMessageInit<"IdentityImage"> {
  return {
    payload: image.payload,
    sourceType: sourceTypeWire[image.sourceType],
    imageType: imageTypeWire[image.imageType],
    encryptionKeys: [...image.encryptionKeys],
    encrypted: image.encrypted,
  };
}

/**
 * The identity image of a wire `IdentityImage`. Source and image types this version does not know
 * read as `"unknown"` (the domain keeps no number for them: such a value does not round-trip).
 *
 * @returns the image, or `malformed`; never throws
 */
export function imageFromWire(value: unknown): WireMappingResult<IdentityImage> {
  if (!isRecord(value)) return malformed("image");
  const payload = value.payload ?? new Uint8Array(0);
  const keys = value.encryptionKeys ?? [];
  const encrypted = value.encrypted ?? false;
  const sourceType = value.sourceType ?? 0;
  const imageType = value.imageType ?? 0;
  if (!(payload instanceof Uint8Array)) return malformed("image.payload");
  if (
    !Array.isArray(keys) ||
    keys.length > wireLimits.maxEncryptionKeys ||
    !keys.every((key) => key instanceof Uint8Array)
  ) {
    return malformed("image.encryptionKeys");
  }
  if (typeof encrypted !== "boolean") return malformed("image.encrypted");
  if (typeof sourceType !== "number") return malformed("image.sourceType");
  if (typeof imageType !== "number") return malformed("image.imageType");
  return ok({
    payload,
    sourceType: sourceTypeByWire.get(sourceType) ?? "unknown",
    imageType: imageTypeByWire.get(imageType) ?? "unknown",
    encrypted,
    encryptionKeys: keys as Uint8Array[],
  });
}

/**
 * An identity as a `ChatIdentity` init.
 *
 * @param identity - the identity
 * @param clock - the `ChatIdentity.clock` to write (the domain identity has none; descriptions use
 *   their own clock)
 */
export function identityToWire(identity: Identity, clock: bigint): WireMessageInit<"ChatIdentity"> {
  const images: Record<string, WireMessageInit<"IdentityImage">> = {};
  for (const [name, image] of Object.entries(identity.images)) {
    setOwn(images, name, imageToWire(image));
  }
  return {
    clock,
    ensName: identity.ensName,
    images,
    displayName: identity.displayName,
    description: identity.description,
  };
}

/** The identity of an absent `ChatIdentity` (proto3 defaults). */
export const emptyIdentity: Identity = Object.freeze({
  displayName: "",
  description: "",
  ensName: "",
  images: Object.freeze({}),
});

/**
 * The identity of a wire `ChatIdentity` (its clock is dropped: the domain identity has none). An
 * absent message is the empty identity.
 *
 * @returns the identity, or `malformed` (wrong types, texts or image counts over the limits of
 *   docs/PROTOCOL.md); never throws
 */
export function identityFromWire(value: unknown): WireMappingResult<Identity> {
  if (value === undefined) return ok(emptyIdentity);
  if (!isRecord(value)) return malformed("identity");
  const displayName = value.displayName ?? "";
  const description = value.description ?? "";
  const ensName = value.ensName ?? "";
  if (!isText(displayName, wireLimits.maxNameBytes)) return malformed("identity.displayName");
  if (!isText(description, wireLimits.maxDescriptionBytes)) {
    return malformed("identity.description");
  }
  if (!isText(ensName, wireLimits.maxEnsNameBytes)) return malformed("identity.ensName");
  const entries = entriesOf(value.images ?? {});
  if (entries === undefined || entries.length > wireLimits.maxImages) {
    return malformed("identity.images");
  }
  const images: Record<string, IdentityImage> = {};
  for (const [name, wireImage] of entries) {
    if (name.length === 0 || name.length > wireLimits.maxImageKeyLength) {
      return malformed("identity.images");
    }
    const image = imageFromWire(wireImage);
    if (!image.ok) return malformed(`identity.images.${image.field}`);
    setOwn(images, name, image.value);
  }
  return ok({ displayName, description, ensName, images });
}

// ---------------------------------------------------------------------------------------------
// Control messages ↔ events
// ---------------------------------------------------------------------------------------------

/**
 * A `request.sent` event as an `OrganizationRequestToJoin` init.
 *
 * @param event - the request (its author signs the envelope)
 * @param organizationId - the organization's member id
 * @throws {RangeError} when `organizationId` is not a member id
 * @example
 * ```ts
 * const message = requestToJoinToWire(event, orgId);
 * await sealEnvelope({ type: "organization-request-to-join", organizationId: key, clock: event.clock,
 *   contentTopic: requestsTopic(key), message }, requester);
 * ```
 */
export function requestToJoinToWire(
  event: OrgEventOf<"request.sent">,
  organizationId: MemberId,
): WireMessageInit<"OrganizationRequestToJoin"> {
  return {
    clock: event.clock,
    ensName: event.body.ensName,
    chatId: event.body.chatId,
    organizationId: publicKeyFromMemberId(organizationId),
    displayName: event.body.displayName,
    sentAt: sentAtToWire(event.sentAt),
  };
}

/**
 * The `request.sent` event of an `OrganizationRequestToJoin` (its requester is the envelope's
 * signer, `context.author`).
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author, clock and sentAt from the envelope
 * @returns the event, or `malformed`; never throws
 * @example
 * ```ts
 * const opened = await openEnvelope(bytes, options);
 * if (opened.type === "organization-request-to-join") {
 *   const mapped = requestToJoinFromWire(opened.message, {
 *     id: envelopeId, author: memberIdFromPublicKey(opened.signer), clock: opened.clock, sentAt,
 *   });
 *   if (mapped.ok) log.add(mapped.value);
 * }
 * ```
 */
export function requestToJoinFromWire(
  message: WireMessageInit<"OrganizationRequestToJoin">,
  context: WireEventContext,
): WireMappingResult<OrgEventOf<"request.sent">> {
  const bad = checkContext(context);
  if (bad) return bad;
  const fields = readRequestLike(message, context);
  if ("ok" in fields) return fields;
  const sentAt = readSentAt(message as Record<string, unknown>, context);
  if (typeof sentAt !== "number") return sentAt;
  return ok({ ...envelopeFields(context, sentAt), type: "request.sent", body: fields });
}

interface RequestFields {
  readonly chatId: string;
  readonly ensName: string;
  readonly displayName: string;
}

/** The fields a request to join and its cancel share, checked; absent fields are proto3 defaults. */
function readRequestLike(message: unknown, context: WireEventContext): RequestFields | Failure {
  if (!isRecord(message)) return malformed("message");
  const chatId = message.chatId ?? "";
  const ensName = message.ensName ?? "";
  const displayName = message.displayName ?? "";
  return (
    checkClock(message, context) ??
    (isPublicKey(message.organizationId) ? undefined : malformed("organizationId")) ??
    (isOptionalChatId(chatId) ? undefined : malformed("chatId")) ??
    (isText(ensName, wireLimits.maxEnsNameBytes) ? undefined : malformed("ensName")) ??
    (isText(displayName, wireLimits.maxNameBytes) ? undefined : malformed("displayName")) ?? {
      chatId: chatId as string,
      ensName: ensName as string,
      displayName: displayName as string,
    }
  );
}

/**
 * A `request.cancelled` event as an `OrganizationCancelRequestToJoin` init. The spec's cancel
 * repeats the request's chat id, ENS name and display name; orgchat's `request_id` also names it.
 *
 * @param event - the cancel
 * @param request - the request it cancels (from the state)
 * @param organizationId - the organization's member id
 * @throws {RangeError} when `request` is not the one the event names, `organizationId` is not a
 *   member id, or the event's `sentAt` is not a non-negative safe integer
 */
export function cancelRequestToJoinToWire(
  event: OrgEventOf<"request.cancelled">,
  request: JoinRequest,
  organizationId: MemberId,
): WireMessageInit<"OrganizationCancelRequestToJoin"> {
  if (request.id !== event.body.requestId) {
    throw new RangeError(
      `request: expected request ${event.body.requestId}, got ${request.id}; pass the request the cancel names`,
    );
  }
  return {
    clock: event.clock,
    ensName: request.ensName,
    chatId: request.chatId,
    organizationId: publicKeyFromMemberId(organizationId),
    displayName: request.displayName,
    sentAt: sentAtToWire(event.sentAt),
    requestId: event.body.requestId,
  };
}

function isRequestMap(value: unknown): value is ImmutableMap<string, JoinRequest> {
  return isImmutableMap(value);
}

/**
 * The latest request of `requester` with a clock before `before` (and for `chatId`, when given):
 * the one a cancel or a response answers. Ties on the clock go to the greater id, as in the
 * canonical order.
 */
function latestRequest(
  requests: ImmutableMap<string, JoinRequest>,
  requester: MemberId,
  before: bigint,
  chatId?: string,
): JoinRequest | undefined {
  let best: JoinRequest | undefined;
  for (const request of requests.values()) {
    if (request.requester !== requester || request.clock >= before) continue;
    if (chatId !== undefined && request.chatId !== chatId) continue;
    if (
      best === undefined ||
      request.clock > best.clock ||
      (request.clock === best.clock && request.id > best.id)
    ) {
      best = request;
    }
  }
  return best;
}

/**
 * The `request.cancelled` event of an `OrganizationCancelRequestToJoin`. The cancel names its
 * request in `request_id`; from a spec-55 sender (empty `request_id`) it answers the latest request
 * of its signer for its chat id with an earlier clock, whatever that request's status (the reducer
 * then judges: a decided request makes the cancel a `conflict`).
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author (the requester), clock and sentAt from the envelope
 * @param state - where the request is looked up when `request_id` is empty
 * @returns the event; `unknown-target` when `request_id` is empty and no such request is known yet
 *   (buffer and retry); `malformed` otherwise; never throws
 */
export function cancelRequestToJoinFromWire(
  message: WireMessageInit<"OrganizationCancelRequestToJoin">,
  context: WireEventContext,
  state: { readonly requests: ImmutableMap<string, JoinRequest> },
): WireMappingResult<OrgEventOf<"request.cancelled">> {
  const bad = checkContext(context);
  if (bad) return bad;
  const fields = readRequestLike(message, context);
  if ("ok" in fields) return fields;
  const record = message as Record<string, unknown>;
  const sentAt = readSentAt(record, context);
  if (typeof sentAt !== "number") return sentAt;
  let requestId = readRequestId(record);
  if (typeof requestId !== "string") return requestId;
  if (requestId === "") {
    if (!isRecord(state) || !isRequestMap(state.requests)) return malformed("state");
    const request = latestRequest(state.requests, context.author, context.clock, fields.chatId);
    if (request === undefined) return { ok: false, reason: "unknown-target", field: "chatId" };
    requestId = request.id;
  }
  return ok({
    ...envelopeFields(context, sentAt),
    type: "request.cancelled",
    body: { requestId },
  });
}

/** What a join response carries besides the decision. */
export interface JoinResponseWireInit {
  /** The organization's member id. */
  readonly organizationId: MemberId;
  /**
   * The description to send along with an acceptance. For a paged description, the header's
   * description (a whole description of a large organization does not fit in one message).
   */
  readonly organization?: WireMessageInit<"OrganizationDescription">;
  /** The bytes of an owner-signed `GRANT` envelope (docs/PROTOCOL.md, "Embedded signed bytes"). */
  readonly grant?: Uint8Array;
}

/**
 * A `request.accepted` or `request.rejected` event as an `OrganizationRequestToJoinResponse`
 * init, with orgchat's `sent_at`, `request_id` and (for a rejection) `rejection_reason`.
 *
 * @param event - the decision (authored by the organization key: the message is owner-signed)
 * @param init - organization id, and optionally the description and the grant to send
 * @throws {RangeError} when `init.organizationId` is not a member id, or the event's `sentAt` is
 *   not a non-negative safe integer
 */
export function joinResponseToWire(
  event: OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">,
  init: JoinResponseWireInit,
): WireMessageInit<"OrganizationRequestToJoinResponse"> {
  return {
    clock: event.clock,
    accepted: event.type === "request.accepted",
    organizationId: publicKeyFromMemberId(init.organizationId),
    sentAt: sentAtToWire(event.sentAt),
    requestId: event.body.requestId,
    ...(event.type === "request.rejected" ? { rejectionReason: event.body.reason } : {}),
    ...(init.organization === undefined ? {} : { organization: init.organization }),
    ...(init.grant === undefined ? {} : { grant: init.grant }),
  };
}

/**
 * The `request.accepted` / `request.rejected` event of an `OrganizationRequestToJoinResponse`.
 * The response names its request in `request_id` and a rejection's reason in `rejection_reason`
 * (ignored for an acceptance). From a spec-55 sender (empty `request_id`) the request is the
 * latest one with an earlier clock of the requester, the owner of the inbox it arrived on, and a
 * rejection's reason reads as `""`. The embedded description and grant are not part of the event
 * (apply them with `stateFromDescription` and {@link grantFromWire}).
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author (the organization), clock and sentAt from the envelope
 * @param state - where the request is looked up when `request_id` is empty
 * @param requester - the member id of the inbox the response arrived on (used when `request_id` is
 *   empty)
 * @returns the event; `unknown-target` when `request_id` is empty and the request is not known;
 *   `malformed` otherwise; never throws
 */
export function joinResponseFromWire(
  message: WireMessageInit<"OrganizationRequestToJoinResponse">,
  context: WireEventContext,
  state: { readonly requests: ImmutableMap<string, JoinRequest> },
  requester: MemberId,
): WireMappingResult<OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">> {
  const bad = checkContext(context);
  if (bad) return bad;
  if (!isRecord(message)) return malformed("message");
  const clockBad = checkClock(message, context);
  if (clockBad) return clockBad;
  if (!isPublicKey(message.organizationId)) return malformed("organizationId");
  const accepted = message.accepted ?? false;
  if (typeof accepted !== "boolean") return malformed("accepted");
  const sentAt = readSentAt(message, context);
  if (typeof sentAt !== "number") return sentAt;
  let requestId = readRequestId(message);
  if (typeof requestId !== "string") return requestId;
  const reason = message.rejectionReason ?? "";
  if (!isText(reason, maxRejectionReasonBytes)) return malformed("rejectionReason");
  if (requestId === "") {
    if (typeof requester !== "string" || !isMemberId(requester)) return malformed("requester");
    if (!isRecord(state) || !isRequestMap(state.requests)) return malformed("state");
    const request = latestRequest(state.requests, requester, context.clock);
    if (request === undefined) return { ok: false, reason: "unknown-target", field: "requester" };
    requestId = request.id;
  }
  const fields = envelopeFields(context, sentAt);
  return ok(
    accepted
      ? { ...fields, type: "request.accepted", body: { requestId } }
      : { ...fields, type: "request.rejected", body: { requestId, reason } },
  );
}

/**
 * A `leave.requested` event as an `OrganizationRequestToLeave` init.
 * @throws {RangeError} when `organizationId` is not a member id
 */
export function requestToLeaveToWire(
  event: OrgEventOf<"leave.requested">,
  organizationId: MemberId,
): WireMessageInit<"OrganizationRequestToLeave"> {
  return {
    clock: event.clock,
    organizationId: publicKeyFromMemberId(organizationId),
    sentAt: sentAtToWire(event.sentAt),
  };
}

/**
 * The `leave.requested` event of an `OrganizationRequestToLeave` (the member is the signer).
 * @returns the event, or `malformed`; never throws
 */
export function requestToLeaveFromWire(
  message: WireMessageInit<"OrganizationRequestToLeave">,
  context: WireEventContext,
): WireMappingResult<OrgEventOf<"leave.requested">> {
  const bad = checkContext(context);
  if (bad) return bad;
  if (!isRecord(message)) return malformed("message");
  const clockBad = checkClock(message, context);
  if (clockBad) return clockBad;
  if (!isPublicKey(message.organizationId)) return malformed("organizationId");
  const sentAt = readSentAt(message, context);
  if (typeof sentAt !== "number") return sentAt;
  return ok({ ...envelopeFields(context, sentAt), type: "leave.requested", body: {} });
}

/**
 * A `grant.issued` event as a `Grant` init (signed by the organization key).
 * @throws {RangeError} when `organizationId` or the event's member is not a member id
 */
export function grantToWire(
  event: OrgEventOf<"grant.issued">,
  organizationId: MemberId,
): WireMessageInit<"Grant"> {
  return {
    organizationId: publicKeyFromMemberId(organizationId),
    memberId: publicKeyFromMemberId(event.body.member),
    chatId: event.body.chatId,
    clock: event.clock,
    sentAt: sentAtToWire(event.sentAt),
  };
}

/**
 * The `grant.issued` event of a `Grant` (whether read from its own envelope or from the `grant`
 * bytes embedded in an invitation or a join response, once opened).
 * @returns the event, or `malformed`; never throws
 */
export function grantFromWire(
  message: WireMessageInit<"Grant">,
  context: WireEventContext,
): WireMappingResult<OrgEventOf<"grant.issued">> {
  const bad = checkContext(context);
  if (bad) return bad;
  if (!isRecord(message)) return malformed("message");
  const clockBad = checkClock(message, context);
  if (clockBad) return clockBad;
  if (!isPublicKey(message.organizationId)) return malformed("organizationId");
  if (!isPublicKey(message.memberId)) return malformed("memberId");
  const chatId = message.chatId ?? "";
  if (!isOptionalChatId(chatId)) return malformed("chatId");
  const sentAt = readSentAt(message, context);
  if (typeof sentAt !== "number") return sentAt;
  return ok({
    ...envelopeFields(context, sentAt),
    type: "grant.issued",
    body: { member: memberIdFromPublicKey(message.memberId), chatId },
  });
}

/** What an invitation carries besides the event. */
export interface InvitationWireInit {
  /** The organization's member id (the invitation's `public_key`). */
  readonly organizationId: MemberId;
  /** The bytes of the owner's signed description envelope, as published. */
  readonly organizationDescription?: Uint8Array;
  /** The bytes of an owner-signed `GRANT` envelope. */
  readonly grant?: Uint8Array;
}

/**
 * An `invitation.issued` event as an `OrganizationInvitation` init, with orgchat's `sent_at` and
 * `invitee_public_key` (a spec-55 reader knows the invitee only by the inbox: send it there).
 * @throws {RangeError} when `init.organizationId` or the invitee is not a member id, or the event's
 *   `sentAt` is not a non-negative safe integer
 */
export function invitationToWire(
  event: OrgEventOf<"invitation.issued">,
  init: InvitationWireInit,
): WireMessageInit<"OrganizationInvitation"> {
  return {
    chatId: event.body.chatId,
    publicKey: publicKeyFromMemberId(init.organizationId),
    sentAt: sentAtToWire(event.sentAt),
    inviteePublicKey: publicKeyFromMemberId(event.body.invitee),
    ...(init.organizationDescription === undefined
      ? {}
      : { organizationDescription: init.organizationDescription }),
    ...(init.grant === undefined ? {} : { grant: init.grant }),
  };
}

/**
 * The `invitation.issued` event of an `OrganizationInvitation`. The invitation has no clock of
 * its own (the envelope's is used); its invitee is `invitee_public_key`, or, from a spec-55 sender
 * (empty), the owner of the inbox it arrived on.
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author (the organization), clock and sentAt from the envelope
 * @param invitee - the member id of the inbox the invitation arrived on (used when
 *   `invitee_public_key` is empty)
 * @returns the event, or `malformed`; never throws
 */
export function invitationFromWire(
  message: WireMessageInit<"OrganizationInvitation">,
  context: WireEventContext,
  invitee: MemberId,
): WireMappingResult<OrgEventOf<"invitation.issued">> {
  const bad = checkContext(context);
  if (bad) return bad;
  if (!isRecord(message)) return malformed("message");
  if (!isPublicKey(message.publicKey)) return malformed("publicKey");
  const chatId = message.chatId ?? "";
  if (!isOptionalChatId(chatId)) return malformed("chatId");
  const sentAt = readSentAt(message, context);
  if (typeof sentAt !== "number") return sentAt;
  const inviteeKey = message.inviteePublicKey ?? new Uint8Array(0);
  if (
    !(inviteeKey instanceof Uint8Array) ||
    (inviteeKey.length !== 0 && !isPublicKey(inviteeKey))
  ) {
    return malformed("inviteePublicKey");
  }
  let target: MemberId;
  if (inviteeKey.length !== 0) {
    target = memberIdFromPublicKey(inviteeKey);
  } else {
    if (typeof invitee !== "string" || !isMemberId(invitee)) return malformed("invitee");
    target = invitee;
  }
  return ok({
    ...envelopeFields(context, sentAt),
    type: "invitation.issued",
    body: { invitee: target, chatId },
  });
}
