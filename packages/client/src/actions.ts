import { ed25519EnvelopeSigner, OwnerPrekeys } from "@orgchat/crypto";
import {
  type Identity,
  type OrgEvent,
  type OrgEventOf,
  type OrgState,
  type Permissions,
  type Role,
  reduce,
} from "@orgchat/state";
import { emptyIdentity } from "@orgchat/state/wire";
import type { ClientCore } from "./core.js";
import { commitDelegateRemoval } from "./delegate-commits.js";
import { publishDelegateEvent } from "./delegate-events.js";
import { issueDelegateInvitation, sealInvitation } from "./delegate-invitations.js";
import { hashId } from "./encoding.js";
import {
  ChannelAccessError,
  EventRejectedError,
  NotOwnerError,
  UnknownTargetError,
} from "./errors.js";
import { commitDelegateAddKept } from "./kept-welcomes.js";
import { isDeskOrg, newOwnerOrg, newTxn, type OwnerOrg, type Txn } from "./org.js";
import type { JoinDecision } from "./owner-requests.js";
import { checkSignal } from "./runtime.js";
import {
  type CreateChannelInit,
  type CreateOrganizationInit,
  type OperationOptions,
  rejectionCode,
} from "./types.js";

/** An event an owner operation authors: its type and body. */
export type OwnerEventDraft = {
  [K in OrgEvent["type"]]: { readonly type: K; readonly body: OrgEventOf<K>["body"] };
}[OrgEvent["type"]];

/** Types an operation's builder: its event draft is checked against `OwnerEventDraft`. */
const op = <A extends unknown[]>(
  build: (state: () => OrgState, ...args: A) => OwnerEventDraft,
): ((state: () => OrgState, ...args: A) => OwnerEventDraft) => build;

/**
 * The owner operations that author one event and nothing else, by `Client` method name: each
 * builds its event from its arguments (and, for edits, the current state, read when called).
 */
export const ownerOperations = {
  editIdentity: op((state: () => OrgState, identity: Partial<Identity>) => ({
    type: "org.identity.changed",
    body: { identity: { ...state().identity, ...identity } },
  })),
  setPermissions: op((state: () => OrgState, permissions: Partial<Permissions>) => ({
    type: "org.permissions.changed",
    body: { permissions: { ...state().permissions, ...permissions } },
  })),
  setAdminSettings: op(
    (_: () => OrgState, settings: { readonly pinMessageAllMembersEnabled: boolean }) => ({
      type: "org.admin-settings.changed",
      body: { pinMessageAllMembersEnabled: settings.pinMessageAllMembersEnabled },
    }),
  ),
  setTags: op((_: () => OrgState, tags: readonly string[]) => ({
    type: "org.tags.changed",
    body: { tags: [...tags] },
  })),
  setEncrypted: op((_: () => OrgState, encrypted: boolean) => ({
    type: "org.encryption.changed",
    body: { encrypted },
  })),
  createChannel: op((_: () => OrgState, init: CreateChannelInit) => ({
    type: "channel.created",
    body: {
      channelId: init.id,
      identity: { ...emptyIdentity, displayName: init.name, description: init.description ?? "" },
      permissions: {
        access: init.access ?? "no-membership",
        ensOnly: false,
        private: init.private ?? false,
      },
      categoryId: init.categoryId ?? "",
    },
  })),
  editChannel: editChannelDraft,
  removeChannel: op((_: () => OrgState, channelId: string) => ({
    type: "channel.removed",
    body: { channelId },
  })),
  setChannelMembers: op(
    (_: () => OrgState, channelId: string, members: Readonly<Record<string, readonly Role[]>>) => ({
      type: "channel.members.changed",
      body: { channelId, members },
    }),
  ),
  createCategory: op((_: () => OrgState, categoryId: string, name: string) => ({
    type: "category.created",
    body: { categoryId, name },
  })),
  editCategory: op((_: () => OrgState, categoryId: string, name: string) => ({
    type: "category.edited",
    body: { categoryId, name },
  })),
  removeCategory: op((_: () => OrgState, categoryId: string) => ({
    type: "category.removed",
    body: { categoryId },
  })),
  removeMember: op((_: () => OrgState, member: string) => ({
    type: "member.removed",
    body: { member: member.toLowerCase() },
  })),
  banMember: op((_: () => OrgState, member: string, deleteMessages: boolean) => ({
    type: "member.banned",
    body: { member: member.toLowerCase(), deleteMessages },
  })),
  unbanMember: op((_: () => OrgState, member: string) => ({
    type: "member.unbanned",
    body: { member: member.toLowerCase() },
  })),
  setRoles: op((_: () => OrgState, member: string, roles: readonly Role[]) => ({
    type: "member.roles.changed",
    body: { member: member.toLowerCase(), roles: [...roles] },
  })),
  issueGrant: op((_: () => OrgState, member: string, chatId: string) => ({
    type: "grant.issued",
    body: { member: member.toLowerCase(), chatId },
  })),
  revokeGrant: op((_: () => OrgState, member: string, chatId: string) => ({
    type: "grant.revoked",
    body: { member: member.toLowerCase(), chatId },
  })),
} as const;

