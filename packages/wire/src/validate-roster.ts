/** Validators of epoch rosters (epoch_roster.proto; docs/PROTOCOL.md, "Epoch rosters"). */
import {
  type EpochRoster,
  RosterChangeKind,
  type RosterDelta,
  type RosterLeaf,
  type RosterPage,
} from "./gen/orgchat/v1/epoch_roster_pb.js";
import { wireLimits } from "./limits.js";
import {
  count,
  exactBytes,
  keysSignature,
  leafIndex,
  optionalChatId,
  type Problem,
  publicKey,
  type Validator,
} from "./validate-fields.js";

/** The `EpochRoster` format version this library writes and reads. */
const epochRosterVersion = 1;

export const validateRosterLeaf: Validator<RosterLeaf> = (leaf, path) =>
  leafIndex(leaf.index, `${path}.index`) ??
  publicKey(leaf.identityKey, `${path}.identityKey`) ??
  publicKey(leaf.signingKey, `${path}.signingKey`) ??
  publicKey(leaf.prekey, `${path}.prekey`) ??
  keysSignature(leaf.keysSignature, `${path}.keysSignature`) ??
  // One encoding per leaf: the version means something only beside the signature that covers it.
  (leaf.keysSignature.length === 0 && leaf.prekeyVersion !== 0n
    ? { path: `${path}.prekeyVersion`, problem: "must be 0 on a leaf without keysSignature" }
    : undefined);

/** A roster length: 1 (the owner's leaf is never empty) up to the limit. */
function leafCount(value: number, path: string): Problem | undefined {
  return value === 0 || value > wireLimits.maxRosterLeaves
    ? { path, problem: `must be 1-${wireLimits.maxRosterLeaves}` }
    : undefined;
}

/**
 * Leaves listed in a page or a delta: at most `maxRosterLeavesPerPage` (a signed leaf counting
 * twice), strictly increasing by
 * index (one encoding per roster: no repeats, no reordering), each inside `[from, to)`.
 */
function listedLeaves(
  leaves: readonly RosterLeaf[],
  from: number,
  to: number,
  path: string,
): Problem | undefined {
  // A signed leaf is ~1.7 times the bytes of an unsigned one: it counts twice, so a message of
  // any mix stays within the size an unsigned full page has.
  const signed = leaves.reduce((n, leaf) => n + (leaf.keysSignature.length > 0 ? 1 : 0), 0);
  const problem = count(
    leaves.length + signed,
    wireLimits.maxRosterLeavesPerPage,
    signed === 0 ? path : `${path} (a signed leaf counts twice)`,
  );
  if (problem) return problem;
  let previous = -1;
  for (const [i, leaf] of leaves.entries()) {
    const at = `${path}[${i}]`;
    const leafProblem = validateRosterLeaf(leaf, at);
    if (leafProblem) return leafProblem;
    if (leaf.index <= previous) {
      return { path: `${at}.index`, problem: "leaf indexes must be strictly increasing" };
    }
    if (leaf.index < from || leaf.index >= to) {
      return { path: `${at}.index`, problem: `must be in [${from}, ${to})` };
    }
    previous = leaf.index;
  }
  return undefined;
}

/**
 * Structural rules of a roster delta: a roster length, removed leaves strictly increasing and
 * inside it, written leaves likewise and none of them removed. Whether it applies (the previous
 * roster's hash) and what it yields (the new hash) is for the receiver, who holds the previous
 * roster.
 */
export const validateRosterDelta: Validator<RosterDelta> = (delta, path) => {
  const problem =
    leafCount(delta.leafCount, `${path}.leafCount`) ??
    count(delta.removedLeaves.length, wireLimits.maxRosterRemovedLeaves, `${path}.removedLeaves`);
  if (problem) return problem;
  let previous = -1;
  for (const [i, leaf] of delta.removedLeaves.entries()) {
    if (leaf <= previous || leaf >= delta.leafCount) {
      return {
        path: `${path}.removedLeaves[${i}]`,
        problem: `must be strictly increasing and below leafCount ${delta.leafCount}`,
      };
    }
    previous = leaf;
  }
  const leavesProblem = listedLeaves(delta.leaves, 0, delta.leafCount, `${path}.leaves`);
  if (leavesProblem) return leavesProblem;
  const removed = new Set(delta.removedLeaves);
  for (const [i, leaf] of delta.leaves.entries()) {
    if (removed.has(leaf.index)) {
      return {
        path: `${path}.leaves[${i}].index`,
        problem: "a leaf cannot be both removed and written",
      };
    }
  }
  return undefined;
};

