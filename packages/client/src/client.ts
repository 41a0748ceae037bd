import { defaultProvider } from "@orgchat/crypto";
import type { Identity, Permissions, Role } from "@orgchat/state";
import type { Client } from "./client-api.js";
import { ClientCore } from "./core.js";
import { ClientClosedError } from "./errors.js";
import { openIdentity } from "./persistence.js";
import type {
  ClientConfig,
  ClientEvents,
  ClientInit,
  ClientListener,
  ClientTimers,
  CreateChannelInit,
  CreateOrganizationInit,
  JoinRequestInit,
  MessageView,
  OperationOptions,
  OrganizationView,
  RequestView,
} from "./types.js";

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
 * Creates a client on a transport and a store: loads (or creates) the identity, resumes every
 * organization found in the store, re-publishes its outbox and backfills what it missed.
 *
 * @param init - transport, store, optional passphrase, injected clock / randomness / timers
 * @returns the client, listening
 * @throws {WrongPassphraseError} when `passphrase` does not open the store's secrets
 * @throws {PassphraseRequiredError} when the store is sealed and no passphrase was given (or the
 *   reverse)
 * @throws {StoreCorruptedError} when a stored record cannot be read
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
  await start(core);
  return new OrgchatClient(core);
}

/** Starts the transport, listens, resumes every stored organization, then catches up. */
async function start(c: ClientCore): Promise<void> {
  await c.p.transport.start();
  await c.sync.start();
  for (const hex of await c.p.store.keys("orgs")) {
    c.orgs.set(hex, await c.persistence.load(hex));
  }
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
    c.sync.scheduleSweep();
  });
  c.runtime.scheduleTick();
}

