import {
  type CryptoProvider,
  defaultProvider,
  ed25519EnvelopeSigner,
  ed25519EnvelopeVerifier,
  isDuplicateMessageError,
  isUnknownEpochError,
  type KeyPair,
  MemberGroup,
  OwnerGroup,
  OwnerPrekeys,
  openKeyUpdateEnvelope,
  PairwiseSession,
  type Roster,
  rosterHash,
  sealKeyUpdate,
  type WelcomeInit,
  x3dhInitiate,
} from "@orgchat/crypto";
import {
  assembleDescription,
  buildDescriptionPages,
  cancelRequestToJoinFromWire,
  cancelRequestToJoinToWire,
  canPost,
  emptyIdentity,
  type Identity,
  invitationFromWire,
  invitationToWire,
  joinResponseFromWire,
  joinResponseToWire,
  type MemberId,
  type MessageRecord,
  type OrgEvent,
  type OrgEventOf,
  OrgLog,
  type OrgState,
  openDescriptionPages,
  type Permissions,
  type Role,
  reduce,
  requestStatus,
  requestToJoinFromWire,
  requestToJoinToWire,
  requestToLeaveFromWire,
  requestToLeaveToWire,
  sealDescriptionPages,
  stateFromDescription,
} from "@orgchat/state";
import type { LogEntry, Store, StoreOp } from "@orgchat/store";
import type { Transport, TransportMessage } from "@orgchat/transport";
import {
  type ChannelMessage,
  channelTopic,
  decodeChannelMessage,
  decodeDescriptionPage,
  decodeGroupMessage,
  decodePairwiseContent,
  decodePairwiseMessage,
  decodeSignedEnvelope,
  descriptionTopic,
  type EnvelopeSigner,
  encodeChannelMessage,
  encodePairwiseContent,
  type GroupMessage,
  inboxTopic,
  type KeyUpdate,
  keysTopic,
  MessageType,
  type OpenedEnvelope,
  openEnvelope,
  type PairwiseContent,
  type PayloadOf,
  publicKeyFromMemberId,
  requestsTopic,
  sealEnvelope,
} from "@orgchat/wire";
import { ClientEmitter } from "./emitter.js";
import { decodeJson, encodeJson, equalBytes, fromHex, hashId, toHex } from "./encoding.js";
import {
  decodeStoredRoster,
  type EpochRoster,
  isEpochRosterEnvelope,
  openEpochRoster,
  RosterBook,
  type RosterChange,
  rosterDeltaMessage,
  rosterSnapshotMessages,
  sealEpochRosters,
} from "./epoch-roster.js";
import {
  AbortError,
  ChannelAccessError,
  ClientClosedError,
  EventRejectedError,
  KeysNotReadyError,
  LeaveNotResolvedError,
  NotMemberError,
  NotOwnerError,
  OrganizationNotFoundError,
  OwnerUnreachableError,
  StoreCorruptedError,
  UnknownOrganizationError,
  UnknownTargetError,
} from "./errors.js";
import {
  newTxn,
  type Org,
  type OrgKeys,
  type PendingMessage,
  type RetiredGroup,
  type Txn,
  type WaitingChunk,
} from "./org.js";
import type {
  ChannelView,
  ClientConfig,
  ClientEvents,
  ClientInit,
  ClientListener,
  ClientTimers,
  MessageView,
  OperationOptions,
  OrganizationView,
  OrgRole,
  RequestView,
} from "./types.js";
import { type KdfParams, Vault } from "./vault.js";

type PairwiseContentInit = NonNullable<Parameters<typeof encodePairwiseContent>[0]["content"]>;
type ChannelBodyInit = NonNullable<Parameters<typeof encodeChannelMessage>[0]["body"]>;

/** Content type of a channel message inside a group message (the envelope type number, 49). */
const channelContentType = MessageType.CHANNEL_MESSAGE;

/** The defaults of {@link ClientConfig}. */
export const defaultClientConfig: Required<ClientConfig> = {
  rekeyWindowMs: 2_000,
  republishIntervalMs: 600_000,
  refreshIntervalMs: 48 * 60 * 60 * 1000,
  resyncAnswerIntervalMs: 60_000,
  resyncInitialBackoffMs: 5_000,
  resyncMaxBackoffMs: 600_000,
  maxPendingMessages: 1_000,
  maxPendingAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxBackfillPages: 50,
  leaveResolutionTimeoutMs: 30_000,
  syncIntervalMs: 5_000,
  syncMaxIntervalMs: 600_000,
  scryptN: 2 ** 17,
};

/**
 * A history sweep reads each topic from its mark less this much: a message stamped a little before
 * the mark (sender clock skew, a store that files late) is still read.
 */
const sweepOverlapMs = 60_000;

/**
 * How long a group replaced by a resync Welcome is kept for late messages: the retention window of
 * earlier epochs in `@orgchat/crypto` (`epochRetention.windowMs`).
 */
const retiredGroupWindowMs = 24 * 60 * 60 * 1000;

/** Groups replaced by resync Welcomes kept per group (see `retiredGroupWindowMs`). */
const maxRetiredGroups = 4;

/** Chunks kept in memory for a group this member does not hold (yet): read again from history. */
const maxWaitingChunks = 256;

/** What to create an organization with. */
export interface CreateOrganizationInit {
  readonly name: string;
  readonly description?: string;
  /** @default "on-request" */
  readonly access?: Permissions["access"];
  readonly ensOnly?: boolean;
  /** Encrypt channel messages with the group ratchet. @default true */
  readonly encrypted?: boolean;
  readonly tags?: readonly string[];
  readonly pinMessageAllMembersEnabled?: boolean;
}

/** What to create a channel with. */
export interface CreateChannelInit {
  /** 1-64 characters of `[A-Za-z0-9_-]`. */
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly categoryId?: string;
  /** `no-membership` with `private` false is open to every member; anything else is restricted. */
  readonly access?: Permissions["access"];
  readonly private?: boolean;
}

/** What a member sends with a request to join. */
export interface JoinRequestInit extends OperationOptions {
  readonly displayName?: string;
  readonly ensName?: string;
}

/**
 * The orgchat client: organizations, channels, requests, invitations, bans and group encryption
 * over any `Transport`, persisted through a `Store`. Make one with {@link createClient}.
 */
export interface Client {
  /** This identity's member id (64 lowercase hex characters of its Ed25519 key). */
  readonly memberId: string;
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): () => void;

  /** Creates an organization owned by this client; returns its id (the new key's public half). */
  createOrganization(init: CreateOrganizationInit, options?: OperationOptions): Promise<string>;
  editIdentity(
    organizationId: string,
    identity: Partial<Identity>,
    options?: OperationOptions,
  ): Promise<void>;
  setPermissions(
    organizationId: string,
    permissions: Partial<Permissions>,
    options?: OperationOptions,
  ): Promise<void>;
  setAdminSettings(
    organizationId: string,
    settings: { readonly pinMessageAllMembersEnabled: boolean },
    options?: OperationOptions,
  ): Promise<void>;
  setTags(
    organizationId: string,
    tags: readonly string[],
    options?: OperationOptions,
  ): Promise<void>;
  /** Switches between public and encrypted (encrypting starts an epoch and welcomes every member). */
  setEncrypted(
    organizationId: string,
    encrypted: boolean,
    options?: OperationOptions,
  ): Promise<void>;
  createChannel(
    organizationId: string,
    init: CreateChannelInit,
    options?: OperationOptions,
  ): Promise<void>;
  editChannel(
    organizationId: string,
    channelId: string,
    changes: Partial<Omit<CreateChannelInit, "id">>,
    options?: OperationOptions,
  ): Promise<void>;
  removeChannel(
    organizationId: string,
    channelId: string,
    options?: OperationOptions,
  ): Promise<void>;
  /** Replaces a channel's roster (members listed there may read and post in a restricted channel). */
  setChannelMembers(
    organizationId: string,
    channelId: string,
    members: Readonly<Record<string, readonly Role[]>>,
    options?: OperationOptions,
  ): Promise<void>;
  createCategory(
    organizationId: string,
    categoryId: string,
    name: string,
    options?: OperationOptions,
  ): Promise<void>;
  editCategory(
    organizationId: string,
    categoryId: string,
    name: string,
    options?: OperationOptions,
  ): Promise<void>;
  removeCategory(
    organizationId: string,
    categoryId: string,
    options?: OperationOptions,
  ): Promise<void>;
  /** Invites a key (sent to its inbox, owner-signed); returns the invitation id. */
  invite(
    organizationId: string,
    invitee: string,
    options?: OperationOptions & { readonly chatId?: string },
  ): Promise<string>;
  listRequests(organizationId: string): RequestView[];
  acceptRequest(
    organizationId: string,
    requestId: string,
    options?: OperationOptions,
  ): Promise<void>;
  /** Rejects a request; the reason is delivered to the requester. */
  rejectRequest(
    organizationId: string,
    requestId: string,
    reason: string,
    options?: OperationOptions,
  ): Promise<void>;
  removeMember(organizationId: string, member: string, options?: OperationOptions): Promise<void>;
  banMember(
    organizationId: string,
    member: string,
    options?: OperationOptions & { readonly deleteMessages?: boolean },
  ): Promise<void>;
  unbanMember(organizationId: string, member: string, options?: OperationOptions): Promise<void>;
  setRoles(
    organizationId: string,
    member: string,
    roles: readonly Role[],
    options?: OperationOptions,
  ): Promise<void>;
  issueGrant(
    organizationId: string,
    member: string,
    chatId: string,
    options?: OperationOptions,
  ): Promise<void>;
  revokeGrant(
    organizationId: string,
    member: string,
    chatId: string,
    options?: OperationOptions,
  ): Promise<void>;

  /** Finds an organization from its public key alone (description topic + history). */
  discover(organizationId: string, options?: OperationOptions): Promise<OrganizationView>;
  /** Asks the owner to join (over a new X3DH pairwise channel); returns the request id. */
  requestToJoin(organizationId: string, init?: JoinRequestInit): Promise<string>;
  cancelRequest(organizationId: string, options?: OperationOptions): Promise<void>;
  /** Joins with an invitation received in the inbox (a request the owner matches to it). */
  acceptInvitation(organizationId: string, init?: JoinRequestInit): Promise<string>;
  leave(organizationId: string, options?: OperationOptions): Promise<void>;
  sendMessage(
    organizationId: string,
    channelId: string,
    text: string,
    options?: OperationOptions & { readonly replyTo?: string },
  ): Promise<MessageView>;
  editMessage(
    organizationId: string,
    messageId: string,
    text: string,
    options?: OperationOptions,
  ): Promise<void>;
  deleteMessage(
    organizationId: string,
    messageId: string,
    options?: OperationOptions,
  ): Promise<void>;
  pinMessage(
    organizationId: string,
    messageId: string,
    pinned?: boolean,
    options?: OperationOptions,
  ): Promise<void>;
  /** Messages of a channel, oldest first. */
  history(organizationId: string, channelId: string): MessageView[];
  getOrganization(organizationId: string): OrganizationView;
  listOrganizations(): OrganizationView[];
  /** Member: backfills key material now and, if still stuck, asks the owner for a resync. */
  resync(organizationId: string, options?: OperationOptions): Promise<void>;
  /** Resolves once every queued operation and received message has been processed. */
  idle(): Promise<void>;
  /** Stops timers and subscriptions. The store and transport stay open (the caller owns them). */
  close(): Promise<void>;
}

interface Route {
  readonly org: string | undefined;
  readonly kind: "description" | "requests" | "inbox" | "keys" | "channel";
  readonly channelId: string;
}

interface IdentityRecord {
  readonly v: 1;
  readonly kdf: KdfParams | null;
  readonly check: string | null;
  readonly secrets: Uint8Array;
}

interface OrgMeta {
  readonly v: 1;
  readonly role: OrgRole;
  readonly request?: { id: string; status: string; reason?: string };
  readonly lastSeen: number;
  readonly bundle?: unknown;
  readonly description?: { header: Uint8Array; pages: Uint8Array[]; clock: bigint };
  readonly pendingRemovals: Record<string, string[]>;
  readonly rekeyDueAt?: number;
  readonly discovered: boolean;
  /** Per topic, history read up to here by a complete sweep (see `Org.marks`). */
  readonly marks?: Record<string, number>;
}

interface OrgSecrets {
  readonly orgSecret?: Uint8Array;
  readonly signingSecret: Uint8Array;
  readonly prekeySecret: Uint8Array;
}

const orgSpace = (org: string) => `org/${org}`;
const eventsLog = (org: string) => `events/${org}`;
const messagesLog = (org: string, channel: string) => `messages/${org}/${channel}`;
const outboxLog = (org: string) => `outbox/${org}`;
const pendingLog = (org: string) => `pending/${org}`;
const seenLog = (org: string) => `seen/${org}`;
const provenLog = (org: string) => `proven/${org}`;
const groupKey = (channel: string) => `group/${channel}`;

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError({ cause: signal.reason });
}

function isRestricted(state: OrgState, channelId: string): boolean {
  const channel = state.channels.get(channelId);
  if (channel === undefined) return false;
  return !(channel.permissions.access === "no-membership" && !channel.permissions.private);
}

function rosterMembers(roster: Roster): Map<string, number> {
  const out = new Map<string, number>();
  roster.forEach((leaf, index) => {
    if (leaf !== undefined) out.set(toHex(leaf.identityKey), index);
  });
  return out;
}

/**
 * Creates a client on a transport and a store: loads (or creates) the identity, resumes every
 * organization found in the store, re-publishes its outbox and backfills what it missed.
 *
 * @param init - transport, store, optional passphrase, injected clock / randomness / timers
 * @returns the client, listening
 * @throws WrongPassphraseError, PassphraseRequiredError, StoreCorruptedError; transport errors from
 *   `start()`
 * @example
 * ```ts
 * import { createClient } from "@orgchat/client";
 * import { memoryStore } from "@orgchat/store";
 * import { memoryNetwork } from "@orgchat/transport";
 *
 * const network = memoryNetwork();
 * const owner = await createClient({ transport: network.transport(), store: memoryStore() });
 * const orgId = await owner.createOrganization({ name: "Acme" });
 * ```
 */
