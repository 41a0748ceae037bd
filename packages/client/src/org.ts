import type {
  MemberGroup,
  OwnerGroup,
  OwnerPrekeys,
  PairwiseSession,
  PrekeyBundleFields,
  WelcomeInit,
} from "@orgchat/crypto";
import type { OrgEvent, OrgLog, OrgState } from "@orgchat/state";
import type { StoreOp } from "@orgchat/store";
import type { Subscription } from "@orgchat/transport";
import type { EnvelopeSigner, KeyUpdate } from "@orgchat/wire";
import type { RosterBook } from "./epoch-roster.js";
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

/** Everything the client keeps in memory for one organization. */
export interface Org {
  readonly id: Uint8Array;
  readonly hex: string;
  role: OrgRole;
  log: OrgLog;
  keys: OrgKeys;
  /** Owner only. */
  orgSecret?: Uint8Array;
  signer?: EnvelopeSigner;
  prekeys?: OwnerPrekeys;
  readonly ownerGroups: Map<string, OwnerGroup>;
  readonly memberGroups: Map<string, MemberGroup>;
  /** Owner: one pairwise session per member; `byEphemeral` routes X3DH-carrying messages. */
  readonly sessions: Map<string, PairwiseSession>;
  readonly byEphemeral: Map<string, string>;
  /** Member: the session with the owner. */
  ownerSession?: PairwiseSession | undefined;
  /** Owner: the keys each member sent (MemberKeys). */
  readonly memberKeys: Map<string, { signingKey: Uint8Array; prekey: Uint8Array }>;
  /** Epoch rosters by key id, and the deltas and snapshot pages that do not make one yet. */
  readonly rosters: RosterBook;
  /** Owner: the last snapshot published on each group's keys topic (rate limit of resync answers). */
  readonly snapshots: Map<string, { keyId: string; at: number }>;
  bundle?: PrekeyBundleFields;
  /** Member: the description the log is based on (payloads), and pieces not assembled yet. */
  description?: { header: Uint8Array; pages: Uint8Array[]; clock: bigint };
  readonly pieces: DescriptionPieces;
  discovered: boolean;
  request?: OwnRequest;
  /** Owner: members waiting for a re-key, by group. */
  readonly pendingRemovals: Map<string, Set<string>>;
  rekeyDueAt?: number | undefined;
  rekeyTimer?: unknown;
  /** Owner: when each member's last resync was answered. */
  readonly resyncAnswered: Map<string, number>;
  /** Member: resync back-off per group. */
  readonly resyncBackoff: Map<string, { delay: number; nextAt: number }>;
  resyncTimer?: unknown;
  /** Chunks by key id: waiting for their epoch's roster, or for their group's Welcome. */
  readonly waitingChunks: Map<string, WaitingChunk[]>;
  /**
   * Key ids of KeyUpdates that skip epochs, whose missing add steps are being looked for in
   * history (false) or were (true): an add step cannot be bridged, its epochs would be lost.
   */
  readonly gapChecked: Map<string, boolean>;
  /** Member: groups replaced by a resync Welcome, by store key suffix (`<key id>/<group>`). */
  readonly retiredGroups: Map<string, RetiredGroup>;
  /**
   * Per topic: history up to this time (ms, transport timestamps) was read by a complete sweep
   * (persisted; a restart reads from here, less the overlap).
   */
  readonly marks: Map<string, number>;
  readonly waitingWelcomes: Map<string, WelcomeInit>;
  readonly pending: Map<string, PendingMessage>;
  /** Message events refused in place for now (e.g. author not known yet), by id. */
  readonly heldEvents: Map<string, OrgEvent>;
  /**
   * Message events whose author the epoch roster of their group message proves was a member (with
   * access to the channel) when it was sent, by id. The state judges membership now (a description
   * carries no membership history), so a message of an author removed since is refused there; it
   * is judged by its own epoch instead and kept from here (docs/CLIENT.md, "Persistence").
   */
  readonly proven: Map<string, OrgEvent>;
  /** sentAt and replyTo of messages, by event id. */
  readonly messageMeta: Map<string, { sentAt: number; replyTo?: string }>;
  readonly subscriptions: Map<string, Subscription>;
  lastSeen: number;
  recovering: boolean;
}

/** One unit of work: what to commit atomically, then publish, then tell the app. */
export interface Txn {
  readonly before: OrgState;
  readonly ops: StoreOp[];
  readonly outbox: Array<{ id: string; topic: string; bytes: Uint8Array }>;
  readonly emits: Array<{ [K in keyof ClientEvents]: [K, ClientEvents[K]] }[keyof ClientEvents]>;
  readonly events: OrgEvent[];
  readonly groups: Set<string>;
  readonly sessions: Set<string>;
  prekeys: boolean;
  meta: boolean;
  description: boolean;
  /** Groups whose epoch changed (pending messages are retried after commit). */
  epochChanged: boolean;
}

/** A new, empty transaction. */
export function newTxn(org: Org): Txn {
  return {
    before: org.log.state,
    ops: [],
    outbox: [],
    emits: [],
    events: [],
    groups: new Set(),
    sessions: new Set(),
    prekeys: false,
    meta: false,
    description: false,
    epochChanged: false,
  };
}
