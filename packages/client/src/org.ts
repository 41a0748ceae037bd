import { toHex } from "@orgchat/base";
import type {
  CryptoProvider,
  MemberGroup,
  OwnerGroup,
  OwnerPrekeys,
  PairwiseSession,
  PrekeyBundleFields,
  WelcomeInit,
} from "@orgchat/crypto";
import { type OrgEvent, OrgLog, type OrgState } from "@orgchat/state";
import type { StoreOp } from "@orgchat/store";
import type { Subscription } from "@orgchat/transport";
import type { EnvelopeSigner, KeyUpdate } from "@orgchat/wire";
import { HeldEvents, heldEventLimits, type MessageMeta } from "./held-events.js";
import { forkGuardedSigner, newOwnerDeviceState, type OwnerDeviceState } from "./owner-device.js";
import type { StoredMemberKeys } from "./owner-keys.js";
import { RosterBook } from "./roster-book.js";
import type { ClientEvents, OrgRole } from "./types.js";

/** Keys a member holds for one organization (the owner's leaf uses the organization key). */
export interface OrgKeys {
  /** Ed25519 per-organization signing key `S_m` (secret, public). */
  readonly signingSecret: Uint8Array;
  readonly signingKey: Uint8Array;
  /** X25519 prekey `P_m`. */
  readonly prekeySecret: Uint8Array;
  readonly prekey: Uint8Array;
}

/** The client's own join request. */
export interface OwnRequest {
  readonly id: string;
  status: "pending" | "accepted" | "rejected" | "cancelled";
  reason?: string;
}

/** A message waiting for the key of its epoch. */
export interface PendingMessage {
  readonly id: string;
  readonly topic: string;
  readonly channelId: string;
  readonly keyId: string;
  readonly payload: Uint8Array;
  readonly receivedAt: number;
  /**
   * A restricted channel's message that came before this member knew it was on the channel's
   * roster: kept silently (no `message:waiting-for-key`, no resync) until access shows up or it
   * expires.
   */
  readonly foreign?: true;
}

/** A KeyUpdate chunk waiting for its group (a late Welcome) or its epoch's roster. */
export interface WaitingChunk {
  /** Hash of the envelope that carried it (marked seen once the chunk is applied). */
  readonly id: string;
  readonly chunk: KeyUpdate;
  /** Signed by a delegate: its entries use delegate salts (docs/DELEGATION.md). */
  readonly delegate?: true;
}

/**
 * Member: a group replaced by a resync Welcome, kept for the late messages of its earlier epochs
 * (`MemberGroup.fromWelcome` holds the Welcome's epoch only) until the retention window ends.
 */
export interface RetiredGroup {
  readonly channelId: string;
  readonly group: MemberGroup;
  readonly retiredAt: number;
}

/** Description pieces received, by hash of the page bytes. */
export interface DescriptionPieces {
  headers: Map<string, { clock: bigint; payload: Uint8Array }>;
  pages: Map<string, Uint8Array>;
}

/** A description as stored: the header and page payloads it was assembled from, and its clock. */
export interface StoredDescription {
  header: Uint8Array;
  pages: Uint8Array[];
  clock: bigint;
}

