/**
 * Typed errors of the client: one class per condition, each with a message that says what went
 * wrong and a hint of what to do (`OrgchatError` of `@orgchat/base`). Branch on `error.name` or the
 * `isX()` guards, never on `instanceof` across packages or on messages.
 *
 * Expected outcomes that are not the caller's doing (a message for an epoch we do not hold yet, a
 * rejection delivered by the owner) are events, not errors (see `ClientEvents`).
 */
import { errorGuard, OrgchatError } from "@orgchat/base";

/** Options every client error takes. */
export interface ClientErrorOptions {
  /** The underlying error, when there is one. */
  readonly cause?: unknown;
}

/** The operation needs the organization key, which only the owner holds on this client. */
export class NotOwnerError extends OrgchatError {
  static readonly errorName = "NotOwnerError";
  /** The organization (hex). */
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      NotOwnerError.errorName,
      `Only the owner of organization ${organizationId} can do this, and this client does not hold its key.`,
      { ...options, hint: "Ask the owner to do it (management is owner-only in this client)." },
    );
    this.organizationId = organizationId;
  }
}

/**
 * `forgetOrganization` on an organization this identity owns, belongs to, or asked to join: forgetting
 * it would drop the organization's key, the member's group keys or a pending request without telling
 * anyone. `role` says which; leave (member) or cancel the request (requester) first; an owner cannot.
 */
export class ForgetRefusedError extends OrgchatError {
  static readonly errorName = "ForgetRefusedError";
  readonly organizationId: string;
  readonly role: "owner" | "member" | "requester";
  constructor(organizationId: string, role: "owner" | "member" | "requester") {
    super(
      ForgetRefusedError.errorName,
      `Organization ${organizationId} cannot be forgotten: this identity is its ${role}.`,
      {
        hint:
          role === "owner"
            ? "An owner keeps its organization (its key is only here)."
            : role === "member"
              ? "Leave it first (leave)."
              : "Cancel the request first (cancelRequest).",
      },
    );
    this.organizationId = organizationId;
    this.role = role;
  }
}

/** Whether `value` is a {@link ForgetRefusedError}. */
export const isForgetRefusedError = errorGuard<ForgetRefusedError>(ForgetRefusedError.errorName);

/** The operation needs membership of the organization (or of a channel), which this identity lacks. */
export class NotMemberError extends OrgchatError {
  static readonly errorName = "NotMemberError";
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      NotMemberError.errorName,
      `This identity is not a member of organization ${organizationId}.`,
      {
        ...options,
        hint: `Request to join (requestToJoin) or accept an invitation first, and wait for "request:accepted".`,
      },
    );
    this.organizationId = organizationId;
  }
}

/** The organization is not known to this client. */
export class UnknownOrganizationError extends OrgchatError {
  static readonly errorName = "UnknownOrganizationError";
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      UnknownOrganizationError.errorName,
      `Organization ${organizationId} is not known to this client.`,
      {
        ...options,
        hint: "Call discover(organizationId) with its public key first (or createOrganization for your own).",
      },
    );
    this.organizationId = organizationId;
  }
}

/** Discovery found no description of the organization in the transport's history. */
export class OrganizationNotFoundError extends OrgchatError {
  static readonly errorName = "OrganizationNotFoundError";
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      OrganizationNotFoundError.errorName,
      `No description of organization ${organizationId} was found in history.`,
      {
        ...options,
        hint: `Check the key, make sure the transport reaches a store node, or wait: the client keeps listening and emits "org:discovered" when the owner republishes.`,
      },
    );
    this.organizationId = organizationId;
  }
}

/** The channel does not exist, or this member may not read or post in it. */
export class ChannelAccessError extends OrgchatError {
  static readonly errorName = "ChannelAccessError";
  readonly organizationId: string;
  readonly channelId: string;
  constructor(organizationId: string, channelId: string, options: ClientErrorOptions = {}) {
    super(
      ChannelAccessError.errorName,
      `Channel "${channelId}" of organization ${organizationId} does not exist or is restricted to its roster and grant holders.`,
      { ...options, hint: "Ask the owner for access (a grant or a place on the channel roster)." },
    );
    this.organizationId = organizationId;
    this.channelId = channelId;
  }
}

