import type { Map as ImmutableMap, List } from "immutable";
import type { AccessMode, Identity, MemberId, Permissions, Role } from "./events.js";
import type { AppliedIds, AppliedIdsView } from "./snapshot-applied.js";
import type { MapView } from "./table-map.js";

/**
 * The state of one organization: a pure function of the events applied to it (docs/PROTOCOL.md,
 * "State"). Collections are persistent `immutable` maps, so applying an event copies O(log n), not
 * the whole organization: a 10,000-member organization with 100,000 messages stays cheap to update.
 * Treat every field as read-only.
 */
export interface OrgState {
  /** The organization key as a member id. */
  readonly organizationId: MemberId;
  /** Whether `org.created` was applied (every other event needs it). */
  readonly created: boolean;
  /**
   * The highest Lamport clock counted (docs/PROTOCOL.md, "Clocks"): the base description's and the
   * applied events', except events that leave their author outside the organization (a pending
   * `request.sent`, a `request.cancelled`): strangers do not move clocks. The next clock a peer
   * stamps is one more, and a non-owner event more than `clockLimits.maxClockStep` above it is
   * refused (`clock-jump`). At most `clockLimits.maxClock`.
   */
  readonly clock: bigint;
  readonly identity: Identity;
  readonly permissions: Permissions;
  readonly pinMessageAllMembersEnabled: boolean;
  readonly tags: List<string>;
  readonly encrypted: boolean;
  /** Current members (the owner included, with role "owner" implied by its id). */
  readonly members: MapView<Member>;
  /** Banned keys, with the clock of the ban. */
  readonly banned: ImmutableMap<MemberId, Ban>;
  readonly channels: ImmutableMap<string, Channel>;
  readonly categories: ImmutableMap<string, Category>;
  /** Requests to join, by request id (the `request.sent` event id), whatever their status. */
  readonly requests: MapView<JoinRequest>;
  /** Requests to leave, by request id. */
  readonly leaveRequests: ImmutableMap<string, LeaveRequest>;
  readonly invitations: ImmutableMap<string, Invitation>;
  /** Grants, keyed `${member}/${chatId}` ("" chat = the organization). */
  readonly grants: ImmutableMap<string, Grant>;
  /** The crypto epoch of each group: "" = the organization, else a restricted channel. */
  readonly epochs: ImmutableMap<string, EpochInfo>;
  readonly messages: ImmutableMap<string, MessageRecord>;
  /**
   * Ids of every applied event, with their clocks (idempotence): an {@link AppliedIds} in the
   * states this package makes (a snapshot's ids in one table, not one map entry each); any
   * `immutable` `Map<string, bigint>` is accepted too.
   */
  readonly applied: AppliedIdsView;
}

/** A member of the organization (the owner included). */
export interface Member {
  readonly id: MemberId;
  readonly roles: List<Role>;
  /** Clock of the event that made it a member. */
  readonly joinedAt: bigint;
  /**
   * The display name the owner admitted it with (its request's, or the request that used its
   * invitation), at most `wireLimits.maxNameBytes` UTF-8 bytes; "" when none (the owner, a member of
   * a description that names nobody).
   */
  readonly displayName: string;
}

/** An entry of the ban list. */
export interface Ban {
  readonly member: MemberId;
  readonly clock: bigint;
  readonly deleteMessages: boolean;
}

/** A channel (spec 55 `OrganizationChat`). */
export interface Channel {
  readonly id: string;
  readonly identity: Identity;
  readonly permissions: Permissions;
  readonly categoryId: string;
  /** Per-channel roles (spec 55 `OrganizationChat.members`). */
  readonly members: ImmutableMap<MemberId, List<Role>>;
}

/** A channel category (spec 55 `OrganizationCategory`). */
export interface Category {
  readonly id: string;
  readonly name: string;
}

/** pending → accepted | rejected | cancelled; "expired" is derived from time (see `requestStatus`). */
export type JoinRequestStatus = "pending" | "accepted" | "rejected" | "cancelled";