/** What only the owner of an organization (the holder of its key) keeps. */
export interface OwnerSide {
  readonly orgSecret: Uint8Array;
  /** The organization key's signer; refuses while another owner device is seen (owner-device.ts). */
  readonly signer: EnvelopeSigner;
  /** This device's standing as owner: where it started, and a fork once seen (owner-device.ts). */
  readonly device: OwnerDeviceState;
  readonly prekeys: OwnerPrekeys;
  /** One group per encrypted scope ("" = the organization, else a restricted channel). */
  readonly groups: Map<string, OwnerGroup>;
  /**
   * The pairwise sessions in use, by member: a cache (most recently used last) of the stored ones
   * (`pairwise/<member>`), at most `ownerKeyLimits.maxCachedPeers` after a commit. Read through
   * `ownerSession` (owner-keys.ts): a member missing here may well have a session.
   */
  readonly sessions: Map<string, PairwiseSession>;
  /**
   * Unused: an X3DH-carrying message is routed by its signer (the member) and the ephemeral key of
   * that member's session. Kept empty for compatibility.
   * @deprecated
   */
  readonly byEphemeral: Map<string, string>;
  /**
   * The keys members sent (MemberKeys) in use: a cache of the stored ones (`memberkeys/<member>`),
   * like `sessions`; read through `ownerMemberKeys` (owner-keys.ts).
   */
  readonly memberKeys: Map<string, StoredMemberKeys>;
  /** The last snapshot published on each group's keys topic (rate limit of resync answers). */
  readonly snapshots: Map<string, { keyId: string; at: number }>;
  /** Members waiting for a re-key, by group. */
  readonly pendingRemovals: Map<string, Set<string>>;
  rekeyDueAt?: number | undefined;
  rekeyTimer?: unknown;
  /**
   * Members accepted and waiting for the add flush, by group (`addWindowMs`). Memory only: after a
   * crash the start's full reconcile finds them again (members in the state, not on the roster).
   */
  readonly pendingAdds: Map<string, Set<string>>;
  /** An accepted member waits for the add flush's description (the flush publishes it). */
  describeDue: boolean;
  addDueAt?: number | undefined;
  addTimer?: unknown;
  /**
   * When each member's last resync was answered, oldest first: only those within the last
   * `resyncAnswerIntervalMs` (older entries decide nothing and are dropped as answers go out).
   */
  readonly resyncAnswered: Map<string, number>;
}

/**
 * The keys of whoever receives requests to join (docs/DELEGATION.md, "Requests reach the
 * delegates"): the owner's (`OwnerSide`), or a delegate's (`DelegateSide`). Read and stored through
 * owner-keys.ts, under the same record names in the organization's space.
 */
export interface DeskKeys {
  /** X3DH keys; the identity key is the organization key (owner) or the member id (delegate). */
  readonly prekeys: OwnerPrekeys;
  /** Pairwise sessions with requesters and members, a cache of the stored ones (see `OwnerSide`). */
  readonly sessions: Map<string, PairwiseSession>;
  /** Keys requesters sent (MemberKeys), a cache of the stored ones (see `OwnerSide`). */
  readonly memberKeys: Map<string, StoredMemberKeys>;
}

/**
 * What a member whose rank is admin or manager keeps to receive requests (docs/DELEGATION.md): its
 * X3DH keys (identity = its member id), published as a `delegate-bundle`, and the sessions and keys
 * of the requesters that reached it. Made when the state first gives it the rank; kept after (the
 * records of requesters are dropped as their requests end, like the owner's).
 */
export interface DelegateSide extends DeskKeys {
  /** The signer of what it sends to requesters: its identity key. */
  readonly signer: EnvelopeSigner;
}

/** What a member, requester or observer keeps (everything it learns from the owner). */
export interface MemberSide {
  readonly groups: Map<string, MemberGroup>;
  /** Its desk for requests while it is (or was) a delegate (docs/DELEGATION.md). */
  delegate?: DelegateSide | undefined;
  /**
   * Requester: sessions with the delegates its request went to (by delegate id), and the
   * delegates' verified bundles read from the description topic (by delegate id, newest by clock).
   */
  readonly delegateSessions: Map<string, PairwiseSession>;
  readonly delegateBundles: Map<string, { clock: bigint; bundle: PrekeyBundleFields }>;
  /** The session with the owner. */
  ownerSession?: PairwiseSession | undefined;
  /** The owner's verified prekey bundle (from the description topic). */
  bundle?: PrekeyBundleFields & { readonly ownerDevice?: Uint8Array };
  /** The description the log is based on (payloads), and pieces not assembled yet. */
  description?: StoredDescription;
  readonly pieces: DescriptionPieces;
  request?: OwnRequest;
  /** Resync back-off per group. */
  readonly resyncBackoff: Map<string, { delay: number; nextAt: number }>;
  resyncTimer?: unknown;
  /** Chunks by key id: waiting for their epoch's roster, or for their group's Welcome. */
  readonly waitingChunks: Map<string, WaitingChunk[]>;
  /**
   * Key ids of KeyUpdates that skip epochs, whose missing add steps are being looked for in
   * history (false) or were (true): an add step cannot be bridged, its epochs would be lost.
   */
  readonly gapChecked: Map<string, boolean>;
  /** Groups replaced by a resync Welcome, by store key suffix (`<key id>/<group>`). */
  readonly retiredGroups: Map<string, RetiredGroup>;
  readonly waitingWelcomes: Map<string, WelcomeInit>;
  recovering: boolean;
  /**
   * Set when this store was restored from a backup (docs/RESTORE.md): per group, the epoch at and
   * below which this device sends nothing ("pending": every epoch, until a Welcome comes on the
   * pairwise session made after the restore); a group without an entry is "pending".
   */
  restore?: RestoreFloors | undefined;
}

