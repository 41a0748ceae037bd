/**
 * The largest Lamport clock in orgchat, 2^63 − 1 (docs/PROTOCOL.md, "Clocks"). The wire field is a
 * uint64, but stores file events by clock under a sort key that is SQLite's signed 64-bit INTEGER, so
 * the state refuses any clock a store could not file and never stamps one above it. The one definition:
 * `@orgchat/state`'s `clockLimits.maxClock` and `@orgchat/store`'s `storeLimits.maxSortKey` are this
 * value, so the two can never drift apart.
 */
export const maxLamportClock: bigint = 2n ** 63n - 1n;