export async function createClient(init: ClientInit): Promise<Client> {
  const provider = init.provider ?? defaultProvider();
  const random = init.random ?? ((length: number) => provider.randomBytes(length));
  const now = init.now ?? (() => Date.now());
  const timers: ClientTimers = init.timers ?? {
    setTimeout: (task, delayMs) => globalThis.setTimeout(task, delayMs),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const config = { ...defaultClientConfig, ...init.config };
  const store = init.store;
  const storedBytes = await store.get("identity", "self");
  let stored: IdentityRecord | undefined;
  if (storedBytes !== undefined) {
    try {
      stored = decodeJson<IdentityRecord>(storedBytes);
    } catch (cause) {
      throw new StoreCorruptedError("identity/self", { cause });
    }
  }
  const { vault, record } = await Vault.open({
    provider,
    random,
    passphrase: init.passphrase,
    stored: stored === undefined ? undefined : { kdf: stored.kdf, check: stored.check },
    scryptN: config.scryptN,
  });
  let identity: KeyPair;
  let identityDh: KeyPair;
  if (stored === undefined) {
    identity = provider.ed25519KeyPair();
    identityDh = provider.x25519KeyPair();
    const secrets = vault.sealJson("identity", "self", {
      identity: identity.secretKey,
      dh: identityDh.secretKey,
    });
    await store.put(
      "identity",
      "self",
      encodeJson({ v: 1, kdf: record.kdf, check: record.check, secrets }),
    );
  } else {
    const secrets = vault.openJson<{ identity: Uint8Array; dh: Uint8Array }>(
      "identity",
      "self",
      stored.secrets,
    );
    identity = {
      secretKey: secrets.identity,
      publicKey: provider.ed25519PublicKey(secrets.identity),
    };
    identityDh = { secretKey: secrets.dh, publicKey: provider.x25519PublicKey(secrets.dh) };
  }
  const client = new OrgchatClient({
    provider,
    random,
    now,
    timers,
    config,
    store,
    transport: init.transport,
    vault,
    identity,
    identityDh,
  });
  await client.start();
  return client;
}

interface ClientParts {
  provider: CryptoProvider;
  random: (length: number) => Uint8Array;
  now: () => number;
  timers: ClientTimers;
  config: Required<ClientConfig>;
  store: Store;
  transport: Transport;
  vault: Vault;
  identity: KeyPair;
  identityDh: KeyPair;
}

class OrgchatClient implements Client {
  readonly memberId: string;
  readonly #p: ClientParts;
  readonly #emitter = new ClientEmitter();
  readonly #orgs = new Map<string, Org>();
  readonly #routes = new Map<string, Route>();
  readonly #seen = new Set<string>();
  readonly #identitySigner: EnvelopeSigner;
  readonly #verify;
  readonly #inbox: string;
  #inboxSubscription: { unsubscribe(): Promise<void> } | undefined;
  #queue: Promise<void> = Promise.resolve();
  #busy = 0;
  #closed = false;
  #tick: unknown;
  #sweepTimer: unknown;
  #sweepDelay: number;
  /** The inbox's sweep mark (in memory: a start reads the whole inbox again). */
  #inboxMark: number | undefined;
  /** Operations waiting outside the queue (a rejoin waiting for its leave): failed on close. */
  readonly #waiters = new Set<(error: Error) => void>();

  constructor(parts: ClientParts) {
    this.#p = parts;
    this.memberId = toHex(parts.identity.publicKey);
    this.#identitySigner = ed25519EnvelopeSigner(parts.provider, parts.identity.secretKey);
    this.#verify = ed25519EnvelopeVerifier(parts.provider);
    this.#inbox = inboxTopic(parts.identity.publicKey);
    this.#sweepDelay = parts.config.syncIntervalMs;
  }

  // -----------------------------------------------------------------------------------------------
  // Lifecycle
  // -----------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    const { transport, store } = this.#p;
    await transport.start();
    this.#routes.set(this.#inbox, { org: undefined, kind: "inbox", channelId: "" });
    this.#inboxSubscription = await transport.subscribe([this.#inbox], (message) =>
      this.#receive(message),
    );
    for (const hex of await store.keys("orgs")) {
      const org = await this.#load(hex);
      this.#orgs.set(hex, org);
    }
    for (const org of this.#orgs.values()) {
      await this.#syncSubscriptions(org);
      if (org.rekeyDueAt !== undefined) this.#scheduleRekey(org, org.rekeyDueAt);
    }
    // Catching up emits events: let the app attach its listeners first (one macrotask turn after
    // createClient resolves). `idle()` waits for it.
    this.#background(undefined, async () => {
      await new Promise<void>((resolve) => globalThis.setTimeout(resolve, 0));
      for (const org of this.#orgs.values()) await this.#flushOutbox(org);
      await this.#backfillInbox();
      for (const org of this.#orgs.values()) await this.#catchUp(org);
      this.#scheduleSweep(this.#sweepDelay);
    });
    this.#scheduleTick();
  }

  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): () => void {
    return this.#emitter.on(event, listener);
  }

  async idle(): Promise<void> {
    while (this.#busy > 0) await this.#queue;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.idle();
    this.#closed = true;
    for (const fail of [...this.#waiters]) fail(new ClientClosedError());
    if (this.#tick !== undefined) this.#p.timers.clearTimeout(this.#tick);
    if (this.#sweepTimer !== undefined) this.#p.timers.clearTimeout(this.#sweepTimer);
    for (const org of this.#orgs.values()) {
      if (org.rekeyTimer !== undefined) this.#p.timers.clearTimeout(org.rekeyTimer);
      if (org.resyncTimer !== undefined) this.#p.timers.clearTimeout(org.resyncTimer);
      for (const subscription of org.subscriptions.values()) {
        await subscription.unsubscribe().catch(() => undefined);
      }
      org.subscriptions.clear();
    }
    await this.#inboxSubscription?.unsubscribe().catch(() => undefined);
    this.#emitter.clear();
  }

  #task<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClientClosedError());
    this.#busy++;
    const run = this.#queue.then(fn);
    this.#queue = run.then(
      () => {
        this.#busy--;
      },
      () => {
        this.#busy--;
      },
    );
    return run;
  }

  #background(org: string | undefined, fn: () => Promise<void>): void {
    if (this.#closed) return;
    this.#task(fn).catch((error: unknown) => {
      if (!this.#closed) {
        this.#emitter.emit("error", org === undefined ? { error } : { organizationId: org, error });
      }
    });
  }

  #scheduleTick(): void {
    const interval = this.#p.config.republishIntervalMs;
    if (interval <= 0 || this.#closed) return;
    this.#tick = this.#p.timers.setTimeout(() => {
      this.#tick = undefined;
      this.#background(undefined, async () => {
        for (const org of this.#orgs.values()) await this.#periodic(org);
      });
      this.#scheduleTick();
    }, interval);
  }

  async #periodic(org: Org): Promise<void> {
    await this.#flushOutbox(org);
    this.#expirePending(org);
    this.#expireRetired(org);
    if (org.role !== "owner") return;
    const txn = newTxn(org);
    const now = this.#p.now();
    for (const [channelId, group] of org.ownerGroups) {
      if (group.refreshDue(now, this.#p.config.refreshIntervalMs)) {
        await this.#rekeyGroup(org, txn, channelId, []);
      }
    }
    txn.description = true;
    // With the description: a recent snapshot in Store lets a member that missed deltas (or a
    // newcomer) rebuild the roster from history alone.
    for (const channelId of org.ownerGroups.keys()) {
      await this.#publishSnapshot(org, txn, channelId, "periodic");
    }
    await this.#commit(org, txn);
  }

  // -----------------------------------------------------------------------------------------------
  // Loading and persisting
  // -----------------------------------------------------------------------------------------------

  #emptyOrg(id: Uint8Array, role: OrgRole, keys: OrgKeys): Org {
    const hex = toHex(id);
    return {
      id,
      hex,
      role,
      log: new OrgLog({ organizationId: hex }),
      keys,
      ownerGroups: new Map(),
      memberGroups: new Map(),
      sessions: new Map(),
      byEphemeral: new Map(),
      memberKeys: new Map(),
      rosters: new RosterBook(this.#p.provider),
      snapshots: new Map(),
      pieces: { headers: new Map(), pages: new Map() },
      discovered: false,
      pendingRemovals: new Map(),
      resyncAnswered: new Map(),
      resyncBackoff: new Map(),
      waitingChunks: new Map(),
      retiredGroups: new Map(),
      gapChecked: new Map(),
      marks: new Map(),
      waitingWelcomes: new Map(),
      pending: new Map(),
      heldEvents: new Map(),
      proven: new Map(),
      messageMeta: new Map(),
      subscriptions: new Map(),
      lastSeen: 0,
      recovering: false,
    };
  }

  #newKeys(): OrgKeys {
    const signing = this.#p.provider.ed25519KeyPair();
    const prekey = this.#p.provider.x25519KeyPair();
    return {
      signingSecret: signing.secretKey,
      signingKey: signing.publicKey,
      prekeySecret: prekey.secretKey,
      prekey: prekey.publicKey,
    };
  }

  async #load(hex: string): Promise<Org> {
    const { store, vault, provider } = this.#p;
    const space = orgSpace(hex);
    const read = async (key: string) => {
      const bytes = await store.get(space, key);
      if (bytes === undefined) throw new StoreCorruptedError(`${space}/${key}`);
      return bytes;
    };
    try {
      const meta = decodeJson<OrgMeta>(await read("meta"));
      const secrets = vault.openJson<OrgSecrets>(space, "secrets", await read("secrets"));
      const keys: OrgKeys = {
        signingSecret: secrets.signingSecret,
        signingKey: provider.ed25519PublicKey(secrets.signingSecret),
        prekeySecret: secrets.prekeySecret,
        prekey: provider.x25519PublicKey(secrets.prekeySecret),
      };
      const org = this.#emptyOrg(fromHex(hex), meta.role, keys);
      org.lastSeen = meta.lastSeen;
      org.discovered = meta.discovered;
      for (const [topic, mark] of Object.entries(meta.marks ?? {})) org.marks.set(topic, mark);
      if (meta.request !== undefined) {
        org.request = meta.request as NonNullable<Org["request"]>;
      }
      if (meta.bundle !== undefined) org.bundle = meta.bundle as NonNullable<Org["bundle"]>;
      for (const [channelId, members] of Object.entries(meta.pendingRemovals)) {
        org.pendingRemovals.set(channelId, new Set(members));
      }
      if (meta.rekeyDueAt !== undefined) org.rekeyDueAt = meta.rekeyDueAt;
      if (secrets.orgSecret !== undefined) {
        org.orgSecret = secrets.orgSecret;
        org.signer = ed25519EnvelopeSigner(provider, secrets.orgSecret);
        org.prekeys = OwnerPrekeys.deserialize(
          provider,
          vault.open(space, "prekeys", await read("prekeys")),
        );
      }
      for (const key of await store.keys(space, { prefix: "group/" })) {
        const channelId = key.slice("group/".length);
        const bytes = vault.open(space, key, await read(key));
        if (org.orgSecret !== undefined) {
          org.ownerGroups.set(channelId, OwnerGroup.deserialize(provider, bytes));
        } else {
          org.memberGroups.set(channelId, MemberGroup.deserialize(provider, bytes));
        }
      }
      for (const key of await store.keys(space, { prefix: "retired/" })) {
        const record = vault.openJson<{ channelId: string; retiredAt: number; group: Uint8Array }>(
          space,
          key,
          await read(key),
        );
        org.retiredGroups.set(key.slice("retired/".length), {
          channelId: record.channelId,
          retiredAt: record.retiredAt,
          group: MemberGroup.deserialize(provider, record.group),
        });
      }
      for (const key of await store.keys(space, { prefix: "pairwise/" })) {
        const peer = key.slice("pairwise/".length);
        const session = PairwiseSession.deserialize(
          provider,
          vault.open(space, key, await read(key)),
        );
        if (peer === "owner") {
          org.ownerSession = session;
        } else {
          org.sessions.set(peer, session);
          org.byEphemeral.set(toHex(session.initialEphemeralKey), peer);
        }
      }
      for (const key of await store.keys(space, { prefix: "memberkeys/" })) {
        const value = decodeJson<{ signingKey: Uint8Array; prekey: Uint8Array }>(await read(key));
        org.memberKeys.set(key.slice("memberkeys/".length), value);
      }
      const rosters: EpochRoster[] = [];
      for (const key of await store.keys(space, { prefix: "roster/" })) {
        const roster = decodeStoredRoster(await read(key));
        if (roster === undefined) throw new StoreCorruptedError(`${space}/${key}`);
        rosters.push(roster);
      }
      const byKeyId = new Map(rosters.map((roster) => [toHex(roster.keyId), roster]));
      for (const roster of rosters) {
        // A record of the provisional format lacks the previous roster's hash: its predecessor's.
        const previous = byKeyId.get(toHex(roster.previousKeyId));
        org.rosters.add(
          roster.change !== "genesis" && roster.previousRosterHash.length === 0 && previous
            ? { ...roster, previousRosterHash: previous.rosterHash }
            : roster,
        );
      }
      for (const key of await store.keys(space, { prefix: "welcome/" })) {
        const welcome = vault.openJson<WelcomeInit>(space, key, await read(key));
        org.waitingWelcomes.set(toHex(welcome.keyId), welcome);
      }
      if (meta.description !== undefined) {
        org.description = meta.description;
        const assembled = assembleDescription(meta.description);
        if (assembled.ok) org.log.rebase(stateFromDescription(assembled.description, hex));
      }
      const proven = new Set((await store.range(provenLog(hex))).map((entry) => entry.id));
      for (const entry of await store.range(eventsLog(hex))) {
        const event = decodeJson<OrgEvent>(entry.value);
        const result = org.log.add(event);
        if (proven.has(event.id)) org.proven.set(event.id, event);
        else if (result.rejected !== undefined && event.type.startsWith("message.")) {
          org.heldEvents.set(event.id, event);
        }
      }
      for (const channelId of org.log.state.channels.keys()) {
        for (const entry of await store.range(messagesLog(hex, channelId))) {
          const meta = decodeJson<{ sentAt: number; replyTo?: string }>(entry.value);
          org.messageMeta.set(entry.id, meta);
        }
      }
      for (const entry of await store.range(pendingLog(hex))) {
        const pending = decodeJson<PendingMessage>(entry.value);
        org.pending.set(pending.id, pending);
      }
      return org;
    } catch (cause) {
      if (cause instanceof Error && cause.name === "StoreCorruptedError") throw cause;
      throw new StoreCorruptedError(space, { cause });
    }
  }

  #metaOps(org: Org): StoreOp[] {
    const pendingRemovals: Record<string, string[]> = {};
    for (const [channelId, members] of org.pendingRemovals) {
      pendingRemovals[channelId] = [...members];
    }
    const meta: OrgMeta = {
      v: 1,
      role: org.role,
      lastSeen: org.lastSeen,
      pendingRemovals,
      discovered: org.discovered,
      marks: Object.fromEntries(org.marks),
      ...(org.request === undefined ? {} : { request: org.request }),
      ...(org.bundle === undefined ? {} : { bundle: org.bundle }),
      ...(org.description === undefined ? {} : { description: org.description }),
      ...(org.rekeyDueAt === undefined ? {} : { rekeyDueAt: org.rekeyDueAt }),
    };
    return [{ type: "put", space: orgSpace(org.hex), key: "meta", value: encodeJson(meta) }];
  }

  #secretsOp(org: Org): StoreOp {
    const secrets: OrgSecrets = {
      signingSecret: org.keys.signingSecret,
      prekeySecret: org.keys.prekeySecret,
      ...(org.orgSecret === undefined ? {} : { orgSecret: org.orgSecret }),
    };
    const space = orgSpace(org.hex);
    return {
      type: "put",
      space,
      key: "secrets",
      value: this.#p.vault.sealJson(space, "secrets", secrets),
    };
  }

  /**
   * Commits a transaction: one atomic batch with every changed group and session, the events,
   * messages and outbox entries (persist before send); then publishes the outbox, then tells the
   * app (commit before acknowledge).
   */
  async #commit(org: Org, txn: Txn): Promise<void> {
    const { vault, store } = this.#p;
    const space = orgSpace(org.hex);
    if (txn.description && org.role === "owner") await this.#describe(org, txn);
    const ops: StoreOp[] = [...txn.ops];
    for (const channelId of txn.groups) {
      const group = org.ownerGroups.get(channelId) ?? org.memberGroups.get(channelId);
      const key = groupKey(channelId);
      ops.push(
        group === undefined
          ? { type: "delete", space, key }
          : { type: "put", space, key, value: vault.seal(space, key, group.serialize()) },
      );
    }
    for (const peer of txn.sessions) {
      const session = peer === "owner" ? org.ownerSession : org.sessions.get(peer);
      if (session === undefined) continue;
      const key = `pairwise/${peer}`;
      ops.push({ type: "put", space, key, value: vault.seal(space, key, session.serialize()) });
    }
    if (txn.prekeys && org.prekeys !== undefined) {
      ops.push({
        type: "put",
        space,
        key: "prekeys",
        value: vault.seal(space, "prekeys", org.prekeys.serialize()),
      });
    }
    if (txn.events.length > 0) {
      ops.push({
        type: "append",
        log: eventsLog(org.hex),
        entries: txn.events.map((event) => ({
          id: event.id,
          sortKey: event.clock,
          value: encodeJson(event),
        })),
      });
    }
    const byChannel = new Map<string, LogEntry[]>();
    for (const event of txn.events) {
      if (event.type !== "message.posted") continue;
      const meta = org.messageMeta.get(event.id);
      const entries = byChannel.get(event.body.channelId) ?? [];
      entries.push({
        id: event.id,
        sortKey: event.clock,
        value: encodeJson(meta ?? { sentAt: event.sentAt }),
      });
      byChannel.set(event.body.channelId, entries);
    }
    for (const [channelId, entries] of byChannel) {
      ops.push({ type: "append", log: messagesLog(org.hex, channelId), entries });
    }
    if (txn.outbox.length > 0) {
      const sortKey = BigInt(Math.max(0, Math.trunc(this.#p.now())));
      ops.push({
        type: "append",
        log: outboxLog(org.hex),
        entries: txn.outbox.map((entry) => ({
          id: entry.id,
          sortKey,
          value: encodeJson({ topic: entry.topic, bytes: entry.bytes }),
        })),
      });
    }
    ops.push(...this.#metaOps(org));
    await store.batch(ops);
    for (const entry of txn.outbox) await this.#publish(org, entry);
    this.#emitDiff(org, txn);
    for (const [name, payload] of txn.emits) {
      this.#emitter.emit(name, payload as never);
    }
    if (txn.epochChanged) await this.#retryPending(org);
  }

  async #publish(org: Org, entry: { id: string; topic: string; bytes: Uint8Array }): Promise<void> {
    // Our own copy may come back (self-delivery): it is known already.
    this.#seen.add(entry.id);
    try {
      await this.#p.transport.publish(entry.topic, entry.bytes);
      await this.#p.store.deleteEntries(outboxLog(org.hex), [entry.id]);
    } catch (error) {
      // Kept in the outbox: re-published on the next tick or start.
      this.#emitter.emit("error", { organizationId: org.hex, error });
    }
  }

  async #flushOutbox(org: Org): Promise<void> {
    for (const entry of await this.#p.store.range(outboxLog(org.hex))) {
      const value = decodeJson<{ topic: string; bytes: Uint8Array }>(entry.value);
      await this.#publish(org, { id: entry.id, topic: value.topic, bytes: value.bytes });
    }
  }

  /** Owner: the signed description pages and the prekey bundle, into the outbox. */
  async #describe(org: Org, txn: Txn): Promise<void> {
    const signer = org.signer as EnvelopeSigner;
    const topic = descriptionTopic(org.id);
    const sealed = await sealDescriptionPages({
      pages: buildDescriptionPages(org.log.state),
      organizationId: org.hex,
      signer,
    });
    for (const bytes of [sealed.header, ...sealed.pages]) {
      txn.outbox.push({ id: hashId(bytes), topic, bytes });
    }
    const bundle = (org.prekeys as OwnerPrekeys).bundle();
    const bytes = await sealEnvelope(
      {
        type: "prekey-bundle",
        organizationId: org.id,
        clock: org.log.state.clock,
        contentTopic: topic,
        message: bundle,
      },
      signer,
    );
    txn.outbox.push({ id: hashId(bytes), topic, bytes });
  }

  // -----------------------------------------------------------------------------------------------
  // Events and state diffs
  // -----------------------------------------------------------------------------------------------

  #emitDiff(org: Org, txn: Txn): void {
    const before = txn.before;
    const after = org.log.state;
    if (before === after) return;
    const emit = this.#emitter;
    const organizationId = org.hex;
    for (const id of after.members.keys()) {
      if (!before.members.has(id)) emit.emit("member:joined", { organizationId, member: id });
    }
    for (const id of before.members.keys()) {
      if (after.members.has(id)) continue;
      if (after.banned.has(id)) emit.emit("member:banned", { organizationId, member: id });
      else if (
        [...after.leaveRequests.values()].some((r) => r.member === id && r.status === "accepted")
      )
        emit.emit("member:left", { organizationId, member: id });
      else emit.emit("member:removed", { organizationId, member: id });
    }
    for (const id of before.banned.keys()) {
      if (!after.banned.has(id)) emit.emit("member:unbanned", { organizationId, member: id });
    }
    for (const [id, member] of after.members) {
      const previous = before.members.get(id);
      if (previous !== undefined && !previous.roles.equals(member.roles)) {
        emit.emit("member:roles-changed", { organizationId, member: id, roles: [...member.roles] });
      }
    }
    if (after.clock !== before.clock)
      emit.emit("org:updated", { organizationId, clock: after.clock });
  }

  /** Builds a local event of this identity (or the organization) with a content-hash id. */
  #event<K extends OrgEvent["type"]>(
    org: Org,
    type: K,
    body: OrgEventOf<K>["body"],
    author: MemberId,
  ): OrgEventOf<K> {
    const draft = { type, author, clock: org.log.nextClock(), sentAt: this.#now(), body };
    return { id: hashId(encodeJson(draft)), ...draft } as unknown as OrgEventOf<K>;
  }

  #now(): number {
    return Math.max(0, Math.trunc(this.#p.now()));
  }

  /**
   * Adds an event to the log; remembers it for the batch, and the message events the app must hear
   * about (now, or when a later event or description explains them).
   * @returns the rejection reason, if refused in its place
   */
  #addEvent(org: Org, txn: Txn, event: OrgEvent, proven = false): string | undefined {
    const result = org.log.add(event);
    if (result.rejected?.reason === "duplicate") return "duplicate";
    txn.events.push(event);
    if (proven) {
      org.proven.set(event.id, event);
      txn.ops.push({
        type: "append",
        log: provenLog(org.hex),
        entries: [{ id: event.id, sortKey: event.clock, value: new Uint8Array(0) }],
      });
    }
    for (const id of result.explained ?? []) {
      const held = org.heldEvents.get(id);
      if (held !== undefined) {
        org.heldEvents.delete(id);
        this.#noteMessageEvent(org, txn, held);
      }
    }
    if (result.rejected !== undefined) {
      if (proven && this.#messageRecord(org, event.id) !== undefined) {
        // Its epoch proves the author was a member when it was sent: removed or banned since, as
        // far as this member's state knows, it is still read (docs/CLIENT.md, "No missing keys").
        this.#noteMessageEvent(org, txn, event);
      } else if (event.type.startsWith("message.")) {
        org.heldEvents.set(event.id, event);
      }
      return result.rejected.reason;
    }
    this.#noteMessageEvent(org, txn, event);
    return undefined;
  }

  /**
   * A message as the state holds it or, when the state refuses it (its author removed or banned
   * since), as its proven events make it: the post and its author's own edits and deletion.
   */
  #messageRecord(org: Org, id: string): MessageRecord | undefined {
    const state = org.log.state;
    const record = state.messages.get(id);
    if (record !== undefined) return record;
    const posted = org.proven.get(id);
    if (posted?.type !== "message.posted" || !state.channels.has(posted.body.channelId)) {
      return undefined;
    }
    let out: MessageRecord = {
      id,
      channelId: posted.body.channelId,
      author: posted.author,
      clock: posted.clock,
      text: posted.body.text,
      deleted: false,
      pinned: false,
    };
    const later = [...org.proven.values()]
      .filter(
        (event) =>
          event.author === posted.author &&
          (event.type === "message.edited" || event.type === "message.deleted") &&
          event.body.messageId === id,
      )
      .sort((a, b) => (a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : 0));
    for (const event of later) {
      if (out.deleted) break;
      if (event.type === "message.edited") {
        out = { ...out, text: event.body.text, editedAt: event.clock };
      } else if (event.type === "message.deleted") {
        out = { ...out, text: "", deleted: true, deletedBy: event.author };
      }
    }
    return out;
  }

  #noteMessageEvent(org: Org, txn: Txn, event: OrgEvent): void {
    let target: string;
    let name: "message:received" | "message:edited" | "message:deleted" | "message:pinned";
    switch (event.type) {
      case "message.posted":
        target = event.id;
        name = "message:received";
        break;
      case "message.edited":
        target = event.body.messageId;
        name = "message:edited";
        break;
      case "message.deleted":
        target = event.body.messageId;
        name = "message:deleted";
        break;
      case "message.pinned":
        target = event.body.messageId;
        name = "message:pinned";
        break;
      default:
        return;
    }
    txn.emits.push([name, { message: this.#view(org, target) }] as never);
  }

  /** Applies the events a description leaves out and the rebase explained, after a rebase. */
  #noteExplained(org: Org, txn: Txn, ids: readonly string[]): void {
    for (const id of ids) {
      const held = org.heldEvents.get(id);
      if (held !== undefined) {
        org.heldEvents.delete(id);
        this.#noteMessageEvent(org, txn, held);
      }
    }
  }

  #view(org: Org, id: string): MessageView {
    const record = this.#messageRecord(org, id);
    const meta = org.messageMeta.get(id);
    return {
      id,
      organizationId: org.hex,
      channelId: record?.channelId ?? "",
      author: record?.author ?? "",
      text: record?.text ?? "",
      sentAt: meta?.sentAt ?? 0,
      clock: record?.clock ?? 0n,
      ...(meta?.replyTo === undefined || meta.replyTo === "" ? {} : { replyTo: meta.replyTo }),
      edited: record?.editedAt !== undefined,
      deleted: record?.deleted ?? false,
      pinned: record?.pinned ?? false,
      own:
        record !== undefined &&
        (record.author === this.memberId || (org.role === "owner" && record.author === org.hex)),
    };
  }

  // -----------------------------------------------------------------------------------------------
  // Views
  // -----------------------------------------------------------------------------------------------

  #org(organizationId: string): Org {
    const org = this.#orgs.get(organizationId.toLowerCase());
    if (org === undefined) throw new UnknownOrganizationError(organizationId);
    return org;
  }

  #owned(organizationId: string): Org {
    const org = this.#org(organizationId);
    if (org.role !== "owner") throw new NotOwnerError(org.hex);
    return org;
  }

  getOrganization(organizationId: string): OrganizationView {
    if (this.#closed) throw new ClientClosedError();
    return this.#orgView(this.#org(organizationId));
  }

  listOrganizations(): OrganizationView[] {
    return [...this.#orgs.values()].map((org) => this.#orgView(org));
  }

  #orgView(org: Org): OrganizationView {
    const state = org.log.state;
    const me = org.role === "owner" ? org.hex : this.memberId;
    const channels: ChannelView[] = [...state.channels.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((channel) => ({
        id: channel.id,
        name: channel.identity.displayName,
        description: channel.identity.description,
        categoryId: channel.categoryId,
        access: channel.permissions.access,
        private: channel.permissions.private,
        restricted: state.encrypted && isRestricted(state, channel.id),
        canPost: canPost(state, me, channel.id),
      }));
    const epoch = org.ownerGroups.get("")?.epoch ?? org.memberGroups.get("")?.epoch;
    return {
      id: org.hex,
      role: org.role,
      identity: state.identity,
      access: state.permissions.access,
      encrypted: state.encrypted,
      tags: [...state.tags],
      pinMessageAllMembersEnabled: state.pinMessageAllMembersEnabled,
      members: new Map([...state.members].map(([id, member]) => [id, [...member.roles]])),
      banned: [...state.banned.keys()],
      channels,
      categories: new Map([...state.categories].map(([id, category]) => [id, category.name])),
      clock: state.clock,
      ...(epoch === undefined ? {} : { epoch }),
      ...(org.request === undefined
        ? {}
        : {
            request: {
              id: org.request.id,
              status: org.request.status,
              ...(org.request.reason === undefined ? {} : { reason: org.request.reason }),
            },
          }),
    };
  }

  history(organizationId: string, channelId: string): MessageView[] {
    const org = this.#org(organizationId);
    const records = new Map(
      [...org.log.state.messages.values()]
        .filter((message) => message.channelId === channelId)
        .map((message) => [message.id, message]),
    );
    for (const [id, event] of org.proven) {
      if (event.type !== "message.posted" || event.body.channelId !== channelId) continue;
      if (records.has(id)) continue;
      const record = this.#messageRecord(org, id);
      if (record !== undefined) records.set(id, record);
    }
    return [...records.values()]
      .sort((a, b) =>
        a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
      )
      .map((message) => this.#view(org, message.id));
  }

  listRequests(organizationId: string): RequestView[] {
    const org = this.#owned(organizationId);
    const state = org.log.state;
    const now = this.#now();
    return [...state.requests.values()].map((request) => ({
      id: request.id,
      requester: request.requester,
      displayName: request.displayName,
      chatId: request.chatId,
      sentAt: request.sentAt,
      status: requestStatus(state, request.id, now) ?? request.status,
      ...(request.rejectionReason === undefined ? {} : { reason: request.rejectionReason }),
    }));
  }

  // -----------------------------------------------------------------------------------------------
  // Subscriptions and receiving
  // -----------------------------------------------------------------------------------------------

  /** The topics this client listens to for `org`, for its role and the channels it knows. */
  #topicsOf(org: Org): Map<string, Route> {
    const topics = new Map<string, Route>();
    const state = org.log.state;
    const add = (topic: string, kind: Route["kind"], channelId = "") =>
      topics.set(topic, { org: org.hex, kind, channelId });
    if (org.role === "owner") {
      add(requestsTopic(org.id), "requests");
    } else {
      add(descriptionTopic(org.id), "description");
      add(keysTopic(org.id), "keys");
    }
    const member = org.role === "owner" || org.role === "member" || org.role === "requester";
    for (const channelId of state.channels.keys()) {
      if (member || !state.encrypted) add(channelTopic(org.id, channelId), "channel", channelId);
      if (org.role !== "owner") add(keysTopic(org.id, channelId), "keys", channelId);
    }
    return topics;
  }

  async #syncSubscriptions(org: Org): Promise<string[]> {
    if (this.#closed) return [];
    const wanted = this.#topicsOf(org);
    const added: string[] = [];
    for (const [topic, route] of wanted) {
      this.#routes.set(topic, route);
      if (org.subscriptions.has(topic)) continue;
      const subscription = await this.#p.transport.subscribe([topic], (message) =>
        this.#receive(message),
      );
      org.subscriptions.set(topic, subscription);
      added.push(topic);
    }
    for (const [topic, subscription] of org.subscriptions) {
      if (wanted.has(topic)) continue;
      org.subscriptions.delete(topic);
      await subscription.unsubscribe().catch(() => undefined);
    }
    return added;
  }

  #receive(message: TransportMessage): void {
    if (this.#closed) return;
    const id = hashId(message.payload);
    if (this.#seen.has(id)) return;
    const route = this.#routes.get(message.contentTopic);
    if (route === undefined) return;
    this.#background(route.org, () => this.#process(route, message, id));
  }

  async #process(route: Route, message: TransportMessage, id: string): Promise<void> {
    if (this.#seen.has(id)) return;
    if (route.kind === "inbox") {
      await this.#onInbox(message, id);
      return;
    }
    const org = route.org === undefined ? undefined : this.#orgs.get(route.org);
    if (org === undefined) return;
    if (await this.#p.store.getEntry(seenLog(org.hex), id)) {
      this.#seen.add(id);
      return;
    }
    org.lastSeen = Math.max(org.lastSeen, message.timestamp);
    switch (route.kind) {
      case "description":
        await this.#onDescription(org, message, id);
        break;
      case "requests":
        if (org.role === "owner") await this.#onRequestsTopic(org, message, id);
        break;
      case "keys":
        await this.#onKeys(org, route.channelId, message, id);
        break;
      case "channel":
        await this.#onChannel(org, route.channelId, message.contentTopic, message.payload, id);
        break;
    }
  }

  /** Marks a processed message as seen, durably, in the transaction's batch. */
  #markSeen(org: Org, txn: Txn, id: string): void {
    this.#seen.add(id);
    txn.ops.push({
      type: "append",
      log: seenLog(org.hex),
      entries: [{ id, sortKey: BigInt(this.#now()), value: new Uint8Array(0) }],
    });
  }

  // Description ----------------------------------------------------------------------------------

  async #onDescription(org: Org, message: TransportMessage, id: string): Promise<void> {
    this.#seen.add(id);
    let envelope: ReturnType<typeof decodeSignedEnvelope>;
    try {
      envelope = decodeSignedEnvelope(message.payload);
    } catch {
      return;
    }
    if (envelope.type === MessageType.PREKEY_BUNDLE) {
      await this.#onPrekeyBundle(org, message.payload);
      return;
    }
    // Older than the description in force: of no use whoever signed it.
    const base = org.description?.clock;
    if (base !== undefined && envelope.clock < base) return;
    // The state's opener checks topic, organization, type and the owner's signature; the newest
    // complete description is then picked incrementally by #tryAssemble as pieces arrive.
    const opened = await openDescriptionPages([message.payload], {
      organizationId: org.hex,
      verify: this.#verify,
    });
    if (opened.refused.length > 0) return;
    if (opened.header !== undefined) {
      org.pieces.headers.set(hashId(opened.header), {
        clock: envelope.clock,
        payload: opened.header,
      });
    } else {
      org.pieces.pages.set(hashId(envelope.payload), envelope.payload);
    }
    await this.#tryAssemble(org);
  }

  async #onPrekeyBundle(org: Org, bytes: Uint8Array): Promise<void> {
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(bytes, {
        contentTopic: descriptionTopic(org.id),
        organizationId: org.id,
        accept: ["prekey-bundle"],
        verify: this.#verify,
      });
    } catch {
      return;
    }
    if (opened.type !== "prekey-bundle") return;
    const txn = newTxn(org);
    const m = opened.message;
    org.bundle = {
      identityKey: m.identityKey,
      identityDhKey: m.identityDhKey,
      signedPrekey: m.signedPrekey,
      signedPrekeyId: m.signedPrekeyId,
      signature: m.signature,
    };
    await this.#commit(org, txn);
  }

  /** Re-bases on the newest complete description received, if newer than the one in force. */
  async #tryAssemble(org: Org): Promise<boolean> {
    const headers = [...org.pieces.headers.values()].sort((a, b) =>
      a.clock > b.clock ? -1 : a.clock < b.clock ? 1 : 0,
    );
    for (const header of headers) {
      if (org.description !== undefined && header.clock <= org.description.clock) break;
      const decoded = decodeDescriptionPage(header.payload);
      const pages: Uint8Array[] = [];
      for (const hash of decoded.index?.pageHashes ?? []) {
        const page = org.pieces.pages.get(toHex(hash));
        if (page !== undefined) pages.push(page);
      }
      const assembled = assembleDescription({ header: header.payload, pages });
      if (!assembled.ok) continue;
      const txn = newTxn(org);
      org.description = { header: header.payload, pages, clock: header.clock };
      const rebased = org.log.rebase(stateFromDescription(assembled.description, org.hex));
      this.#noteExplained(org, txn, rebased.explained);
      // Pieces at or below the base are no longer needed.
      for (const [hash, piece] of org.pieces.headers) {
        if (piece.clock <= header.clock) org.pieces.headers.delete(hash);
      }
      for (const [hash, page] of org.pieces.pages) {
        if (pages.includes(page)) org.pieces.pages.delete(hash);
      }
      const first = !org.discovered;
      org.discovered = true;
      this.#updateRole(org, txn);
      if (first) {
        txn.emits.push([
          "org:discovered",
          { organizationId: org.hex, name: org.log.state.identity.displayName },
        ]);
      }
      await this.#commit(org, txn);
      await this.#syncSubscriptions(org);
      return true;
    }
    return false;
  }

  /** Member side: follows what the state says about this identity (joined, removed, banned). */
  #updateRole(org: Org, txn: Txn): void {
    if (org.role === "owner") return;
    const state = org.log.state;
    const me = this.memberId;
    if (state.members.has(me)) {
      // An observer listed is one that left and whose leave the owner has not resolved yet (it
      // joins again through a request, which makes it a requester first).
      if (org.role === "requester") {
        org.role = "member";
        if (org.request !== undefined) org.request.status = "accepted";
      }
      return;
    }
    if (org.role === "member" && !txn.before.members.has(me)) return;
    if (org.role === "member") {
      org.role = "observer";
      for (const [channelId, group] of org.memberGroups) {
        group.markRemoved(this.#p.now());
        txn.groups.add(channelId);
      }
    }
  }

  // Inbox ----------------------------------------------------------------------------------------

  async #onInbox(message: TransportMessage, id: string): Promise<void> {
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(message.payload, {
        contentTopic: this.#inbox,
        accept: ["pairwise", "organization-invitation"],
        verify: this.#verify,
      });
    } catch {
      this.#seen.add(id);
      return;
    }
    const hex = toHex(opened.organizationId);
    if (opened.type === "organization-invitation") {
      await this.#onInvitation(hex, opened, id);
      return;
    }
    if (opened.type !== "pairwise") return;
    const org = this.#orgs.get(hex);
    // Pairwise messages to a member come from the owner only (the organization key).
    if (org === undefined || org.ownerSession === undefined || !equalBytes(opened.signer, org.id)) {
      this.#seen.add(id);
      return;
    }
    if (await this.#p.store.getEntry(seenLog(org.hex), id)) {
      this.#seen.add(id);
      return;
    }
    let plaintext: Uint8Array;
    try {
      plaintext = org.ownerSession.decrypt(opened.payload);
    } catch {
      this.#seen.add(id);
      return;
    }
    const txn = newTxn(org);
    txn.sessions.add("owner");
    this.#markSeen(org, txn, id);
    let content: PairwiseContent;
    try {
      content = decodePairwiseContent(plaintext);
    } catch {
      await this.#commit(org, txn);
      return;
    }
    switch (content.content.case) {
      case "requestToJoinResponse":
        this.#onResponse(org, txn, content.content.value, opened.clock, id);
        break;
      case "welcome":
        await this.#onWelcome(org, txn, content.content.value);
        break;
      default:
        break;
    }
    await this.#commit(org, txn);
    await this.#syncSubscriptions(org);
  }

  async #onInvitation(
    hex: string,
    opened: Extract<OpenedEnvelope, { type: "organization-invitation" }>,
    id: string,
  ): Promise<void> {
    this.#seen.add(id);
    const mapped = invitationFromWire(
      opened.message,
      { id, author: hex, clock: opened.clock, sentAt: this.#now() },
      this.memberId,
    );
    if (!mapped.ok || mapped.value.body.invitee !== this.memberId) return;
    let org = this.#orgs.get(hex);
    if (org === undefined) {
      org = await this.#adopt(opened.organizationId, "observer");
    }
    if (org.role === "owner") return;
    const txn = newTxn(org);
    this.#addEvent(org, txn, mapped.value);
    txn.emits.push([
      "invitation:received",
      { organizationId: hex, invitationId: id, chatId: mapped.value.body.chatId },
    ]);
    await this.#commit(org, txn);
  }

  /** Starts tracking an organization this identity does not own. */
  async #adopt(id: Uint8Array, role: OrgRole): Promise<Org> {
    const org = this.#emptyOrg(id, role, this.#newKeys());
    this.#orgs.set(org.hex, org);
    await this.#p.store.batch([
      { type: "put", space: "orgs", key: org.hex, value: new Uint8Array([1]) },
      this.#secretsOp(org),
      ...this.#metaOps(org),
    ]);
    await this.#syncSubscriptions(org);
    return org;
  }

  #onResponse(
    org: Org,
    txn: Txn,
    response: PayloadOf<"organization-request-to-join-response">,
    clock: bigint,
    id: string,
  ): void {
    const mapped = joinResponseFromWire(
      response,
      { id, author: org.hex, clock, sentAt: this.#now() },
      org.log.state,
      this.memberId,
    );
    if (!mapped.ok) return;
    const event = mapped.value;
    if (org.request === undefined || org.request.id !== event.body.requestId) return;
    this.#addEvent(org, txn, event);
    const base = { organizationId: org.hex, requestId: org.request.id, requester: this.memberId };
    if (event.type === "request.accepted") {
      org.request.status = "accepted";
      if (org.role !== "member") org.role = "member";
      txn.emits.push(["request:accepted", base]);
    } else {
      org.request.status = "rejected";
      org.request.reason = event.body.reason;
      org.role = "observer";
      txn.emits.push(["request:rejected", { ...base, reason: event.body.reason }]);
    }
  }

  async #onWelcome(org: Org, txn: Txn, welcome: WelcomeInit): Promise<void> {
    if (!equalBytes(welcome.organizationId, org.id)) return;
    const current = org.memberGroups.get(welcome.channelId);
    // A late Welcome (a resync answer overtaken by a KeyUpdate) would take the group back. One of
    // the current epoch is entered: a resync answer carries a new leaf secret, which the owner's
    // next KeyUpdate is sealed to.
    if (current?.status === "member" && welcome.epoch < current.epoch) return;
    const keyIdHex = toHex(welcome.keyId);
    const roster = org.rosters.get(keyIdHex);
    if (roster === undefined) {
      // The roster of the Welcome's epoch is not here yet: keep the Welcome (sealed) and look.
      const known = org.waitingWelcomes.has(keyIdHex);
      org.waitingWelcomes.set(keyIdHex, welcome);
      const space = orgSpace(org.hex);
      const key = `welcome/${keyIdHex}`;
      txn.ops.push({ type: "put", space, key, value: this.#p.vault.sealJson(space, key, welcome) });
      // Usually its delta is on the way, or the chain from the last snapshot is in Store; a resync
      // is left to the usual triggers (a message waiting for this key), so that a roster still in
      // flight costs no resync.
      if (!known) this.#background(org.hex, () => this.#backfillRosters(org));
      return;
    }
    this.#enterWelcome(org, txn, welcome, roster.roster);
  }

  #enterWelcome(org: Org, txn: Txn, welcome: WelcomeInit, roster: Roster): void {
    let group: MemberGroup;
    try {
      group = MemberGroup.fromWelcome({
        provider: this.#p.provider,
        welcome,
        roster,
        signingSecretKey: org.keys.signingSecret,
        prekeySecret: org.keys.prekeySecret,
        now: this.#p.now(),
      });
    } catch (error) {
      this.#emitter.emit("error", { organizationId: org.hex, error });
      return;
    }
    const previous = org.memberGroups.get(welcome.channelId);
    const now = this.#p.now();
    if (previous?.readableEpochs(now).some((epoch) => epoch !== group.epoch)) {
      // A resync Welcome holds its epoch only: the group it replaces keeps the earlier epochs for
      // late messages, until the retention window ends.
      this.#retire(org, txn, { channelId: welcome.channelId, group: previous, retiredAt: now });
    }
    org.memberGroups.set(welcome.channelId, group);
    this.#dropStaleWelcomes(org, txn, welcome.channelId);
    org.resyncBackoff.delete(welcome.channelId);
    txn.groups.add(welcome.channelId);
    txn.epochChanged = true;
    txn.emits.push([
      "epoch:changed",
      { organizationId: org.hex, channelId: welcome.channelId, epoch: group.epoch },
    ]);
    this.#followRosters(org, txn, welcome.channelId);
    // KeyUpdates that came before the Welcome (their group was not here yet) apply now.
    this.#applyWaitingChunks(org, txn, (chunk) => chunk.channelId === welcome.channelId);
  }

  /** Member: keeps a replaced group for the late messages of its epochs (sealed, like groups). */
  #retire(org: Org, txn: Txn, retired: RetiredGroup): void {
    const suffix = `${toHex(retired.group.keyId)}/${retired.channelId}`;
    org.retiredGroups.set(suffix, retired);
    this.#persistRetired(org, txn, suffix);
    // Bounded: the oldest of a group go first (each holds a few epochs at most).
    const ofGroup = [...org.retiredGroups].filter(([, r]) => r.channelId === retired.channelId);
    for (const [old] of ofGroup.slice(0, Math.max(0, ofGroup.length - maxRetiredGroups))) {
      org.retiredGroups.delete(old);
      this.#persistRetired(org, txn, old);
    }
  }

  #persistRetired(org: Org, txn: Txn, suffix: string): void {
    const retired = org.retiredGroups.get(suffix);
    const space = orgSpace(org.hex);
    const key = `retired/${suffix}`;
    if (retired === undefined) {
      txn.ops.push({ type: "delete", space, key });
      return;
    }
    const value = this.#p.vault.sealJson(space, key, {
      channelId: retired.channelId,
      retiredAt: retired.retiredAt,
      group: retired.group.serialize(),
    });
    txn.ops.push({ type: "put", space, key, value });
  }

  /** Member: drops replaced groups whose retention window is over. */
  #expireRetired(org: Org): void {
    const now = this.#p.now();
    const expired = [...org.retiredGroups].filter(
      ([, retired]) => now - retired.retiredAt >= retiredGroupWindowMs,
    );
    if (expired.length === 0) return;
    const txn = newTxn(org);
    for (const [suffix] of expired) {
      org.retiredGroups.delete(suffix);
      this.#persistRetired(org, txn, suffix);
    }
    this.#background(org.hex, () => this.#commit(org, txn));
  }

  // Keys -----------------------------------------------------------------------------------------

  /** Member: Welcomes for epochs the group has reached are of no use any more. */
  #dropStaleWelcomes(org: Org, txn: Txn, channelId: string): void {
    const group = org.memberGroups.get(channelId);
    if (group === undefined) return;
    for (const [keyIdHex, waiting] of org.waitingWelcomes) {
      if (waiting.channelId !== channelId || waiting.epoch > group.epoch) continue;
      org.waitingWelcomes.delete(keyIdHex);
      txn.ops.push({ type: "delete", space: orgSpace(org.hex), key: `welcome/${keyIdHex}` });
    }
  }

  /** Member: the keys topics' history, for the rosters a waiting Welcome or KeyUpdate needs. */
  async #backfillRosters(org: Org): Promise<void> {
    if (org.recovering || org.role === "owner") return;
    const topics = [keysTopic(org.id)];
    for (const id of org.log.state.channels.keys()) topics.push(keysTopic(org.id, id));
    await this.#backfill(org, topics);
  }

  async #onKeys(org: Org, channelId: string, message: TransportMessage, id: string): Promise<void> {
    if (org.role === "owner") return;
    if (isEpochRosterEnvelope(message.payload)) {
      await this.#onEpochRoster(org, message.contentTopic, message.payload, id);
      return;
    }
    let chunk: PayloadOf<"key-update">;
    try {
      chunk = await openKeyUpdateEnvelope({
        provider: this.#p.provider,
        group: { organizationId: org.id, channelId },
        bytes: message.payload,
      });
    } catch {
      this.#seen.add(id);
      return;
    }
    const txn = newTxn(org);
    // Marked seen only once applied: a chunk waiting for its group (a late Welcome) or its roster
    // is kept in memory and read again from history after a restart.
    if (this.#applyChunk(org, txn, { id, chunk }) === "waiting") return;
    await this.#commit(org, txn);
  }

  /**
   * Member: an epoch roster (docs/CLIENT.md, "Epoch rosters"): a delta applied to the roster it
   * names, or a snapshot page filed until its snapshot is complete. Only a roster that hashes as
   * announced is kept; then what waited for it (add steps, a Welcome, KeyUpdate chunks) goes on.
   */
  async #onEpochRoster(org: Org, topic: string, bytes: Uint8Array, id: string): Promise<void> {
    this.#seen.add(id);
    const message = await openEpochRoster(bytes, {
      organizationId: org.id,
      contentTopic: topic,
      verify: this.#verify,
    });
    if (message === undefined) return;
    const receipt = org.rosters.receive(message, id);
    // A waiting delta or page is not marked seen durably: after a restart it is read again from
    // history, where the pieces it waits for are too.
    if (receipt.status === "waiting" || receipt.status === "refused") return;
    const txn = newTxn(org);
    if (receipt.status === "known") {
      this.#markSeen(org, txn, id);
    } else {
      for (const seen of receipt.ids) this.#markSeen(org, txn, seen);
      for (const roster of receipt.rosters) this.#rosterLearned(org, txn, roster);
    }
    await this.#commit(org, txn);
  }

  /** Persists a new roster and lets what waited for it go on. */
  #rosterLearned(org: Org, txn: Txn, roster: EpochRoster): void {
    const keyIdHex = toHex(roster.keyId);
    this.#persistRoster(org, txn, roster);
    if (org.memberGroups.has(roster.channelId)) this.#followRosters(org, txn, roster.channelId);
    const welcome = org.waitingWelcomes.get(keyIdHex);
    if (welcome !== undefined) this.#enterWelcome(org, txn, welcome, roster.roster);
    const chunks = org.waitingChunks.get(keyIdHex) ?? [];
    org.waitingChunks.delete(keyIdHex);
    for (const chunk of chunks) this.#applyChunk(org, txn, chunk);
  }

  /** Member: applies the waiting chunks `which` picks whose group and roster are here now. */
  #applyWaitingChunks(org: Org, txn: Txn, which: (chunk: KeyUpdate) => boolean): void {
    for (const [keyIdHex, chunks] of [...org.waitingChunks]) {
      if (!org.rosters.has(keyIdHex)) continue;
      const ready = chunks.filter(
        (waiting) => which(waiting.chunk) && org.memberGroups.has(waiting.chunk.channelId),
      );
      if (ready.length === 0) continue;
      const rest = chunks.filter((waiting) => !ready.includes(waiting));
      if (rest.length === 0) org.waitingChunks.delete(keyIdHex);
      else org.waitingChunks.set(keyIdHex, rest);
      for (const waiting of ready) this.#applyChunk(org, txn, waiting);
    }
  }

  #persistRoster(org: Org, txn: Txn, roster: EpochRoster): void {
    txn.ops.push({
      type: "put",
      space: orgSpace(org.hex),
      key: `roster/${toHex(roster.keyId)}`,
      value: encodeJson(roster),
    });
  }

  /** Member: applies every known add-step roster that follows the group's epoch, in order. */
  #followRosters(org: Org, txn: Txn, channelId: string): void {
    for (;;) {
      const group = org.memberGroups.get(channelId);
      if (group === undefined || group.status !== "member") return;
      const next = [...org.rosters.values()].find(
        (r) =>
          r.channelId === channelId &&
          r.change === "add" &&
          r.epoch === group.epoch + 1n &&
          equalBytes(r.previousKeyId, group.keyId),
      );
      if (next === undefined) return;
      const outcome = group.applyAdd({
        roster: next.roster,
        now: this.#p.now(),
        epoch: next.epoch,
        previousKeyId: next.previousKeyId,
        keyId: next.keyId,
      });
      if (outcome.status !== "applied") return;
      txn.groups.add(channelId);
      txn.epochChanged = true;
      txn.emits.push([
        "epoch:changed",
        { organizationId: org.hex, channelId, epoch: outcome.epoch },
      ]);
      this.#dropStaleWelcomes(org, txn, channelId);
      // A KeyUpdate may have been waiting for this epoch's successor.
      this.#applyWaitingChunks(org, txn, () => true);
    }
  }

  /**
   * Member: applies one KeyUpdate chunk, or keeps it (in memory, not marked seen) until its group's
   * Welcome and its epoch's roster are here.
   * @returns "waiting" when kept, "done" when applied or of no use (then marked seen in `txn`)
   */
  #applyChunk(org: Org, txn: Txn, waiting: WaitingChunk): "done" | "waiting" {
    const { chunk } = waiting;
    const group = org.memberGroups.get(chunk.channelId);
    const keyIdHex = toHex(chunk.keyId);
    const roster = org.rosters.get(keyIdHex);
    if (group === undefined || roster === undefined) {
      const list = org.waitingChunks.get(keyIdHex) ?? [];
      if (!list.some((w) => w.id === waiting.id)) {
        list.push(waiting);
        org.waitingChunks.set(keyIdHex, list);
        let count = 0;
        for (const chunks of org.waitingChunks.values()) count += chunks.length;
        if (count > maxWaitingChunks) {
          // The oldest key id's chunks go first: history has them if they are ever needed.
          const [oldest] = org.waitingChunks.keys();
          if (oldest !== undefined) org.waitingChunks.delete(oldest);
        }
      }
      return "waiting";
    }
    if (
      group.status === "member" &&
      chunk.epoch > group.epoch + 1n &&
      org.gapChecked.get(keyIdHex) !== true
    ) {
      // Epochs skipped: if an add step is among them, bridging it would lose its epoch's
      // messages for good. Its roster is usually in history: look there first (the chunk waits
      // meanwhile, whoever reads it again), then go on, bridging what is still missing.
      const list = org.waitingChunks.get(keyIdHex) ?? [];
      if (!list.some((w) => w.id === waiting.id)) list.push(waiting);
      org.waitingChunks.set(keyIdHex, list);
      if (!org.gapChecked.has(keyIdHex)) {
        org.gapChecked.set(keyIdHex, false);
        this.#background(org.hex, async () => {
          await this.#backfillRosters(org);
          org.gapChecked.set(keyIdHex, true);
          const later = newTxn(org);
          this.#applyWaitingChunks(org, later, (c) => toHex(c.keyId) === keyIdHex);
          await this.#commit(org, later);
        });
      }
      return "waiting";
    }
    this.#markSeen(org, txn, waiting.id);
    let outcome: ReturnType<MemberGroup["applyKeyUpdate"]>;
    try {
      // FLAT entries are self-contained: a member that missed KeyUpdates bridges the gap here.
      outcome = group.applyKeyUpdate(chunk, this.#p.now(), {
        roster: roster.roster,
        acceptGap: true,
      });
    } catch {
      return "done";
    }
    if (outcome.status === "applied") {
      txn.groups.add(chunk.channelId);
      txn.epochChanged = true;
      txn.emits.push([
        "epoch:changed",
        { organizationId: org.hex, channelId: chunk.channelId, epoch: outcome.epoch },
      ]);
      this.#dropStaleWelcomes(org, txn, chunk.channelId);
      this.#followRosters(org, txn, chunk.channelId);
    } else if (outcome.status === "removed" || outcome.status === "not-in-chunk") {
      txn.groups.add(chunk.channelId);
      // Not for our leaf secret: a resync answer on its way may carry the one it is sealed to.
      // Kept (in memory) to try again once a Welcome is entered.
      const list = org.waitingChunks.get(keyIdHex) ?? [];
      if (!list.some((w) => w.id === waiting.id)) {
        list.push(waiting);
        org.waitingChunks.set(keyIdHex, list);
      }
    }
    return "done";
  }

  // Channels -------------------------------------------------------------------------------------

  async #onChannel(
    org: Org,
    channelId: string,
    topic: string,
    payload: Uint8Array,
    id: string,
    waiting?: PendingMessage,
  ): Promise<"done" | "waiting"> {
    let pending = waiting;
    let groupMessage: GroupMessage | undefined;
    try {
      groupMessage = decodeGroupMessage(payload);
    } catch {
      groupMessage = undefined;
    }
    if (groupMessage === undefined) {
      await this.#onPublicMessage(org, channelId, topic, payload, id);
      return "done";
    }
    const state = org.log.state;
    const me = org.role === "owner" ? org.hex : this.memberId;
    if (
      isRestricted(state, channelId) &&
      !canPost(state, me, channelId) &&
      !org.memberGroups.has(channelId)
    ) {
      // A restricted channel we are not on (yet, as far as we know): its keys are not ours to ask
      // for. The message is kept silently, not marked seen: the roster that names us may be on
      // its way (docs/CLIENT.md, "No missing keys").
      if (pending === undefined) await this.#keepForeign(org, channelId, topic, payload, id);
      return "waiting";
    }
    if (pending?.foreign === true) {
      // Ours now: from here on it is an ordinary message (waiting for a key, announced, recovered).
      await this.#dropPending(org, pending.id);
      pending = undefined;
    }
    const groups = this.#groupsFor(org, channelId);
    let decrypted: ReturnType<MemberGroup["decrypt"]> | undefined;
    let groupId = "";
    let retiredKey: string | undefined;
    for (const [candidate, group, suffix] of groups) {
      try {
        decrypted = group.decrypt(groupMessage, this.#p.now());
        groupId = candidate;
        retiredKey = suffix;
        break;
      } catch (error) {
        if (isUnknownEpochError(error)) continue;
        if (isDuplicateMessageError(error)) {
          this.#seen.add(id);
          if (pending !== undefined) await this.#dropPending(org, pending.id);
          return "done";
        }
        this.#seen.add(id);
        if (pending !== undefined) await this.#dropPending(org, pending.id);
        return "done";
      }
    }
    if (decrypted === undefined) {
      if (pending === undefined)
        await this.#waitForKey(org, channelId, topic, payload, id, groupMessage);
      return "waiting";
    }
    const txn = newTxn(org);
    if (retiredKey === undefined) txn.groups.add(groupId);
    else this.#persistRetired(org, txn, retiredKey);
    this.#markSeen(org, txn, id);
    if (pending !== undefined) {
      org.pending.delete(pending.id);
      txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [pending.id] });
    }
    const roster = org.rosters.get(toHex(decrypted.keyId));
    const sender = roster?.roster[decrypted.senderLeaf];
    if (decrypted.contentType === channelContentType && sender !== undefined) {
      try {
        const message = decodeChannelMessage(decrypted.content.slice());
        if (
          equalBytes(message.author, sender.identityKey) &&
          equalBytes(message.organizationId, org.id) &&
          message.channelId === channelId
        ) {
          // The epoch's roster holds the author: a member then, with access to the channel when
          // the epoch is the channel's own group's (or the organization's, for an open channel).
          const proven =
            roster?.channelId === channelId ||
            (roster?.channelId === "" && !isRestricted(org.log.state, channelId));
          this.#applyChannelMessage(org, txn, message, id, proven);
        }
      } catch {
        // A member's malformed content: the ratchet step is still committed (it was authentic).
      }
    }
    await this.#commit(org, txn);
    return "done";
  }

  /**
   * The groups that may open a message of a channel: its own group, the organization's, then the
   * groups a resync Welcome replaced (with their store key suffix).
   */
  #groupsFor(
    org: Org,
    channelId: string,
  ): Array<[string, OwnerGroup | MemberGroup, string | undefined]> {
    const groups: Map<string, OwnerGroup | MemberGroup> =
      org.role === "owner" ? org.ownerGroups : org.memberGroups;
    const out: Array<[string, OwnerGroup | MemberGroup, string | undefined]> = [];
    const own = groups.get(channelId);
    if (own !== undefined) out.push([channelId, own, undefined]);
    const whole = groups.get("");
    if (whole !== undefined && channelId !== "") out.push(["", whole, undefined]);
    for (const [suffix, retired] of org.retiredGroups) {
      if (retired.channelId === channelId || retired.channelId === "") {
        out.push([retired.channelId, retired.group, suffix]);
      }
    }
    return out;
  }

  async #onPublicMessage(
    org: Org,
    channelId: string,
    topic: string,
    payload: Uint8Array,
    id: string,
  ): Promise<void> {
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(payload, {
        contentTopic: topic,
        organizationId: org.id,
        accept: ["channel-message"],
        verify: this.#verify,
      });
    } catch {
      this.#seen.add(id);
      return;
    }
    if (opened.type !== "channel-message" || opened.message.channelId !== channelId) return;
    const txn = newTxn(org);
    this.#markSeen(org, txn, id);
    this.#applyChannelMessage(org, txn, opened.message, id);
    await this.#commit(org, txn);
  }

  /**
   * @param proven - the epoch roster of its group message shows its author a member then, with
   *   access to the channel
   */
  #applyChannelMessage(
    org: Org,
    txn: Txn,
    message: ChannelMessage,
    id: string,
    proven = false,
  ): void {
    const event = this.#channelEvent(message, id);
    if (event === undefined) return;
    if (event.type === "message.posted") {
      const replyTo = message.body.case === "post" ? message.body.value.replyTo : "";
      org.messageMeta.set(id, {
        sentAt: event.sentAt,
        ...(replyTo === "" ? {} : { replyTo }),
      });
    }
    this.#addEvent(org, txn, event, proven);
  }

  #channelEvent(message: ChannelMessage, id: string): OrgEvent | undefined {
    const base = {
      id,
      author: toHex(message.author),
      clock: message.clock,
      sentAt: Number(message.sentAt),
    };
    const body = message.body;
    switch (body.case) {
      case "post":
        return {
          ...base,
          type: "message.posted",
          body: { channelId: message.channelId, text: body.value.text },
        };
      case "edit":
        return {
          ...base,
          type: "message.edited",
          body: { messageId: body.value.messageId, text: body.value.text },
        };
      case "delete":
        return { ...base, type: "message.deleted", body: { messageId: body.value.messageId } };
      case "pin":
        return {
          ...base,
          type: "message.pinned",
          body: { messageId: body.value.messageId, pinned: body.value.pinned },
        };
      default:
        return undefined;
    }
  }

  // No missing keys ------------------------------------------------------------------------------

  async #waitForKey(
    org: Org,
    channelId: string,
    topic: string,
    payload: Uint8Array,
    id: string,
    message: GroupMessage,
  ): Promise<void> {
    const keyId = toHex(message.keyId);
    if (org.pending.has(id)) return;
    const txn = newTxn(org);
    this.#makeRoom(org, txn);
    const pending: PendingMessage = {
      id,
      topic,
      channelId,
      keyId,
      payload,
      receivedAt: this.#now(),
    };
    org.pending.set(id, pending);
    txn.ops.push({
      type: "append",
      log: pendingLog(org.hex),
      entries: [{ id, sortKey: BigInt(pending.receivedAt), value: encodeJson(pending) }],
    });
    txn.emits.push([
      "message:waiting-for-key",
      { organizationId: org.hex, channelId, keyId, pendingId: id },
    ]);
    await this.#commit(org, txn);
    if (org.role !== "owner") await this.#recover(org, channelId);
  }

  /** Keeps a restricted channel's message that is not ours (yet): silently, in the pending log. */
  async #keepForeign(
    org: Org,
    channelId: string,
    topic: string,
    payload: Uint8Array,
    id: string,
  ): Promise<void> {
    if (org.pending.has(id)) return;
    let keyId = "";
    try {
      keyId = toHex(decodeGroupMessage(payload).keyId);
    } catch {
      return;
    }
    const txn = newTxn(org);
    this.#makeRoom(org, txn);
    const pending: PendingMessage = {
      id,
      topic,
      channelId,
      keyId,
      payload,
      receivedAt: this.#now(),
      foreign: true,
    };
    org.pending.set(id, pending);
    txn.ops.push({
      type: "append",
      log: pendingLog(org.hex),
      entries: [{ id, sortKey: BigInt(pending.receivedAt), value: encodeJson(pending) }],
    });
    await this.#commit(org, txn);
  }

  /** Frees one place in a full pending buffer: a foreign message first (silently), else the oldest. */
  #makeRoom(org: Org, txn: Txn): void {
    if (org.pending.size < this.#p.config.maxPendingMessages) return;
    const byAge = [...org.pending.values()].sort((a, b) => a.receivedAt - b.receivedAt);
    const foreign = byAge.find((p) => p.foreign === true);
    if (foreign !== undefined) {
      org.pending.delete(foreign.id);
      txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [foreign.id] });
      return;
    }
    const oldest = byAge[0];
    if (oldest !== undefined) this.#undecryptable(org, txn, oldest, "buffer-full");
  }

  #undecryptable(
    org: Org,
    txn: Txn,
    pending: PendingMessage,
    reason: "expired" | "epoch-unavailable" | "buffer-full",
  ): void {
    org.pending.delete(pending.id);
    this.#seen.add(pending.id);
    txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [pending.id] });
    txn.emits.push([
      "message:undecryptable",
      {
        organizationId: org.hex,
        channelId: pending.channelId,
        keyId: pending.keyId,
        pendingId: pending.id,
        reason,
      },
    ]);
  }

  async #dropPending(org: Org, id: string): Promise<void> {
    org.pending.delete(id);
    await this.#p.store.deleteEntries(pendingLog(org.hex), [id]);
  }

  #expirePending(org: Org): void {
    const now = this.#now();
    const expired = [...org.pending.values()].filter(
      (p) => now - p.receivedAt >= this.#p.config.maxPendingAgeMs,
    );
    if (expired.length === 0) return;
    const txn = newTxn(org);
    for (const pending of expired) {
      if (pending.foreign === true) {
        // Never ours: nothing to tell the app.
        org.pending.delete(pending.id);
        txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [pending.id] });
      } else {
        this.#undecryptable(org, txn, pending, "expired");
      }
    }
    this.#background(org.hex, () => this.#commit(org, txn));
  }

  /** Retries every buffered message (after an epoch change); each is delivered exactly once. */
  async #retryPending(org: Org): Promise<void> {
    for (const pending of [...org.pending.values()].sort((a, b) => a.receivedAt - b.receivedAt)) {
      if (!org.pending.has(pending.id)) continue;
      await this.#onChannel(
        org,
        pending.channelId,
        pending.topic,
        pending.payload,
        pending.id,
        pending,
      );
    }
  }

  /**
   * Member recovery (docs/CLIENT.md, "No missing keys"): backfill the keys topics and the inbox
   * from history; if a buffered message or a Welcome is still waiting, ask the owner for a resync
   * over the pairwise channel, with exponential back-off.
   */
  async #recover(org: Org, channelId: string, kickSweep = true): Promise<void> {
    if (org.recovering) return;
    org.recovering = true;
    try {
      // The inbox first: a late Welcome gives the group that the keys topics' KeyUpdates apply to.
      await this.#backfillInbox();
      const topics = [keysTopic(org.id)];
      for (const id of org.log.state.channels.keys()) topics.push(keysTopic(org.id, id));
      await this.#backfill(org, topics);
      await this.#retryPending(org);
      const groupId = this.#groupOfChannel(org, channelId);
      const stuck =
        [...org.pending.values()].some(
          (p) =>
            p.foreign !== true &&
            this.#groupOfChannel(org, p.channelId) === groupId &&
            this.#mayBeOurs(org, p.keyId),
        ) ||
        org.waitingWelcomes.size > 0 ||
        this.#behind(org).has(groupId);
      if (stuck) await this.#requestResync(org, groupId);
    } finally {
      org.recovering = false;
    }
    // A gap was seen: look at every topic's history now rather than at the next sweep.
    if (kickSweep) this.#scheduleSweep(0);
  }

  /** Whether an epoch may be ours: its roster is not known yet, or lists this member. */
  #mayBeOurs(org: Org, keyIdHex: string): boolean {
    const record = org.rosters.get(keyIdHex);
    if (record === undefined) return true;
    const me = this.#p.identity.publicKey;
    return record.roster.some((leaf) => leaf !== undefined && equalBytes(leaf.identityKey, me));
  }

  /**
   * Member: the groups whose owner-signed roster of a later epoch lists this member (same identity
   * and signing key) while its own state is older, removed, or missing: a KeyUpdate it could not
   * open (its leaf secret changed with a resync answer still on the way) or a Welcome that was
   * lost. No message need wait for the new epoch for the member to notice.
   */
  #behind(org: Org): Set<string> {
    const out = new Set<string>();
    if (org.role !== "member") return out;
    const me = this.#p.identity.publicKey;
    // The newest roster of each group is enough (and a roster may hold 100,000 leaves).
    const newest = new Map<string, EpochRoster>();
    for (const record of org.rosters.values()) {
      const known = newest.get(record.channelId);
      if (known === undefined || record.epoch > known.epoch) newest.set(record.channelId, record);
    }
    for (const record of newest.values()) {
      const group = org.memberGroups.get(record.channelId);
      if (group !== undefined && record.epoch <= group.epoch) continue;
      if (group === undefined && org.waitingWelcomes.has(toHex(record.keyId))) continue;
      const listed = record.roster.some(
        (leaf) =>
          leaf !== undefined &&
          equalBytes(leaf.identityKey, me) &&
          equalBytes(leaf.signingKey, org.keys.signingKey),
      );
      if (listed) out.add(record.channelId);
    }
    return out;
  }

  #groupOfChannel(org: Org, channelId: string): string {
    return org.memberGroups.has(channelId) || isRestricted(org.log.state, channelId)
      ? channelId
      : "";
  }

  async #requestResync(org: Org, groupId: string): Promise<void> {
    if (org.ownerSession === undefined || org.role !== "member") return;
    const now = this.#now();
    const config = this.#p.config;
    const backoff = org.resyncBackoff.get(groupId) ?? {
      delay: config.resyncInitialBackoffMs,
      nextAt: 0,
    };
    if (now < backoff.nextAt) {
      this.#armResyncRetry(org, groupId, backoff.nextAt - now);
      return;
    }
    // Jittered: members that lost the same answer do not all ask again at once.
    const jitter = ((this.#p.random(1)[0] ?? 0) / 255) * 0.25;
    const wait = Math.round(backoff.delay * (1 + jitter));
    org.resyncBackoff.set(groupId, {
      delay: Math.min(backoff.delay * 2, config.resyncMaxBackoffMs),
      nextAt: now + wait,
    });
    // Until an answer comes (a Welcome clears the back-off), ask again when this delay is over:
    // the request or its answer may be lost, or refused by the owner's rate limit.
    this.#armResyncRetry(org, groupId, wait);
    const group = org.memberGroups.get(groupId);
    const txn = newTxn(org);
    await this.#sendToOwner(org, txn, {
      case: "resyncRequest",
      value: {
        channelId: groupId,
        haveEpoch: group?.epoch ?? 0n,
        haveKeyId: group?.keyId ?? new Uint8Array(0),
        wantedKeyId: new Uint8Array(0),
        descriptionClock: org.description?.clock ?? 0n,
      },
    });
    txn.emits.push([
      "resync:requested",
      { organizationId: org.hex, channelId: groupId, member: this.memberId },
    ]);
    await this.#commit(org, txn);
  }

  #armResyncRetry(org: Org, groupId: string, delay: number): void {
    if (org.resyncTimer !== undefined || this.#closed) return;
    org.resyncTimer = this.#p.timers.setTimeout(() => {
      org.resyncTimer = undefined;
      this.#background(org.hex, async () => {
        if (org.role !== "member" || !org.resyncBackoff.has(groupId)) return;
        await this.#recover(org, groupId);
      });
    }, delay);
  }

  /**
   * Reads topics from history (oldest first) and processes what was not seen yet.
   * @param from - per topic, the time to read from (all of history when absent)
   * @returns how many messages it committed, and whether every topic was read to its end
   */
  async #backfill(
    org: Org,
    topics: readonly string[],
    from?: number | ((topic: string) => number | undefined),
  ): Promise<{ fresh: number; complete: boolean }> {
    const transport = this.#p.transport;
    let fresh = 0;
    let complete = true;
    if (!transport.capabilities.history) return { fresh, complete: false };
    for (const topic of topics) {
      const route = this.#routes.get(topic);
      if (route === undefined) continue;
      const since = typeof from === "function" ? from(topic) : from;
      let cursor: string | undefined;
      let ended = false;
      for (let page = 0; page < this.#p.config.maxBackfillPages; page++) {
        let result: Awaited<ReturnType<Transport["queryHistory"]>>;
        try {
          result = await transport.queryHistory({
            contentTopics: [topic],
            direction: "forward",
            pageSize: 100,
            ...(since === undefined ? {} : { from: since }),
            ...(cursor === undefined ? {} : { cursor }),
          });
        } catch (error) {
          this.#emitter.emit("error", { organizationId: org.hex, error });
          break;
        }
        for (const message of result.messages) {
          const id = hashId(message.payload);
          if (this.#seen.has(id)) continue;
          await this.#process(route, message, id);
          if (this.#seen.has(id)) fresh++;
        }
        if (result.cursor === undefined) {
          ended = true;
          break;
        }
        cursor = result.cursor;
      }
      if (!ended) complete = false;
    }
    return { fresh, complete };
  }

  /** The inbox from history (from `from`, or all of it). @returns what `#backfill` returns */
  async #backfillInbox(from?: number): Promise<{ fresh: number; complete: boolean }> {
    const transport = this.#p.transport;
    let fresh = 0;
    if (!transport.capabilities.history) return { fresh, complete: false };
    const route: Route = { org: undefined, kind: "inbox", channelId: "" };
    let cursor: string | undefined;
    for (let page = 0; page < this.#p.config.maxBackfillPages; page++) {
      let result: Awaited<ReturnType<Transport["queryHistory"]>>;
      try {
        result = await transport.queryHistory({
          contentTopics: [this.#inbox],
          direction: "forward",
          pageSize: 100,
          ...(from === undefined ? {} : { from }),
          ...(cursor === undefined ? {} : { cursor }),
        });
      } catch (error) {
        this.#emitter.emit("error", { error });
        return { fresh, complete: false };
      }
      for (const message of result.messages) {
        const id = hashId(message.payload);
        if (this.#seen.has(id)) continue;
        await this.#process(route, message, id);
        if (this.#seen.has(id)) fresh++;
      }
      if (result.cursor === undefined) return { fresh, complete: true };
      cursor = result.cursor;
    }
    return { fresh, complete: false };
  }

  /**
   * After a restart: every topic from its sweep mark (less the overlap), or from the beginning of
   * history when no sweep completed yet.
   */
  async #catchUp(org: Org): Promise<void> {
    await this.#backfill(org, [...org.subscriptions.keys()], (topic) =>
      this.#sinceMark(org, topic),
    );
    await this.#retryPending(org);
  }

  #sinceMark(org: Org, topic: string): number | undefined {
    const mark = org.marks.get(topic);
    return mark === undefined ? undefined : Math.max(0, mark - sweepOverlapMs);
  }

  /**
   * (Re)arms the history sweep in `delay` ms (an earlier sweep already armed wins). 0 means a gap
   * was seen: sweep now, and start the back-off again from `syncIntervalMs`.
   */
  #scheduleSweep(delay: number): void {
    const config = this.#p.config;
    if (config.syncIntervalMs <= 0 || this.#closed || !this.#p.transport.capabilities.history) {
      return;
    }
    if (delay === 0) this.#sweepDelay = config.syncIntervalMs;
    if (this.#sweepTimer !== undefined) {
      if (delay !== 0) return;
      this.#p.timers.clearTimeout(this.#sweepTimer);
    }
    this.#sweepTimer = this.#p.timers.setTimeout(() => {
      this.#sweepTimer = undefined;
      this.#background(undefined, () => this.#sweep());
    }, delay);
  }

  /**
   * Anti-entropy (docs/CLIENT.md, "No missing keys"): reads every topic of every organization, and
   * the inbox, from history since its mark, so that what the network lost on the way (a channel
   * message, a request to join, a resync answer) is found while the client runs. Marks move to
   * the sweep's start once a topic was read to its end; the interval doubles while nothing new
   * turns up.
   */
  async #sweep(): Promise<void> {
    if (this.#closed) return;
    const startedAt = this.#now();
    let fresh = 0;
    const inbox = await this.#backfillInbox(
      this.#inboxMark === undefined ? undefined : Math.max(0, this.#inboxMark - sweepOverlapMs),
    );
    fresh += inbox.fresh;
    if (inbox.complete) this.#inboxMark = startedAt;
    for (const org of [...this.#orgs.values()]) {
      for (const topic of [...org.marks.keys()]) {
        if (!org.subscriptions.has(topic)) org.marks.delete(topic);
      }
      for (const topic of [...org.subscriptions.keys()]) {
        const result = await this.#backfill(org, [topic], this.#sinceMark(org, topic));
        fresh += result.fresh;
        if (result.complete) org.marks.set(topic, startedAt);
      }
      await this.#retryPending(org);
      // The marks, durably (a restart reads from them).
      await this.#p.store.batch(this.#metaOps(org));
      for (const groupId of this.#behind(org)) await this.#recover(org, groupId, false);
    }
    const config = this.#p.config;
    this.#sweepDelay =
      fresh > 0 ? config.syncIntervalMs : Math.min(this.#sweepDelay * 2, config.syncMaxIntervalMs);
    this.#scheduleSweep(this.#sweepDelay);
  }

  // -----------------------------------------------------------------------------------------------
  // Pairwise channel
  // -----------------------------------------------------------------------------------------------

  async #sendToOwner(
    org: Org,
    txn: Txn,
    content: PairwiseContentInit,
    clock: bigint = org.log.nextClock(),
  ): Promise<string> {
    const session = org.ownerSession;
    if (session === undefined) throw new NotMemberError(org.hex);
    const encrypted = session.encrypt(encodePairwiseContent({ content }));
    const topic = requestsTopic(org.id);
    const bytes = await sealEnvelope(
      {
        type: "pairwise",
        organizationId: org.id,
        clock,
        contentTopic: topic,
        message: decodePairwiseMessage(encrypted),
      },
      this.#identitySigner,
    );
    txn.sessions.add("owner");
    const id = hashId(bytes);
    txn.outbox.push({ id, topic, bytes });
    return id;
  }

  async #sendToMember(
    org: Org,
    txn: Txn,
    member: string,
    content: PairwiseContentInit,
    clock: bigint = org.log.nextClock(),
  ): Promise<boolean> {
    const session = org.sessions.get(member);
    if (session === undefined) return false;
    const encrypted = session.encrypt(encodePairwiseContent({ content }));
    const topic = inboxTopic(publicKeyFromMemberId(member));
    const bytes = await sealEnvelope(
      {
        type: "pairwise",
        organizationId: org.id,
        clock,
        contentTopic: topic,
        message: decodePairwiseMessage(encrypted),
      },
      org.signer as EnvelopeSigner,
    );
    txn.sessions.add(member);
    txn.outbox.push({ id: hashId(bytes), topic, bytes });
    return true;
  }

  /** Owner: a pairwise message from a member or a newcomer on the requests topic. */
  async #onRequestsTopic(org: Org, message: TransportMessage, id: string): Promise<void> {
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(message.payload, {
        contentTopic: requestsTopic(org.id),
        organizationId: org.id,
        accept: ["pairwise"],
        verify: this.#verify,
      });
    } catch {
      this.#seen.add(id);
      return;
    }
    if (opened.type !== "pairwise") return;
    const member = toHex(opened.signer);
    const txn = newTxn(org);
    let plaintext: Uint8Array;
    try {
      const header = opened.message.x3dh;
      const known = header === undefined ? member : org.byEphemeral.get(toHex(header.ephemeralKey));
      const existing = known === undefined ? undefined : org.sessions.get(known);
      if (existing !== undefined && (header === undefined || known === member)) {
        plaintext = existing.decrypt(opened.payload);
      } else if (header !== undefined) {
        if (!equalBytes(header.initiatorIdentityKey, opened.signer)) throw new Error("identity");
        const response = PairwiseSession.respond(
          this.#p.provider,
          org.prekeys as OwnerPrekeys,
          opened.payload,
        );
        plaintext = response.plaintext;
        org.sessions.set(member, response.session);
        org.byEphemeral.set(toHex(response.session.initialEphemeralKey), member);
        txn.prekeys = true;
      } else {
        throw new Error("no session");
      }
    } catch {
      this.#seen.add(id);
      return;
    }
    txn.sessions.add(member);
    this.#markSeen(org, txn, id);
    let content: PairwiseContent;
    try {
      content = decodePairwiseContent(plaintext);
    } catch {
      await this.#commit(org, txn);
      return;
    }
    const context = { id, author: member, clock: opened.clock, sentAt: this.#now() };
    const c = content.content;
    switch (c.case) {
      case "requestToJoin":
        await this.#onJoinRequest(org, txn, c.value, context);
        break;
      case "cancelRequestToJoin": {
        const mapped = cancelRequestToJoinFromWire(c.value, context, org.log.state);
        if (mapped.ok && this.#addEvent(org, txn, mapped.value) === undefined) {
          txn.emits.push([
            "request:cancelled",
            { organizationId: org.hex, requestId: mapped.value.body.requestId, requester: member },
          ]);
        }
        break;
      }
      case "requestToLeave": {
        const mapped = requestToLeaveFromWire(c.value, context);
        if (mapped.ok && this.#addEvent(org, txn, mapped.value) === undefined) {
          // The owner lets anyone go: resolve at once, then re-key without the member.
          this.#addEvent(
            org,
            txn,
            this.#event(
              org,
              "leave.resolved",
              { requestId: mapped.value.id, accepted: true },
              org.hex,
            ),
          );
          txn.description = true;
          await this.#reconcile(org, txn);
        }
        break;
      }
      case "memberKeys": {
        const keys = c.value;
        if (equalBytes(keys.identityKey, opened.signer)) {
          org.memberKeys.set(member, { signingKey: keys.signingKey, prekey: keys.prekey });
          txn.ops.push({
            type: "put",
            space: orgSpace(org.hex),
            key: `memberkeys/${member}`,
            value: encodeJson({ signingKey: keys.signingKey, prekey: keys.prekey }),
          });
          await this.#reconcile(org, txn);
        }
        break;
      }
      case "resyncRequest":
        await this.#onResyncRequest(org, txn, member, c.value.channelId);
        break;
      default:
        break;
    }
    await this.#commit(org, txn);
  }

  async #onJoinRequest(
    org: Org,
    txn: Txn,
    request: PayloadOf<"organization-request-to-join">,
    context: { id: string; author: string; clock: bigint; sentAt: number },
  ): Promise<void> {
    const mapped = requestToJoinFromWire(request, context);
    if (!mapped.ok) return;
    const state = org.log.state;
    const now = this.#now();
    const invitation = [...state.invitations.values()].find(
      (i) =>
        i.invitee === context.author &&
        !i.used &&
        i.revokedAt === undefined &&
        i.chatId === mapped.value.body.chatId &&
        now < i.sentAt + org.log.config.invitationExpiryMs,
    );
    const event: OrgEvent =
      invitation === undefined
        ? mapped.value
        : {
            id: context.id,
            type: "invitation.used",
            author: context.author,
            clock: mapped.value.clock,
            sentAt: mapped.value.sentAt,
            body: { invitationId: invitation.id },
          };
    const refused = this.#addEvent(org, txn, event);
    const member = context.author;
    if (refused === "conflict" && this.#predatesDeparture(org, member)) {
      // Ordered before the leave (or removal) that the state has applied since: the requester was
      // a member in its place. It is refused there for good; say so, so that it asks again
      // (docs/CLIENT.md, "Rejoin after leave").
      await this.#respond(org, txn, member, context.id, "retry: request predates your leave");
      return;
    }
    if (refused !== undefined) return;
    if (org.log.state.members.has(member)) {
      // Open organization, or an invitation: a member at once.
      await this.#respond(org, txn, member, context.id, undefined);
      txn.description = true;
      await this.#reconcile(org, txn);
      txn.emits.push([
        "request:accepted",
        { organizationId: org.hex, requestId: context.id, requester: member },
      ]);
      return;
    }
    txn.emits.push([
      "request:received",
      {
        organizationId: org.hex,
        requestId: context.id,
        requester: member,
        displayName: mapped.value.body.displayName,
      },
    ]);
  }

  /**
   * Owner: whether a request refused as `conflict` in its place came from someone the state no
   * longer holds as a member and who has no pending request: a member then, gone since.
   */
  #predatesDeparture(org: Org, member: string): boolean {
    const state = org.log.state;
    if (state.members.has(member) || state.banned.has(member)) return false;
    for (const request of state.requests.values()) {
      if (request.requester === member && request.status === "pending") return false;
    }
    return true;
  }

  /** Owner: sends a join response (accepted, or rejected with its reason) over the pairwise channel. */
  async #respond(
    org: Org,
    txn: Txn,
    member: string,
    requestId: string,
    rejection: string | undefined,
  ): Promise<void> {
    const decision = this.#event(
      org,
      rejection === undefined ? "request.accepted" : "request.rejected",
      rejection === undefined ? { requestId } : { requestId, reason: rejection },
      org.hex,
    ) as Extract<OrgEvent, { type: "request.accepted" | "request.rejected" }>;
    await this.#sendToMember(
      org,
      txn,
      member,
      {
        case: "requestToJoinResponse",
        value: joinResponseToWire(decision, { organizationId: org.hex }) as never,
      },
      decision.clock,
    );
  }

  async #onResyncRequest(org: Org, txn: Txn, member: string, channelId: string): Promise<void> {
    const now = this.#now();
    const last = org.resyncAnswered.get(member);
    if (last !== undefined && now - last < this.#p.config.resyncAnswerIntervalMs) return;
    const group = org.ownerGroups.get(channelId);
    const leaf = group === undefined ? undefined : rosterMembers(group.roster).get(member);
    if (group === undefined || leaf === undefined || leaf === group.leaf) return;
    org.resyncAnswered.set(member, now);
    const welcome = group.resync(leaf, { leafSecret: this.#p.random(32) });
    txn.groups.add(channelId);
    // The Welcome names its epoch's roster, which a member that asks may lack (it missed a delta,
    // or never had the roster it applies to): a snapshot of it, unless one went out just now.
    await this.#publishSnapshot(org, txn, channelId, "resync");
    await this.#sendToMember(org, txn, member, { case: "welcome", value: welcome as never });
    txn.emits.push(["resync:requested", { organizationId: org.hex, channelId, member }]);
  }

  // -----------------------------------------------------------------------------------------------
  // Owner: groups, rosters, re-keys
  // -----------------------------------------------------------------------------------------------

  #ownLeaf(org: Org) {
    return { identityKey: org.id, signingKey: org.keys.signingKey, prekey: org.keys.prekey };
  }

  /**
   * Owner: makes every group's membership follow the state. Joiners are added at once (one add
   * step, Welcomes over the pairwise channel); leavers wait in `pendingRemovals` for the batched
   * re-key (`rekeyWindowMs`).
   */
  async #reconcile(org: Org, txn: Txn): Promise<void> {
    const state = org.log.state;
    if (!state.encrypted) return;
    const wantedGroups = new Set<string>([""]);
    for (const channelId of state.channels.keys()) {
      if (isRestricted(state, channelId)) wantedGroups.add(channelId);
    }
    for (const channelId of [...org.ownerGroups.keys()]) {
      if (!wantedGroups.has(channelId)) {
        org.ownerGroups.delete(channelId);
        org.pendingRemovals.delete(channelId);
        txn.groups.add(channelId);
      }
    }
    for (const channelId of wantedGroups) {
      let group = org.ownerGroups.get(channelId);
      if (group === undefined) {
        group = OwnerGroup.create({
          provider: this.#p.provider,
          group: { organizationId: org.id, channelId },
          ownLeaf: this.#ownLeaf(org),
          signingSecretKey: org.keys.signingSecret,
          now: this.#p.now(),
        });
        org.ownerGroups.set(channelId, group);
        txn.groups.add(channelId);
        await this.#announceEpoch(org, txn, channelId, "genesis");
        this.#epochEvent(org, txn, channelId, group);
      }
      const current = rosterMembers(group.roster);
      current.delete(org.hex);
      const wanted = new Set<string>();
      for (const member of state.members.keys()) {
        if (member === org.hex) continue;
        if (channelId !== "" && !canPost(state, member, channelId)) continue;
        wanted.add(member);
      }
      const joiners = [...wanted]
        .filter((m) => !current.has(m) && org.memberKeys.has(m) && org.sessions.has(m))
        .sort();
      if (joiners.length > 0) {
        const added = group.add(
          joiners.map((member) => {
            const keys = org.memberKeys.get(member) as {
              signingKey: Uint8Array;
              prekey: Uint8Array;
            };
            return {
              leaf: {
                identityKey: publicKeyFromMemberId(member),
                signingKey: keys.signingKey,
                prekey: keys.prekey,
              },
              leafSecret: this.#p.random(32),
            };
          }),
          this.#p.now(),
        );
        txn.groups.add(channelId);
        await this.#announceEpoch(org, txn, channelId, "add", added.previousKeyId);
        for (const { leaf, welcome } of added.welcomes) {
          const identity = added.roster[leaf]?.identityKey;
          if (identity === undefined) continue;
          await this.#sendToMember(org, txn, toHex(identity), {
            case: "welcome",
            value: welcome as never,
          });
        }
        this.#epochEvent(org, txn, channelId, group);
      }
      const leavers = [...current.keys()].filter((m) => !wanted.has(m));
      if (leavers.length > 0) {
        const set = org.pendingRemovals.get(channelId) ?? new Set<string>();
        for (const member of leavers) set.add(member);
        org.pendingRemovals.set(channelId, set);
      }
    }
    if ([...org.pendingRemovals.values()].some((set) => set.size > 0)) {
      const window = this.#p.config.rekeyWindowMs;
      if (window <= 0) {
        await this.#rekeyPending(org, txn);
      } else if (org.rekeyDueAt === undefined) {
        org.rekeyDueAt = this.#now() + window;
        this.#scheduleRekey(org, org.rekeyDueAt);
      }
    }
  }

  #scheduleRekey(org: Org, dueAt: number): void {
    if (org.rekeyTimer !== undefined || this.#closed) return;
    org.rekeyTimer = this.#p.timers.setTimeout(
      () => {
        org.rekeyTimer = undefined;
        this.#background(org.hex, async () => {
          const txn = newTxn(org);
          await this.#rekeyPending(org, txn);
          await this.#commit(org, txn);
        });
      },
      Math.max(0, dueAt - this.#now()),
    );
  }

  /** Owner: one KeyUpdate per group for every removal batched since the window opened. */
  async #rekeyPending(org: Org, txn: Txn): Promise<void> {
    org.rekeyDueAt = undefined;
    if (org.rekeyTimer !== undefined) {
      this.#p.timers.clearTimeout(org.rekeyTimer);
      org.rekeyTimer = undefined;
    }
    for (const [channelId, members] of [...org.pendingRemovals]) {
      org.pendingRemovals.delete(channelId);
      const group = org.ownerGroups.get(channelId);
      if (group === undefined) continue;
      const leaves = rosterMembers(group.roster);
      const removed = [...members]
        .map((m) => leaves.get(m))
        .filter((leaf): leaf is number => leaf !== undefined && leaf !== group.leaf);
      if (removed.length === 0) continue;
      await this.#rekeyGroup(org, txn, channelId, removed);
    }
    txn.meta = true;
  }

  async #rekeyGroup(org: Org, txn: Txn, channelId: string, leaves: number[]): Promise<void> {
    const group = org.ownerGroups.get(channelId) as OwnerGroup;
    const now = this.#p.now();
    const update = leaves.length === 0 ? group.refresh(now) : group.remove(leaves, now);
    txn.groups.add(channelId);
    await this.#announceEpoch(org, txn, channelId, "rekey", update.previousKeyId);
    const envelopes = await sealKeyUpdate({
      group: group.group,
      chunks: update.chunks,
      clock: org.log.nextClock(),
      signer: org.signer as EnvelopeSigner,
    });
    const topic = keysTopic(org.id, channelId === "" ? undefined : channelId);
    for (const bytes of envelopes) txn.outbox.push({ id: hashId(bytes), topic, bytes });
    this.#epochEvent(org, txn, channelId, group);
  }

  #epochEvent(org: Org, txn: Txn, channelId: string, group: OwnerGroup): void {
    this.#addEvent(
      org,
      txn,
      this.#event(
        org,
        "epoch.changed",
        { channelId, epoch: group.epoch, keyId: toHex(group.keyId) },
        org.hex,
      ),
    );
    txn.epochChanged = true;
    txn.emits.push(["epoch:changed", { organizationId: org.hex, channelId, epoch: group.epoch }]);
  }

  /**
   * Owner: records the roster of a group's new epoch and announces it on the group's keys topic: a
   * delta from the previous epoch's roster (a removal costs a few bytes per removed leaf, whatever
   * the size of the group), or a paged snapshot at genesis and when the change is too large for
   * one delta.
   */
  async #announceEpoch(
    org: Org,
    txn: Txn,
    channelId: string,
    change: RosterChange,
    previousKeyId?: Uint8Array,
  ): Promise<void> {
    const group = org.ownerGroups.get(channelId) as OwnerGroup;
    const previous =
      previousKeyId === undefined ? undefined : org.rosters.get(toHex(previousKeyId));
    const record: EpochRoster = {
      change,
      channelId,
      epoch: group.epoch,
      keyId: group.keyId.slice(),
      previousKeyId: previousKeyId?.slice() ?? new Uint8Array(0),
      rosterHash: rosterHash(this.#p.provider, group.roster),
      previousRosterHash: previous?.rosterHash ?? new Uint8Array(0),
      roster: [...group.roster],
    };
    org.rosters.add(record);
    this.#persistRoster(org, txn, record);
    if (change !== "genesis" && previous === undefined) {
      // Every epoch this owner makes is recorded in the batch that commits it, so only a damaged
      // store lacks the previous one; without its hash this epoch cannot be announced (the wire
      // requires it). Recorded all the same, so that the next epoch change announces normally.
      this.#emitter.emit("error", {
        organizationId: org.hex,
        error: new StoreCorruptedError(
          `${orgSpace(org.hex)}/roster/${toHex(previousKeyId ?? new Uint8Array(0))}`,
        ),
      });
      return;
    }
    const delta = previous === undefined ? undefined : rosterDeltaMessage(record, previous.roster);
    if (delta === undefined) {
      await this.#publishSnapshot(org, txn, channelId, "epoch");
      return;
    }
    const [sealed] = await sealEpochRosters({
      organizationId: org.id,
      signer: org.signer as EnvelopeSigner,
      clock: org.log.state.clock,
      messages: [delta],
    });
    if (sealed !== undefined) {
      txn.outbox.push({ id: hashId(sealed.bytes), topic: sealed.topic, bytes: sealed.bytes });
    }
  }

  /**
   * Owner: a paged snapshot of a group's current roster on its keys topic. `resync` answers are
   * rate-limited per group (one snapshot of an epoch per `resyncAnswerIntervalMs`): members that
   * ask at once share one snapshot, and a member that missed it asks again after its back-off.
   */
  async #publishSnapshot(
    org: Org,
    txn: Txn,
    channelId: string,
    reason: "epoch" | "resync" | "periodic",
  ): Promise<void> {
    const group = org.ownerGroups.get(channelId);
    if (group === undefined) return;
    const keyIdHex = toHex(group.keyId);
    const record = org.rosters.get(keyIdHex);
    // Without the previous epoch's roster hash (a record of the provisional format whose
    // predecessor is gone, or a damaged store) a snapshot would break the wire rules; the next
    // epoch change makes a complete record again.
    if (
      record === undefined ||
      (record.change !== "genesis" && record.previousRosterHash.length !== 32)
    ) {
      return;
    }
    const now = this.#now();
    const last = org.snapshots.get(channelId);
    if (
      reason === "resync" &&
      last?.keyId === keyIdHex &&
      now - last.at < this.#p.config.resyncAnswerIntervalMs
    ) {
      return;
    }
    org.snapshots.set(channelId, { keyId: keyIdHex, at: now });
    const sealed = await sealEpochRosters({
      organizationId: org.id,
      signer: org.signer as EnvelopeSigner,
      clock: org.log.state.clock,
      messages: rosterSnapshotMessages(record),
    });
    for (const { topic, bytes } of sealed) txn.outbox.push({ id: hashId(bytes), topic, bytes });
  }

  // -----------------------------------------------------------------------------------------------
  // Owner operations
  // -----------------------------------------------------------------------------------------------

  /** Runs an owner operation: authors the event, reconciles groups, republishes the description. */
  async #ownerOp<K extends OrgEvent["type"]>(
    organizationId: string,
    options: OperationOptions | undefined,
    type: K,
    body: OrgEventOf<K>["body"],
    what: string,
    after?: (org: Org, txn: Txn, event: OrgEventOf<K>) => Promise<void>,
  ): Promise<OrgEventOf<K>> {
    return this.#task(async () => {
      checkSignal(options?.signal);
      const org = this.#owned(organizationId);
      const event = this.#event(org, type, body, org.hex);
      const verdict = reduce(org.log.state, event, org.log.config);
      if (verdict.rejected !== undefined)
        throw new EventRejectedError(what, verdict.rejected.reason);
      checkSignal(options?.signal);
      const txn = newTxn(org);
      this.#addEvent(org, txn, event);
      if (after !== undefined) await after(org, txn, event);
      txn.description = true;
      await this.#reconcile(org, txn);
      await this.#commit(org, txn);
      await this.#syncSubscriptions(org);
      return event;
    });
  }

  async createOrganization(
    init: CreateOrganizationInit,
    options?: OperationOptions,
  ): Promise<string> {
    return this.#task(async () => {
      checkSignal(options?.signal);
      const { provider } = this.#p;
      const key = provider.ed25519KeyPair();
      const prekey = provider.x25519KeyPair();
      const org = this.#emptyOrg(key.publicKey, "owner", {
        signingSecret: key.secretKey,
        signingKey: key.publicKey,
        prekeySecret: prekey.secretKey,
        prekey: prekey.publicKey,
      });
      org.orgSecret = key.secretKey;
      org.signer = ed25519EnvelopeSigner(provider, key.secretKey);
      org.prekeys = OwnerPrekeys.create(provider, {
        identitySecretKey: key.secretKey,
        now: this.#p.now(),
      });
      org.discovered = true;
      const txn = newTxn(org);
      const created = this.#event(
        org,
        "org.created",
        {
          identity: {
            ...emptyIdentity,
            displayName: init.name,
            description: init.description ?? "",
          },
          permissions: {
            access: init.access ?? "on-request",
            ensOnly: init.ensOnly ?? false,
            private: false,
          },
          pinMessageAllMembersEnabled: init.pinMessageAllMembersEnabled ?? false,
          tags: [...(init.tags ?? [])],
          encrypted: init.encrypted ?? true,
        },
        org.hex,
      );
      const verdict = reduce(org.log.state, created, org.log.config);
      if (verdict.rejected !== undefined) {
        throw new EventRejectedError("createOrganization", verdict.rejected.reason);
      }
      this.#orgs.set(org.hex, org);
      this.#addEvent(org, txn, created);
      txn.prekeys = true;
      txn.description = true;
      txn.ops.push(
        { type: "put", space: "orgs", key: org.hex, value: new Uint8Array([1]) },
        this.#secretsOp(org),
      );
      await this.#reconcile(org, txn);
      await this.#commit(org, txn);
      await this.#syncSubscriptions(org);
      return org.hex;
    });
  }

  async editIdentity(
    organizationId: string,
    identity: Partial<Identity>,
    options?: OperationOptions,
  ): Promise<void> {
    const current = this.#org(organizationId).log.state.identity;
    await this.#ownerOp(
      organizationId,
      options,
      "org.identity.changed",
      { identity: { ...current, ...identity } },
      "editIdentity",
    );
  }

  async setPermissions(
    organizationId: string,
    permissions: Partial<Permissions>,
    options?: OperationOptions,
  ): Promise<void> {
    const current = this.#org(organizationId).log.state.permissions;
    await this.#ownerOp(
      organizationId,
      options,
      "org.permissions.changed",
      { permissions: { ...current, ...permissions } },
      "setPermissions",
    );
  }

  async setAdminSettings(
    organizationId: string,
    settings: { readonly pinMessageAllMembersEnabled: boolean },
    options?: OperationOptions,
  ): Promise<void> {
    await this.#ownerOp(
      organizationId,
      options,
      "org.admin-settings.changed",
      { pinMessageAllMembersEnabled: settings.pinMessageAllMembersEnabled },
      "setAdminSettings",
    );
  }

  async setTags(organizationId: string, tags: readonly string[], options?: OperationOptions) {
    await this.#ownerOp(
      organizationId,
      options,
      "org.tags.changed",
      { tags: [...tags] },
      "setTags",
    );
  }

  async setEncrypted(organizationId: string, encrypted: boolean, options?: OperationOptions) {
    await this.#ownerOp(
      organizationId,
      options,
      "org.encryption.changed",
      { encrypted },
      "setEncrypted",
    );
  }

  async createChannel(organizationId: string, init: CreateChannelInit, options?: OperationOptions) {
    await this.#ownerOp(
      organizationId,
      options,
      "channel.created",
      {
        channelId: init.id,
        identity: { ...emptyIdentity, displayName: init.name, description: init.description ?? "" },
        permissions: {
          access: init.access ?? "no-membership",
          ensOnly: false,
          private: init.private ?? false,
        },
        categoryId: init.categoryId ?? "",
      },
      "createChannel",
    );
  }

  async editChannel(
    organizationId: string,
    channelId: string,
    changes: Partial<Omit<CreateChannelInit, "id">>,
    options?: OperationOptions,
  ) {
    const channel = this.#org(organizationId).log.state.channels.get(channelId);
    if (channel === undefined) throw new ChannelAccessError(organizationId, channelId);
    const identityChanged = changes.name !== undefined || changes.description !== undefined;
    const permissionsChanged = changes.access !== undefined || changes.private !== undefined;
    await this.#ownerOp(
      organizationId,
      options,
      "channel.edited",
      {
        channelId,
        ...(identityChanged
          ? {
              identity: {
                ...channel.identity,
                displayName: changes.name ?? channel.identity.displayName,
                description: changes.description ?? channel.identity.description,
              },
            }
          : {}),
        ...(permissionsChanged
          ? {
              permissions: {
                ...channel.permissions,
                access: changes.access ?? channel.permissions.access,
                private: changes.private ?? channel.permissions.private,
              },
            }
          : {}),
        ...(changes.categoryId === undefined ? {} : { categoryId: changes.categoryId }),
      },
      "editChannel",
    );
  }

  async removeChannel(organizationId: string, channelId: string, options?: OperationOptions) {
    await this.#ownerOp(organizationId, options, "channel.removed", { channelId }, "removeChannel");
  }

  async setChannelMembers(
    organizationId: string,
    channelId: string,
    members: Readonly<Record<string, readonly Role[]>>,
    options?: OperationOptions,
  ) {
    await this.#ownerOp(
      organizationId,
      options,
      "channel.members.changed",
      { channelId, members },
      "setChannelMembers",
    );
  }

  async createCategory(
    organizationId: string,
    categoryId: string,
    name: string,
    options?: OperationOptions,
  ) {
    await this.#ownerOp(
      organizationId,
      options,
      "category.created",
      { categoryId, name },
      "createCategory",
    );
  }

  async editCategory(
    organizationId: string,
    categoryId: string,
    name: string,
    options?: OperationOptions,
  ) {
    await this.#ownerOp(
      organizationId,
      options,
      "category.edited",
      { categoryId, name },
      "editCategory",
    );
  }

  async removeCategory(organizationId: string, categoryId: string, options?: OperationOptions) {
    await this.#ownerOp(
      organizationId,
      options,
      "category.removed",
      { categoryId },
      "removeCategory",
    );
  }

  async invite(
    organizationId: string,
    invitee: string,
    options?: OperationOptions & { readonly chatId?: string },
  ): Promise<string> {
    return this.#task(async () => {
      checkSignal(options?.signal);
      const org = this.#owned(organizationId);
      const draft = this.#event(
        org,
        "invitation.issued",
        { invitee: invitee.toLowerCase(), chatId: options?.chatId ?? "" },
        org.hex,
      );
      const verdict = reduce(org.log.state, draft, org.log.config);
      if (verdict.rejected !== undefined)
        throw new EventRejectedError("invite", verdict.rejected.reason);
      const topic = inboxTopic(publicKeyFromMemberId(draft.body.invitee));
      const bytes = await sealEnvelope(
        {
          type: "organization-invitation",
          organizationId: org.id,
          clock: draft.clock,
          contentTopic: topic,
          message: invitationToWire(draft, { organizationId: org.hex }),
        },
        org.signer as EnvelopeSigner,
      );
      // The invitation's id is the hash of the signed envelope, as the invitee computes it.
      const event = { ...draft, id: hashId(bytes) };
      const txn = newTxn(org);
      this.#addEvent(org, txn, event);
      txn.outbox.push({ id: event.id, topic, bytes });
      await this.#commit(org, txn);
      return event.id;
    });
  }

  async acceptRequest(organizationId: string, requestId: string, options?: OperationOptions) {
    const org = this.#owned(organizationId);
    const request = org.log.state.requests.get(requestId);
    if (request === undefined) throw new UnknownTargetError("request", requestId);
    await this.#ownerOp(
      organizationId,
      options,
      "request.accepted",
      { requestId },
      "acceptRequest",
      async (o, txn, event) => {
        await this.#sendToMember(
          o,
          txn,
          request.requester,
          {
            case: "requestToJoinResponse",
            value: joinResponseToWire(event, { organizationId: o.hex }) as never,
          },
          event.clock,
        );
        txn.emits.push([
          "request:accepted",
          { organizationId: o.hex, requestId, requester: request.requester },
        ]);
      },
    );
  }

  async rejectRequest(
    organizationId: string,
    requestId: string,
    reason: string,
    options?: OperationOptions,
  ) {
    const org = this.#owned(organizationId);
    const request = org.log.state.requests.get(requestId);
    if (request === undefined) throw new UnknownTargetError("request", requestId);
    await this.#ownerOp(
      organizationId,
      options,
      "request.rejected",
      { requestId, reason },
      "rejectRequest",
      async (o, txn, event) => {
        await this.#sendToMember(
          o,
          txn,
          request.requester,
          {
            case: "requestToJoinResponse",
            value: joinResponseToWire(event, { organizationId: o.hex }) as never,
          },
          event.clock,
        );
        txn.emits.push([
          "request:rejected",
          { organizationId: o.hex, requestId, requester: request.requester, reason },
        ]);
      },
    );
  }

  async removeMember(organizationId: string, member: string, options?: OperationOptions) {
    await this.#ownerOp(
      organizationId,
      options,
      "member.removed",
      { member: member.toLowerCase() },
      "removeMember",
    );
  }

  async banMember(
    organizationId: string,
    member: string,
    options?: OperationOptions & { readonly deleteMessages?: boolean },
  ) {
    await this.#ownerOp(
      organizationId,
      options,
      "member.banned",
      { member: member.toLowerCase(), deleteMessages: options?.deleteMessages ?? false },
      "banMember",
    );
  }

  async unbanMember(organizationId: string, member: string, options?: OperationOptions) {
    await this.#ownerOp(
      organizationId,
      options,
      "member.unbanned",
      { member: member.toLowerCase() },
      "unbanMember",
    );
  }

  async setRoles(
    organizationId: string,
    member: string,
    roles: readonly Role[],
    options?: OperationOptions,
  ) {
    await this.#ownerOp(
      organizationId,
      options,
      "member.roles.changed",
      { member: member.toLowerCase(), roles: [...roles] },
      "setRoles",
    );
  }

  async issueGrant(
    organizationId: string,
    member: string,
    chatId: string,
    options?: OperationOptions,
  ) {
    await this.#ownerOp(
      organizationId,
      options,
      "grant.issued",
      { member: member.toLowerCase(), chatId },
      "issueGrant",
    );
  }

  async revokeGrant(
    organizationId: string,
    member: string,
    chatId: string,
    options?: OperationOptions,
  ) {
    await this.#ownerOp(
      organizationId,
      options,
      "grant.revoked",
      { member: member.toLowerCase(), chatId },
      "revokeGrant",
    );
  }

  // -----------------------------------------------------------------------------------------------
  // Member and newcomer operations
  // -----------------------------------------------------------------------------------------------

  async discover(organizationId: string, options?: OperationOptions): Promise<OrganizationView> {
    const hex = organizationId.toLowerCase();
    return this.#task(async () => {
      checkSignal(options?.signal);
      let org = this.#orgs.get(hex);
      if (org === undefined) org = await this.#adopt(publicKeyFromMemberId(hex), "observer");
      if (org.role === "owner" || org.discovered) return this.#orgView(org);
      await this.#backfill(org, [descriptionTopic(org.id)]);
      if (!org.discovered) throw new OrganizationNotFoundError(hex);
      await this.#backfill(org, [...org.subscriptions.keys()]);
      return this.#orgView(org);
    });
  }

  async requestToJoin(organizationId: string, init: JoinRequestInit = {}): Promise<string> {
    await this.#awaitOwnLeave(organizationId, init.signal);
    return this.#task(() => this.#join(organizationId, init));
  }

  async acceptInvitation(organizationId: string, init: JoinRequestInit = {}): Promise<string> {
    await this.#awaitOwnLeave(organizationId, init.signal);
    return this.#task(async () => {
      const org = this.#org(organizationId);
      if (!org.discovered) {
        await this.#backfill(org, [descriptionTopic(org.id)]);
        if (!org.discovered) throw new OrganizationNotFoundError(org.hex);
      }
      const invitation = [...org.log.state.invitations.values()].find(
        (i) => i.invitee === this.memberId && !i.used,
      );
      if (invitation === undefined) throw new UnknownTargetError("invitation", org.hex);
      return this.#join(organizationId, init, invitation.chatId);
    });
  }

  /**
   * Whether this identity left (or was removed) while its view still lists it as a member: the
   * owner's resolution has not reached it yet, and a request now would be clocked before it.
   */
  #leaveUnresolved(org: Org): boolean {
    return (
      org.role !== "owner" && org.role !== "member" && org.log.state.members.has(this.memberId)
    );
  }

  /**
   * Rejoin after leave (docs/CLIENT.md, "Rejoin after leave"): when this identity's view still
   * lists it although it left, backfills the organization's topics and, if the owner's resolution
   * is still missing, waits for it (outside the queue, so that what arrives is processed) for at
   * most `leaveResolutionTimeoutMs`.
   * @throws {LeaveNotResolvedError} when the resolution did not arrive in time
   * @throws {AbortError} when `signal` aborts first
   */
  async #awaitOwnLeave(organizationId: string, signal: AbortSignal | undefined): Promise<void> {
    const org = await this.#task(async () => {
      checkSignal(signal);
      const known = this.#orgs.get(organizationId.toLowerCase());
      if (known === undefined || !this.#leaveUnresolved(known)) return undefined;
      await this.#backfillInbox();
      await this.#backfill(known, [...known.subscriptions.keys()]);
      return this.#leaveUnresolved(known) ? known : undefined;
    });
    if (org === undefined) return;
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        this.#waiters.delete(finish);
        off();
        this.#p.timers.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const off = this.#emitter.on("org:updated", (event) => {
        if (event.organizationId === org.hex && !this.#leaveUnresolved(org)) finish();
      });
      const onAbort = () => finish(new AbortError({ cause: signal?.reason }));
      const timer = this.#p.timers.setTimeout(
        () => finish(new LeaveNotResolvedError(org.hex)),
        this.#p.config.leaveResolutionTimeoutMs,
      );
      this.#waiters.add(finish);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
  }

  async #join(organizationId: string, init: JoinRequestInit, chatId = ""): Promise<string> {
    checkSignal(init.signal);
    const org = this.#org(organizationId);
    if (org.role === "owner" || org.role === "member") {
      throw new EventRejectedError("requestToJoin", "conflict");
    }
    // The resolution went missing again between the wait and this turn of the queue (a rebase on
    // an older description cannot happen, but a request clocked before it would be refused).
    if (this.#leaveUnresolved(org)) throw new LeaveNotResolvedError(org.hex);
    if (org.bundle === undefined) throw new OwnerUnreachableError(org.hex);
    const { provider } = this.#p;
    let session: PairwiseSession;
    try {
      session = PairwiseSession.initiate(
        provider,
        x3dhInitiate(provider, {
          identityKeyPair: this.#p.identity,
          identityDhKeyPair: this.#p.identityDh,
          bundle: org.bundle,
          organizationKey: org.id,
        }),
      );
    } catch (cause) {
      throw new OwnerUnreachableError(org.hex, { cause });
    }
    checkSignal(init.signal);
    org.ownerSession = session;
    const txn = newTxn(org);
    // Our keys first: the owner needs them to add us to the group when it accepts.
    await this.#sendToOwner(org, txn, {
      case: "memberKeys",
      value: {
        identityKey: this.#p.identity.publicKey,
        signingKey: org.keys.signingKey,
        prekey: org.keys.prekey,
        prekeyVersion: 0n,
      },
    });
    const draft = this.#event(
      org,
      "request.sent",
      { chatId, ensName: init.ensName ?? "", displayName: init.displayName ?? "" },
      this.memberId,
    );
    const requestId = await this.#sendToOwner(org, txn, {
      case: "requestToJoin",
      value: requestToJoinToWire(draft, org.hex) as never,
    });
    // The request's id is the hash of its envelope, as the owner computes it.
    const event = { ...draft, id: requestId };
    // The envelope's clock is the one `#sendToOwner` stamped: keep the event's equal to it.
    this.#addEvent(org, txn, event);
    org.request = { id: requestId, status: "pending" };
    org.role = "requester";
    await this.#commit(org, txn);
    await this.#syncSubscriptions(org);
    return requestId;
  }

  async cancelRequest(organizationId: string, options?: OperationOptions): Promise<void> {
    await this.#task(async () => {
      checkSignal(options?.signal);
      const org = this.#org(organizationId);
      const own = org.request;
      const request = own === undefined ? undefined : org.log.state.requests.get(own.id);
      if (own === undefined || own.status !== "pending") {
        throw new UnknownTargetError("pending request", org.hex);
      }
      const txn = newTxn(org);
      const event = this.#event(org, "request.cancelled", { requestId: own.id }, this.memberId);
      const message =
        request === undefined
          ? {
              clock: event.clock,
              organizationId: org.id,
              sentAt: BigInt(event.sentAt),
              requestId: own.id,
            }
          : cancelRequestToJoinToWire(event, request, org.hex);
      await this.#sendToOwner(org, txn, { case: "cancelRequestToJoin", value: message as never });
      this.#addEvent(org, txn, event);
      own.status = "cancelled";
      org.role = "observer";
      txn.emits.push([
        "request:cancelled",
        { organizationId: org.hex, requestId: own.id, requester: this.memberId },
      ]);
      await this.#commit(org, txn);
    });
  }

  async leave(organizationId: string, options?: OperationOptions): Promise<void> {
    await this.#task(async () => {
      checkSignal(options?.signal);
      const org = this.#org(organizationId);
      if (org.role === "owner") throw new EventRejectedError("leave", "unauthorized");
      if (org.role !== "member") throw new NotMemberError(org.hex);
      const txn = newTxn(org);
      const event = this.#event(org, "leave.requested", {}, this.memberId);
      await this.#sendToOwner(org, txn, {
        case: "requestToLeave",
        value: requestToLeaveToWire(event, org.hex) as never,
      });
      org.role = "observer";
      for (const [channelId, group] of org.memberGroups) {
        group.markRemoved(this.#p.now());
        txn.groups.add(channelId);
      }
      txn.emits.push(["member:left", { organizationId: org.hex, member: this.memberId }]);
      await this.#commit(org, txn);
    });
  }

  async resync(organizationId: string, options?: OperationOptions): Promise<void> {
    await this.#task(async () => {
      checkSignal(options?.signal);
      const org = this.#org(organizationId);
      if (org.role !== "member") throw new NotMemberError(org.hex);
      await this.#recover(org, "");
      if (org.resyncBackoff.size === 0) await this.#requestResync(org, "");
    });
  }

  async sendMessage(
    organizationId: string,
    channelId: string,
    text: string,
    options?: OperationOptions & { readonly replyTo?: string },
  ): Promise<MessageView> {
    return this.#task(async () => {
      const org = this.#org(organizationId);
      const id = await this.#sendChannel(org, channelId, options?.signal, {
        case: "post",
        value: { text, replyTo: options?.replyTo ?? "" },
      });
      return this.#view(org, id);
    });
  }

  async editMessage(
    organizationId: string,
    messageId: string,
    text: string,
    options?: OperationOptions,
  ) {
    await this.#task(async () => {
      const org = this.#org(organizationId);
      const target = this.#target(org, messageId);
      await this.#sendChannel(org, target, options?.signal, {
        case: "edit",
        value: { messageId, text },
      });
    });
  }

  async deleteMessage(organizationId: string, messageId: string, options?: OperationOptions) {
    await this.#task(async () => {
      const org = this.#org(organizationId);
      const target = this.#target(org, messageId);
      await this.#sendChannel(org, target, options?.signal, {
        case: "delete",
        value: { messageId },
      });
    });
  }

  async pinMessage(
    organizationId: string,
    messageId: string,
    pinned = true,
    options?: OperationOptions,
  ) {
    await this.#task(async () => {
      const org = this.#org(organizationId);
      const target = this.#target(org, messageId);
      await this.#sendChannel(org, target, options?.signal, {
        case: "pin",
        value: { messageId, pinned },
      });
    });
  }

  #target(org: Org, messageId: string): string {
    const message = this.#messageRecord(org, messageId);
    if (message === undefined) throw new UnknownTargetError("message", messageId);
    return message.channelId;
  }

  /**
   * Sends one channel message: encrypt (a generation is consumed) → one batch {group state, event,
   * outbox entry} → publish → echo to the app.
   */
  async #sendChannel(
    org: Org,
    channelId: string,
    signal: AbortSignal | undefined,
    body: ChannelBodyInit,
  ): Promise<string> {
    checkSignal(signal);
    const owner = org.role === "owner";
    if (!owner && org.role !== "member") throw new NotMemberError(org.hex);
    const me = owner ? org.hex : this.memberId;
    const state = org.log.state;
    if (!state.channels.has(channelId)) throw new ChannelAccessError(org.hex, channelId);
    if (body.case === "post" && !canPost(state, me, channelId)) {
      throw new ChannelAccessError(org.hex, channelId);
    }
    const clock = org.log.nextClock();
    const sentAt = this.#now();
    const message = {
      organizationId: org.id,
      channelId,
      author: owner ? org.id : this.#p.identity.publicKey,
      clock,
      sentAt: BigInt(sentAt),
      body,
    };
    const topic = channelTopic(org.id, channelId);
    const txn = newTxn(org);
    let bytes: Uint8Array;
    if (state.encrypted) {
      const groupId = isRestricted(state, channelId) ? channelId : "";
      const group = owner ? org.ownerGroups.get(groupId) : org.memberGroups.get(groupId);
      if (group === undefined || (group instanceof MemberGroup && group.status !== "member")) {
        throw new KeysNotReadyError(org.hex, groupId);
      }
      checkSignal(signal);
      bytes = group.encrypt({
        contentType: channelContentType,
        content: encodeChannelMessage(message),
      });
      txn.groups.add(groupId);
    } else {
      checkSignal(signal);
      bytes = await sealEnvelope(
        {
          type: "channel-message",
          organizationId: org.id,
          clock,
          contentTopic: topic,
          message,
        },
        owner ? (org.signer as EnvelopeSigner) : this.#identitySigner,
      );
    }
    const id = hashId(bytes);
    this.#markSeen(org, txn, id);
    txn.outbox.push({ id, topic, bytes });
    const decoded = decodeChannelMessage(encodeChannelMessage(message));
    // Encrypted in the group of its channel: proven like a received one (see `#onChannel`).
    this.#applyChannelMessage(org, txn, decoded, id, state.encrypted);
    await this.#commit(org, txn);
    return id;
  }
}
