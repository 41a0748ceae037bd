/**
 * The departures a delegate keeps (docs/DELEGATION.md, "Departures are kept"): every removal and
 * ban it decided, with the state's clock when it decided it, until the member is accepted again
 * after that clock. `CommitForks` commits a kept departure again when an epoch holds its member and
 * the state does not list it.
 *
 * Why the clock: a description the owner made before it read the removal may list the member for a
 * moment (owner seed 2, script 6). Listing is not an acceptance: the owner's next description drops
 * the member again, and someone must still take its leaf out. Only an acceptance decided after the
 * removal (a request accepted, an invitation used, at a higher clock) forgets a departure.
 *
 * @module
 */
import type { OrgState } from "@orgchat/state";
import { decodeJson, encodeJson } from "./encoding.js";

/** The organization's record of the departures a delegate keeps. */
export const departuresKey = "fork-departures";

/** Kept departures of one organization: member id → the state's clock at the departure. */
export type KeptDepartures = Map<string, bigint>;

const memberIdPattern = /^[0-9a-f]{64}$/;

/**
 * Notes `member`'s departure at `clock`, re-inserted as the newest, the oldest dropped past `max`.
 * A departure noted again keeps the higher clock: an acceptance before it does not undo it.
 */
export function noteKept(kept: KeptDepartures, member: string, clock: bigint, max: number): void {
  const before = kept.get(member);
  kept.delete(member);
  kept.set(member, before !== undefined && before > clock ? before : clock);
  for (const old of kept.keys()) {
    if (kept.size <= max) break;
    kept.delete(old);
  }
}

/**
 * Whether the state holds an acceptance of `member` decided after `clock`: a request of its accepted
 * (or an open organization's request, its own acceptance) or an invitation it used, at a higher
 * clock. A description that lists the member is none (it may predate the departure). Costs the
 * state's requests and invitations; asked only for a kept departure whose member the state lists.
 */
export function acceptedAfter(state: OrgState, member: string, clock: bigint): boolean {
  for (const request of state.requests.values()) {
    if (request.requester !== member || request.status !== "accepted") continue;
    if (request.decidedAt !== undefined && request.decidedAt > clock) return true;
  }
  for (const invitation of state.invitations.values()) {
    if (invitation.invitee !== member || !invitation.used) continue;
    if (invitation.usedAt !== undefined && invitation.usedAt > clock) return true;
  }
  return false;
}

/** The stored record: `[member id, clock]` pairs, oldest first. */
export function writeKept(kept: KeptDepartures): Uint8Array {
  return encodeJson([...kept]);
}

/**
 * A stored record read defensively (every byte of the store is read as hostile): the last `max`
 * well-formed entries. An entry of the record before clocks (a bare member id) takes `fallback`
 * (the state's clock at the read: only a later acceptance forgets it).
 */
export function readKept(
  bytes: Uint8Array,
  max: number,
  fallback: bigint,
): Array<[string, bigint]> {
  let value: unknown;
  try {
    value = decodeJson<unknown>(bytes);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  const out: Array<[string, bigint]> = [];
  for (const entry of value) {
    if (typeof entry === "string" && memberIdPattern.test(entry)) {
      out.push([entry, fallback]);
    } else if (
      Array.isArray(entry) &&
      entry.length === 2 &&
      typeof entry[0] === "string" &&
      memberIdPattern.test(entry[0]) &&
      typeof entry[1] === "bigint" &&
      entry[1] >= 0n
    ) {
      out.push([entry[0], entry[1]]);
    }
  }
  return out.slice(-max);
}
