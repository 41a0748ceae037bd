import type { ClientOwnerOperations } from "./owner-api.js";
import type { OwnerDeviceStatus } from "./owner-device.js";
import type { OwnerRestoreStep } from "./owner-restore.js";
import type {
  ClientEvents,
  ClientListener,
  InvitationView,
  JoinRequestInit,
  MessageView,
  OperationOptions,
  OrganizationView,
} from "./types.js";

/**
 * The orgchat client: organizations, channels, requests, invitations, bans and group encryption
 * over any `Transport`, persisted through a `Store`. Make one with {@link createClient}.
 *
 * Every operation runs in the client's one serial queue, commits to the store before it publishes,
 * and publishes before it resolves. Every operation rejects with {@link ClientClosedError} once the
 * client is closed and with {@link AbortError} when its `signal` aborts before it commits. Owner
 * operations reject with {@link UnknownOrganizationError} for an organization this client does not
 * know, {@link NotOwnerError} when it is not the owner, and {@link EventRejectedError} when the
 * organization's rules refuse the change (nothing is published then).
 *
 * In the examples, `client` is a `Client` and `orgId` an organization's id (hex).
 */
export interface Client extends ClientOwnerOperations {
  /** This identity's member id (64 lowercase hex characters of its Ed25519 key). */
  readonly memberId: string;

