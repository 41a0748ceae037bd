/**
 * The Waku service node orgchat peers run ("peers part of an organization run their own
 * infrastructure", spec 55): relay, Store v3 persisted in SQLite, LightPush v3, Filter v2 and metadata
 * over the unmodified Waku protocols, so that it and nwaku are interchangeable by address for light
 * nodes. The `orgchat-node` command runs it.
 *
 * This entry is for operators and embedders: {@link createServiceNode}, its options, the errors it
 * throws and its diagnostics. Building your own node? The SQLite archive is in
 * `@orgchat/service-node/archive` and the protocol handlers in `@orgchat/service-node/protocols`.
 *
 * @example
 * ```ts
 * import { createServiceNode } from "@orgchat/service-node";
 *
 * const node = await createServiceNode({
 *   dataDir: "./node-data",
 *   onDiagnostic: (d) => console.warn(`${d.component}: ${d.reason}`),
 * });
 * for (const address of node.multiaddrs()) console.log(address);
 * process.once("SIGINT", () => void node.stop());
 * ```
 *
 * @packageDocumentation
 */

export type { Diagnostic, DiagnosticSink } from "@orgchat/base";
export type { ArchiveRetention } from "./archive.js";
export {
  archiveFileName,
  defaultRateLimit,
  defaultServiceNodeListen,
  type ServiceNodeInit,
  type ServiceRateLimits,
} from "./config.js";
export {
  ArchiveOpenError,
  ArchiveSchemaVersionError,
  DataDirectoryError,
  InvalidAddressError,
  isArchiveOpenError,
  isArchiveSchemaVersionError,
  isDataDirectoryError,
  isInvalidAddressError,
} from "./errors.js";
export type { FilterLimits } from "./filter.js";
export { peerKeyFileName } from "./identity.js";
export type { ServiceLibp2p } from "./lifecycle.js";
export { createServiceNode, type ServiceNode, type ServiceNodeStats } from "./node.js";
export type { RateLimit } from "./rate-limit.js";
export type { StoreLimits } from "./store-protocol.js";
