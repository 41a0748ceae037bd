/**
 * The end of a delegate's grace (docs/DELEGATION.md, "No owner commit on a delegate's way"): for
 * `delegateCommitGraceMs` after folding a delegate's accept, removal or ban, the owner's reconcile
 * leaves that member's add or removal to the delegate (`leftToDelegate`). When the grace ends the
 * owner reconciles those members again, so that a decision whose commit never comes is committed
 * by the owner: the delegate's commit lost in a fork, say, and its re-commit skipped because the
 * delegate's state did not list the member then (owner seed 1, script 32). Armed when a reconcile
 * leaves a member to a delegate, and when the owner folds a delegate's decision
 * (`delegate-events.ts`): an owner online then may run no reconcile during the grace.
 *
 * @module
 */
import type { ClientCore } from "./core.js";
import { newTxn, type OwnerOrg, type OwnerSide } from "./org.js";
import { delegateCommitGraceMs, leftToDelegate, ownerFollowLimits } from "./owner-follow.js";

/** The members an armed grace end looks at again, per owner side (one timer each). */
const armed = new WeakMap<OwnerSide, Set<string>>();

/**
 * Whether the owner leaves `member`'s change to a delegate now (`leftToDelegate`); if so, arms the
 * owner's reconcile of it at the grace's end (one timer per organization, at most
 * `ownerFollowLimits.maxDecided` members: the decisions the owner remembers).
 *
 * @param c - the client
 * @param org - an organization this client owns
 * @param member - a joiner or leaver of the organization's group
 * @param now - the owner's clock (ms)
 */
export function heldForDelegate(
  c: ClientCore,
  org: OwnerOrg,
  member: string,
  now: number,
): boolean {
  if (!leftToDelegate(org, member, now)) return false;
  const owner = org.owner;
  const waiting = armed.get(owner);
  if (waiting !== undefined) {
    if (waiting.size < ownerFollowLimits.maxDecided) waiting.add(member);
    return true;
  }
  if (c.runtime.closed) return true;
  const members = new Set([member]);
  // Cleared when the client closes (`Runtime.timer`).
  c.runtime.timer(() => {
    armed.delete(owner);
    c.runtime.background(org.hex, async () => {
      // Halted (owner-device.ts): `resumeOwner` reconciles everything.
      if (owner.device.fork !== undefined || c.orgs.get(org.hex) !== org) return;
      const txn = newTxn(org);
      await c.epochs.reconcile(org, txn, members);
      if (txn.ops.length > 0 || txn.outbox.length > 0 || txn.groups.size > 0) {
        await c.persistence.commit(org, txn);
      }
    });
  }, delegateCommitGraceMs);
  armed.set(owner, members);
  return true;
}
