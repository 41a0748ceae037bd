/**
 * Errors of the Waku relay layer (`@orgchat/transport-waku/relay`). The transport itself throws only
 * the contract's errors from `@orgchat/transport`; these are for code that drives {@link WakuRelay}
 * directly (the service node).
 */
import { errorGuard, OrgchatError } from "@orgchat/base";

/** Why a 14/WAKU2-MESSAGE was refused by the relay validator (the same checks on every peer). */
export type WakuMessageRejection =
  /** The bytes are not a 14/WAKU2-MESSAGE protobuf. */
  | "malformed"
  /** The payload is empty: Waku relays (nwaku, js-waku) drop such messages. */
  | "empty-payload"
  /** The content topic is empty. */
  | "missing-content-topic"
  /** The encoded message is larger than the relay's `maxMessageBytes`. */
  | "too-large";

/**
 * Thrown by {@link WakuRelay.publishRaw} when the bytes would be rejected by the relay validators of
 * every peer (so publishing them would only cost this node its gossipsub score). `reason` says which
 * check failed; fix the message (or raise `maxMessageBytes` on every node) and retry.
 */
export class WakuMessageRejectedError extends OrgchatError {
  static readonly errorName = "WakuMessageRejectedError";
  declare readonly name: "WakuMessageRejectedError";
  readonly reason: WakuMessageRejection;
  constructor(reason: WakuMessageRejection, detail: string, options?: { cause?: unknown }) {
    super(WakuMessageRejectedError.errorName, `Waku message rejected (${reason}): ${detail}.`, {
      ...options,
      hint: "Relays drop such messages; fix the message before publishing.",
    });
    this.reason = reason;
  }
}

/** @returns whether `value` is a {@link WakuMessageRejectedError} (by name, so it works across package copies). */
export const isWakuMessageRejectedError = errorGuard<WakuMessageRejectedError>(
  WakuMessageRejectedError.errorName,
);
