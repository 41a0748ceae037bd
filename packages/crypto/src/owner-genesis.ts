/**
 * A group's first epoch (docs/PROTOCOL.md, "Epochs and the key schedule"): the owner alone, at
 * epoch 0, with a fresh random epoch secret. What `OwnerGroup.create` starts from.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { enterEpoch } from "./epoch-entry.js";
import { EpochWindow } from "./epoch-window.js";
import { checkOwnerGroupInit } from "./group-checks.js";
import type { OwnerGroupState } from "./group-state-encoding.js";
import { type GroupId, type Roster, rosterHash } from "./key-schedule.js";
import type { OwnerGroupInit } from "./owner-group-types.js";
import type { WelcomeHistoryEntry } from "./welcome.js";

/**
 * The owner's state at genesis (see `OwnerGroup.create` for the checks and what they throw).
 *
 * @param init - the provider, the group, the owner's leaf and signing secret, the time, options
 * @returns the state of a group whose only member is the owner (leaf 0)
 */
export function genesisState(init: OwnerGroupInit): OwnerGroupState {
  const { provider, group } = init;
  const historyPolicy = checkOwnerGroupInit(init);
  const groupCopy: GroupId = {
    organizationId: group.organizationId.slice(),
    channelId: group.channelId,
  };
  const roster: Roster = [init.ownLeaf];
  const epochSecret = provider.randomBytes(32);
  const kept = epochSecret.slice();
  const hash = rosterHash(provider, roster);
  const history: WelcomeHistoryEntry[] = [];
  if (historyPolicy === "shared") {
    history.push({ epoch: 0n, epochSecret: epochSecret.slice(), rosterHash: hash.slice() });
  }
  const { keys, initSecret } = enterEpoch({
    provider,
    group: groupCopy,
    epoch: 0n,
    epochSecret,
    roster,
    rosterHash: hash,
    limits: init.limits,
  });
  return {
    group: groupCopy,
    historyPolicy,
    leaf: 0,
    signingSecretKey: init.signingSecretKey.slice(),
    initSecret,
    epochSecret: kept,
    epochStartedAt: init.now,
    roster: keys.roster,
    members: new Map(),
    history,
    window: new EpochWindow(keys),
  };
}