/** The facade: each method hands over to the component that owns the operation. */
class OrgchatClient implements Client {
  readonly memberId: string;
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
    this.memberId = core.memberId;
  }

  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): () => void {
    return this.#c.emitter.on(event, listener);
  }

  createOrganization(init: CreateOrganizationInit, options?: OperationOptions): Promise<string> {
    return this.#c.actions.createOrganization(init, options);
  }

  editIdentity(id: string, identity: Partial<Identity>, options?: OperationOptions) {
    return this.#c.actions.run("editIdentity", id, options, identity);
  }

  setPermissions(id: string, permissions: Partial<Permissions>, options?: OperationOptions) {
    return this.#c.actions.run("setPermissions", id, options, permissions);
  }

  setAdminSettings(
    id: string,
    settings: { readonly pinMessageAllMembersEnabled: boolean },
    options?: OperationOptions,
  ) {
    return this.#c.actions.run("setAdminSettings", id, options, settings);
  }

  setTags(id: string, tags: readonly string[], options?: OperationOptions) {
    return this.#c.actions.run("setTags", id, options, tags);
  }

  setEncrypted(id: string, encrypted: boolean, options?: OperationOptions) {
    return this.#c.actions.run("setEncrypted", id, options, encrypted);
  }

  createChannel(id: string, init: CreateChannelInit, options?: OperationOptions) {
    return this.#c.actions.run("createChannel", id, options, init);
  }

  editChannel(
    id: string,
    channelId: string,
    changes: Partial<Omit<CreateChannelInit, "id">>,
    options?: OperationOptions,
  ) {
    return this.#c.actions.run("editChannel", id, options, channelId, changes, id);
  }

  removeChannel(id: string, channelId: string, options?: OperationOptions) {
    return this.#c.actions.run("removeChannel", id, options, channelId);
  }

  setChannelMembers(
    id: string,
    channelId: string,
    members: Readonly<Record<string, readonly Role[]>>,
    options?: OperationOptions,
  ) {
    return this.#c.actions.run("setChannelMembers", id, options, channelId, members);
  }

  createCategory(id: string, categoryId: string, name: string, options?: OperationOptions) {
    return this.#c.actions.run("createCategory", id, options, categoryId, name);
  }

  editCategory(id: string, categoryId: string, name: string, options?: OperationOptions) {
    return this.#c.actions.run("editCategory", id, options, categoryId, name);
  }

  removeCategory(id: string, categoryId: string, options?: OperationOptions) {
    return this.#c.actions.run("removeCategory", id, options, categoryId);
  }

  invite(id: string, invitee: string, options?: OperationOptions & { readonly chatId?: string }) {
    return this.#c.actions.invite(id, invitee, options);
  }

  listRequests(id: string): RequestView[] {
    return this.#c.views.requests(this.#c.owned(id));
  }

  acceptRequest(id: string, requestId: string, options?: OperationOptions) {
    return this.#c.actions.decide(id, requestId, undefined, options);
  }

  rejectRequest(id: string, requestId: string, reason: string, options?: OperationOptions) {
    return this.#c.actions.decide(id, requestId, reason, options);
  }

  removeMember(id: string, member: string, options?: OperationOptions) {
    return this.#c.actions.run("removeMember", id, options, member);
  }

  banMember(
    id: string,
    member: string,
    options?: OperationOptions & { readonly deleteMessages?: boolean },
  ) {
    return this.#c.actions.run("banMember", id, options, member, options?.deleteMessages ?? false);
  }

  unbanMember(id: string, member: string, options?: OperationOptions) {
    return this.#c.actions.run("unbanMember", id, options, member);
  }

  setRoles(id: string, member: string, roles: readonly Role[], options?: OperationOptions) {
    return this.#c.actions.run("setRoles", id, options, member, roles);
  }

  issueGrant(id: string, member: string, chatId: string, options?: OperationOptions) {
    return this.#c.actions.run("issueGrant", id, options, member, chatId);
  }

  revokeGrant(id: string, member: string, chatId: string, options?: OperationOptions) {
    return this.#c.actions.run("revokeGrant", id, options, member, chatId);
  }

  discover(id: string, options?: OperationOptions): Promise<OrganizationView> {
    return this.#c.membership.discover(id, options);
  }

  requestToJoin(id: string, init?: JoinRequestInit): Promise<string> {
    return this.#c.membership.requestToJoin(id, init);
  }

  cancelRequest(id: string, options?: OperationOptions): Promise<void> {
    return this.#c.membership.cancelRequest(id, options);
  }

  acceptInvitation(id: string, init?: JoinRequestInit): Promise<string> {
    return this.#c.membership.acceptInvitation(id, init);
  }

  leave(id: string, options?: OperationOptions): Promise<void> {
    return this.#c.membership.leave(id, options);
  }

  sendMessage(
    id: string,
    channelId: string,
    text: string,
    options?: OperationOptions & { readonly replyTo?: string },
  ): Promise<MessageView> {
    const c = this.#c;
    return c.runtime.task(async () => {
      const org = c.org(id);
      const body = { case: "post" as const, value: { text, replyTo: options?.replyTo ?? "" } };
      return c.eventLog.view(org, await c.messages.send(org, channelId, options?.signal, body));
    });
  }

  editMessage(id: string, messageId: string, text: string, options?: OperationOptions) {
    return this.#sendAbout(id, messageId, options, { case: "edit", value: { messageId, text } });
  }

  deleteMessage(id: string, messageId: string, options?: OperationOptions) {
    return this.#sendAbout(id, messageId, options, { case: "delete", value: { messageId } });
  }

  pinMessage(id: string, messageId: string, pinned = true, options?: OperationOptions) {
    return this.#sendAbout(id, messageId, options, { case: "pin", value: { messageId, pinned } });
  }

  /** Sends an edit, deletion or pin in the channel of the message it is about. */
  async #sendAbout(
    id: string,
    messageId: string,
    options: OperationOptions | undefined,
    body: Parameters<ClientCore["messages"]["send"]>[3],
  ): Promise<void> {
    const c = this.#c;
    await c.runtime.task(async () => {
      const org = c.org(id);
      await c.messages.send(org, c.messages.channelOf(org, messageId), options?.signal, body);
    });
  }

  history(id: string, channelId: string): MessageView[] {
    return this.#c.views.history(this.#c.org(id), channelId);
  }

  getOrganization(id: string): OrganizationView {
    if (this.#c.runtime.closed) throw new ClientClosedError();
    return this.#c.views.organization(this.#c.org(id));
  }

  listOrganizations(): OrganizationView[] {
    return [...this.#c.orgs.values()].map((org) => this.#c.views.organization(org));
  }

  resync(id: string, options?: OperationOptions): Promise<void> {
    return this.#c.membership.resync(id, options);
  }

  idle(): Promise<void> {
    return this.#c.runtime.idle();
  }

  async close(): Promise<void> {
    const c = this.#c;
    if (!(await c.runtime.close())) return;
    await c.sync.close();
    c.emitter.clear();
  }
}
