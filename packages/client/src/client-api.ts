import type { Identity, Permissions, Role } from "@orgchat/state";
import type {
  ClientEvents,
  ClientListener,
  CreateChannelInit,
  CreateOrganizationInit,
  JoinRequestInit,
  MessageView,
  OperationOptions,
  OrganizationView,
  RequestView,
} from "./types.js";

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
