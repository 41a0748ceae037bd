import { defaultProvider } from "@orgchat/crypto";
import {
  defaultReducerConfig,
  defaultRequestAdmissionLimits,
  RequestAdmission,
} from "@orgchat/state";
import type { Client } from "./client-api.js";
import { ClientCore } from "./core.js";
import { ClientClosedError, NotOwnerError } from "./errors.js";
import type { ChannelBodyInit } from "./messages.js";
import type { MemberOrg } from "./org.js";
import { orgSpace } from "./org-records.js";
import { queueOwnerGroups } from "./owner-groups-later.js";
import { ownerResumedKey } from "./owner-restore.js";
import { openIdentity } from "./persistence.js";
import { readRestoreMarker } from "./restore-marker.js";
import type { ClientConfig, ClientInit, ClientTimers, OperationOptions } from "./types.js";

/** The defaults of {@link ClientConfig}. */
export const defaultClientConfig: Required<ClientConfig> = {
  rekeyWindowMs: 2_000,
  addWindowMs: 200,
  republishIntervalMs: 600_000,
  refreshIntervalMs: 48 * 60 * 60 * 1000,
  resyncAnswerIntervalMs: 60_000,
  resyncInitialBackoffMs: 5_000,
  resyncMaxBackoffMs: 600_000,
  maxPendingMessages: 1_000,
  maxPendingAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxMessagesPerChannel: 0,
  maxBackfillPages: 50,
  maxPendingInvitations: 50,
  requestAdmission: {},
  maxPendingRequests: defaultReducerConfig.maxPendingRequests,
  leaveResolutionTimeoutMs: 30_000,
  syncIntervalMs: 5_000,
  syncMaxIntervalMs: 600_000,
  scryptN: 2 ** 17,
};

/**
 * Creates a client on a transport and a store: loads (or creates) the identity, resumes every
 * organization found in the store, re-publishes its outbox and backfills what it missed.
 *
 * @param init - transport, store, optional passphrase, injected clock / randomness / timers
 * @returns the client, listening
 * @throws {WrongPassphraseError} when `passphrase` does not open the store's secrets
 * @throws {PassphraseRequiredError} when the store is sealed and no passphrase was given (or the
 *   reverse)
 * @throws {StoreCorruptedError} when a stored record cannot be read (an owner group's member
 *   records are read after the start: one that cannot is an `error` event, and its organization
 *   leaves the active ones; docs/CLIENT.md, "Owner groups after the first view")
 * @throws {RangeError} when `config.maxPendingInvitations` is not a positive integer,
 *   `config.maxMessagesPerChannel` not a non-negative integer, `config.maxPendingRequests` not a
 *   positive integer, or
 *   `config.requestAdmission` has a burst that is not a positive integer or an interval not positive
 * @throws the transport's own errors from `start()` / `subscribe()`
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
  if (!Number.isSafeInteger(config.maxMessagesPerChannel) || config.maxMessagesPerChannel < 0) {
    throw new RangeError(
      `config.maxMessagesPerChannel: expected a non-negative integer, got ${config.maxMessagesPerChannel}`,
    );
  }
  if (!Number.isSafeInteger(config.maxPendingRequests) || config.maxPendingRequests < 1) {
    throw new RangeError(
      `config.maxPendingRequests: expected a positive integer, got ${config.maxPendingRequests}`,
    );
  }
  if (!Number.isSafeInteger(config.maxPendingInvitations) || config.maxPendingInvitations < 1) {
    throw new RangeError(
      `config.maxPendingInvitations: expected a positive integer, got ${config.maxPendingInvitations}`,
    );
  }
  // Checked here rather than at the first request: a bad limit is the caller's error, not a peer's.
  new RequestAdmission({ ...defaultRequestAdmissionLimits, ...config.requestAdmission });
  const store = init.store;
  const { vault, identity, identityDh } = await openIdentity({
    provider,
    random,
    store,
    passphrase: init.passphrase,
    scryptN: config.scryptN,
  });
  const core = new ClientCore({
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
  await start(core, init.deviceOrigin);
  return facade(core);
}

/** Starts the transport, listens, resumes every stored organization, then catches up. */
async function start(c: ClientCore, deviceOrigin: string | undefined): Promise<void> {
  await c.p.transport.start();
  await c.sync.start();
  // A store restored from a backup (docs/RESTORE.md): organizations it owns stay inactive, member
  // ones re-key before anything is sent.
  const restored = await readRestoreMarker(c.p.store);
  await c.ownerDevices.start(deviceOrigin);
  for (const hex of await c.p.store.keys("orgs")) {
    // An owner's groups are restored by the first task after the start (owner-groups-later.ts).
    const org = await c.persistence.load(hex, { ownerGroups: "after-start" });
    const resumed = await c.p.store.get(orgSpace(hex), ownerResumedKey);
    if (restored !== undefined && org.role === "owner" && resumed === undefined) {
      c.inactive.set(hex, "owner-restored");
    } else {
      if (org.role === "owner") await c.ownerDevices.load(org);
      c.orgs.set(hex, org);
      queueOwnerGroups(c, org);
    }
  }
  if (restored !== undefined) {
    const members = [...c.orgs.values()].filter((org) => org.role !== "owner") as MemberOrg[];
    await c.restore.begin(members, c.inactive.size > 0);
  }
  await c.membership.invitations.load();
  for (const org of c.orgs.values()) {
    await c.sync.syncSubscriptions(org);
    if (org.role === "owner" && org.owner.rekeyDueAt !== undefined) {
      c.epochs.scheduleRekey(org, org.owner.rekeyDueAt);
    }
  }
  // Catching up emits events: let the app attach its listeners first (one macrotask turn after
  // createClient resolves). `idle()` waits for it.
  c.runtime.background(undefined, async () => {
    await new Promise<void>((resolve) => globalThis.setTimeout(resolve, 0));
    for (const org of c.orgs.values()) await c.persistence.flushOutbox(org);
    await c.sync.backfillInbox();
    for (const org of c.orgs.values()) await c.sync.catchUp(org);
    // Admissions a crash left without their add step (the add window is not persisted); after the
    // catch-up, which follows the commits delegates made meanwhile (owner-follow.ts): a change
    // the owner made before would fork from them.
    for (const org of c.orgs.values()) if (org.role === "owner") await c.epochs.resume(org);
    // A restored member still held back asks again (its back-off is memory only).
    for (const org of c.orgs.values()) if (org.role !== "owner") await c.restore.tick(org);
    // Recoveries a previous run started go on (their back-off and retry timer were memory only).
    for (const org of c.orgs.values()) await c.recovery.resume(org);
    c.sync.scheduleSweep();
  });
  c.runtime.scheduleTick();
}