/** A request to join (`request.sent`) and its outcome. */
export interface JoinRequest {
  readonly id: string;
  readonly requester: MemberId;
  readonly chatId: string;
  readonly ensName: string;
  readonly displayName: string;
  readonly clock: bigint;
  /** The requester's signed wall-clock time (ms): expiry and cool-down count from it. */
  readonly sentAt: number;
  readonly status: JoinRequestStatus;
  /** Who decided (accept, reject) or the requester (cancel). */
  readonly decidedBy?: MemberId;
  readonly decidedAt?: bigint;
  /**
   * The deciding event's signed wall-clock time (ms). The re-request cool-down counts from it after a
   * rejection.
   */
  readonly decidedSentAt?: number;
  readonly rejectionReason?: string;
}

/** A request to leave (`leave.requested`) and its outcome. */
export interface LeaveRequest {
  readonly id: string;
  readonly member: MemberId;
  readonly clock: bigint;
  readonly status: "pending" | "accepted" | "rejected";
  /** Who resolved it (`leave.resolved`). */
  readonly decidedBy?: MemberId;
  readonly decidedAt?: bigint;
}

/** An invitation (`invitation.issued`) and whether it was used. */
export interface Invitation {
  readonly id: string;
  readonly invitee: MemberId;
  readonly chatId: string;
  readonly issuedBy: MemberId;
  readonly clock: bigint;
  readonly sentAt: number;
  readonly used: boolean;
  /** Clock of the `invitation.used` event. */
  readonly usedAt?: bigint;
  /** Clock of the ban of the invitee that voided it (a ban voids the invitee's unused invitations). */
  readonly revokedAt?: bigint;
}

/** An owner-issued grant of access to a channel ("" = the organization). */
export interface Grant {
  readonly member: MemberId;
  readonly chatId: string;
  readonly clock: bigint;
}

/** The crypto epoch a group is on (`epoch.changed`). */
export interface EpochInfo {
  readonly channelId: string;
  readonly epoch: bigint;
  readonly keyId: string;
}

/** A channel message (`message.posted`), as edited, pinned or deleted since. */
export interface MessageRecord {
  readonly id: string;
  readonly channelId: string;
  readonly author: MemberId;
  readonly clock: bigint;
  readonly text: string;
  readonly editedAt?: bigint;
  readonly deleted: boolean;
  readonly deletedBy?: MemberId;
  readonly pinned: boolean;
}

/** Access modes as they appear on the wire (for the mapping module). */
export const accessModes: readonly AccessMode[] = [
  "no-membership",
  "invitation-only",
  "on-request",
];

/**
 * Rules of the reducer that an organization configures (every member must use the same values, so
 * they travel in the owner's description or are protocol constants).
 */
export interface ReducerConfig {
  /** A pending request expires this long after its `sentAt`. @default 7 days */
  readonly requestExpiryMs: number;
  /**
   * At most this many pending requests per organization; a request beyond it pushes the oldest out
   * (docs/PROTOCOL.md, "Requests that never get stuck"). Only the owner folds other keys' requests
   * (they reach it sealed; descriptions carry none), so in practice it bounds the owner's pending
   * set: about 1.5 KB of state and store per pending request, 1.5 MB at the cap. @default 1,000
   */
  readonly maxPendingRequests: number;
  /** After a rejection, the same key may request again only this long after it. @default 24 hours */
  readonly reRequestCooldownMs: number;
  /** An invitation may be used until this long after it was issued. @default 7 days */
  readonly invitationExpiryMs: number;
  /**
   * Checks an ENS name for `ens_only` organizations; must be deterministic (the same answer on every
   * member for the same inputs). @default refuses every name (no ENS resolver configured)
   */
  readonly verifyEns: (ensName: string, member: MemberId) => boolean;
}

const day = 24 * 60 * 60 * 1000;

/** The protocol defaults of {@link ReducerConfig}. */
export const defaultReducerConfig: ReducerConfig = {
  requestExpiryMs: 7 * day,
  maxPendingRequests: 1_000,
  reRequestCooldownMs: day,
  invitationExpiryMs: 7 * day,
  verifyEns: () => false,
};