/** The send floors of a restored member (`MemberSide.restore`). */
export interface RestoreFloors {
  readonly floors: Map<string, bigint | "pending">;
  /** Per group, the floor a fresh epoch was last asked for (asked again when the floor moves). */
  readonly asked: Map<string, bigint | "pending">;
}

/** What the client keeps for one organization whatever its role. */
export interface OrgCommon {
  readonly id: Uint8Array;
  readonly hex: string;
  readonly log: OrgLog;
  readonly keys: OrgKeys;
  /** Epoch rosters by key id, and the deltas and snapshot pages that do not make one yet. */
  readonly rosters: RosterBook;
  discovered: boolean;
  /**
   * Members this client saw leave the state (removed, banned or gone) and not come back, oldest
   * first (persisted, at most `maxDepartedRemembered`): a description lists only who is in, so this
   * is how a member tells a departed author from one it does not know yet (`hasDeparted`).
   */
  readonly departed: Set<string>;
  /**
   * Per topic: history up to this time (ms, transport timestamps) was read by a complete sweep
   * (persisted; a restart reads from here, less the overlap).
   */
  readonly marks: Map<string, number>;
  readonly pending: Map<string, PendingMessage>;
  /**
   * Events refused in place for now (e.g. a post whose author no description lists yet), by id:
   * bounded (`heldEventLimits`), persisted in the `held/<id>` log, never in the events log until a
   * later event or description explains them.
   */
  readonly heldEvents: HeldEvents;
  /**
   * Message events whose author the epoch roster of their group message proves was a member (with
   * access to the channel) when it was sent, by id. The state judges membership now (a description
   * carries no membership history), so a message of an author removed since is refused there; it
   * is judged by its own epoch instead and kept from here (docs/CLIENT.md, "Persistence").
   */
  readonly proven: Map<string, OrgEvent>;
  /** sentAt, receivedAt and replyTo of the messages kept (applied or proven), by event id. */
  readonly messageMeta: Map<string, MessageMeta>;
  readonly subscriptions: Map<string, Subscription>;
  lastSeen: number;
}

/** An organization this client owns. */
export interface OwnerOrg extends OrgCommon {
  readonly role: "owner";
  readonly owner: OwnerSide;
}

/** An organization this client is a member of, asked to join, or only knows. */
export interface MemberOrg extends OrgCommon {
  role: Exclude<OrgRole, "owner">;
  readonly member: MemberSide;
}

/** Everything the client keeps in memory for one organization: owner or member state, never both. */
export type Org = OwnerOrg | MemberOrg;

/** A member organization in which this client holds a delegate's desk. */
export interface DelegateOrg extends MemberOrg {
  readonly member: MemberSide & { delegate: DelegateSide };
}

/** An organization in which this client receives requests: as its owner, or as a delegate. */
export type DeskOrg = OwnerOrg | DelegateOrg;

/** Whether this client holds a desk for requests in `org` (owner, or a delegate's). */
export function isDeskOrg(org: Org): org is DeskOrg {
  return org.role === "owner" || org.member.delegate !== undefined;
}

/** The request keys of a desk organization: the owner's or the delegate's. */
export function deskKeys(org: DeskOrg): DeskKeys {
  // By the side it holds (what decides the keys), not the role field.
  return "owner" in org ? org.owner : org.member.delegate;
}

/** The reducer rules a client sets for its own organizations' logs (`config.maxPendingRequests`). */
export interface OrgLogRules {
  readonly maxPendingRequests?: number;
}

