/**
 * Domain events of an organization (docs/PROTOCOL.md, "State"). Every change to an organization is
 * one of these, authored by one key, stamped with a Lamport clock and identified by a stable id. The
 * state is a pure fold of the events a peer has seen (see `reduce` and `OrgLog`).
 *
 * Ids and keys are strings: member ids are the 64 lowercase hex characters of a 32-byte public key
 * (`memberIdFromPublicKey` in `@orgchat/wire`), chat and category ids follow `isChatId`.
 */

/** A member id: lowercase hex of a 32-byte Ed25519 identity key. */
export type MemberId = string;

/** Roles of spec 55 (`OrganizationMember.Roles`), as names. */
export type Role = "all" | "manage-users" | "moderate-content";

/**
 * Every role, from the highest rank to the lowest: `all` (admin), `manage-users` (manager),
 * `moderate-content` (moderator).
 */
export const roles = ["all", "manage-users", "moderate-content"] as const satisfies readonly Role[];

/** Access modes of spec 55 (`OrganizationPermissions.Access`), as names. */
export type AccessMode = "no-membership" | "invitation-only" | "on-request";

/** An image of an identity (spec 55 `IdentityImage`). */
export interface IdentityImage {
  readonly payload: Uint8Array;
  readonly sourceType: "raw-payload" | "ens-avatar" | "unknown";
  readonly imageType: "png" | "jpeg" | "webp" | "gif" | "unknown";
  readonly encrypted: boolean;
  readonly encryptionKeys: readonly Uint8Array[];
}

/** Identity of an organization or channel (spec 55 `ChatIdentity`, without its clock). */
export interface Identity {
  readonly displayName: string;
  readonly description: string;
  readonly ensName: string;
  readonly images: Readonly<Record<string, IdentityImage>>;
}

/** Permissions of an organization or channel (spec 55 `OrganizationPermissions`). */
export interface Permissions {
  readonly access: AccessMode;
  readonly ensOnly: boolean;
  readonly private: boolean;
}

/** The body of each event type, by type. */
export interface EventBodies {
  /** The organization exists; only the organization key may author it, and only once. */
  "org.created": {
    readonly identity: Identity;
    readonly permissions: Permissions;
    readonly pinMessageAllMembersEnabled: boolean;
    readonly tags: readonly string[];
    readonly encrypted: boolean;
  };
  "org.identity.changed": { readonly identity: Identity };
  "org.permissions.changed": { readonly permissions: Permissions };
  "org.admin-settings.changed": { readonly pinMessageAllMembersEnabled: boolean };
  "org.tags.changed": { readonly tags: readonly string[] };
  /** Switches the organization between public and encrypted. */
  "org.encryption.changed": { readonly encrypted: boolean };

  "channel.created": {
    readonly channelId: string;
    readonly identity: Identity;
    readonly permissions: Permissions;
    readonly categoryId: string;
  };
  "channel.edited": {
    readonly channelId: string;
    readonly identity?: Identity;
    readonly permissions?: Permissions;
    readonly categoryId?: string;
  };
  "channel.removed": { readonly channelId: string };
  /** Sets the per-channel roles of members (spec 55 `OrganizationChat.members`). */
  "channel.members.changed": {
    readonly channelId: string;
    readonly members: Readonly<Record<MemberId, readonly Role[]>>;
  };

  "category.created": { readonly categoryId: string; readonly name: string };
  "category.edited": { readonly categoryId: string; readonly name: string };
  "category.removed": { readonly categoryId: string };

  /** A request to join; its id is the event id. `chatId` "" asks for the whole organization. */
  "request.sent": {
    readonly chatId: string;
    readonly ensName: string;
    readonly displayName: string;
  };
  "request.cancelled": { readonly requestId: string };
  "request.accepted": { readonly requestId: string };
  /** A rejection; delivered to the requester (signed), so no request stays pending forever. */
  "request.rejected": { readonly requestId: string; readonly reason: string };

