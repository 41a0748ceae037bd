import type { Diagnostic } from "@orgchat/base";
import type { CryptoProvider } from "@orgchat/crypto";
import {
  type AccessMode,
  type Identity,
  type Permissions,
  type RequestAdmissionLimits,
  type Role,
  requestRejectionReasons,
} from "@orgchat/state";
import type { Store } from "@orgchat/store";
import type { Transport } from "@orgchat/transport";

/** Options every client operation accepts. */
export interface OperationOptions {
  /**
   * Cancels the operation before it commits: it then rejects with `AbortError` and changes
   * nothing. Once the operation has committed to the store it completes.
   */
  readonly signal?: AbortSignal;
}

/** Timers, injected so that tests control time (the client never reads a clock of its own). */
export interface ClientTimers {
  /** Runs `task` after `delayMs`; returns a handle for {@link ClientTimers.clearTimeout}. */
  setTimeout(task: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Tunables of the client. Every value has a default suited to real networks. */
export interface ClientConfig {
  /**
   * Membership changes that need a fresh epoch (removals, bans, leaves, lost channel access) inside
   * this window are batched into one KeyUpdate. 0 re-keys at once, inside the operation.
   * @default 2000
   */
  readonly rekeyWindowMs?: number;
  /**
   * Owner: members admitted inside this window (requests accepted, auto-accepted in open
   * organizations, invitations redeemed) join each group in one add step: one roster delta, one
   * Welcome each, one description. The decision and the response to the requester are immediate;
   * the keys follow at the flush (or when the client closes). Removals waiting for their re-key are
   * re-keyed first, so that no removed member can derive the epoch a newcomer is welcomed into.
   * 0 adds at once, inside the operation.
   * @default 200
   */
  readonly addWindowMs?: number;
  /**
   * The owner republishes its description, prekey bundle and current rosters this often (spec 55:
   * "MAY be sent during fixed intervals"), and runs the periodic checks (refresh, outbox). 0 turns
   * the periodic task off.
   * @default 600000 (10 min)
   */
  readonly republishIntervalMs?: number;
  /**
   * Periodic refresh of every group with fresh randomness (post-compromise security).
   * @default 172800000 (48 h)
   */
  readonly refreshIntervalMs?: number;
  /**
   * The owner answers at most one resync request per member per this interval.
   * @default 60000
   */
  readonly resyncAnswerIntervalMs?: number;
  /** First delay of a member's resync back-off (doubles up to `resyncMaxBackoffMs`). @default 5000 */
  readonly resyncInitialBackoffMs?: number;
  /** Longest delay of a member's resync back-off. @default 600000 */
  readonly resyncMaxBackoffMs?: number;
  /** Messages kept while waiting for a key, per organization. @default 1000 */
  readonly maxPendingMessages?: number;
  /** How long a message may wait for its key before it is declared undecryptable. @default 7 days */
  readonly maxPendingAgeMs?: number;
  /**
   * Message history kept per channel: the newest this many posts (by clock), with their edits,
   * deletions and pins. Older posts leave `history()` at once and the store at the next start
   * (their events and message records are deleted then). 0 keeps everything.
   * @default 0
   */
  readonly maxMessagesPerChannel?: number;
  /**
   * First interval of the history sweep (anti-entropy): every topic the client listens to, and its
   * inbox, is read again from history since the last sweep (with a minute of overlap), so that a
   * message lost on the way is found while the client runs. The interval doubles while a sweep
   * finds nothing, up to `syncMaxIntervalMs`, and starts again from here when one finds something
   * or a gap is seen. 0 turns the sweep off.
   * @default 5000
   */
  readonly syncIntervalMs?: number;
  /** Longest interval of the history sweep. @default 600000 (10 min) */
  readonly syncMaxIntervalMs?: number;
  /**
   * How long `requestToJoin` / `acceptInvitation` wait, after this identity left (or was removed),
   * for the owner's resolution of the leave to reach this client before sending the new request
   * (`LeaveNotResolvedError` after that; docs/CLIENT.md, "Rejoin after leave").
   * @default 30000
   */
  readonly leaveResolutionTimeoutMs?: number;
  /**
   * Invitations kept while waiting for this identity's answer (`listInvitations`). Anyone can sign
   * an invitation with a throwaway organization key, so they are bounded: when one more arrives,
   * an expired one goes first, then the oldest from an organization this client does not know,
   * then the oldest (a `diagnostic` with reason `evicted` for each).
   * @default 50
   */
  readonly maxPendingInvitations?: number;
  /**
   * Owner: how requests to join from strangers are admitted (docs/SECURITY.md, row 4): the signed
   * `sentAt` skew allowed ahead of this clock (2 min), the admission rate into a full queue (10 at
   * once, then one per 6 min), and the strangers whose keys are kept before their request arrives
   * (16, for 10 min). Fields left out keep `defaultRequestAdmissionLimits` of `@orgchat/state`.
   * @default {}
   */
  readonly requestAdmission?: Partial<RequestAdmissionLimits>;
  /**
   * Owner: at most this many requests to join pending at once; one more pushes the oldest out,
   * answered "full, try later" (docs/PROTOCOL.md, "Requests that never get stuck"). Only the owner
   * folds other keys' requests, so this is the owner's choice, not a rule members must share: about
   * 1.5 KB of state and store per pending request.
   * @default defaultReducerConfig.maxPendingRequests (1,000)
   */
  readonly maxPendingRequests?: number;
  /** History pages read per topic when backfilling (each up to 100 messages). @default 50 */
  readonly maxBackfillPages?: number;
  /**
   * scrypt cost N (a power of two) for the passphrase key. Lower it only in tests.
   * @default 131072 (2^17)
   */
  readonly scryptN?: number;
}

/** What {@link createClient} needs. */
export interface ClientInit {
  /** Any transport: memory, Waku relay or light; the client uses only the `Transport` contract. */
  readonly transport: Transport;
  /** Where identity, keys, ratchet state, events and the outbox live (one store per identity). */
  readonly store: Store;
  /**
   * Seals every secret record (identity, organization keys, group and pairwise state) with
   * AES-256-GCM under a scrypt key. Without it secrets are stored as is (protected only by the
   * store's file permissions).
   * @default undefined (secrets not sealed)
   */
  readonly passphrase?: string;
  /** Wall clock, ms since the Unix epoch. @default Date.now */
  readonly now?: () => number;
  /** Random bytes for the client's own needs (nonces, leaf secrets). @default the provider's */
  readonly random?: (length: number) => Uint8Array;
  /** @default globalThis.setTimeout / clearTimeout */
  readonly timers?: ClientTimers;
  /** @default defaultProvider() of `@orgchat/crypto` */
  readonly provider?: CryptoProvider;
  /** Tunables; every one left out takes its default (`defaultClientConfig`). @default {} */
  readonly config?: ClientConfig;
  /**
   * Where the store lives, as the app sees it (at most 1,024 characters; the CLI: the data
   * directory's real path and the store file's inode). When it differs from the one the store
   * recorded, the store was copied as files: it is another device and draws a new owner device id
   * (docs/RESTORE.md, "Two owner devices at once"). Undefined: not checked.
   */
  readonly deviceOrigin?: string;
}

/** This client's role in one organization. */
export type OrgRole =
  /** Holds the organization key. */
  | "owner"
  /** A member. */
  | "member"
  /** Asked to join; waiting for the owner. */
  | "requester"
  /** Knows the organization (discovered, or was refused / cancelled / left). */
  | "observer";

/** A channel as the client shows it. */
export interface ChannelView {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly categoryId: string;
  readonly access: AccessMode;
  readonly private: boolean;
  /** Whether this channel runs its own group (restricted channel of an encrypted organization). */
  readonly restricted: boolean;
  /** Whether this identity may post here. */
  readonly canPost: boolean;
  /**
   * The channel's roster (spec 55 `OrganizationChat.members`): the member ids `setChannelMembers`
   * last set, sorted. Who reads a restricted channel: these, the owner, and grant holders.
   */
  readonly members: readonly string[];
}

/** A join request as the owner lists it. */
export interface RequestView {
  readonly id: string;
  readonly requester: string;
  readonly displayName: string;
  readonly chatId: string;
  readonly sentAt: number;
  readonly status: "pending" | "accepted" | "rejected" | "cancelled" | "expired";
  readonly reason?: string;
}

/** One organization as this client sees it. */
export interface OrganizationView {
  /** The organization key, 64 lowercase hex characters. */
  readonly id: string;
  readonly role: OrgRole;
  readonly identity: Identity;
  readonly access: AccessMode;
  readonly encrypted: boolean;
  readonly tags: readonly string[];
  readonly pinMessageAllMembersEnabled: boolean;
  /** Member ids with their roles (the owner included, without roles). */
  readonly members: ReadonlyMap<string, readonly Role[]>;
  /**
   * Members' display names, by member id: the name each was admitted with (its request's, or the
   * request that used its invitation), as the owner's description carries it; members without one
   * are absent. Text a stranger chose (at most 256 UTF-8 bytes): escape it before showing it, and
   * tell apart two members of the same name (e.g. with a prefix of their id).
   */
  readonly memberNames: ReadonlyMap<string, string>;
  readonly banned: readonly string[];
  readonly channels: readonly ChannelView[];
  readonly categories: ReadonlyMap<string, string>;
  /** Clock of the state (the newest event or description applied). */
  readonly clock: bigint;
  /** The organization-wide epoch this client is in (encrypted organizations), if any. */
  readonly epoch?: bigint;
  /** This identity's own join request, if it made one. */
  readonly request?: { readonly id: string; readonly status: string; readonly reason?: string };
}

/** An invitation waiting for this identity's answer (`listInvitations`). */
export interface InvitationView {
  /** The inviting organization's key, 64 lowercase hex characters. */
  readonly organizationId: string;
  /** The invitation's id (hex SHA-256 of its envelope). */
  readonly invitationId: string;
  /** The channel it invites into ("" = the organization itself). */
  readonly chatId: string;
  /** The inviter's time (ms since the Unix epoch), as the invitation claims it. */
  readonly sentAt: number;
  /** When this client received it (ms, this client's clock). */
  readonly receivedAt: number;
  /**
   * When it can no longer be used: `invitationExpiryMs` (7 days) after the earlier of `sentAt` and
   * `receivedAt` (a claimed time in the future does not make it last longer). It leaves the list
   * then.
   */
  readonly expiresAt: number;
  /**
   * The organization's name, only when this client already knows the organization (it discovered
   * it); an invitation carries no description.
   */
  readonly name?: string;
}

/** A channel message as the app sees it. */
export interface MessageView {
  /** The event id (hex SHA-256 of what was published). */
  readonly id: string;
  readonly organizationId: string;
  readonly channelId: string;
  readonly author: string;
  readonly text: string;
  /** The author's time (ms since the Unix epoch), as the post claims it: not checked. */
  readonly sentAt: number;
  /**
   * When it reached the network (ms, this client's clock): on arrival when heard live, its store's
   * timestamp when read from history. Equal to `sentAt` for own posts and records stored before
   * this field.
   */
  readonly receivedAt: number;
  /**
   * The time to show: `sentAt` when it is within `postTimeSkewMs` (2 min) of `receivedAt`, else
   * `receivedAt` (a post cannot be backdated or dated in the future on screen).
   */
  readonly shownAt: number;
  readonly clock: bigint;
  readonly replyTo?: string;
  readonly edited: boolean;
  readonly deleted: boolean;
  readonly pinned: boolean;
  /** Sent by this identity. */
  readonly own: boolean;
}

/** Events the client emits (past-tense keys). */
export interface ClientEvents {
  /** A description of an organization was assembled and verified for the first time. */
  "org:discovered": { readonly organizationId: string; readonly name: string };
  /** A newer description (member side) or an own change (owner side) changed the state. */
  "org:updated": { readonly organizationId: string; readonly clock: bigint };
  /** Owner: a request to join arrived. */
  "request:received": {
    readonly organizationId: string;
    readonly requestId: string;
    readonly requester: string;
    readonly displayName: string;
  };
  /** A request was cancelled (owner: by its requester; requester: its own cancel). */
  "request:cancelled": {
    readonly organizationId: string;
    readonly requestId: string;
    readonly requester: string;
  };
  /** A request was accepted (owner: decided; requester: the owner's response arrived). */
  "request:accepted": {
    readonly organizationId: string;
    readonly requestId: string;
    readonly requester: string;
  };
  /** A request was rejected, with the owner's reason (delivered to the requester). */
  "request:rejected": {
    readonly organizationId: string;
    readonly requestId: string;
    readonly requester: string;
    readonly reason: string;
    /**
     * Why, for a UI: `queue-full` (the owner's queue was full or too many requests arrived lately:
     * ask again later; no cool-down applies), `clock-ahead` (the request was signed too far ahead of
     * the owner's clock: fix this device's clock and ask again), or `rejected` (a decision).
     */
    readonly code: RequestRejectionCode;
  };
  /**
   * An invitation to an organization arrived in this identity's inbox. It is only pending
   * (`listInvitations`): nothing of the organization is stored or listened to until
   * `acceptInvitation`; `declineInvitation` forgets it.
   */
  "invitation:received": {
    readonly organizationId: string;
    readonly invitationId: string;
    readonly chatId: string;
  };
  "member:joined": { readonly organizationId: string; readonly member: string };
  "member:left": { readonly organizationId: string; readonly member: string };
  "member:removed": { readonly organizationId: string; readonly member: string };
  "member:banned": { readonly organizationId: string; readonly member: string };
  "member:unbanned": { readonly organizationId: string; readonly member: string };
  "member:roles-changed": {
    readonly organizationId: string;
    readonly member: string;
    readonly roles: readonly Role[];
  };
  /**
   * Owner: another device runs this organization as its owner too (an owner-signed bundle with
   * another device id, at a clock this device did not write: docs/RESTORE.md). This device stopped
   * writing as owner (`OwnerForkDetectedError`); it reads on.
   */
  "owner:fork-detected": {
    readonly organizationId: string;
    /** The other device's id (hex). */
    readonly device: string;
    /** This device's id (hex). */
    readonly ownDevice: string;
    /** The clock of the other device's bundle. */
    readonly clock: bigint;
  };
  /** This client entered a new epoch of a group ("" = the organization, else a restricted channel). */
  "epoch:changed": {
    readonly organizationId: string;
    readonly channelId: string;
    readonly epoch: bigint;
  };
  "message:received": { readonly message: MessageView };
  "message:edited": { readonly message: MessageView };
  "message:deleted": { readonly message: MessageView };
  "message:pinned": { readonly message: MessageView };
  /** A message arrived for an epoch this client does not hold yet; it is kept and retried. */
  "message:waiting-for-key": {
    readonly organizationId: string;
    readonly channelId: string;
    /** The message's `key_id`, hex. */
    readonly keyId: string;
    /** Id of the buffered message (hex SHA-256 of its bytes). */
    readonly pendingId: string;
  };
  /** A buffered message can never be opened (its epoch is gone for good, or it waited too long). */
  "message:undecryptable": {
    readonly organizationId: string;
    readonly channelId: string;
    readonly keyId: string;
    readonly pendingId: string;
    readonly reason: "expired" | "epoch-unavailable" | "buffer-full";
  };
  /** Member: a resync request was sent to the owner. Owner: one was received and answered. */
  "resync:requested": {
    readonly organizationId: string;
    readonly channelId: string;
    readonly member: string;
  };
  /** Background work failed (a publish, a malformed message is *not* reported here). */
  error: { readonly organizationId?: string; readonly error: unknown };
  /**
   * Network input was dropped (undecodable, unauthentic, undecryptable, not for this client) or a
   * received step could not be applied. Dropping is the protocol's answer to bad input; this event
   * only makes it visible (docs/CLIENT.md, "Diagnostics"). `component` names the client component
   * (`client/messages`, `client/pairwise`, `client/key-sync`, `client/description`,
   * `client/owner-requests`), `reason` is a stable kebab-case id, `topic` the content topic.
   */
  diagnostic: Diagnostic;
}

/** Listener of one client event. */
export type ClientListener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

/** What to create an organization with. */
export interface CreateOrganizationInit {
  readonly name: string;
  /** @default "" */
  readonly description?: string;
  /** @default "on-request" */
  readonly access?: Permissions["access"];
  /** @default false */
  readonly ensOnly?: boolean;
  /** Encrypt channel messages with the group ratchet. @default true */
  readonly encrypted?: boolean;
  /** @default [] */
  readonly tags?: readonly string[];
  /** @default false */
  readonly pinMessageAllMembersEnabled?: boolean;
}

/** What to create a channel with. */
export interface CreateChannelInit {
  /** 1-64 characters of `[A-Za-z0-9_-]`. */
  readonly id: string;
  readonly name: string;
  /** @default "" */
  readonly description?: string;
  /** @default "" (no category) */
  readonly categoryId?: string;
  /**
   * `no-membership` with `private` false is open to every member; anything else is restricted.
   * @default "no-membership"
   */
  readonly access?: Permissions["access"];
  /** @default false */
  readonly private?: boolean;
}

/** What a member sends with a request to join. */
export interface JoinRequestInit extends OperationOptions {
  /** @default "" */
  readonly displayName?: string;
  /** @default "" */
  readonly ensName?: string;
}

/** Why a request to join was rejected, for a UI (`request:rejected`'s `code`). */
export type RequestRejectionCode = "queue-full" | "clock-ahead" | "rejected";

/**
 * The code of a rejection reason: the owner's automatic answers (`requestRejectionReasons` of
 * `@orgchat/state`) have their own, every other reason is a decision.
 *
 * @param reason - the rejection's reason text
 * @returns `queue-full`, `clock-ahead` or `rejected`
 */
export function rejectionCode(reason: string): RequestRejectionCode {
  if (reason === requestRejectionReasons.queueFull) return "queue-full";
  if (reason === requestRejectionReasons.clockAhead) return "clock-ahead";
  return "rejected";
}
