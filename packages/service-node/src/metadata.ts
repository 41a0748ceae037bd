/**
 * Waku metadata (66/WAKU2-METADATA), server side: `/vac/waku/metadata/1.0.0`. The remote sends its
 * cluster id and shards; we answer ours. js-waku light nodes store the answer and then only use a
 * service node for the shards it reports, so the answer must list every shard we serve (an empty
 * list, what js-waku's own metadata service sends, makes light nodes skip us).
 */
import { proto_metadata } from "@waku/proto";

/** Protocol id of Waku metadata. */
export const metadataCodec = "/vac/waku/metadata/1.0.0";

/** nwaku reads at most this many bytes of a metadata request (`RpcResponseMaxBytes`). */
export const maxMetadataRequestBytes = 1024;

/** Encodes our WakuMetadataResponse. */
export function metadataResponse(clusterId: number, shards: readonly number[]): Uint8Array {
  return proto_metadata.WakuMetadataResponse.encode({ clusterId, shards: [...shards] });
}

/**
 * Reads the remote's cluster id from a WakuMetadataRequest.
 * @returns the cluster id, `null` when the request names none, or `undefined` when it does not decode.
 */
export function requestedClusterId(bytes: Uint8Array): number | null | undefined {
  try {
    const request = proto_metadata.WakuMetadataRequest.decode(bytes, { limits: { shards: 1024 } });
    return request.clusterId ?? null;
  } catch {
    return undefined;
  }
}
