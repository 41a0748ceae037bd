/**
 * The archive's arrival rules as numbers: how far a message's timestamp may be from the node's clock
 * and how much of the archive one delivering peer may hold (see `MessageArchive.admit`), their
 * defaults and their validation (shared by the archive and the node's option checks).
 */

/**
 * How far a message's Waku timestamp may be from the node's clock when it arrives, either way, for
 * `MessageArchive.admit` to store it: 20 s, nwaku's `MaxMessageTimestampVariance`. A sender
 * stamps its message when it sends it and relay delivers within seconds, so an honest message is
 * well inside; a message dated further ahead or behind would sort (and be retained) by a time the
 * sender chose. `Number.POSITIVE_INFINITY` disables the check.
 */
export const defaultMaxTimestampSkewMs = 20_000;

/**
 * How much of the archive one delivering peer may hold at a time (what
 * `MessageArchive.admit` refuses beyond). Retention frees a peer's quota as its messages
 * leave. `Number.POSITIVE_INFINITY` disables a bound.
 */
export interface PeerQuota {
  /** Messages a peer may have in the archive. @default 100_000 */
  readonly maxMessages?: number;
  /** Bytes (encoded messages) a peer may have in the archive. @default 1 GiB */
  readonly maxBytes?: number;
}

/**
 * The per-peer quota when `ArchiveInit.peerQuota` leaves a bound out: a tenth of the default
 * count retention in messages, and 1 GiB (about 7,000 messages at the 150 KiB payload limit), so
 * that ten peers at their quota cannot push the other peers' messages out of the default archive.
 */
export const defaultPeerQuota: Required<PeerQuota> = {
  maxMessages: 100_000,
  maxBytes: 1024 * 1024 * 1024,
};

/** The arrival limits of an archive, with defaults applied and checked. */
export interface AdmissionLimits {
  readonly maxTimestampSkewMs: number;
  readonly peerQuota: Required<PeerQuota>;
}

/**
 * Applies the defaults of the arrival limits and checks them.
 * @param init - the limits as given (each optional)
 * @returns the limits with defaults applied
 * @throws {RangeError} a limit is not a positive integer or `Number.POSITIVE_INFINITY`
 */
export function resolveAdmissionLimits(init: {
  readonly maxTimestampSkewMs?: number | undefined;
  readonly peerQuota?: PeerQuota | undefined;
}): AdmissionLimits {
  const maxTimestampSkewMs = init.maxTimestampSkewMs ?? defaultMaxTimestampSkewMs;
  const maxMessages = init.peerQuota?.maxMessages ?? defaultPeerQuota.maxMessages;
  const maxBytes = init.peerQuota?.maxBytes ?? defaultPeerQuota.maxBytes;
  for (const [name, value] of [
    ["maxTimestampSkewMs", maxTimestampSkewMs],
    ["peerQuota.maxMessages", maxMessages],
    ["peerQuota.maxBytes", maxBytes],
  ] as const) {
    if (!(value > 0) || (Number.isFinite(value) && !Number.isInteger(value))) {
      throw new RangeError(`${name} must be a positive integer or Infinity, got ${value}`);
    }
  }
  return { maxTimestampSkewMs, peerQuota: { maxMessages, maxBytes } };
}