function common(
  provider: CryptoProvider,
  id: Uint8Array,
  keys: OrgKeys,
  rules: OrgLogRules,
): OrgCommon {
  const hex = toHex(id);
  return {
    id,
    hex,
    // The state's buffer of refused events is bounded by count only: held to the same count as the
    // client's quota, so that junk costs no more memory than `heldEventLimits.maxEvents` events.
    log: new OrgLog({
      organizationId: hex,
      maxBuffered: heldEventLimits.maxEvents,
      ...(rules.maxPendingRequests === undefined
        ? {}
        : { config: { maxPendingRequests: rules.maxPendingRequests } }),
    }),
    keys,
    rosters: new RosterBook(provider),
    discovered: false,
    departed: new Set(),
    marks: new Map(),
    pending: new Map(),
    heldEvents: new HeldEvents(),
    proven: new Map(),
    messageMeta: new Map(),
    subscriptions: new Map(),
    lastSeen: 0,
  };
}

/** A new, empty owned organization. */
export function newOwnerOrg(
  provider: CryptoProvider,
  id: Uint8Array,
  keys: OrgKeys,
  secrets: { orgSecret: Uint8Array; signer: EnvelopeSigner; prekeys: OwnerPrekeys },
  rules: OrgLogRules = {},
): OwnerOrg {
  const device = newOwnerDeviceState();
  return {
    ...common(provider, id, keys, rules),
    role: "owner",
    owner: {
      ...secrets,
      signer: forkGuardedSigner(toHex(id), secrets.signer, device),
      device,
      groups: new Map(),
      sessions: new Map(),
      byEphemeral: new Map(),
      memberKeys: new Map(),
      snapshots: new Map(),
      pendingRemovals: new Map(),
      pendingAdds: new Map(),
      describeDue: false,
      resyncAnswered: new Map(),
    },
  };
}

/** A new, empty organization of someone else. */
export function newMemberOrg(
  provider: CryptoProvider,
  id: Uint8Array,
  role: MemberOrg["role"],
  keys: OrgKeys,
  rules: OrgLogRules = {},
): MemberOrg {
  return {
    ...common(provider, id, keys, rules),
    role,
    member: {
      groups: new Map(),
      delegateSessions: new Map(),
      delegateBundles: new Map(),
      pieces: { headers: new Map(), pages: new Map() },
      resyncBackoff: new Map(),
      waitingChunks: new Map(),
      gapChecked: new Map(),
      retiredGroups: new Map(),
      waitingWelcomes: new Map(),
      recovering: false,
    },
  };
}

/** The current group of `channelId` ("" = the organization's), whatever the role. */
export function groupOf(org: Org, channelId: string): OwnerGroup | MemberGroup | undefined {
  return org.role === "owner" ? org.owner.groups.get(channelId) : org.member.groups.get(channelId);
}

/** One client event, ready to emit: its name and payload. */
export type ClientEventEntry = {
  [K in keyof ClientEvents]: [K, ClientEvents[K]];
}[keyof ClientEvents];

/** One unit of work: what to commit atomically, then publish, then tell the app. */
export interface Txn {
  readonly before: OrgState;
  readonly ops: StoreOp[];
  readonly outbox: Array<{ id: string; topic: string; bytes: Uint8Array }>;
  readonly emits: ClientEventEntry[];
  readonly events: OrgEvent[];
  /** Ids of the network messages this unit of work processed, marked seen durably on commit. */
  readonly seen: string[];
  readonly groups: Set<string>;
  readonly sessions: Set<string>;
  prekeys: boolean;
  meta: boolean;
  description: boolean;
  /** Groups whose epoch changed (pending messages are retried after commit). */
  epochChanged: boolean;
  /**
   * The unit of work replaces or drops key material (a re-key, a new epoch, a retired group's end):
   * the commit asks the store to erase what it superseded from its files (`BatchOptions.checkpoint`),
   * so that keys of earlier epochs do not linger on disk after a crash (docs/SECURITY.md, row 10).
   */
  erasesKeys: boolean;
}

/** A new, empty transaction. */
export function newTxn(org: Org): Txn {
  return {
    before: org.log.state,
    ops: [],
    outbox: [],
    emits: [],
    events: [],
    seen: [],
    groups: new Set(),
    sessions: new Set(),
    prekeys: false,
    meta: false,
    description: false,
    epochChanged: false,
    erasesKeys: false,
  };
}