/** The name of a table-driven owner operation. */
export type OwnerOperation = keyof typeof ownerOperations;

function editChannelDraft(
  state: () => OrgState,
  channelId: string,
  changes: Partial<Omit<CreateChannelInit, "id">>,
  organizationId: string,
): OwnerEventDraft {
  const channel = state().channels.get(channelId);
  if (channel === undefined) throw new ChannelAccessError(organizationId, channelId);
  const identityChanged = changes.name !== undefined || changes.description !== undefined;
  const permissionsChanged = changes.access !== undefined || changes.private !== undefined;
  return {
    type: "channel.edited",
    body: {
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
  };
}

/**
 * Actions: the owner's operations. Each authors one event (checked against the state first, so
 * that a refused one changes nothing), reconciles the groups, republishes the description and
 * commits, in one task of the queue. Owns nothing: it composes the owner side.
 */
export class OwnerActions {
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** Runs the table operation `name` (its arguments after the organization and the options). */
  async run<N extends OwnerOperation>(
    name: N,
    organizationId: string,
    options: OperationOptions | undefined,
    ...args: DropFirst<Parameters<(typeof ownerOperations)[N]>>
  ): Promise<void> {
    const build = ownerOperations[name] as (
      state: () => OrgState,
      ...rest: DropFirst<Parameters<(typeof ownerOperations)[N]>>
    ) => OwnerEventDraft;
    const draft = build(() => this.#c.org(organizationId).log.state, ...args);
    const org = this.#c.org(organizationId);
    if (
      (draft.type === "member.removed" || draft.type === "member.banned") &&
      org.role !== "owner" &&
      isDeskOrg(org)
    ) {
      await this.#removeAsDelegate(org.hex, draft, options);
      return;
    }
    await this.#author(organizationId, options, draft.type, draft.body, name, {
      changed: changedMembers(draft),
    });
  }

  /**
   * Authors an owner event, reconciles the groups (only `scope.changed` when given: see
   * `OwnerEpochs.reconcile`), republishes the description (with the add flush for an admission:
   * `OwnerEpochs.admitted`), commits.
   */
  async #author<K extends OrgEvent["type"]>(
    organizationId: string,
    options: OperationOptions | undefined,
    type: K,
    body: OrgEventOf<K>["body"],
    what: string,
    scope: { readonly changed?: readonly string[] | undefined; readonly admitted?: boolean },
    after?: (org: OwnerOrg, txn: Txn, event: OrgEventOf<K>) => Promise<void>,
  ): Promise<OrgEventOf<K>> {
    const c = this.#c;
    return c.runtime.task(async () => {
      checkSignal(options?.signal);
      const org = c.owned(organizationId);
      const event = c.eventLog.event(org, type, body, org.hex);
      const verdict = reduce(org.log.state, event, org.log.config);
      if (verdict.rejected !== undefined) {
        throw new EventRejectedError(what, verdict.rejected.reason);
      }
      checkSignal(options?.signal);
      const txn = newTxn(org);
      c.eventLog.add(org, txn, event);
      if (after !== undefined) await after(org, txn, event);
      if (scope.admitted === true && scope.changed !== undefined) {
        await c.epochs.admitted(org, txn, scope.changed);
      } else {
        txn.description = true;
        await c.epochs.reconcile(org, txn, scope.changed);
      }
      await c.persistence.commit(org, txn);
      await c.sync.syncSubscriptions(org);
      return event;
    });
  }

  /**
   * Accepts (no `reason`) or rejects a request; the decision is sent to the requester. It is
   * stamped after the request (`EventLog.event`: a stranger's request does not raise the owner's
   * clock, so `nextClock()` alone could sort the decision before it: docs/PROTOCOL.md, "Clocks").
   */
  async decide(
    organizationId: string,
    requestId: string,
    reason: string | undefined,
    options: OperationOptions | undefined,
  ): Promise<void> {
    const c = this.#c;
    const desk = c.desk(organizationId);
    if (desk.role !== "owner") {
      await this.#decideAsDelegate({ organizationId: desk.hex, requestId, reason }, options);
      return;
    }
    const org = c.owned(organizationId);
    const request = org.log.state.requests.get(requestId);
    if (request === undefined) throw new UnknownTargetError("request", requestId);
    const requester = request.requester;
    const base = { organizationId: org.hex, requestId, requester };
    const respond = (o: OwnerOrg, txn: Txn, event: Parameters<typeof c.ownerRequests.respond>[3]) =>
      c.ownerRequests.respond(o, txn, requester, event);
    if (reason === undefined) {
      await this.#author(
        organizationId,
        options,
        "request.accepted",
        { requestId },
        "acceptRequest",
        { changed: [requester], admitted: true },
        async (o, txn, event) => {
          await respond(o, txn, event);
          txn.emits.push(["request:accepted", { ...base, organizationId: o.hex }]);
        },
      );
    } else {
      await this.#author(
        organizationId,
        options,
        "request.rejected",
        { requestId, reason },
        "rejectRequest",
        { changed: [requester] },
        async (o, txn, event) => {
          await respond(o, txn, event);
          txn.emits.push([
            "request:rejected",
            { ...base, organizationId: o.hex, reason, code: rejectionCode(reason) },
          ]);
        },
      );
    }
  }

  /**
   * A delegate's decision on a request it holds (docs/DELEGATION.md): authored by this member (the
   * state says whether its rank may decide it: `EventRejectedError` otherwise), logged, and sent to
   * the requester over the delegate's session, in one commit.
   */
  async #decideAsDelegate(
    decision: { organizationId: string; requestId: string; reason: string | undefined },
    options: OperationOptions | undefined,
  ): Promise<void> {
    const c = this.#c;
    const { organizationId, requestId, reason } = decision;
    await c.runtime.task(async () => {
      checkSignal(options?.signal);
      const org = c.desk(organizationId);
      if (org.role === "owner") throw new NotOwnerError(org.hex);
      const request = org.log.state.requests.get(requestId);
      if (request === undefined) throw new UnknownTargetError("request", requestId);
      const requester = request.requester;
      const event: JoinDecision =
        reason === undefined
          ? c.eventLog.event(org, "request.accepted", { requestId }, c.memberId)
          : c.eventLog.event(org, "request.rejected", { requestId, reason }, c.memberId);
      const verdict = reduce(org.log.state, event, org.log.config);
      if (verdict.rejected !== undefined) {
        const what = reason === undefined ? "acceptRequest" : "rejectRequest";
        throw new EventRejectedError(what, verdict.rejected.reason);
      }
      checkSignal(options?.signal);
      const txn = newTxn(org);
      c.eventLog.add(org, txn, event);
      await c.ownerRequests.respond(org, txn, requester, event);
      // Everyone folds it (docs/DELEGATION.md, "Decisions reach everyone").
      await publishDelegateEvent(c, org, txn, event);
      // Accepted: the keys too, with the owner offline (docs/DELEGATION.md, "Keys to the newcomer").
      const handed =
        reason === undefined ? await commitDelegateAddKept(c, org, txn, requester) : undefined;
      const base = { organizationId: org.hex, requestId, requester };
      txn.emits.push(
        reason === undefined
          ? ["request:accepted", base]
          : ["request:rejected", { ...base, reason, code: rejectionCode(reason) }],
      );
      await c.persistence.commit(org, txn);
      // Durable (the Welcome and the handover are in the outbox): the delegate keeps no copy.
      handed?.fill(0);
    });
  }

  /**
   * A delegate's removal or ban (docs/DELEGATION.md, "Removals by a delegate"): authored by this
   * member (the state refuses it on the owner, on itself, on an equal or higher rank:
   * `EventRejectedError`), logged, and the organization's group re-keyed at once by a KeyUpdate
   * with delegate salts, in one commit.
   */
  async #removeAsDelegate(
    organizationId: string,
    draft: OwnerEventDraft,
    options: OperationOptions | undefined,
  ): Promise<void> {
    const c = this.#c;
    await c.runtime.task(async () => {
      checkSignal(options?.signal);
      const org = c.desk(organizationId);
      if (org.role === "owner") throw new NotOwnerError(org.hex);
      const event = c.eventLog.event(org, draft.type, draft.body, c.memberId) as OrgEvent;
      const verdict = reduce(org.log.state, event, org.log.config);
      if (verdict.rejected !== undefined) {
        const what = draft.type === "member.banned" ? "banMember" : "removeMember";
        throw new EventRejectedError(what, verdict.rejected.reason);
      }
      const member = (event.body as { member: string }).member;
      const txn = newTxn(org);
      c.eventLog.add(org, txn, event);
      await publishDelegateEvent(c, org, txn, event);
      await commitDelegateRemoval(c, org, txn, member);
      await c.persistence.commit(org, txn);
    });
  }

  async createOrganization(
    init: CreateOrganizationInit,
    options?: OperationOptions,
  ): Promise<string> {
    const c = this.#c;
    return c.runtime.task(async () => {
      checkSignal(options?.signal);
      const { provider } = c.p;
      const key = provider.ed25519KeyPair();
      const prekey = provider.x25519KeyPair();
      const org = newOwnerOrg(
        provider,
        key.publicKey,
        {
          signingSecret: key.secretKey,
          signingKey: key.publicKey,
          prekeySecret: prekey.secretKey,
          prekey: prekey.publicKey,
        },
        {
          orgSecret: key.secretKey,
          signer: ed25519EnvelopeSigner(provider, key.secretKey),
          prekeys: OwnerPrekeys.create(provider, {
            identitySecretKey: key.secretKey,
            now: c.p.now(),
          }),
        },
        { maxPendingRequests: c.p.config.maxPendingRequests },
      );
      org.discovered = true;
      const txn = newTxn(org);
      const created = c.eventLog.event(
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
      c.orgs.set(org.hex, org);
      c.eventLog.add(org, txn, created);
      txn.prekeys = true;
      txn.description = true;
      txn.ops.push(
        { type: "put", space: "orgs", key: org.hex, value: new Uint8Array([1]) },
        c.persistence.secretsOp(org),
      );
      await c.epochs.reconcile(org, txn);
      await c.persistence.commit(org, txn);
      await c.sync.syncSubscriptions(org);
      return org.hex;
    });
  }

  async invite(
    organizationId: string,
    invitee: string,
    options?: OperationOptions & { readonly chatId?: string },
  ): Promise<string> {
    const c = this.#c;
    return c.runtime.task(async () => {
      checkSignal(options?.signal);
      const known = c.desk(organizationId);
      if (known.role !== "owner") {
        // A delegate's invitation (docs/DELEGATION.md, "Invitations by a delegate").
        const txn = newTxn(known);
        const event = await issueDelegateInvitation(c, known, txn, invitee, options?.chatId ?? "");
        await c.persistence.commit(known, txn);
        return event.id;
      }
      const org = c.owned(organizationId);
      const draft = c.eventLog.event(
        org,
        "invitation.issued",
        { invitee: invitee.toLowerCase(), chatId: options?.chatId ?? "" },
        org.hex,
      );
      const verdict = reduce(org.log.state, draft, org.log.config);
      if (verdict.rejected !== undefined) {
        throw new EventRejectedError("invite", verdict.rejected.reason);
      }
      const { topic, bytes } = await sealInvitation(org, draft, org.owner.signer);
      // The invitation's id is the hash of the signed envelope, as the invitee computes it.
      const event = { ...draft, id: hashId(bytes) };
      const txn = newTxn(org);
      c.eventLog.add(org, txn, event);
      c.ownerRequests.noteInvitation(org, { id: event.id, invitee: event.body.invitee });
      txn.outbox.push({ id: event.id, topic, bytes });
      await c.persistence.commit(org, txn);
      return event.id;
    });
  }
}

/**
 * The only member whose access an operation's event changes (removal, ban, roles, grants), so that
 * reconciling looks at that member alone; undefined when it may change anyone's (a channel's
 * members or access, encryption, permissions): then the whole state is reconciled.
 */
function changedMembers(draft: OwnerEventDraft): readonly string[] | undefined {
  switch (draft.type) {
    case "member.removed":
    case "member.banned":
    case "member.unbanned":
    case "member.roles.changed":
    case "grant.issued":
    case "grant.revoked":
      return [draft.body.member];
    case "org.identity.changed":
    case "org.admin-settings.changed":
    case "org.tags.changed":
    case "category.created":
    case "category.edited":
    case "category.removed":
      return [];
    default:
      return undefined;
  }
}

type DropFirst<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;
