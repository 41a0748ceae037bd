import type { Identity, Permissions, Role } from "@orgchat/state";
import type {
  CreateChannelInit,
  CreateOrganizationInit,
  OperationOptions,
  RequestView,
} from "./types.js";

/**
 * The operations of the organizations a client owns (they need the organization key): creating
 * one, its identity, permissions, channels, categories, invitations, requests, members, roles and
 * grants. Part of {@link Client}; the errors every operation shares are listed there.
 */
export interface ClientOwnerOperations {
  /**
   * Creates an organization owned by this client (a new organization key) and publishes its
   * description and prekey bundle.
   * @param init - name, description, access, encryption (on by default), tags
   * @param options - `signal`
   * @returns the organization's id: the new key's public half (hex)
   * @throws {EventRejectedError} when the init is not valid (e.g. a name too long)
   * @throws {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * const orgId = await client.createOrganization({ name: "Acme", access: "on-request" });
   * ```
   */
  createOrganization(init: CreateOrganizationInit, options?: OperationOptions): Promise<string>;

  /**
   * Owner: changes the organization's identity (the fields given; the others stay).
   * @param organizationId - the organization (hex)
   * @param identity - display name, description, ENS name, images
   * @param options - `signal`
   * @returns once committed and the new description published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.editIdentity(orgId, { description: "better widgets" });
   * ```
   */
  editIdentity(
    organizationId: string,
    identity: Partial<Identity>,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: changes who may join and how (`access`, `ensOnly`, `private`; the others stay).
   * @param organizationId - the organization (hex)
   * @param permissions - the fields to change
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.setPermissions(orgId, { access: "invitation-only" });
   * ```
   */
  setPermissions(
    organizationId: string,
    permissions: Partial<Permissions>,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: changes the admin settings (whether every member may pin messages).
   * @param organizationId - the organization (hex)
   * @param settings - `pinMessageAllMembersEnabled`
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.setAdminSettings(orgId, { pinMessageAllMembersEnabled: true });
   * ```
   */
  setAdminSettings(
    organizationId: string,
    settings: { readonly pinMessageAllMembersEnabled: boolean },
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: replaces the organization's tags.
   * @param organizationId - the organization (hex)
   * @param tags - the new tags
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.setTags(orgId, ["tools", "hardware"]);
   * ```
   */
  setTags(
    organizationId: string,
    tags: readonly string[],
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: switches between public and encrypted (encrypting starts an epoch and welcomes every
   * member; going public stops encrypting new messages).
   * @param organizationId - the organization (hex)
   * @param encrypted - whether channel messages are encrypted from now on
   * @param options - `signal`
   * @returns once committed, the Welcomes and the description published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.setEncrypted(orgId, true);
   * ```
   */
  setEncrypted(
    organizationId: string,
    encrypted: boolean,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: creates a channel (a restricted one gets its own group in an encrypted organization).
   * @param organizationId - the organization (hex)
   * @param init - id, name, description, category, access, private
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {AbortError}
   * @throws {EventRejectedError} when the id is taken or not valid
   * @example
   * ```ts
   * await client.createChannel(orgId, { id: "general", name: "General" });
   * ```
   */
  createChannel(
    organizationId: string,
    init: CreateChannelInit,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: changes a channel (the fields given; the others stay).
   * @param organizationId - the organization (hex)
   * @param channelId - the channel
   * @param changes - name, description, category, access, private
   * @param options - `signal`
   * @returns once committed and published
   * @throws {ChannelAccessError} when the channel does not exist
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.editChannel(orgId, "general", { name: "Lobby" });
   * ```
   */
  editChannel(
    organizationId: string,
    channelId: string,
    changes: Partial<Omit<CreateChannelInit, "id">>,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: removes a channel (and its group).
   * @param organizationId - the organization (hex)
   * @param channelId - the channel
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.removeChannel(orgId, "general");
   * ```
   */
  removeChannel(
    organizationId: string,
    channelId: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: replaces a channel's roster (members listed there may read and post in a restricted
   * channel); the channel's group follows (joiners at once, leavers at the next re-key).
   * @param organizationId - the organization (hex)
   * @param channelId - the channel
   * @param members - member id → roles in the channel
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.setChannelMembers(orgId, "board", { [aliceId]: [] });
   * ```
   */
  setChannelMembers(
    organizationId: string,
    channelId: string,
    members: Readonly<Record<string, readonly Role[]>>,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: creates a category of channels.
   * @param organizationId - the organization (hex)
   * @param categoryId - its id
   * @param name - its name
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.createCategory(orgId, "main", "Main");
   * ```
   */
  createCategory(
    organizationId: string,
    categoryId: string,
    name: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: renames a category.
   * @param organizationId - the organization (hex)
   * @param categoryId - the category
   * @param name - its new name
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.editCategory(orgId, "main", "Everyday");
   * ```
   */
  editCategory(
    organizationId: string,
    categoryId: string,
    name: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: removes a category.
   * @param organizationId - the organization (hex)
   * @param categoryId - the category
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.removeCategory(orgId, "main");
   * ```
   */
  removeCategory(
    organizationId: string,
    categoryId: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: invites a key (an owner-signed invitation in its inbox; it joins with
   * `acceptInvitation`).
   * @param organizationId - the organization (hex)
   * @param invitee - the invitee's member id (hex)
   * @param options - `signal`, and `chatId` to invite into one channel
   * @returns the invitation's id (hex SHA-256 of its envelope)
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * const invitationId = await client.invite(orgId, bobId);
   * ```
   */
  invite(
    organizationId: string,
    invitee: string,
    options?: OperationOptions & { readonly chatId?: string },
  ): Promise<string>;

  /**
   * Owner: the requests to join and their status now (pending, accepted, rejected, cancelled,
   * expired).
   * @param organizationId - the organization (hex)
   * @returns every request the organization holds
   * @throws {UnknownOrganizationError} / {NotOwnerError}
   * @example
   * ```ts
   * const pending = client.listRequests(orgId).filter((r) => r.status === "pending");
   * ```
   */
  listRequests(organizationId: string): RequestView[];

  /**
   * Owner: accepts a request to join; the requester is told and, in an encrypted organization,
   * welcomed into the group.
   * @param organizationId - the organization (hex)
   * @param requestId - the request (from `request:received` or `listRequests`)
   * @param options - `signal`
   * @returns once committed and the response and Welcome published
   * @throws {UnknownTargetError} when the request is not known here
   * @throws {EventRejectedError} when it is decided or expired
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {AbortError}
   * @example
   * ```ts
   * client.on("request:received", ({ requestId }) => void client.acceptRequest(orgId, requestId));
   * ```
   */
  acceptRequest(
    organizationId: string,
    requestId: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: rejects a request to join; the reason is delivered to the requester.
   * @param organizationId - the organization (hex)
   * @param requestId - the request
   * @param reason - told to the requester (`request:rejected`)
   * @param options - `signal`
   * @returns once committed and the response published
   * @throws {UnknownTargetError} when the request is not known here
   * @throws {EventRejectedError} when it is decided or expired
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {AbortError}
   * @example
   * ```ts
   * await client.rejectRequest(orgId, requestId, "members only");
   * ```
   */
  rejectRequest(
    organizationId: string,
    requestId: string,
    reason: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: removes a member; its groups are re-keyed without it (batched within `rekeyWindowMs`).
   * @param organizationId - the organization (hex)
   * @param member - the member id (hex)
   * @param options - `signal`
   * @returns once committed and published (the re-key may follow later)
   * @throws {EventRejectedError} when it is not a member
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {AbortError}
   * @example
   * ```ts
   * await client.removeMember(orgId, malloryId);
   * ```
   */
  removeMember(organizationId: string, member: string, options?: OperationOptions): Promise<void>;

  /**
   * Owner: bans a key (removed if a member, refused if it asks again), optionally deleting its
   * messages.
   * @param organizationId - the organization (hex)
   * @param member - the member id (hex)
   * @param options - `signal`, and `deleteMessages` (default false)
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.banMember(orgId, malloryId, { deleteMessages: true });
   * ```
   */
  banMember(
    organizationId: string,
    member: string,
    options?: OperationOptions & { readonly deleteMessages?: boolean },
  ): Promise<void>;

  /**
   * Owner: lifts a ban (the key may ask to join again).
   * @param organizationId - the organization (hex)
   * @param member - the member id (hex)
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.unbanMember(orgId, malloryId);
   * ```
   */
  unbanMember(organizationId: string, member: string, options?: OperationOptions): Promise<void>;

  /**
   * Owner: replaces a member's roles.
   * @param organizationId - the organization (hex)
   * @param member - the member id (hex)
   * @param roles - its new roles
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.setRoles(orgId, aliceId, ["moderator"]);
   * ```
   */
  setRoles(
    organizationId: string,
    member: string,
    roles: readonly Role[],
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: grants a member access to a restricted channel.
   * @param organizationId - the organization (hex)
   * @param member - the member id (hex)
   * @param chatId - the channel
   * @param options - `signal`
   * @returns once committed and published (the member is welcomed into the channel's group)
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.issueGrant(orgId, aliceId, "board");
   * ```
   */
  issueGrant(
    organizationId: string,
    member: string,
    chatId: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Owner: revokes a grant (the channel's group is re-keyed without the member).
   * @param organizationId - the organization (hex)
   * @param member - the member id (hex)
   * @param chatId - the channel
   * @param options - `signal`
   * @returns once committed and published
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError} / {AbortError}
   * @example
   * ```ts
   * await client.revokeGrant(orgId, aliceId, "board");
   * ```
   */
  revokeGrant(
    organizationId: string,
    member: string,
    chatId: string,
    options?: OperationOptions,
  ): Promise<void>;
}
