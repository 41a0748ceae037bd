/**
 * The Waku service node orgchat peers run ("peers part of an organization run their own
 * infrastructure", spec 55): relay, Store v3 persisted in SQLite, LightPush v3, Filter v2 and metadata
 * over the unmodified Waku protocols, so that it and nwaku are interchangeable by address for light
 * nodes. The `orgchat-node` command runs it.
 *
 * @example
 * ```ts
 * import { createServiceNode } from "@orgchat/service-node";
 *
 * const node = await createServiceNode({ dataDir: "./node-data" });
 * for (const address of node.multiaddrs()) console.log(address);
 * process.once("SIGINT", () => void node.stop());
 * ```
 *
 * @packageDocumentation
 */

export * from "./archive.js";
export * from "./errors.js";
export {
  defaultFilterLimits,
  type FilterLimits,
  filterPushCodec,
  filterStatus,
  filterSubscribeCodec,
} from "./filter.js";
export { peerKeyFileName } from "./identity.js";
export { lightPushCodec, lightPushStatus } from "./light-push.js";
export { metadataCodec } from "./metadata.js";
export {
  archiveFileName,
  createServiceNode,
  defaultRateLimit,
  defaultServiceNodeListen,
  type ServiceNode,
  type ServiceNodeInit,
  type ServiceNodeStats,
  type ServiceRateLimits,
} from "./node.js";
export type { RateLimit } from "./rate-limit.js";
export * from "./store-protocol.js";
