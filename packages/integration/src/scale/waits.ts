/**
 * The scale scenario's waits: on a condition checked at every change, with a safety net (a failure,
 * never a figure).
 *
 * @module
 */
import type { LeanCrowd } from "./crowd.js";
import type { LeanMember } from "./lean-member.js";

/** Resolves when `done()` holds, checked at every `change`; rejects after `safetyMs`. */
export function until(
  subscribe: (check: () => void) => () => void,
  done: () => boolean,
  what: string | (() => string),
  safetyMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      const said = typeof what === "string" ? what : what();
      reject(new Error(`scale bench: ${said} took over ${safetyMs} ms (safety net)`));
    }, safetyMs);
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      off();
      resolve();
    };
    off = subscribe(check);
    check();
  });
}

/** Waits until `member` opened its Welcome or was rejected. */
export function admitted(member: LeanMember, crowd: LeanCrowd, safetyMs: number): Promise<void> {
  return until(
    (check) => member.onChange(check),
    () => member.status === "welcomed" || member.status === "rejected",
    // What the member and its crowd hold, to tell a lost request from a Welcome without its roster.
    () =>
      `member ${member.memberId.slice(0, 8)}'s admission (status ${member.status}, ` +
      `Welcome waiting for the roster of epoch ${member.waitingEpoch ?? "none"}; crowd: newest ` +
      `roster epoch ${crowd.rosters.newest()?.epoch ?? "none"}, ${crowd.rosters.refused} rosters ` +
      `refused, ${crowd.unopenable} envelopes unopenable)`,
    safetyMs,
  );
}
