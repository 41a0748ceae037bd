/**
 * A delegate's commits of the organization's group (docs/DELEGATION.md, "Keys to the newcomer"):
 * the add step a delegate makes for a requester it accepted (with the owner offline), and the
 * checks every receiver runs on a roster a delegate signed.
 *
 * @module
 */
import { fromHex, toHex } from "@orgchat/base";
import {
  type CryptoProvider,
  type DelegateAdd,
  type DelegateKeyUpdate,
  type Roster,
  sealKeyUpdate,
  verifyMemberKeys,
} from "@orgchat/crypto";
import { type OrgState, rankOf, ranks } from "@orgchat/state";
import { keysTopic, RosterChangeKind, type EpochRoster as WireEpochRoster } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { isDelegate } from "./delegates.js";
import { hashId } from "./encoding.js";
import {
  type EpochRoster,
  type EpochRosterInit,
  rosterDeltaMessage,
  sealEpochRosters,
} from "./epoch-roster.js";
import type { DelegateOrg, Txn } from "./org.js";
import { ownerMemberKeys } from "./owner-keys.js";
import { orgSpace } from "./persistence.js";
import { pruneRosters, rosterRecordOps } from "./roster-records.js";

const component = "client/delegate-commits";

/**
 * Roster messages a delegate signed (taken by {@link checkDelegateRoster}), by identity, with what
 * their delta may do to the roster it meets (checked there: `RosterBook`).
 */
const delegateRosters = new WeakMap<WireEpochRoster, (previous: Roster) => boolean>();

/**
 * Whether a roster message's delta may apply to `previous`: always for the owner's; for a
 * delegate's, what {@link checkDelegateRoster} allows (an ADD writes only empty leaves of keys not
 * on the roster; a REKEY empties only leaves below the signer's rank, never the owner's or its own).
 *
 * @param message - an opened roster message
 * @param previous - the roster its delta applies to
 * @returns false to refuse it (`delegate-overreach`)
 */
export function delegateRosterAllows(message: WireEpochRoster, previous: Roster): boolean {
  return delegateRosters.get(message)?.(previous) ?? true;
}

/**
 * What a delegate's delta may do to the roster it applies to: write leaves that are empty there or
 * beyond its end, and remove none (an add step moves nobody out, nor replaces anyone's keys).
 *
 * @param previous - the roster the delta applies to
 * @param delta - the delta
 * @returns whether it keeps to that
 */
export function delegateWritesOnlyEmpty(
  previous: Roster,
  delta: {
    readonly removedLeaves: readonly number[];
    readonly leaves: ReadonlyArray<{ readonly index: number; readonly identityKey: Uint8Array }>;
  },
): boolean {
  if (delta.removedLeaves.length > 0) return false;
  if (!delta.leaves.every((leaf) => previous[leaf.index] === undefined)) return false;
  // Nobody twice: a joiner is not on the roster yet.
  const present = new Set<string>();
  for (const leaf of previous) if (leaf !== undefined) present.add(toHex(leaf.identityKey));
  return delta.leaves.every((leaf) => !present.has(toHex(leaf.identityKey)));
}

/**
 * The `delegates` option of `openEpochRoster` for a receiver of the organization group's keys topic
 * (a member, or the owner following its delegates): a key the receiver's state ranks admin or manager
 * may sign a roster, which {@link checkDelegateRoster} then judges at the roster envelope's clock.
 *
 * @param c - the client's core
 * @param org - the organization (its state at the time of the check is read)
 * @param onSigner - told the signer of a roster that reached the check
 * @returns the option
 */
export function delegateRosterOption(
  c: ClientCore,
  org: { readonly id: Uint8Array; readonly log: { readonly state: OrgState } },
  onSigner?: (signer: Uint8Array) => void,
): {
  committers: (signer: Uint8Array) => boolean;
  check: (signer: Uint8Array, message: WireEpochRoster, clock: bigint) => boolean;
} {
  return {
    committers: (signer) => isDelegate(org.log.state, toHex(signer)),
    check: (signer, message, clock) => {
      onSigner?.(signer);
      return checkDelegateRoster(c.p.provider, org.log.state, org.id, signer, message, clock);
    },
  };
}

/**
 * A receiver's check of an epoch roster signed by `signer`, a key other than the organization key
 * (docs/DELEGATION.md, "Receivers check a delegate's commit"): the signer's rank in `state` is admin
 * or manager; the message is an ADD delta of the organization's group that removes nothing; every
 * leaf it writes carries its member's own signature over its keys for this group, and none is the
 * owner's, the signer's or a banned key's. The leaves written must have been empty: checked where the delta meets
 * its roster (`RosterBook`, {@link delegateWritesOnlyEmpty}). Not checked yet: that the state
 * admitted each joiner (a delegate's decision does not reach the other members yet).
 *
 * @param provider - crypto provider
 * @param state - the receiver's state
 * @param organizationId - the organization
 * @param signer - the envelope's signer
 * @param message - the opened roster message
 * @param clock - the envelope's clock (the commit's place); a ban of a joiner at this clock or a
 *   later one does not refuse its add. Without it, any ban refuses.
 * @returns whether to take it (then it is marked a delegate's)
 */
