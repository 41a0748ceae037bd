/**
 * The adversary harness (issue #13): hostile peers that publish valid-but-malicious bytes on the
 * network, a deterministic arena to mount attacks in, and the measurements an attack's cost is read
 * with. See packages/integration/README.md, "Adversary harness", for how to add an attack.
 *
 * @packageDocumentation
 */
export {
  Arena,
  type ArenaInit,
  type ArenaPeer,
  type ArenaRecorded,
  arenaClientConfig,
  arenaJoin,
  arenaOrg,
  arenaView,
  eventsOf,
  type Turned,
} from "./arena.js";
export { hexOf, idOf, keyOf } from "./bytes.js";
export {
  Hostile,
  type HostileInit,
  type PairwiseContentInit,
  type PostInit,
  type RequestInit,
} from "./hostile.js";
export { keptGroups, keptIdentity, keptOwnerSession } from "./kept-state.js";
export {
  type CountingProvider,
  type CountingTransport,
  countingProvider,
  countingTransport,
  cpuMicros,
  type MeasuredStore,
  measuredStore,
  type ProviderCounts,
  type TransportCounts,
  total,
} from "./measure.js";
export { junkBytes, seededBytes, seededProvider } from "./random.js";
export { type HostileRelay, hostileRelay } from "./waku.js";