/**
 * Structural rules of one snapshot page: `pageIndex < pageCount ≤ maxRosterPages`, a roster
 * length, a range start inside the roster (0 on page 0; at least `pageIndex`, since every page's
 * range is non-empty), and leaves strictly increasing inside `[firstLeaf, leafCount)`. That the
 * pages of one snapshot tile the roster is checked when they are reassembled.
 */
export const validateRosterPage: Validator<RosterPage> = (page, path) => {
  if (page.pageCount === 0 || page.pageCount > wireLimits.maxRosterPages) {
    return { path: `${path}.pageCount`, problem: `must be 1-${wireLimits.maxRosterPages}` };
  }
  if (page.pageIndex >= page.pageCount) {
    return { path: `${path}.pageIndex`, problem: `must be below pageCount ${page.pageCount}` };
  }
  const problem = leafCount(page.leafCount, `${path}.leafCount`);
  if (problem) return problem;
  if (page.pageCount > page.leafCount) {
    return {
      path: `${path}.pageCount`,
      problem: `${page.pageCount} pages for ${page.leafCount} leaves: every page covers at least one`,
    };
  }
  if (page.pageIndex === 0 ? page.firstLeaf !== 0 : page.firstLeaf < page.pageIndex) {
    return {
      path: `${path}.firstLeaf`,
      problem: "must be 0 on page 0, and at least pageIndex on the others",
    };
  }
  if (page.firstLeaf >= page.leafCount) {
    return { path: `${path}.firstLeaf`, problem: `must be below leafCount ${page.leafCount}` };
  }
  return listedLeaves(page.leaves, page.firstLeaf, page.leafCount, `${path}.leaves`);
};

/**
 * Structural rules of an epoch roster: version 1, a group id, an 8-byte key id and a 32-byte roster
 * hash, a known change kind, the previous epoch's key id and roster hash on every epoch but the
 * first (and neither on it), a body, and a genesis only as a snapshot page (there is nothing to
 * apply a delta to).
 */
export const validateEpochRoster: Validator<EpochRoster> = (roster, path) => {
  if (roster.version !== epochRosterVersion) {
    return { path: `${path}.version`, problem: `expected ${epochRosterVersion}` };
  }
  const problem =
    optionalChatId(roster.channelId, `${path}.channelId`) ??
    exactBytes(roster.keyId, wireLimits.keyIdBytes, `${path}.keyId`) ??
    exactBytes(roster.rosterHash, wireLimits.rosterHashBytes, `${path}.rosterHash`);
  if (problem) return problem;
  switch (roster.change) {
    case RosterChangeKind.GENESIS:
      if (roster.previousKeyId.length !== 0 || roster.previousRosterHash.length !== 0) {
        return {
          path: `${path}.previousKeyId`,
          problem:
            "a genesis roster has no previous epoch: previousKeyId and previousRosterHash must be empty",
        };
      }
      if (roster.body.case === "delta") {
        return { path: `${path}.delta`, problem: "a genesis roster travels as a snapshot page" };
      }
      break;
    case RosterChangeKind.ADD:
    case RosterChangeKind.REKEY: {
      const previous =
        exactBytes(roster.previousKeyId, wireLimits.keyIdBytes, `${path}.previousKeyId`) ??
        exactBytes(
          roster.previousRosterHash,
          wireLimits.rosterHashBytes,
          `${path}.previousRosterHash`,
        );
      if (previous) return previous;
      if (roster.epoch === 0n) {
        return { path: `${path}.epoch`, problem: "only a genesis roster is at epoch 0" };
      }
      break;
    }
    default:
      return { path: `${path}.change`, problem: "expected GENESIS, ADD or REKEY" };
  }
  switch (roster.body.case) {
    case "delta":
      return validateRosterDelta(roster.body.value, `${path}.delta`);
    case "page":
      return validateRosterPage(roster.body.value, `${path}.page`);
    default:
      return { path: `${path}.body`, problem: "missing: expected a delta or a page" };
  }
};
