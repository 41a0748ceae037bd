/**
 * Delegated management, the requests' side (docs/DELEGATION.md, "Requests reach the delegates"):
 * a member whose rank is admin or manager holds a desk for requests (its own X3DH keys, published as
 * a `delegate-bundle` on the description topic) and answers them with the owner's rules
 * (owner-requests.ts); a requester sends its request to the owner and to up to
 * {@link maxDelegateRecipients} delegates.
 *
 * @module
 */
import { fromHex, toHex } from "@orgchat/base";
import {
  OwnerPrekeys,
  PairwiseSession,
  type PrekeyBundleFields,
  verifyPrekeyBundle,
  x3dhInitiate,
} from "@orgchat/crypto";
import { type OrgState, rankOf } from "@orgchat/state";
import type { StoreOp } from "@orgchat/store";
import { descriptionTopic, openEnvelope, sealEnvelope } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { delegateInviter } from "./delegate-invitations.js";
import { hashId } from "./encoding.js";
import { type DelegateSide, type MemberOrg, newTxn, type Txn } from "./org.js";
import { delegatePeer, type PairwiseContentInit } from "./pairwise.js";
import type { Vault } from "./vault.js";

const component = "client/delegates";

/** Delegates a request goes to besides the owner (admins first, then managers, each by id). */
export const maxDelegateRecipients = 8;

/** Delegates' bundles a requester keeps per organization (one each, the newest by clock). */
export const maxDelegateBundles = 64;

/** The record of a requester's session with a delegate, in the organization's space. */
export const delegateSessionKey = (delegate: string) => `pairwise-to/${delegate}`;

/** Whether `member` may receive requests in `state`: its rank is admin or manager. */
export function isDelegate(state: OrgState, member: string): boolean {
  const rank = rankOf(state, member);
  return rank === "admin" || rank === "manager";
}

/**
 * The delegates a request goes to: those of `state` (admin or manager) whose bundle is held, admins
 * first, then managers, each by member id; at most {@link maxDelegateRecipients}.
 *
 * @param state - the requester's view of the organization
 * @param held - the delegates whose bundle the requester holds
 * @param self - the requester (never its own recipient)
 * @param first - a delegate that goes first whatever its rank and id (the one that invited the
 *   requester: only it redeems its invitation)
 * @returns the delegates' ids, in that order
 */
export function delegateRecipients(
  state: OrgState,
  held: Iterable<string>,
  self: string,
  first?: string,
): string[] {
  const admins: string[] = [];
  const managers: string[] = [];
  const leading: string[] = [];
  for (const id of held) {
    if (id === self) continue;
    if (id === first && isDelegate(state, id)) {
      leading.push(id);
      continue;
    }
    const rank = rankOf(state, id);
    if (rank === "admin") admins.push(id);
    else if (rank === "manager") managers.push(id);
  }
  admins.sort();
  managers.sort();
  return [...leading, ...admins, ...managers].slice(0, maxDelegateRecipients);
}

/**
 * The requester's sessions with delegates that a unit of work moved, for its commit batch (sealed,
 * one record each).
 *
 * @param vault - the client's vault
 * @param org - an organization this client does not own
 * @param txn - the unit of work
 * @returns the puts
 */
export function delegateSessionOps(vault: Vault, org: MemberOrg, txn: Txn): StoreOp[] {
  const ops: StoreOp[] = [];
  const space = `org/${org.hex}`;
  for (const [delegate, session] of org.member.delegateSessions) {
    if (!txn.sessions.has(delegatePeer(delegate))) continue;
    const key = delegateSessionKey(delegate);
    ops.push({ type: "put", space, key, value: vault.seal(space, key, session.serialize()) });
  }
  return ops;
}

/**
 * Delegates: the desk of this member while its rank is admin or manager (its prekeys, made once and
 * kept, and its bundle, published when the rank comes and at every periodic tick), the delegates'
 * bundles a requester reads, and the request's fan-out to them. Owns: `MemberSide.delegate`,
 * `.delegateBundles`, `.delegateSessions`.
 */