/** The owner cannot be reached for this flow: its signed prekey bundle is not available. */
export class OwnerUnreachableError extends OrgchatError {
  static readonly errorName = "OwnerUnreachableError";
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      OwnerUnreachableError.errorName,
      `The owner of organization ${organizationId} has published no prekey bundle this client could verify, so no private channel to it can be opened.`,
      {
        ...options,
        hint: "Wait for the owner's next description (it republishes periodically) and retry.",
      },
    );
    this.organizationId = organizationId;
  }
}

/** The member holds no key for the group yet (waiting for the owner's Welcome). */
export class KeysNotReadyError extends OrgchatError {
  static readonly errorName = "KeysNotReadyError";
  readonly organizationId: string;
  readonly channelId: string;
  constructor(organizationId: string, channelId: string, options: ClientErrorOptions = {}) {
    super(
      KeysNotReadyError.errorName,
      `No group key for ${channelId === "" ? "the organization" : `channel "${channelId}"`} of ${organizationId} yet.`,
      {
        ...options,
        hint: `Wait for "epoch:changed" (the owner's Welcome), or call resync(organizationId).`,
      },
    );
    this.organizationId = organizationId;
    this.channelId = channelId;
  }
}

/**
 * The group has not reached an epoch this device may send in, because `reason`:
 * - `"restored"`: the store was restored from a backup (docs/RESTORE.md); the copy may sit behind
 *   sends the device it was copied from made, and sending in an epoch they may share would reuse
 *   their keys; the client asked the owner for a fresh epoch;
 * - `"removal"`: a member of the group's epoch was removed or banned, and the owner's re-key (at most
 *   `rekeyWindowMs` after it, 2 s by default) has not arrived: the removed member still holds this
 *   epoch's keys and would read the message.
 *
 * Sends work once the new epoch arrives ("epoch:changed").
 */
export class FreshKeysPendingError extends OrgchatError {
  static readonly errorName = "FreshKeysPendingError";
  readonly organizationId: string;
  readonly channelId: string;
  readonly reason: "restored" | "removal";
  constructor(
    organizationId: string,
    channelId: string,
    reason: "restored" | "removal" = "restored",
    options: ClientErrorOptions = {},
  ) {
    const group = channelId === "" ? "the organization" : `channel "${channelId}"`;
    super(
      FreshKeysPendingError.errorName,
      reason === "restored"
        ? `This identity was restored from a backup: ${group} of ${organizationId} has no fresh keys to send with yet.`
        : `A member of ${group} of ${organizationId} was removed and the owner's re-key has not arrived: a message now would be readable by the removed member.`,
      {
        ...options,
        hint:
          reason === "restored"
            ? `The owner was asked for a fresh epoch: wait for "epoch:changed" (the owner must be online), then send again.`
            : `Wait for "epoch:changed" (the owner re-keys within seconds of a removal), then send again.`,
      },
    );
    this.organizationId = organizationId;
    this.channelId = channelId;
    this.reason = reason;
  }
}

/**
 * The organization is owned by this identity, whose store was restored from a backup: the
 * organization is kept, inactive, until owner continuity (issue #17) can carry it on without
 * forking it or reusing the keys the original device used after the backup (docs/RESTORE.md).
 */
export class OwnerRestoredError extends OrgchatError {
  static readonly errorName = "OwnerRestoredError";
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      OwnerRestoredError.errorName,
      `Organization ${organizationId} is owned by this identity, restored from a backup: it is kept but inactive on this device.`,
      {
        ...options,
        hint: "Run the organization from the device it was created on; a restored owner takes over once owner continuity is supported (docs/RESTORE.md).",
      },
    );
    this.organizationId = organizationId;
  }
}

/**
 * A restored owner cannot carry its organization on from what Store holds (docs/RESTORE.md, "Owner
 * continuity: built"): Store no longer reaches the backup's newest clock (a gap could hide a
 * removal), or lacks the roster of a group's newest epoch. Nothing was sent; the organization stays
 * inactive on this device.
 */
export class OwnerHistoryGapError extends OrgchatError {
  static readonly errorName = "OwnerHistoryGapError";
  readonly organizationId: string;
  /** What is missing, in words. */
  readonly missing: string;
  constructor(organizationId: string, missing: string, options: ClientErrorOptions = {}) {
    super(
      OwnerHistoryGapError.errorName,
      `Organization ${organizationId} cannot be resumed from this backup: ${missing}.`,
      {
        ...options,
        hint: "Check that a Store node with the organization's history is reachable and try again; if Store no longer holds it, only the original owner device can carry the organization on.",
      },
    );
    this.organizationId = organizationId;
    this.missing = missing;
  }
}