export function checkDelegateRoster(
  provider: CryptoProvider,
  state: OrgState,
  organizationId: Uint8Array,
  signer: Uint8Array,
  message: WireEpochRoster,
  clock?: bigint,
): boolean {
  const signerId = toHex(signer);
  if (!isDelegate(state, signerId)) return false;
  if (message.channelId !== "" || message.body.case !== "delta") return false;
  const delta = message.body.value;
  if (message.change === RosterChangeKind.REKEY) {
    if (delta.leaves.length > 0 || delta.removedLeaves.length === 0) return false;
    const level = ranks.indexOf(rankOf(state, signerId));
    delegateRosters.set(message, (previous) =>
      delta.removedLeaves.every((index) => {
        const leaf = previous[index];
        if (leaf === undefined) return false;
        const member = toHex(leaf.identityKey);
        if (member === state.organizationId || member === signerId) return false;
        // A member the receiver does not know (any more: removed or banned, the delegate's decision
        // having arrived first) has no rank: below any delegate.
        return ranks.indexOf(rankOf(state, member)) < level;
      }),
    );
    return true;
  }
  if (message.change !== RosterChangeKind.ADD) return false;
  if (delta.removedLeaves.length > 0 || delta.leaves.length === 0) return false;
  const group = { organizationId, channelId: "" };
  for (const leaf of delta.leaves) {
    const member = toHex(leaf.identityKey);
    if (member === state.organizationId || member === signerId) return false;
    // A banned key comes back only by the owner's unban. A ban at or after the commit's clock does
    // not undo it (a delegate's commit envelope takes the clock its log would give next, which its
    // own later ban may take too): a member that reads the add after the ban follows the chain.
    const ban = state.banned.get(member);
    if (ban !== undefined && (clock === undefined || ban.clock < clock)) return false;
    // The owner and its equals or betters are never written by a delegate.
    if (rankOf(state, member) === "admin" && rankOf(state, signerId) !== "admin") return false;
    try {
      verifyMemberKeys(provider, group, leaf);
    } catch {
      return false;
    }
  }
  delegateRosters.set(message, (previous) => delegateWritesOnlyEmpty(previous, delta));
  return true;
}

/**
 * The add step of a delegate that accepted `requester` (docs/DELEGATION.md, "Keys to the
 * newcomer"), in the unit of work of its decision: enters the next epoch of the organization's
 * group (`MemberGroup.commitAdd`, no fresh randomness but the joiner's leaf secret), records and
 * announces the roster delta signed by the delegate (with the joiner's keys signature), sends the
 * joiner its Welcome over the delegate's session and the owner a `leaf_handover` over this member's
 * owner session. Nothing when the group or the requester's signed keys are missing (reported).
 *
 * @param c - the client's core
 * @param org - an organization in which this client is a delegate
 * @param txn - the decision's unit of work
 * @param requester - the member accepted
 * @returns the leaf secret handed over (the caller wipes it once the commit is durable), or undefined
 */
export async function commitDelegateAdd(
  c: ClientCore,
  org: DelegateOrg,
  txn: Txn,
  requester: string,
): Promise<Uint8Array | undefined> {
  const group = org.member.groups.get("");
  const keys = await ownerMemberKeys(c.p, org, requester);
  const topic = orgSpace(org.hex);
  if (group === undefined || keys?.signed === undefined) {
    c.report({ component, reason: "delegate-add-impossible", topic });
    return undefined;
  }
  const previous = org.rosters.get(toHex(group.keyId));
  if (previous === undefined) {
    c.report({ component, reason: "delegate-add-impossible", topic });
    return undefined;
  }
  // Added already (another delegate's add step reached us before its decision): nothing to do.
  if (group.roster.some((leaf) => leaf !== undefined && toHex(leaf.identityKey) === requester)) {
    return undefined;
  }
  const added = group.commitAdd(
    [
      {
        identityKey: fromHex(requester),
        signingKey: keys.signingKey,
        prekey: keys.prekey,
        prekeyVersion: keys.signed.prekeyVersion,
        keysSignature: keys.signed.keysSignature,
      },
    ],
    c.p.now(),
  );
  const record = recordCommit(c, org, txn, "add", added);
  const delta = rosterDeltaMessage(record, previous.roster);
  if (delta !== undefined && delta.body.case === "delta") {
    const signed = new Map(added.joiners.map((j) => [j.leaf, j.keys]));
    const leaves = delta.body.value.leaves.map((leaf) => {
      const joiner = signed.get(leaf.index);
      return joiner === undefined
        ? leaf
        : { ...leaf, keysSignature: joiner.keysSignature, prekeyVersion: joiner.prekeyVersion };
    });
    // The commit takes the clock of the acceptance it carries out, not the next one: an add step
    // made late (the requester's keys came later, or a lost commit re-made on the winner) must not
    // read as made after a ban another delegate decided meanwhile, which it did not know of
    // (receivers refuse an add of a key banned before the commit's clock: the two delegates' views
    // would split for good). The ban's author removes the member again (`reconcileDepartures`).
    const accepted = org.log.state.members.get(requester)?.joinedAt;
    await publishRoster(
      c,
      org,
      txn,
      { ...delta, body: { case: "delta", value: { ...delta.body.value, leaves } } },
      accepted,
    );
  }
  const joiner = added.joiners[0];
  if (joiner === undefined) return undefined;
  await c.pairwise.toMember(org, txn, requester, { case: "welcome", value: joiner.welcome });
  if (org.member.ownerSession !== undefined) {
    await c.pairwise.toOwner(org, txn, {
      case: "leafHandover",
      value: {
        channelId: "",
        epoch: added.epoch,
        keyId: added.keyId,
        leaf: joiner.leaf,
        member: joiner.keys.identityKey,
        leafSecret: joiner.leafSecret,
      },
    });
  }
  txn.emits.push(["epoch:changed", { organizationId: org.hex, channelId: "", epoch: added.epoch }]);
  return joiner.leafSecret;
}

