/**
 * The `meta` record's probe: what a commit compares in place to tell whether the record changed,
 * without encoding it (most commits, a message sent or received, change nothing in it).
 */
import type { Org, OwnRequest } from "./org.js";

/**
 * What an organization's `meta` record holds but `lastSeen` (informational: written with the next
 * change of the rest), taken by value (a request's status changes in place) so that a commit tells
 * whether the record changed without encoding it: most commits (a message sent or received)
 * change nothing in it.
 */
export interface MetaProbe {
  readonly role: Org["role"];
  readonly discovered: boolean;
  readonly marks: ReadonlyArray<readonly [string, number]>;
  /** The member's request, copied (its status and reason change in place). */
  readonly request: Readonly<OwnRequest> | undefined;
  readonly bundle: unknown;
  readonly rekeyDueAt: number | undefined;
  readonly pendingRemovals: ReadonlyArray<readonly [string, readonly string[]]>;
}

const noEntries: ReadonlyArray<never> = Object.freeze([]);

/** Whether the probe's copy of the member's request still matches it. */
function sameRequest(copy: Readonly<OwnRequest> | undefined, org: Org): boolean {
  const request = org.role === "owner" ? undefined : org.member.request;
  if (copy === undefined || request === undefined) return copy === request;
  return copy.id === request.id && copy.status === request.status && copy.reason === request.reason;
}

/** @internal What `meta` holds now, `lastSeen` left out (exported for tests). */
export function metaProbe(org: Org): MetaProbe {
  const owner = org.role === "owner" ? org.owner : undefined;
  const member = org.role === "owner" ? undefined : org.member;
  const removals = owner?.pendingRemovals;
  return {
    role: org.role,
    discovered: org.discovered,
    marks: org.marks.size === 0 ? noEntries : [...org.marks],
    request: member?.request === undefined ? undefined : { ...member.request },
    bundle: member?.bundle,
    rekeyDueAt: owner?.rekeyDueAt,
    pendingRemovals:
      removals === undefined || removals.size === 0
        ? noEntries
        : [...removals].map(([channelId, members]) => [channelId, [...members]] as const),
  };
}

/**
 * @internal Whether `org` still holds what `probe` took, read in place: no probe is built for a
 * commit that changes nothing in the record (a message sent or received). Exported for tests.
 * @param probe - what {@link metaProbe} took when the record was last written
 * @param org - the organization now
 * @returns true when `meta` would be written with the same content (`lastSeen` aside)
 */
export function metaUnchanged(probe: MetaProbe, org: Org): boolean {
  const owner = org.role === "owner" ? org.owner : undefined;
  const member = org.role === "owner" ? undefined : org.member;
  if (
    probe.role !== org.role ||
    probe.discovered !== org.discovered ||
    probe.bundle !== member?.bundle ||
    probe.rekeyDueAt !== owner?.rekeyDueAt ||
    !sameRequest(probe.request, org) ||
    probe.marks.length !== org.marks.size
  ) {
    return false;
  }
  let i = 0;
  for (const [key, value] of org.marks) {
    const mark = probe.marks[i++] as readonly [string, number];
    if (mark[0] !== key || mark[1] !== value) return false;
  }
  const removals = owner?.pendingRemovals;
  if (probe.pendingRemovals.length !== (removals?.size ?? 0)) return false;
  i = 0;
  for (const [channelId, members] of removals ?? []) {
    const removal = probe.pendingRemovals[i++] as readonly [string, readonly string[]];
    if (removal[0] !== channelId || removal[1].length !== members.size) return false;
    let j = 0;
    for (const member of members) if (removal[1][j++] !== member) return false;
  }
  return true;
}
