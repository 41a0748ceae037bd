/**
 * `@orgchat/service-node/protocols`: the server side of the Waku protocols the node serves, for
 * people building their own node: protocol ids, status codes and limits, the request handlers
 * (bytes in, response bytes out, never throwing on network input), the filter subscription table
 * and push streams, per-peer rate limiting, and the protocol server that mounts them on libp2p.
 *
 * @example
 * ```ts
 * import { MessageArchive } from "@orgchat/service-node/archive";
 * import { handleStoreQuery, storeQueryCodec } from "@orgchat/service-node/protocols";
 *
 * const archive = MessageArchive.open({ path: ":memory:" });
 * const response = handleStoreQuery(requestBytes, archive); // an encoded StoreQueryResponse
 * ```
 *
 * @packageDocumentation
 */
export {
  defaultFilterLimits,
  type FilterLimits,
  type FilterOutcome,
  type FilterProtocolInit,
  type FilterRequestContext,
  filterProtocol,
  filterPushCodec,
  filterResponse,
  filterStatus,
  filterSubscribeCodec,
  handleFilterSubscribeRequest,
  maxFilterRequestBytes,
} from "../filter.js";
export { FilterPusher, type FilterPusherInit, type OpenPushStream } from "../filter-push.js";
export { FilterSubscriptions } from "../filter-subscriptions.js";
export {
  type AcceptResult,
  autoShardPubsubTopic,
  handleLightPushRequest,
  type LightPushContext,
  lightPushCodec,
  lightPushProtocol,
  lightPushRequestOverheadBytes,
  lightPushResponse,
  lightPushStatus,
  maxMetaBytes,
  type WakuMessage,
} from "../light-push.js";
export {
  type MetadataProtocolInit,
  maxMetadataRequestBytes,
  metadataCodec,
  metadataProtocol,
  metadataResponse,
  requestedClusterId,
} from "../metadata.js";
export {
  commonStatus,
  type ProtocolHandler,
  ProtocolServer,
  type ProtocolServerInit,
  tooManyRequestsDescription,
} from "../protocol-server.js";
export { type RateLimit, RequestRateLimiter } from "../rate-limit.js";
export {
  defaultStoreLimits,
  handleStoreQuery,
  type ParsedStoreQuery,
  parseStoreQuery,
  resolveLimits,
  type StoreLimits,
  storeProtocol,
  storeQueryCodec,
  storeStatusCode,
} from "../store-protocol.js";
