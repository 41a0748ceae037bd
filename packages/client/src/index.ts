/**
 * The orgchat SDK: Waku v2 Organization Chats (spec 55) end to end. `createClient` composes
 * `@orgchat/wire`, `@orgchat/crypto`, `@orgchat/state`, any `Transport` and any `Store`:
 * organizations, channels, requests, invitations, bans, roles, grants and group encryption, with
 * crash-safe persistence and no silent gaps (docs/CLIENT.md).
 *
 * @example
 * ```ts
 * import { createClient } from "@orgchat/client";
 * import { memoryStore } from "@orgchat/store";
 * import { memoryNetwork } from "@orgchat/transport";
 *
 * const network = memoryNetwork();
 * const owner = await createClient({ transport: network.transport(), store: memoryStore() });
 * const orgId = await owner.createOrganization({ name: "Acme", access: "no-membership" });
 * await owner.createChannel(orgId, { id: "general", name: "General" });
 *
 * const alice = await createClient({ transport: network.transport(), store: memoryStore() });
 * alice.on("message:received", ({ message }) => console.log(message.author, message.text));
 * await alice.discover(orgId);
 * await alice.requestToJoin(orgId, { displayName: "Alice" });
 * ```
 *
 * @packageDocumentation
 */

export { createClient, defaultClientConfig } from "./client.js";
export type { Client } from "./client-api.js";
export type { EpochRoster, RosterChange } from "./epoch-roster.js";
export {
  AbortError,
  ChannelAccessError,
  ClientClosedError,
  type ClientErrorOptions,
  EventRejectedError,
  ForgetRefusedError,
  FreshKeysPendingError,
  isAbortError,
  isChannelAccessError,
  isClientClosedError,
  isEventRejectedError,
  isForgetRefusedError,
  isFreshKeysPendingError,
  isKeysNotReadyError,
  isLeaveNotResolvedError,
  isNotMemberError,
  isNotOwnerError,
  isOrganizationNotFoundError,
  isOwnerForkDetectedError,
  isOwnerHistoryGapError,
  isOwnerRestoredError,
  isOwnerUnreachableError,
  isPassphraseRequiredError,
  isStoreCorruptedError,
  isUnknownOrganizationError,
  isUnknownTargetError,
  isWrongPassphraseError,
  KeysNotReadyError,
  LeaveNotResolvedError,
  NotMemberError,
  NotOwnerError,
  OrganizationNotFoundError,
  OwnerForkDetectedError,
  OwnerHistoryGapError,
  OwnerRestoredError,
  OwnerUnreachableError,
  PassphraseRequiredError,
  StoreCorruptedError,
  UnknownOrganizationError,
  UnknownTargetError,
  WrongPassphraseError,
} from "./errors.js";
/** Every event name of `ClientEvents`. */
export { clientEventNames } from "./event-names.js";
export type { ClientOwnerOperations } from "./owner-api.js";
export type { OwnerDeviceStatus } from "./owner-device.js";
/** Where a store keeps its owner device id: a backup leaves it out (docs/RESTORE.md). */
export { ownerDeviceIdKey } from "./owner-device.js";
export type { OwnerRestoreStep } from "./owner-restore.js";
/** When a received message's group head is written (docs/CLIENT.md, "Crash rules"). */
export { receiveHeadInterval } from "./persistence.js";
/** The mark of a store restored from a backup (docs/RESTORE.md). */
export { markRestored, type RestoreMarker, readRestoreMarker } from "./restore-marker.js";
/** When the events log is folded into a state snapshot (docs/SCALE.md, "State snapshot"). */
export { snapshotPolicy } from "./state-snapshots.js";
export type {
  ChannelView,
  ClientConfig,
  ClientEvents,
  ClientInit,
  ClientListener,
  ClientTimers,
  CreateChannelInit,
  CreateOrganizationInit,
  InvitationView,
  JoinRequestInit,
  MessageView,
  OperationOptions,
  OrganizationView,
  OrgRole,
  RequestRejectionCode,
  RequestView,
} from "./types.js";
