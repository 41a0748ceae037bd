import { errorGuard, OrgchatError, type OrgchatErrorOptions } from "@orgchat/base";

/**
 * Why bytes could not be decoded.
 *
 * - `oversized`: longer than the cap (`wireLimits.maxMessageBytes` unless the caller set one).
 * - `malformed`: not a protobuf encoding of the expected message (truncated, bad wire type,
 *   invalid UTF-8, varint overflow, …).
 * - `invalid-field`: a well-formed protobuf whose field breaks a protocol rule (wrong key length,
 *   bad id format, string too long, too many entries).
 * - `unsupported-version`: an envelope of a version this library does not speak.
 * - `unknown-type`: an envelope whose message type is not in the registry (a newer peer's type).
 */
export type DecodeErrorReason =
  | "oversized"
  | "malformed"
  | "invalid-field"
  | "unsupported-version"
  | "unknown-type";

/** Options of {@link DecodeError}. */
export interface DecodeErrorInit {
  /** Fully qualified protobuf name of the message being decoded, e.g. `orgchat.v1.Grant`. */
  messageName: string;
  reason: DecodeErrorReason;
  /** What was wrong, for people (never branch on it). */
  detail: string;
  /** Dotted path of the offending field for `invalid-field`, e.g. `members["ab…"].roles`. */
  path?: string;
  cause?: unknown;
}

/**
 * Thrown when bytes received from the network are not a valid encoding of the expected message.
 *
 * It is the only error a `decodeX` function throws for any `Uint8Array` input: truncated, oversized,
 * wrong-type or random bytes all end here, with the underlying parser error as `cause`. Remote input
 * that fails to decode should be dropped (and may be counted), never retried.
 */
export class DecodeError extends OrgchatError {
  static readonly errorName = "DecodeError";
  declare readonly name: "DecodeError";
  readonly reason: DecodeErrorReason;
  readonly messageName: string;
  readonly path: string | undefined;

  constructor(init: DecodeErrorInit) {
    const where = init.path === undefined ? "" : ` at ${init.path}`;
    super(
      DecodeError.errorName,
      `Cannot decode ${init.messageName} (${init.reason}${where}): ${init.detail}.`,
      options(
        "The bytes are not a valid message of this type: drop them if they came from the network, " +
          "or fix the code that produced them.",
        init.cause,
      ),
    );
    this.reason = init.reason;
    this.messageName = init.messageName;
    this.path = init.path;
  }
}

/**
 * Thrown by `openEnvelope()` when the envelope's signature does not verify for its `signer` over
 * the canonical signing input. The message was forged or altered in transit: drop it.
 */
export class InvalidSignatureError extends OrgchatError {
  static readonly errorName = "InvalidSignatureError";
  declare readonly name: "InvalidSignatureError";

  constructor(init: { signerHex: string; cause?: unknown }) {
    super(
      InvalidSignatureError.errorName,
      `Envelope signature does not verify for signer ${init.signerHex}.`,
      options(
        "The message was not produced by that key or was altered in transit: drop it.",
        init.cause,
      ),
    );
  }
}

/** Which part of an envelope's context did not match what the receiver expected. */
export type EnvelopeMismatchField =
  | "contentTopic"
  | "organizationId"
  | "signer"
  | "clock"
  | "type"
  | "organizationIdInPayload"
  | "signerInPayload";

/**
 * Thrown by `openEnvelope()` when a correctly signed envelope was used out of its context: received
 * on another content topic, for another organization, signed by a key that may not send this type
 * (an owner-only message not signed by the organization key), carrying a payload whose own clock or
 * organization id differs from the envelope's, or of a type the caller did not accept. This is how
 * replays across topics, organizations and types are refused. Drop the message.
 */
export class EnvelopeMismatchError extends OrgchatError {
  static readonly errorName = "EnvelopeMismatchError";
  declare readonly name: "EnvelopeMismatchError";
  readonly field: EnvelopeMismatchField;

  constructor(init: { field: EnvelopeMismatchField; detail: string }) {
    super(EnvelopeMismatchError.errorName, `Envelope ${init.field} mismatch: ${init.detail}.`, {
      hint: "A validly signed message was replayed or misrouted: drop it.",
    });
    this.field = init.field;
  }
}

// A `cause` key only when there is a cause, as before: `"cause" in error` stays false otherwise.
function options(hint: string, cause: unknown): OrgchatErrorOptions {
  return cause === undefined ? { hint } : { cause, hint };
}

/**
 * True when `error` is a {@link DecodeError} (checked by `name`, so it works across copies).
 *
 * @example
 * ```ts
 * try {
 *   decodeGrant(bytes);
 * } catch (error) {
 *   if (isDecodeError(error)) console.log(error.reason); // drop the message
 *   else throw error;
 * }
 * ```
 */
export const isDecodeError = errorGuard<DecodeError>(DecodeError.errorName);

/** True when `error` is an {@link InvalidSignatureError} (checked by `name`). */
export const isInvalidSignatureError = errorGuard<InvalidSignatureError>(
  InvalidSignatureError.errorName,
);

/** True when `error` is an {@link EnvelopeMismatchError} (checked by `name`). */
export const isEnvelopeMismatchError = errorGuard<EnvelopeMismatchError>(
  EnvelopeMismatchError.errorName,
);