  /** An invitation to `invitee`; its id is the event id. */
  "invitation.issued": { readonly invitee: MemberId; readonly chatId: string };
  /** The invitee joins with the invitation. */
  /**
   * The invitee's display name (from the request that used the invitation; absent or "" when none),
   * at most `wireLimits.maxNameBytes` UTF-8 bytes.
   */
  "invitation.used": { readonly invitationId: string; readonly displayName?: string };

  /** A member asks to leave; its id is the event id. */
  "leave.requested": Record<string, never>;
  /** The outcome of a request to leave (spec 55: the owner MAY accept or reject). */
  "leave.resolved": { readonly requestId: string; readonly accepted: boolean };

  "member.removed": { readonly member: MemberId };
  "member.banned": { readonly member: MemberId; readonly deleteMessages: boolean };
  "member.unbanned": { readonly member: MemberId };
  "member.roles.changed": { readonly member: MemberId; readonly roles: readonly Role[] };

  /** An owner-signed grant of access to one channel ("" = the organization). */
  "grant.issued": { readonly member: MemberId; readonly chatId: string };
  "grant.revoked": { readonly member: MemberId; readonly chatId: string };

  /** The crypto epoch a group is on: the organization ("") or a restricted channel. */
  "epoch.changed": { readonly channelId: string; readonly epoch: bigint; readonly keyId: string };

  /** A channel message; its id is the event id. The content stays with the client. */
  "message.posted": { readonly channelId: string; readonly text: string };
  "message.edited": { readonly messageId: string; readonly text: string };
  /** Deleted by its author, or by a moderator. */
  "message.deleted": { readonly messageId: string };
  "message.pinned": { readonly messageId: string; readonly pinned: boolean };
}

/** Every event type name. */
export type EventType = keyof EventBodies;

/** One event: who, when (Lamport clock and the author's wall clock), and what. */
export type OrgEvent = {
  [K in EventType]: {
    /** Stable id, unique per event (for example the hex hash of the signed envelope). */
    readonly id: string;
    readonly type: K;
    /** The author's member id (the organization id for owner events). */
    readonly author: MemberId;
    /** Lamport clock (docs/PROTOCOL.md, "Clocks"). */
    readonly clock: bigint;
    /**
     * The author's wall-clock time in milliseconds, signed with the event. Used only by rules that
     * need time (request expiry, re-request cool-down), never the receiver's own clock, so that every
     * member reaches the same verdict.
     */
    readonly sentAt: number;
    readonly body: EventBodies[K];
  };
}[EventType];

/** The event of type `K`. */
export type OrgEventOf<K extends EventType> = Extract<OrgEvent, { type: K }>;

/**
 * Why an event was rejected. Reducers never throw on remote input: an invalid event leaves the state
 * unchanged and reports one of these.
 */
export type RejectionReason =
  /** The author may not do this (authorization matrix in docs/PROTOCOL.md). */
  | "unauthorized"
  /** The author is not a member (and the event needs one). */
  | "unknown-member"
  /** The author (or the subject) is banned. */
  | "banned"
  /** Fields out of range, wrong ids, an event before `org.created`, a second `org.created`. */
  | "malformed"
  /** The event names a channel, category, request, invitation or message that does not exist. */
  | "unknown-target"
  /** The event refers to something already decided (a request accepted, cancelled, expired…). */
  | "conflict"
  /** A request or invitation past its expiry at the time of the decision. */
  | "expired"
  /** Too many pending requests, or a re-request inside the cool-down after a rejection. */
  | "rate-limited"
  /** The same event id was already applied (idempotence). */
  | "duplicate"
  /**
   * Not authored by the organization key, and its clock is more than `clockLimits.maxClockStep`
   * above the clocks before it in canonical order (docs/PROTOCOL.md, "Clocks").
   */
  | "clock-jump";

/** Every rejection reason, in a stable order (for tests and exhaustive tables). */
export const rejectionReasons = [
  "unauthorized",
  "unknown-member",
  "banned",
  "malformed",
  "unknown-target",
  "conflict",
  "expired",
  "rate-limited",
  "duplicate",
  "clock-jump",
] as const satisfies readonly RejectionReason[];

/** Result of applying one event. */
export interface Rejection {
  readonly id: string;
  readonly reason: RejectionReason;
}