/**
 * Another device runs this organization as its owner at the same time (docs/RESTORE.md, "Two owner
 * devices at once"): it published an owner-signed bundle with another device id at a clock this one
 * did not write. This device stops writing as owner (it reads on) until the user keeps one device.
 */
export class OwnerForkDetectedError extends OrgchatError {
  static readonly errorName = "OwnerForkDetectedError";
  readonly organizationId: string;
  /** The other device's id (hex, 16 bytes). */
  readonly device: string;
  constructor(organizationId: string, device: string, options: ClientErrorOptions = {}) {
    super(
      OwnerForkDetectedError.errorName,
      `Organization ${organizationId} is run as its owner by another device too (device ${device}): this device stopped writing as owner so as not to fork it.`,
      {
        ...options,
        hint: `Keep one device: stop the owner on the other one (device ${device}), then run \`orgchat owner resume ${organizationId}\` on the one you keep (client: resumeOwner).`,
      },
    );
    this.organizationId = organizationId;
    this.device = device;
  }
}

/** The organization's rules refused the event this operation would author. */
export class EventRejectedError extends OrgchatError {
  static readonly errorName = "EventRejectedError";
  /** Why the state refused it (a `RejectionReason` of `@orgchat/state`). */
  readonly reason: string;
  constructor(what: string, reason: string, options: ClientErrorOptions = {}) {
    super(
      EventRejectedError.errorName,
      `${what} was refused by the organization's rules (${reason}).`,
      {
        ...options,
        hint: "Check the current state (getOrganization) — e.g. the request may be decided or expired, the member not present, or the action above your rank.",
      },
    );
    this.reason = reason;
  }
}

/** A request or message id that this client does not know. */
export class UnknownTargetError extends OrgchatError {
  static readonly errorName = "UnknownTargetError";
  readonly id: string;
  constructor(what: string, id: string, options: ClientErrorOptions = {}) {
    super(UnknownTargetError.errorName, `No ${what} with id ${id} is known here.`, {
      ...options,
      hint: "List them first (listRequests, listInvitations, history).",
    });
    this.id = id;
  }
}

/** The passphrase does not open the secrets in the store. */
export class WrongPassphraseError extends OrgchatError {
  static readonly errorName = "WrongPassphraseError";
  constructor(options: ClientErrorOptions = {}) {
    super(WrongPassphraseError.errorName, "The passphrase does not open this store's secrets.", {
      ...options,
      hint: "Pass the passphrase the store was created with (it cannot be recovered).",
    });
  }
}

/** The store holds secrets sealed with a passphrase and none was given (or the reverse). */
export class PassphraseRequiredError extends OrgchatError {
  static readonly errorName = "PassphraseRequiredError";
  constructor(sealed: boolean, options: ClientErrorOptions = {}) {
    super(
      PassphraseRequiredError.errorName,
      sealed
        ? "This store's secrets are sealed with a passphrase:"
        : "This store's secrets were saved without a passphrase;",
      {
        ...options,
        hint: sealed
          ? "pass `passphrase` to createClient."
          : "omit `passphrase` (re-sealing an existing store is not supported yet).",
      },
    );
  }
}

/**
 * This identity left the organization (or was removed) and asked to join again, but the owner's
 * resolution of that leave did not reach this client within `leaveResolutionTimeoutMs`. A request
 * sent now would be ordered before the resolution and refused, so none was sent.
 */
export class LeaveNotResolvedError extends OrgchatError {
  static readonly errorName = "LeaveNotResolvedError";
  readonly organizationId: string;
  constructor(organizationId: string, options: ClientErrorOptions = {}) {
    super(
      LeaveNotResolvedError.errorName,
      `The owner of organization ${organizationId} has not processed your leave yet, so a request to join now would be refused (nothing was sent);`,
      { ...options, hint: "try again when the owner is online." },
    );
    this.organizationId = organizationId;
  }
}

/** The client was closed. */
export class ClientClosedError extends OrgchatError {
  static readonly errorName = "ClientClosedError";
  constructor(options: ClientErrorOptions = {}) {
    super(ClientClosedError.errorName, "The client is closed.", {
      ...options,
      hint: "Create a new one with createClient on the same store.",
    });
  }
}

