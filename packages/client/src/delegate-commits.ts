/**
 * A delegate's commits of the organization's group (docs/DELEGATION.md, "Keys to the newcomer"):
 * the add step a delegate makes for a requester it accepted (with the owner offline), and the
 * checks every receiver runs on a roster a delegate signed.
 *
 * @module
 */
import { fromHex, toHex } from "@orgchat/base";
import { type CryptoProvider, type Roster, verifyMemberKeys } from "@orgchat/crypto";
import { type OrgState, rankOf } from "@orgchat/state";
import { RosterChangeKind, type EpochRoster as WireEpochRoster } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { isDelegate } from "./delegates.js";
import { hashId } from "./encoding.js";
import { type EpochRoster, rosterDeltaMessage, sealEpochRosters } from "./epoch-roster.js";
import type { DelegateOrg, Txn } from "./org.js";
import { ownerMemberKeys } from "./owner-keys.js";
import { orgSpace } from "./persistence.js";
import { pruneRosters, rosterRecordOps } from "./roster-records.js";

const component = "client/delegate-commits";

/** Roster messages a delegate signed (checked by {@link checkDelegateRoster}), by identity. */
const delegateRosters = new WeakSet<WireEpochRoster>();

/**
 * Whether a roster message was signed by a delegate: its delta may then only write empty leaves
 * ({@link delegateWritesOnlyEmpty}), checked where the delta meets its previous roster.
 */
export function isDelegateRoster(message: WireEpochRoster): boolean {
  return delegateRosters.has(message);
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
 * A receiver's check of an epoch roster signed by `signer`, a key other than the organization key
 * (docs/DELEGATION.md, "Receivers check a delegate's commit"): the signer's rank in `state` is admin
 * or manager; the message is an ADD delta of the organization's group that removes nothing; every
 * leaf it writes carries its member's own signature over its keys for this group, and none is the
 * owner's or the signer's. The leaves written must have been empty: checked where the delta meets
 * its roster (`RosterBook`, {@link delegateWritesOnlyEmpty}). Not checked yet: that the state
 * admitted each joiner (a delegate's decision does not reach the other members yet).
 *
 * @param provider - crypto provider
 * @param state - the receiver's state
 * @param organizationId - the organization
 * @param signer - the envelope's signer
 * @param message - the opened roster message
 * @returns whether to take it (then it is marked a delegate's)
 */
export function checkDelegateRoster(
  provider: CryptoProvider,
  state: OrgState,
  organizationId: Uint8Array,
  signer: Uint8Array,
  message: WireEpochRoster,
): boolean {
  const signerId = toHex(signer);
  if (!isDelegate(state, signerId)) return false;
  if (message.change !== RosterChangeKind.ADD || message.channelId !== "") return false;
  if (message.body.case !== "delta") return false;
  const delta = message.body.value;
  if (delta.removedLeaves.length > 0 || delta.leaves.length === 0) return false;
  const group = { organizationId, channelId: "" };
  for (const leaf of delta.leaves) {
    const member = toHex(leaf.identityKey);
    if (member === state.organizationId || member === signerId) return false;
    // The owner and its equals or betters are never written by a delegate.
    if (rankOf(state, member) === "admin" && rankOf(state, signerId) !== "admin") return false;
    try {
      verifyMemberKeys(provider, group, leaf);
    } catch {
      return false;
    }
  }
  delegateRosters.add(message);
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
  txn.groups.add("");
  txn.epochChanged = true;
  txn.erasesKeys = true;
  const record: EpochRoster = {
    change: "add",
    channelId: "",
    epoch: added.epoch,
    keyId: added.keyId,
    previousKeyId: added.previousKeyId,
    rosterHash: added.rosterHash,
    previousRosterHash: added.previousRosterHash,
    roster: [...added.roster],
  };
  org.rosters.add(record);
  txn.ops.push(...rosterRecordOps(org.rosters, orgSpace(org.hex), record));
  pruneRosters(org, txn, orgSpace(org.hex), c.p.now());
  const delta = rosterDeltaMessage(record, previous.roster);
  if (delta !== undefined && delta.body.case === "delta") {
    const signed = new Map(added.joiners.map((j) => [j.leaf, j.keys]));
    const leaves = delta.body.value.leaves.map((leaf) => {
      const joiner = signed.get(leaf.index);
      return joiner === undefined
        ? leaf
        : { ...leaf, keysSignature: joiner.keysSignature, prekeyVersion: joiner.prekeyVersion };
    });
    const [sealed] = await sealEpochRosters({
      organizationId: org.id,
      signer: org.member.delegate.signer,
      clock: org.log.nextClock(),
      messages: [{ ...delta, body: { case: "delta", value: { ...delta.body.value, leaves } } }],
    });
    if (sealed !== undefined) {
      txn.outbox.push({ id: hashId(sealed.bytes), topic: sealed.topic, bytes: sealed.bytes });
    }
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
