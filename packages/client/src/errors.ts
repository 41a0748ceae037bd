/**
 * Typed errors of the client: one class per condition, each with a message that says what to do.
 * Branch on `error.name` or the `isX()` guards, never on `instanceof` across packages or on messages.
 *
 * Expected outcomes that are not the caller's doing (a message for an epoch we do not hold yet, a
 * rejection delivered by the owner) are events, not errors (see `ClientEvents`).
 */

/** Options every client error takes. */
export interface ClientErrorOptions {
  /** The underlying error, when there is one. */
  readonly cause?: unknown;
}

function named<T extends Error>(error: T, name: string): T {
  Object.defineProperty(error, "name", { value: name, enumerable: false, configurable: true });
  return error;
}

function hasName(value: unknown, name: string): boolean {
  return value instanceof Error && value.name === name;
}

/** The operation needs the organization key, which only the owner holds on this client. */
export class NotOwnerError extends Error {
  /** The organization (hex). */
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      `Only the owner of organization ${organizationId} can do this, and this client does not hold its key. Ask the owner to do it (management is owner-only in this client).`,
      options,
    );
    this.organizationId = organizationId;
    named(this, "NotOwnerError");
  }
}

/** The operation needs membership of the organization (or of a channel), which this identity lacks. */
export class NotMemberError extends Error {
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      `This identity is not a member of organization ${organizationId}. Request to join (requestToJoin) or accept an invitation first, and wait for "request:accepted".`,
      options,
    );
    this.organizationId = organizationId;
    named(this, "NotMemberError");
  }
}

/** The organization is not known to this client. */
export class UnknownOrganizationError extends Error {
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      `Organization ${organizationId} is not known to this client. Call discover(organizationId) with its public key first (or createOrganization for your own).`,
      options,
    );
    this.organizationId = organizationId;
    named(this, "UnknownOrganizationError");
  }
}

/** Discovery found no description of the organization in the transport's history. */
export class OrganizationNotFoundError extends Error {
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      `No description of organization ${organizationId} was found in history. Check the key, make sure the transport reaches a store node, or wait: the client keeps listening and emits "org:discovered" when the owner republishes.`,
      options,
    );
    this.organizationId = organizationId;
    named(this, "OrganizationNotFoundError");
  }
}

/** The channel does not exist, or this member may not read or post in it. */
export class ChannelAccessError extends Error {
  readonly organizationId: string;
  readonly channelId: string;
  constructor(organizationId: string, channelId: string, options: ClientErrorOptions = {}) {
    super(
      `Channel "${channelId}" of organization ${organizationId} does not exist or is restricted to its roster and grant holders. Ask the owner for access (a grant or a place on the channel roster).`,
      options,
    );
    this.organizationId = organizationId;
    this.channelId = channelId;
    named(this, "ChannelAccessError");
  }
}

/** The owner cannot be reached for this flow: its signed prekey bundle is not available. */
export class OwnerUnreachableError extends Error {
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      `The owner of organization ${organizationId} has published no prekey bundle this client could verify, so no private channel to it can be opened. Wait for the owner's next description (it republishes periodically) and retry.`,
      options,
    );
    this.organizationId = organizationId;
    named(this, "OwnerUnreachableError");
  }
}

/** The member holds no key for the group yet (waiting for the owner's Welcome). */
export class KeysNotReadyError extends Error {
  readonly organizationId: string;
  readonly channelId: string;
  constructor(organizationId: string, channelId: string, options: ClientErrorOptions = {}) {
    super(
      `No group key for ${channelId === "" ? "the organization" : `channel "${channelId}"`} of ${organizationId} yet. Wait for "epoch:changed" (the owner's Welcome), or call resync(organizationId).`,
      options,
    );
    this.organizationId = organizationId;
    this.channelId = channelId;
    named(this, "KeysNotReadyError");
  }
}

/** The organization's rules refused the event this operation would author. */
export class EventRejectedError extends Error {
  /** Why the state refused it (a `RejectionReason` of `@orgchat/state`). */
  readonly reason: string;
  constructor(what: string, reason: string, options: ClientErrorOptions = {}) {
    super(
      `${what} was refused by the organization's rules (${reason}). Check the current state (getOrganization) — e.g. the request may be decided or expired, the member not present, or the action above your rank.`,
      options,
    );
    this.reason = reason;
    named(this, "EventRejectedError");
  }
}

/** A request or message id that this client does not know. */
export class UnknownTargetError extends Error {
  readonly id: string;
  constructor(what: string, id: string, options: ClientErrorOptions = {}) {
    super(
      `No ${what} with id ${id} is known here. List them first (listRequests, history).`,
      options,
    );
    this.id = id;
    named(this, "UnknownTargetError");
  }
}

/** The passphrase does not open the secrets in the store. */
export class WrongPassphraseError extends Error {
  constructor(options: ClientErrorOptions = {}) {
    super(
      "The passphrase does not open this store's secrets. Pass the passphrase the store was created with (it cannot be recovered).",
      options,
    );
    named(this, "WrongPassphraseError");
  }
}