  /**
   * Adds a listener of one event (`ClientEvents`); a listener that throws is isolated (`error`).
   * @param event - the event's name, e.g. `"message:received"`
   * @param listener - called with the event's payload
   * @returns the function that removes the listener
   * @example
   * ```ts
   * const off = client.on("message:received", ({ message }) => console.log(message.text));
   * off();
   * ```
   */
  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): () => void;

  /**
   * Finds an organization from its public key alone (the description topic's history), and
   * listens to it from then on.
   * @param organizationId - the organization's public key (hex)
   * @param options - `signal`
   * @returns the organization as this client sees it
   * @throws {OrganizationNotFoundError} when history holds no description of it (the client keeps
   *   listening and emits `org:discovered` when the owner republishes)
   * @throws {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * const view = await client.discover(orgId);
   * console.log(view.identity.displayName, view.channels.length);
   * ```
   */
  discover(organizationId: string, options?: OperationOptions): Promise<OrganizationView>;

  /**
   * Asks the owner to join over a new X3DH pairwise channel (after a leave, it first waits for the
   * owner's resolution, at most `leaveResolutionTimeoutMs`).
   * @param organizationId - the organization (hex), discovered first
   * @param init - display name, ENS name, `signal`
   * @returns the request's id; `request:accepted` / `request:rejected` follow
   * @throws {UnknownOrganizationError} when it was not discovered
   * @throws {OwnerUnreachableError} when no verified prekey bundle of the owner is known
   * @throws {EventRejectedError} when this identity is the owner or already a member
   * @throws {LeaveNotResolvedError} when the owner's resolution of an earlier leave did not arrive
   * @throws {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * await client.discover(orgId);
   * const requestId = await client.requestToJoin(orgId, { displayName: "Alice" });
   * ```
   */
  requestToJoin(organizationId: string, init?: JoinRequestInit): Promise<string>;

  /**
   * Cancels this identity's pending request to join.
   * @param organizationId - the organization (hex)
   * @param options - `signal`
   * @returns once the cancel is committed and sent
   * @throws {UnknownTargetError} when no request of this identity is pending
   * @throws {UnknownOrganizationError} / {NotMemberError} / {AbortError}
   * @example
   * ```ts
   * await client.cancelRequest(orgId);
   * ```
   */
  cancelRequest(organizationId: string, options?: OperationOptions): Promise<void>;

  /**
   * The invitations received in this identity's inbox and not answered yet, oldest first
   * (expired ones leave the list). An invitation is only an offer: anyone can sign one with a
   * throwaway organization key, so nothing of its organization is stored or listened to until
   * {@link Client.acceptInvitation}. At most `maxPendingInvitations` (50) are kept; they survive a
   * restart.
   * @returns the pending invitations (the organization's `name` only when it is already known)
   * @throws {ClientClosedError}
   * @example
   * ```ts
   * client.on("invitation:received", () => {
   *   for (const invitation of client.listInvitations()) {
   *     console.log(invitation.organizationId, invitation.name ?? "(not discovered yet)");
   *   }
   * });
   * ```
   */
  listInvitations(): InvitationView[];

  /**
   * Accepts an invitation (`invitation:received`, `listInvitations`): adopts the organization
   * (reads its description, listens to it) and sends a request the owner matches to the
   * invitation and accepts at once. The invitation leaves the pending list once the request is
   * sent; if a step fails it stays pending.
   * @param organizationId - the inviting organization (hex)
   * @param init - display name, ENS name, `signal`
   * @returns the request's id; `request:accepted` follows
   * @throws {UnknownTargetError} when no unused invitation of that organization for this identity
   *   is known (none pending, declined, or expired)
   * @throws {OrganizationNotFoundError} when the organization's description cannot be found (the
   *   invitation stays pending: try again when a service node holds it)
   * @throws {OwnerUnreachableError} / {LeaveNotResolvedError} / {EventRejectedError} /
   *   {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * client.on("invitation:received", ({ organizationId }) => {
   *   if (trusted(organizationId)) void client.acceptInvitation(organizationId, { displayName: "Alice" });
   * });
   * ```
   */
  acceptInvitation(organizationId: string, init?: JoinRequestInit): Promise<string>;

  /**
   * Declines a pending invitation: forgets it (its id is remembered until it expires, so that
   * reading the inbox's history again does not bring it back). The owner is not told.
   * @param organizationId - the inviting organization (hex)
   * @param options - `signal`
   * @returns the declined invitation's id
   * @throws {UnknownTargetError} when no invitation of that organization is pending
   * @throws {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * for (const { organizationId } of client.listInvitations()) {
   *   await client.declineInvitation(organizationId);
   * }
   * ```
   */
  declineInvitation(organizationId: string, options?: OperationOptions): Promise<string>;

  /**
   * Leaves an organization (the owner resolves it and re-keys without this member).
   * @param organizationId - the organization (hex)
   * @param options - `signal`
   * @returns once the request to leave is committed and sent
   * @throws {NotMemberError} when this identity is not a member
   * @throws {EventRejectedError} when it is the owner
   * @throws {UnknownOrganizationError} / {AbortError}
   * @example
   * ```ts
   * await client.leave(orgId);
   * ```
   */
  leave(organizationId: string, options?: OperationOptions): Promise<void>;

  /**
   * Forgets an organization this identity only knows (discovered, or left, refused, cancelled): stops
   * listening to it and deletes everything stored of it (events, messages, keys, marks), erased from
   * the store's files. A later `discover` starts from nothing.
   * @param organizationId - the organization (hex)
   * @param options - `signal`
   * @returns once it is deleted
   * @throws {ForgetRefusedError} when this identity owns it, is a member, or has a pending request
   * @throws {UnknownOrganizationError} / {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * await client.forgetOrganization(mistypedId);
   * ```
   */
  forgetOrganization(organizationId: string, options?: OperationOptions): Promise<void>;

  /**
   * Posts a message in a channel (encrypted with the group in an encrypted organization).
   * @param organizationId - the organization (hex)
   * @param channelId - the channel
   * @param text - the message
   * @param options - `signal`, and `replyTo` (a message id)
   * @returns the message as the app sees it (also emitted as `message:received`, `own`)
   * @throws {NotMemberError} when this identity is not a member (or the owner)
   * @throws {ChannelAccessError} when the channel does not exist or is not open to it
   * @throws {KeysNotReadyError} when no group key is held yet (wait for `epoch:changed`)
   * @throws {UnknownOrganizationError} / {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * const sent = await client.sendMessage(orgId, "general", "hello, Acme");
   * ```
   */
  sendMessage(
    organizationId: string,
    channelId: string,
    text: string,
    options?: OperationOptions & { readonly replyTo?: string },
  ): Promise<MessageView>;

  /**
   * Edits one of this identity's messages.
   * @param organizationId - the organization (hex)
   * @param messageId - the message
   * @param text - its new text
   * @param options - `signal`
   * @returns once committed and sent
   * @throws {UnknownTargetError} when the message is not known here
   * @throws {NotMemberError} / {ChannelAccessError} / {KeysNotReadyError} / {AbortError}
   * @example
   * ```ts
   * await client.editMessage(orgId, sent.id, "hello again");
   * ```
   */
  editMessage(
    organizationId: string,
    messageId: string,
    text: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Deletes a message (its author's, or another's with a moderating role).
   * @param organizationId - the organization (hex)
   * @param messageId - the message
   * @param options - `signal`
   * @returns once committed and sent
   * @throws {UnknownTargetError} when the message is not known here
   * @throws {NotMemberError} / {ChannelAccessError} / {KeysNotReadyError} / {AbortError}
   * @example
   * ```ts
   * await client.deleteMessage(orgId, sent.id);
   * ```
   */
  deleteMessage(
    organizationId: string,
    messageId: string,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * Pins (or unpins) a message.
   * @param organizationId - the organization (hex)
   * @param messageId - the message
   * @param pinned - true to pin, false to unpin (default true)
   * @param options - `signal`
   * @returns once committed and sent
   * @throws {UnknownTargetError} when the message is not known here
   * @throws {NotMemberError} / {ChannelAccessError} / {KeysNotReadyError} / {AbortError}
   * @example
   * ```ts
   * await client.pinMessage(orgId, sent.id);
   * ```
   */
  pinMessage(
    organizationId: string,
    messageId: string,
    pinned?: boolean,
    options?: OperationOptions,
  ): Promise<void>;

  /**
   * The messages of a channel, oldest first (by clock, then id).
   * @param organizationId - the organization (hex)
   * @param channelId - the channel
   * @returns every message this client holds there, deleted ones included (flagged)
   * @throws {UnknownOrganizationError}
   * @example
   * ```ts
   * for (const m of client.history(orgId, "general")) console.log(m.author, m.text);
   * ```
   */
  history(organizationId: string, channelId: string): MessageView[];

  /**
   * One organization as this client sees it now.
   * @param organizationId - the organization (hex)
   * @returns its identity, members, channels, epoch, this client's role and request
   * @throws {UnknownOrganizationError} / {ClientClosedError}
   * @example
   * ```ts
   * const { role, members } = client.getOrganization(orgId);
   * ```
   */
  getOrganization(organizationId: string): OrganizationView;

  /**
   * Every organization this client knows (owned, joined, requested, discovered).
   * @returns one view per organization
   * @example
   * ```ts
   * const names = client.listOrganizations().map((o) => o.identity.displayName);
   * ```
   */
  listOrganizations(): OrganizationView[];

  /**
   * Organizations kept in the store but not run here, and why. `"owner-restored"`: this identity
   * owns it and its store was restored from a backup; it stays inactive (not listed by
   * `listOrganizations`, refused by `discover`) until owner continuity can carry it on without
   * forking it (docs/RESTORE.md). The organization key is kept.
   * @returns one entry per inactive organization
   * @example
   * ```ts
   * for (const { organizationId } of client.listInactiveOrganizations()) console.warn(organizationId);
   * ```
   */
  listInactiveOrganizations(): ReadonlyArray<{
    readonly organizationId: string;
    readonly reason: "owner-restored";
  }>;

  /**
   * Owner: this device's id and its standing in an organization it owns (docs/RESTORE.md, "Two
   * owner devices at once"): the clock it started writing at and, when another device was seen
   * writing as owner, that device (then nothing is signed as owner here: `OwnerForkDetectedError`).
   * @param organizationId - the organization (hex)
   * @returns the device id (hex), `since`, and `fork` when one was seen
   * @throws {UnknownOrganizationError} / {NotOwnerError}
   * @example
   * ```ts
   * const { fork } = client.ownerDevice(orgId);
   * if (fork !== undefined) console.warn(`device ${fork.device} also runs this organization`);
   * ```
   */
  ownerDevice(organizationId: string): OwnerDeviceStatus;

  /**
   * Owner: this device carries the organization on as its owner, the other device being stopped
   * (docs/RESTORE.md, "Two owner devices at once"): the halt after `owner:fork-detected` is lifted,
   * under a new device id; every pairwise session is dropped and the prekey rotated; an event at a
   * clock above the other device's and a full description make members follow this device; every
   * group gets a fresh epoch; members make a new session when they see the new device.
   * @param organizationId - the organization (hex)
   * @returns the new device id (hex) and the clock of the event it wrote
   * @throws {NotOwnerError} / {UnknownOrganizationError} / {ClientClosedError}
   *
   * On an organization of a store restored from a backup (`listInactiveOrganizations`), it first
   * reads Store: the newest owner-signed description (at or above the backup's clock), every
   * group's highest epoch and its roster; then every group starts again one epoch above
   * (docs/RESTORE.md, "Owner continuity: built"). `options.onStep` is told each step.
   * @throws {OwnerHistoryGapError} (restored store) when Store cannot show everything after the
   *   backup: nothing was sent, the organization stays inactive
   * @example
   * ```ts
   * client.on("owner:fork-detected", async ({ organizationId }) => {
   *   if (await userKeepsThisDevice()) await client.resumeOwner(organizationId);
   * });
   * ```
   */
  resumeOwner(
    organizationId: string,
    options?: { readonly onStep?: (step: OwnerRestoreStep) => void },
  ): Promise<{ device: string; clock: bigint }>;

  /**
   * Member: backfills key material now and, if still stuck, asks the owner for a resync (with
   * back-off).
   * @param organizationId - the organization (hex)
   * @param options - `signal`
   * @returns once the backfill is done and a request sent if needed (the Welcome comes later)
   * @throws {NotMemberError} when this identity is not a member
   * @throws {UnknownOrganizationError} / {AbortError} / {ClientClosedError}
   * @example
   * ```ts
   * await client.resync(orgId);
   * ```
   */
  resync(organizationId: string, options?: OperationOptions): Promise<void>;

  /**
   * Resolves once every queued operation and received message has been processed.
   * @returns when the queue is empty
   * @example
   * ```ts
   * await client.idle();
   * ```
   */
  idle(): Promise<void>;

  /**
   * Waits for the queue, then stops timers and subscriptions; pending operations outside the queue
   * fail with {@link ClientClosedError}. The store and transport stay open (the caller owns them).
   * Closing twice is a no-op.
   * @returns once closed
   * @example
   * ```ts
   * await client.close();
   * await store.close();
   * ```
   */
  close(): Promise<void>;
}