export class Delegates {
  readonly #c: ClientCore;
  /** When this process last published each organization's delegate bundle (memory only). */
  readonly #published = new WeakMap<MemberOrg, number>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /**
   * Follows this member's rank: a delegate gets its desk (made once, stored with the unit of
   * work) and publishes its bundle when it has not in this process or `republishIntervalMs` ago.
   *
   * @param org - an organization this client does not own
   * @param txn - the unit of work (gets the prekeys record and the bundle in its outbox)
   * @param force - publish whatever the last time (the periodic tick)
   */
  async follow(org: MemberOrg, txn: Txn, force = false): Promise<void> {
    const c = this.#c;
    if (!isDelegate(org.log.state, c.memberId)) return;
    let made = false;
    if (org.member.delegate === undefined) {
      org.member.delegate = this.#newDesk();
      txn.prekeys = true;
      made = true;
    }
    const last = this.#published.get(org);
    const now = c.now();
    if (!made && !force && last !== undefined && now - last < c.p.config.republishIntervalMs) {
      return;
    }
    await this.#publishBundle(org, txn, org.member.delegate);
    this.#published.set(org, now);
  }

  /**
   * The periodic tick of a member organization: a pending request asks again on its back-off
   * (`Membership.askAgain`); the delegate's bundle goes out again.
   */
  async periodic(org: MemberOrg): Promise<void> {
    await this.#c.membership.askAgain(org);
    if (!isDelegate(org.log.state, this.#c.memberId)) return;
    const txn = newTxn(org);
    await this.follow(org, txn, true);
    await this.#c.persistence.commit(org, txn);
  }

  #newDesk(): DelegateSide {
    const c = this.#c;
    return {
      prekeys: OwnerPrekeys.create(c.p.provider, {
        identitySecretKey: c.p.identity.secretKey,
        identityDhSecretKey: c.p.identityDh.secretKey,
        now: c.now(),
      }),
      sessions: new Map(),
      memberKeys: new Map(),
      signer: c.identitySigner,
    };
  }

  async #publishBundle(org: MemberOrg, txn: Txn, desk: DelegateSide): Promise<void> {
    const topic = descriptionTopic(org.id);
    const bytes = await sealEnvelope(
      {
        type: "delegate-bundle",
        organizationId: org.id,
        clock: org.log.nextClock(),
        contentTopic: topic,
        message: desk.prekeys.bundle(),
      },
      desk.signer,
    );
    txn.outbox.push({ id: hashId(bytes), topic, bytes });
  }

  /**
   * A delegate's bundle read on the description topic: kept (the newest by clock per delegate) when
   * its signer is the key it names and the bundle's own signature holds; at most
   * {@link maxDelegateBundles} per organization (those of keys no longer admin or manager go first).
   * Whether the key may receive requests is decided when a request goes out (the state then).
   *
   * @param org - an organization this client does not own
   * @param bytes - the envelope
   * @param topic - its content topic (diagnostics)
   */
  async onBundle(org: MemberOrg, bytes: Uint8Array, topic: string): Promise<void> {
    const c = this.#c;
    let bundle: PrekeyBundleFields;
    let clock: bigint;
    try {
      const opened = await openEnvelope(bytes, {
        contentTopic: descriptionTopic(org.id),
        organizationId: org.id,
        accept: ["delegate-bundle"],
        verify: c.verify,
      });
      if (opened.type !== "delegate-bundle") return;
      const m = opened.message;
      bundle = {
        identityKey: m.identityKey,
        identityDhKey: m.identityDhKey,
        signedPrekey: m.signedPrekey,
        signedPrekeyId: m.signedPrekeyId,
        signature: m.signature,
      };
      verifyPrekeyBundle(c.p.provider, bundle, m.identityKey);
      clock = opened.clock;
    } catch (error) {
      c.report({ component, reason: "unopenable-delegate-bundle", topic, error });
      return;
    }
    const delegate = toHex(bundle.identityKey);
    if (delegate === c.memberId) return;
    const bundles = org.member.delegateBundles;
    const held = bundles.get(delegate);
    if (held !== undefined && held.clock >= clock) return;
    bundles.set(delegate, { clock, bundle });
    if (bundles.size > maxDelegateBundles) {
      const state = org.log.state;
      const out =
        [...bundles.keys()].find((id) => !isDelegate(state, id)) ?? bundles.keys().next().value;
      if (out !== undefined) bundles.delete(out);
    }
  }

  /**
   * Whether the requester holds a bundle of every delegate it would ask (the state's admins and
   * managers, in {@link delegateRecipients} order, at most {@link maxDelegateRecipients}).
   *
   * @param org - an organization this client does not own
   * @returns true when none is missing
   */
  bundlesHeld(org: MemberOrg): boolean {
    const state = org.log.state;
    const wanted = delegateRecipients(state, state.members.keys(), this.#c.memberId);
    return wanted.every((id) => org.member.delegateBundles.has(id));
  }

  /**
   * Sends a request's content (the same bytes as to the owner: its id is theirs) and this
   * requester's keys to the delegates of {@link delegateRecipients}, each over a new X3DH session
   * into the delegate's inbox. A delegate whose bundle does not verify is skipped (reported).
   *
   * @param org - the organization asked
   * @param txn - the unit of work of the request
   * @param keys - this requester's `MemberKeys` content
   * @param request - the `requestToJoin` content bytes
   * @param clock - the request's clock
   * @returns the delegates it went to
   */
  async fanOut(
    org: MemberOrg,
    txn: Txn,
    keys: PairwiseContentInit,
    request: Uint8Array,
    clock: bigint,
  ): Promise<string[]> {
    const c = this.#c;
    const member = org.member;
    const sent: string[] = [];
    const state = org.log.state;
    const inviter = delegateInviter(org, c.memberId);
    const recipients = delegateRecipients(
      state,
      member.delegateBundles.keys(),
      c.memberId,
      inviter,
    );
    for (const delegate of recipients) {
      const held = member.delegateBundles.get(delegate);
      if (held === undefined) continue;
      let session: PairwiseSession;
      try {
        session = PairwiseSession.initiate(
          c.p.provider,
          x3dhInitiate(c.p.provider, {
            identityKeyPair: c.p.identity,
            identityDhKeyPair: c.p.identityDh,
            bundle: held.bundle,
            organizationKey: fromHex(delegate),
          }),
        );
      } catch (error) {
        c.report({
          component,
          reason: "delegate-unreachable",
          topic: descriptionTopic(org.id),
          error,
        });
        continue;
      }
      member.delegateSessions.set(delegate, session);
      await c.pairwise.toDelegate(org, txn, delegate, keys, org.log.nextClock());
      await c.pairwise.toDelegate(org, txn, delegate, request, clock);
      sent.push(delegate);
    }
    return sent;
  }

  /**
   * Loads what a member organization keeps of delegation: its desk (a `prekeys` record) and its
   * sessions with delegates (`pairwise-to/` records).
   *
   * @param org - a member organization being loaded
   * @param read - reads and opens a sealed record of its space
   * @param keys - the names of its space's records under a prefix
   */
  async load(
    org: MemberOrg,
    read: (key: string) => Promise<Uint8Array | undefined>,
    keys: (prefix: string) => Promise<readonly string[]>,
  ): Promise<void> {
    const c = this.#c;
    const prekeys = await read("prekeys");
    if (prekeys !== undefined) {
      org.member.delegate = {
        prekeys: OwnerPrekeys.deserialize(c.p.provider, prekeys),
        sessions: new Map(),
        memberKeys: new Map(),
        signer: c.identitySigner,
      };
    }
    for (const key of await keys("pairwise-to/")) {
      const bytes = await read(key);
      if (bytes === undefined) continue;
      org.member.delegateSessions.set(
        key.slice("pairwise-to/".length),
        PairwiseSession.deserialize(c.p.provider, bytes),
      );
    }
  }
}