/**
 * A delegate's removal or ban (docs/DELEGATION.md, "Removals by a delegate"), in the unit of work of
 * its event: a fresh epoch of the organization's group without `member`'s leaf
 * (`MemberGroup.commitRemove`: a FLAT KeyUpdate whose entries are salted with delegate salts),
 * recorded, its roster delta and KeyUpdate chunks signed by the delegate and published. The
 * departure is kept (`CommitForks.noteDeparture`): when the member has no leaf in the group's roster
 * (another committer's add step may be on its way), or comes back on it (an add step decided before
 * and made late), it is committed again once an epoch holds it (`CommitForks.reconcileDepartures`).
 *
 * @param c - the client's core
 * @param org - an organization in which this client is a delegate
 * @param txn - the removal's unit of work
 * @param member - the member removed or banned
 */
export async function commitDelegateRemoval(
  c: ClientCore,
  org: DelegateOrg,
  txn: Txn,
  member: string,
): Promise<void> {
  // The departures stored are read first (once): the record this writes holds them too.
  await c.keySync.forks.load(org);
  const group = org.member.groups.get("");
  const previous = group === undefined ? undefined : org.rosters.get(toHex(group.keyId));
  if (group === undefined || previous === undefined) return;
  const leaf = group.roster.findIndex((l) => l !== undefined && toHex(l.identityKey) === member);
  // Kept: another committer's add step, decided before, may bring it back (committed again then).
  c.keySync.forks.noteDeparture(org, txn, member);
  if (leaf < 0) return; // its add step (another committer's) has not reached us yet
  const update = group.commitRemove([leaf], c.p.now());
  const record = recordCommit(c, org, txn, "rekey", update);
  const delta = rosterDeltaMessage(record, previous.roster);
  if (delta !== undefined) await publishRoster(c, org, txn, delta);
  const envelopes = await sealKeyUpdate({
    group: group.group,
    chunks: update.chunks,
    clock: org.log.nextClock(),
    signer: org.member.delegate.signer,
    delegate: true,
  });
  const topic = keysTopic(org.id);
  for (const bytes of envelopes) txn.outbox.push({ id: hashId(bytes), topic, bytes });
}

/** Records a delegate's new epoch of the organization's group in `txn` (roster, group, events). */
function recordCommit(
  c: ClientCore,
  org: DelegateOrg,
  txn: Txn,
  change: "add" | "rekey",
  commit: DelegateAdd | DelegateKeyUpdate,
): EpochRoster {
  txn.groups.add("");
  txn.epochChanged = true;
  txn.erasesKeys = true;
  const record: EpochRoster = {
    change,
    channelId: "",
    epoch: commit.epoch,
    keyId: commit.keyId,
    previousKeyId: commit.previousKeyId,
    rosterHash: commit.rosterHash,
    previousRosterHash: commit.previousRosterHash,
    roster: [...commit.roster],
  };
  org.rosters.add(record);
  txn.ops.push(...rosterRecordOps(org.rosters, orgSpace(org.hex), record));
  pruneRosters(org, txn, orgSpace(org.hex), c.p.now());
  txn.emits.push([
    "epoch:changed",
    { organizationId: org.hex, channelId: "", epoch: commit.epoch },
  ]);
  return record;
}

/**
 * Seals a roster message with the delegate's key into the outbox, and notes the commit's place in
 * the winner order (signer, clock: `commit-forks.ts`), which its own client never reads back.
 * `at`: the envelope's clock (the log's next one when not given).
 */
async function publishRoster(
  c: ClientCore,
  org: DelegateOrg,
  txn: Txn,
  message: EpochRosterInit,
  at?: bigint,
): Promise<void> {
  const signer = org.member.delegate.signer;
  const clock = at ?? org.log.nextClock();
  c.keySync.forks.note(org, txn, message, signer.publicKey, clock);
  const [sealed] = await sealEpochRosters({
    organizationId: org.id,
    signer,
    clock,
    messages: [message],
  });
  if (sealed !== undefined) {
    txn.outbox.push({ id: hashId(sealed.bytes), topic: sealed.topic, bytes: sealed.bytes });
  }
}
