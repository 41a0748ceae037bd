import type { OrgEvent } from "./events.js";

/**
 * Compares two events in the canonical order of docs/PROTOCOL.md ("Events and the canonical
 * order"): ascending Lamport clock, then author, then id. Authors are lowercase hex and ids ASCII
 * (`isOrgEvent`), so string order is byte order and every implementation sorts the same way.
 *
 * @param a - a well-formed event
 * @param b - a well-formed event
 * @returns a negative number when `a` sorts first, positive when `b` does, 0 for the same position
 * @example
 * ```ts
 * const ordered = [...events].sort(compareEvents);
 * ```
 */
export function compareEvents(
  a: Pick<OrgEvent, "clock" | "author" | "id">,
  b: Pick<OrgEvent, "clock" | "author" | "id">,
): number {
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1;
  if (a.author !== b.author) return a.author < b.author ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}