/** The facade: each method hands over to the component that owns the operation. */
function facade(c: ClientCore): Client {
  const { actions, membership, messages, views, runtime } = c;
  /** Sends an edit, deletion or pin in the channel of the message it is about. */
  const sendAbout = (
    id: string,
    messageId: string,
    options: OperationOptions | undefined,
    body: ChannelBodyInit,
  ): Promise<void> =>
    runtime.task(async () => {
      const org = c.org(id);
      await messages.send(org, messages.channelOf(org, messageId), options?.signal, body);
    });
  return {
    memberId: c.memberId,
    on: (event, listener) => c.emitter.on(event, listener),
    createOrganization: (init, options) => actions.createOrganization(init, options),
    editIdentity: (id, identity, options) => actions.run("editIdentity", id, options, identity),
    setPermissions: (id, permissions, options) =>
      actions.run("setPermissions", id, options, permissions),
    setAdminSettings: (id, settings, options) =>
      actions.run("setAdminSettings", id, options, settings),
    setTags: (id, tags, options) => actions.run("setTags", id, options, tags),
    setEncrypted: (id, encrypted, options) => actions.run("setEncrypted", id, options, encrypted),
    createChannel: (id, init, options) => actions.run("createChannel", id, options, init),
    editChannel: (id, channelId, changes, options) =>
      actions.run("editChannel", id, options, channelId, changes, id),
    removeChannel: (id, channelId, options) => actions.run("removeChannel", id, options, channelId),
    setChannelMembers: (id, channelId, members, options) =>
      actions.run("setChannelMembers", id, options, channelId, members),
    createCategory: (id, categoryId, name, options) =>
      actions.run("createCategory", id, options, categoryId, name),
    editCategory: (id, categoryId, name, options) =>
      actions.run("editCategory", id, options, categoryId, name),
    removeCategory: (id, categoryId, options) =>
      actions.run("removeCategory", id, options, categoryId),
    invite: (id, invitee, options) => actions.invite(id, invitee, options),
    listRequests: (id) => views.requests(c.desk(id)),
    acceptRequest: (id, requestId, options) => actions.decide(id, requestId, undefined, options),
    rejectRequest: (id, requestId, reason, options) =>
      actions.decide(id, requestId, reason, options),
    removeMember: (id, member, options) => actions.run("removeMember", id, options, member),
    banMember: (id, member, options) =>
      actions.run("banMember", id, options, member, options?.deleteMessages ?? false),
    unbanMember: (id, member, options) => actions.run("unbanMember", id, options, member),
    setRoles: (id, member, roles, options) => actions.run("setRoles", id, options, member, roles),
    issueGrant: (id, member, chatId, options) =>
      actions.run("issueGrant", id, options, member, chatId),
    revokeGrant: (id, member, chatId, options) =>
      actions.run("revokeGrant", id, options, member, chatId),
    discover: (id, options) => membership.discover(id, options),
    requestToJoin: (id, init) => membership.requestToJoin(id, init),
    cancelRequest: (id, options) => membership.cancelRequest(id, options),
    listInvitations: () => {
      if (runtime.closed) throw new ClientClosedError();
      return membership.invitations.list();
    },
    acceptInvitation: (id, init) => membership.acceptInvitation(id, init),
    declineInvitation: (id, options) => membership.declineInvitation(id, options),
    leave: (id, options) => membership.leave(id, options),
    forgetOrganization: (id, options) => membership.forget(id, options),
    sendMessage: (id, channelId, text, options) =>
      // No async function per send (its frame is allocated per call): the view once committed.
      runtime.task(() => {
        const org = c.org(id);
        const body = { case: "post" as const, value: { text, replyTo: options?.replyTo ?? "" } };
        return messages
          .send(org, channelId, options?.signal, body)
          .then((messageId) => c.eventLog.view(org, messageId));
      }),
    editMessage: (id, messageId, text, options) =>
      sendAbout(id, messageId, options, { case: "edit", value: { messageId, text } }),
    deleteMessage: (id, messageId, options) =>
      sendAbout(id, messageId, options, { case: "delete", value: { messageId } }),
    pinMessage: (id, messageId, pinned = true, options = undefined) =>
      sendAbout(id, messageId, options, { case: "pin", value: { messageId, pinned } }),
    history: (id, channelId) => views.history(c.org(id), channelId),
    getOrganization: (id) => {
      if (runtime.closed) throw new ClientClosedError();
      return views.organization(c.org(id));
    },
    listOrganizations: () => [...c.orgs.values()].map((org) => views.organization(org)),
    listInactiveOrganizations: () =>
      [...c.inactive].map(([organizationId, reason]) => ({ organizationId, reason })),
    ownerDevice: (id) => {
      const org = c.org(id);
      if (org.role !== "owner") throw new NotOwnerError(org.hex);
      return c.ownerDevices.status(org);
    },
    resumeOwner: (id, options) => c.ownerDevices.resume(id, options?.onStep),
    resync: (id, options) => membership.resync(id, options),
    idle: async () => {
      await runtime.idle();
      // At rest, the outbox holds only what is unsent: the deletes of entries already published
      // (which otherwise ride in the next commit) are committed now (with any group head a receive
      // left unsaved: no batch of its own for those, they wait for the 64th receive or close).
      if (!runtime.closed && c.persistence.hasPublished()) {
        await runtime.task(() => c.persistence.settle());
        await runtime.idle();
      }
    },
    close: async () => {
      // Pending adds go out before the queue closes (a one-shot process accepts, then closes).
      if (!runtime.closed) c.epochs.flushBeforeClose();
      // A clean stop leaves a state snapshot and the re-fold window: the next start replays that.
      if (!runtime.closed) {
        void runtime.task(() => c.persistence.compactAtClose()).catch(() => undefined);
      }
      // Published entries leave the outbox, and unsaved group heads reach it, before the store closes.
      if (!runtime.closed && c.persistence.hasUnsettled()) {
        void runtime.task(() => c.persistence.settle()).catch(() => undefined);
      }
      if (!(await runtime.close())) return;
      await c.sync.close();
      c.emitter.clear();
    },
  };
}