/** The store holds secrets sealed with a passphrase and none was given (or the reverse). */
export class PassphraseRequiredError extends Error {
  constructor(sealed: boolean, options: ClientErrorOptions = {}) {
    super(
      sealed
        ? "This store's secrets are sealed with a passphrase: pass `passphrase` to createClient."
        : "This store's secrets were saved without a passphrase; omit `passphrase` (re-sealing an existing store is not supported yet).",
      options,
    );
    named(this, "PassphraseRequiredError");
  }
}

/**
 * This identity left the organization (or was removed) and asked to join again, but the owner's
 * resolution of that leave did not reach this client within `leaveResolutionTimeoutMs`. A request
 * sent now would be ordered before the resolution and refused, so none was sent.
 */
export class LeaveNotResolvedError extends Error {
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      `The owner of organization ${organizationId} has not processed your leave yet, so a request to join now would be refused (nothing was sent); try again when the owner is online.`,
      options,
    );
    this.organizationId = organizationId;
    named(this, "LeaveNotResolvedError");
  }
}

/** The client was closed. */
export class ClientClosedError extends Error {
  constructor(options: ClientErrorOptions = {}) {
    super("The client is closed. Create a new one with createClient on the same store.", options);
    named(this, "ClientClosedError");
  }
}

/** The operation was aborted through its `signal` before it committed anything. */
export class AbortError extends Error {
  constructor(options: ClientErrorOptions = {}) {
    super("The operation was aborted before it changed anything; call it again to retry.", options);
    named(this, "AbortError");
  }
}

/** The stored data is not readable by this version of the client. */
export class StoreCorruptedError extends Error {
  readonly record: string;
  constructor(record: string, options: ClientErrorOptions = {}) {
    super(
      `The stored record ${record} cannot be read by this client version. Restore the data directory from a backup, or start a new store.`,
      options,
    );
    this.record = record;
    named(this, "StoreCorruptedError");
  }
}

/** @returns whether `value` is a {@link NotOwnerError}. */
export const isNotOwnerError = (value: unknown): value is NotOwnerError =>
  hasName(value, "NotOwnerError");
/** @returns whether `value` is a {@link NotMemberError}. */
export const isNotMemberError = (value: unknown): value is NotMemberError =>
  hasName(value, "NotMemberError");
/** @returns whether `value` is an {@link UnknownOrganizationError}. */
export const isUnknownOrganizationError = (value: unknown): value is UnknownOrganizationError =>
  hasName(value, "UnknownOrganizationError");
/** @returns whether `value` is an {@link OrganizationNotFoundError}. */
export const isOrganizationNotFoundError = (value: unknown): value is OrganizationNotFoundError =>
  hasName(value, "OrganizationNotFoundError");
/** @returns whether `value` is a {@link ChannelAccessError}. */
export const isChannelAccessError = (value: unknown): value is ChannelAccessError =>
  hasName(value, "ChannelAccessError");
/** @returns whether `value` is an {@link OwnerUnreachableError}. */
export const isOwnerUnreachableError = (value: unknown): value is OwnerUnreachableError =>
  hasName(value, "OwnerUnreachableError");
/** @returns whether `value` is a {@link KeysNotReadyError}. */
export const isKeysNotReadyError = (value: unknown): value is KeysNotReadyError =>
  hasName(value, "KeysNotReadyError");
/** @returns whether `value` is an {@link EventRejectedError}. */
export const isEventRejectedError = (value: unknown): value is EventRejectedError =>
  hasName(value, "EventRejectedError");
/** @returns whether `value` is an {@link UnknownTargetError}. */
export const isUnknownTargetError = (value: unknown): value is UnknownTargetError =>
  hasName(value, "UnknownTargetError");
/** @returns whether `value` is a {@link WrongPassphraseError}. */
export const isWrongPassphraseError = (value: unknown): value is WrongPassphraseError =>
  hasName(value, "WrongPassphraseError");
/** @returns whether `value` is a {@link PassphraseRequiredError}. */
export const isPassphraseRequiredError = (value: unknown): value is PassphraseRequiredError =>
  hasName(value, "PassphraseRequiredError");
/** @returns whether `value` is a {@link ClientClosedError}. */
export const isClientClosedError = (value: unknown): value is ClientClosedError =>
  hasName(value, "ClientClosedError");
/** @returns whether `value` is an {@link AbortError} (this package's or a platform `AbortError`). */
export const isAbortError = (value: unknown): value is AbortError => hasName(value, "AbortError");
/** @returns whether `value` is a {@link LeaveNotResolvedError}. */
export const isLeaveNotResolvedError = (value: unknown): value is LeaveNotResolvedError =>
  hasName(value, "LeaveNotResolvedError");
/** @returns whether `value` is a {@link StoreCorruptedError}. */
export const isStoreCorruptedError = (value: unknown): value is StoreCorruptedError =>
  hasName(value, "StoreCorruptedError");
