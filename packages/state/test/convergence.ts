/**
 * The permutation-convergence property, for any generator of histories: whatever the arrival order
 * and the checkpoint interval, an `OrgLog` holds the reference fold's state and rejections, and the
 * events in canonical order.
 */
import fc from "fast-check";
import { expect } from "vitest";
import type { OrgEvent } from "../src/events.js";
import { OrgLog } from "../src/log.js";
import { compareEvents } from "../src/order.js";
import { isOrgEvent } from "../src/validate.js";
import { permutationArb, propertyConfig } from "./event-arbitraries.js";
import { canonicalState, fold, owner, sortedRejections } from "./event-fixtures.js";

/** A log of {@link propertyConfig} fed `events` in the given order. */
export function logOf(events: readonly OrgEvent[], checkpointInterval: number): OrgLog {
  const log = new OrgLog({ organizationId: owner, config: propertyConfig, checkpointInterval });
  for (const e of events) log.add(e);
  return log;
}

/**
 * Asserts, over `runs` histories of `history`, that the given order and two random permutations
 * fold (with a random checkpoint interval) to the reference fold's state and rejections.
 */
export function assertConvergence(
  history: fc.Arbitrary<OrgEvent[]>,
  parameters: { readonly numRuns: number; readonly seed: number },
): void {
  const arb = history.chain((events) =>
    fc.tuple(
      fc.constant(events),
      permutationArb(events),
      permutationArb(events),
      fc.integer({ min: 1, max: 8 }),
    ),
  );
  fc.assert(
    fc.property(arb, ([events, first, second, interval]) => {
      const reference = fold(events, propertyConfig);
      const expectedState = canonicalState(reference.state);
      const expectedRejections = sortedRejections(reference.rejections);
      // Malformed events are refused without being held.
      const ordered = events.filter((e) => isOrgEvent(e)).sort(compareEvents);
      for (const order of [events, first, second]) {
        const log = logOf(order, interval);
        expect(canonicalState(log.state)).toBe(expectedState);
        expect(sortedRejections(log.rejections())).toEqual(expectedRejections);
        expect(log.events()).toEqual(ordered);
      }
    }),
    parameters,
  );
}