/** The operation was aborted through its `signal` before it committed anything. */
export class AbortError extends OrgchatError {
  static readonly errorName = "AbortError";
  constructor(options: ClientErrorOptions = {}) {
    super(AbortError.errorName, "The operation was aborted before it changed anything;", {
      ...options,
      hint: "call it again to retry.",
    });
  }
}

/** The stored data is not readable by this version of the client. */
export class StoreCorruptedError extends OrgchatError {
  static readonly errorName = "StoreCorruptedError";
  readonly record: string;
  constructor(record: string, options: ClientErrorOptions = {}) {
    super(
      StoreCorruptedError.errorName,
      `The stored record ${record} cannot be read by this client version.`,
      { ...options, hint: "Restore the data directory from a backup, or start a new store." },
    );
    this.record = record;
  }
}

/** @returns whether `value` is a {@link NotOwnerError}. */
export const isNotOwnerError = errorGuard<NotOwnerError>(NotOwnerError.errorName);
/** @returns whether `value` is a {@link NotMemberError}. */
export const isNotMemberError = errorGuard<NotMemberError>(NotMemberError.errorName);
/** @returns whether `value` is an {@link UnknownOrganizationError}. */
export const isUnknownOrganizationError = errorGuard<UnknownOrganizationError>(
  UnknownOrganizationError.errorName,
);
/** @returns whether `value` is an {@link OrganizationNotFoundError}. */
export const isOrganizationNotFoundError = errorGuard<OrganizationNotFoundError>(
  OrganizationNotFoundError.errorName,
);
/** @returns whether `value` is a {@link ChannelAccessError}. */
export const isChannelAccessError = errorGuard<ChannelAccessError>(ChannelAccessError.errorName);
/** @returns whether `value` is an {@link OwnerUnreachableError}. */
export const isOwnerUnreachableError = errorGuard<OwnerUnreachableError>(
  OwnerUnreachableError.errorName,
);
/** @returns whether `value` is a {@link KeysNotReadyError}. */
export const isKeysNotReadyError = errorGuard<KeysNotReadyError>(KeysNotReadyError.errorName);
/** @returns whether `value` is a {@link FreshKeysPendingError}. */
export const isFreshKeysPendingError = errorGuard<FreshKeysPendingError>(
  FreshKeysPendingError.errorName,
);
/** @returns whether `value` is an {@link OwnerForkDetectedError}. */
export const isOwnerForkDetectedError = errorGuard<OwnerForkDetectedError>(
  OwnerForkDetectedError.errorName,
);
/** @returns whether `value` is an {@link OwnerRestoredError}. */
export const isOwnerRestoredError = errorGuard<OwnerRestoredError>(OwnerRestoredError.errorName);
/** Whether `error` is an {@link OwnerHistoryGapError}. */
export const isOwnerHistoryGapError = errorGuard<OwnerHistoryGapError>(
  OwnerHistoryGapError.errorName,
);
/** @returns whether `value` is an {@link EventRejectedError}. */
export const isEventRejectedError = errorGuard<EventRejectedError>(EventRejectedError.errorName);
/** @returns whether `value` is an {@link UnknownTargetError}. */
export const isUnknownTargetError = errorGuard<UnknownTargetError>(UnknownTargetError.errorName);
/** @returns whether `value` is a {@link WrongPassphraseError}. */
export const isWrongPassphraseError = errorGuard<WrongPassphraseError>(
  WrongPassphraseError.errorName,
);
/** @returns whether `value` is a {@link PassphraseRequiredError}. */
export const isPassphraseRequiredError = errorGuard<PassphraseRequiredError>(
  PassphraseRequiredError.errorName,
);
/** @returns whether `value` is a {@link ClientClosedError}. */
export const isClientClosedError = errorGuard<ClientClosedError>(ClientClosedError.errorName);
/** @returns whether `value` is an {@link AbortError} (this package's or a platform `AbortError`). */
export const isAbortError = errorGuard<AbortError>(AbortError.errorName);
/** @returns whether `value` is a {@link LeaveNotResolvedError}. */
export const isLeaveNotResolvedError = errorGuard<LeaveNotResolvedError>(
  LeaveNotResolvedError.errorName,
);
/** @returns whether `value` is a {@link StoreCorruptedError}. */
export const isStoreCorruptedError = errorGuard<StoreCorruptedError>(StoreCorruptedError.errorName);
