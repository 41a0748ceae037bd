/**
 * Waku metadata (66/WAKU2-METADATA), server side: `/vac/waku/metadata/1.0.0`. The remote sends its
 * cluster id and shards; we answer ours. js-waku light nodes store the answer and then only use a
 * service node for the shards it reports, so the answer must list every shard we serve (an empty
 * list, what js-waku's own metadata service sends, makes light nodes skip us).
 */
import { type DiagnosticSink, reportDiagnostic } from "@orgchat/base";
import { proto_metadata } from "@waku/proto";
import type { ProtocolHandler } from "./protocol-server.js";

/** Protocol id of Waku metadata. */
export const metadataCodec = "/vac/waku/metadata/1.0.0";

/** nwaku reads at most this many bytes of a metadata request (`RpcResponseMaxBytes`). */
export const maxMetadataRequestBytes = 1024;

/** How long a peer of another cluster stays connected after our answer, ms. */
export const foreignClusterGraceMs = 100;

const component = "service-node/metadata";

/** Encodes our WakuMetadataResponse. */
export function metadataResponse(clusterId: number, shards: readonly number[]): Uint8Array {
  return proto_metadata.WakuMetadataResponse.encode({ clusterId, shards: [...shards] });
}

/**
 * Reads the remote's cluster id from a WakuMetadataRequest.
 * @param bytes - one WakuMetadataRequest, without its length prefix
 * @param onDiagnostic - told when the request does not decode
 * @returns the cluster id, `null` when the request names none, or `undefined` when it does not decode.
 */
export function requestedClusterId(
  bytes: Uint8Array,
  onDiagnostic?: DiagnosticSink,
): number | null | undefined {
  try {
    const request = proto_metadata.WakuMetadataRequest.decode(bytes, { limits: { shards: 1024 } });
    return request.clusterId ?? null;
  } catch (error) {
    reportDiagnostic(onDiagnostic, { component, reason: "undecodable", error });
    return undefined;
  }
}

/** What {@link metadataProtocol} needs from the node. */
export interface MetadataProtocolInit {
  /** Our cluster id. */
  readonly clusterId: number;
  /** Every shard we serve. */
  readonly shards: readonly number[];
  /** Runs `task` after `ms` unless the node stops first. */
  readonly later: (ms: number, task: () => void) => void;
  /** Told about undecodable requests and peers dropped for another cluster. */
  readonly onDiagnostic?: DiagnosticSink;
}

/**
 * Metadata as the protocol server mounts it: no rate limit, no reply to a request that does not
 * decode, and a peer of another cluster disconnected shortly after it got our answer.
 *
 * @param init - the cluster and shards to report, and the node's deferred-task hook
 * @returns the handler to mount
 */
export function metadataProtocol(init: MetadataProtocolInit): ProtocolHandler {
  return {
    codec: metadataCodec,
    name: "metadata",
    maxRequestBytes: maxMetadataRequestBytes,
    maxInboundStreams: 8,
    tooLarge: () => undefined,
    malformed: () => undefined,
    respond: (bytes, connection) => {
      const remoteCluster = requestedClusterId(bytes, init.onDiagnostic);
      if (remoteCluster === undefined) return undefined;
      if (remoteCluster !== null && remoteCluster !== init.clusterId) {
        reportDiagnostic(init.onDiagnostic, {
          component,
          reason: "foreign-cluster",
          error: new Error(`peer of cluster ${remoteCluster}, we serve ${init.clusterId}`),
        });
        // nwaku drops peers of another cluster; they learn our cluster id from the reply first.
        init.later(foreignClusterGraceMs, () => {
          connection.close().catch((error: unknown) => {
            reportDiagnostic(init.onDiagnostic, { component, reason: "close-failed", error });
          });
        });
      }
      return metadataResponse(init.clusterId, init.shards);
    },
  };
}
