/**
 * The results, shapes and shared total readers of the wire mapping (`@orgchat/state/wire`): what a
 * `…FromWire` function returns, the init types of the wire messages, the envelope context, and the
 * checks every mapping uses on remote input.
 *
 * @internal Only the types are public (re-exported by `./index.ts`).
 * @module
 */

import { encodedUtf8Length } from "@orgchat/base";
import {
  type encodeChatIdentity,
  type encodeGrant,
  type encodeIdentityImage,
  type encodeOrganizationCancelRequestToJoin,
  type encodeOrganizationDescription,
  type encodeOrganizationInvitation,
  type encodeOrganizationPermissions,
  type encodeOrganizationRequestToJoin,
  type encodeOrganizationRequestToJoinResponse,
  type encodeOrganizationRequestToLeave,
  isChatId,
  isMemberId,
  publicKeyFromMemberId,
  wireLimits,
} from "@orgchat/wire";
import type { MemberId } from "../events.js";

/**
 * Why a wire message could not be mapped.
 *
 * - `malformed`: a field has the wrong type, breaks a protocol limit, or holds an enum value this
 *   version does not know (in the default `unknownEnums: "refuse"` mode).
 * - `unknown-target`: the message answers a request the state does not hold (yet).
 */
export type WireMappingFailure = "malformed" | "unknown-target";

/** The outcome of mapping remote input: a value, or why not (never a throw). */
export type WireMappingResult<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly reason: WireMappingFailure;
      /** The offending field, for logs and tests (never branch on it). */
      readonly field: string;
    };

/** How `…FromWire` functions read enum values this version does not know. */
export interface FromWireInit {
  /**
   * `"refuse"`: an unknown role or access mode is `malformed`. `"fallback"`: an unknown role is
   * dropped and an unknown access mode reads as `invitation-only` (see the module docs).
   * @default "refuse"
   */
  readonly unknownEnums?: "refuse" | "fallback";
}

interface WireEncoders {
  IdentityImage: typeof encodeIdentityImage;
  ChatIdentity: typeof encodeChatIdentity;
  Grant: typeof encodeGrant;
  OrganizationPermissions: typeof encodeOrganizationPermissions;
  OrganizationInvitation: typeof encodeOrganizationInvitation;
  OrganizationRequestToJoin: typeof encodeOrganizationRequestToJoin;
  OrganizationCancelRequestToJoin: typeof encodeOrganizationCancelRequestToJoin;
  OrganizationRequestToJoinResponse: typeof encodeOrganizationRequestToJoinResponse;
  OrganizationRequestToLeave: typeof encodeOrganizationRequestToLeave;
  OrganizationDescription: typeof encodeOrganizationDescription;
}

/**
 * The init object of a wire message, exactly the input type of its `encodeX` function in
 * `@orgchat/wire` (protobuf-es's `MessageInitShape<typeof XSchema>`: plain fields, defaults for the
 * ones left out). It is also what `sealEnvelope` takes as `message` for the message's envelope type
 * and what a `PairwiseContent` case takes as `value`, so every `…ToWire` result goes to the wire
 * without a cast (test/wire-boundary.test.ts checks it).
 *
 * @example
 * ```ts
 * const message: WireMessageInit<"OrganizationRequestToLeave"> = requestToLeaveToWire(event, orgId);
 * encodePairwiseContent({ content: { case: "requestToLeave", value: message } });
 * ```
 */
export type WireMessageInit<K extends keyof WireEncoders> = Parameters<WireEncoders[K]>[0];

/**
 * What the envelope of a control message tells about it, which spec 55's payloads do not: who
 * signed it, its clock, the event id the client gives it, and the author's wall-clock time.
 */
export interface WireEventContext {
  /** The event id: the client uses the hex SHA-256 of the signed envelope. */
  readonly id: string;
  /** The envelope's signer, as a member id (`memberIdFromPublicKey(opened.signer)`). */
  readonly author: MemberId;
  /** The envelope's Lamport clock (equal to the payload's own clock where it has one). */
  readonly clock: bigint;
  /**
   * The author's wall-clock time in ms to use when the message has no `sent_at` (0: a plain
   * spec-55 sender); the client supplies its best value. A non-zero `sent_at` wins.
   */
  readonly sentAt: number;
}

const maxUint64 = (1n << 64n) - 1n;
const maxSafeInteger = BigInt(Number.MAX_SAFE_INTEGER);

export type Failure = Extract<WireMappingResult<never>, { ok: false }>;

export function ok<T>(value: T): WireMappingResult<T> {
  return { ok: true, value };
}

export function malformed(field: string): Failure {
  return { ok: false, reason: "malformed", field };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether `value` is a string whose UTF-8 encoding (as protobuf writes it: a lone surrogate is the
 * 3 bytes of U+FFFD) fits in `maxBytes`.
 */
export function isText(value: unknown, maxBytes: number): value is string {
  return typeof value === "string" && fitsUtf8(value, maxBytes);
}

/** Whether the UTF-8 encoding of `value` (what `TextEncoder` writes) is at most `maxBytes`. */
export function fitsUtf8(value: string, maxBytes: number): boolean {
  // Each UTF-16 unit encodes to at least one byte: a longer string cannot fit.
  return value.length <= maxBytes && encodedUtf8Length(value) <= maxBytes;
}

export function isUint64(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value <= maxUint64;
}

export function isPublicKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === wireLimits.publicKeyBytes;
}

export function isOptionalChatId(value: unknown): value is string {
  return typeof value === "string" && (value === "" || isChatId(value));
}

/** Own enumerable entries of a record, or undefined when `value` is not one. */
export function entriesOf(value: unknown): [string, unknown][] | undefined {
  return isRecord(value) ? Object.entries(value) : undefined;
}

/**
 * Sets `record[key]` as an own property even for keys like `__proto__` (a valid chat id and image
 * name), which plain assignment would turn into a prototype change.
 *
 * @internal
 */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__") {
    Object.defineProperty(record, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    record[key] = value;
  }
}

export function checkContext(context: unknown): Failure | undefined {
  if (!isRecord(context)) return malformed("context");
  if (typeof context.id !== "string" || context.id === "") return malformed("context.id");
  if (typeof context.author !== "string" || !isMemberId(context.author)) {
    return malformed("context.author");
  }
  if (!isUint64(context.clock)) return malformed("context.clock");
  if (typeof context.sentAt !== "number" || !Number.isFinite(context.sentAt)) {
    return malformed("context.sentAt");
  }
  return undefined;
}

/** The payload's own clock must be the envelope's (openEnvelope checks it; this keeps us total). */
export function checkClock(
  message: Record<string, unknown>,
  context: WireEventContext,
): Failure | undefined {
  const clock = message.clock ?? 0n;
  return isUint64(clock) && clock === context.clock ? undefined : malformed("clock");
}

export function envelopeFields(context: WireEventContext, sentAt: number) {
  return {
    id: context.id,
    author: context.author,
    clock: context.clock,
    sentAt,
  } as const;
}

/**
 * The `sent_at` of a message as ms: 0 (absent, a spec-55 sender) reads as `context.sentAt`; more
 * than `Number.MAX_SAFE_INTEGER` is `malformed`.
 */
export function readSentAt(
  message: Record<string, unknown>,
  context: WireEventContext,
): number | Failure {
  const sentAt = message.sentAt ?? 0n;
  if (!isUint64(sentAt) || sentAt > maxSafeInteger) return malformed("sentAt");
  return sentAt === 0n ? context.sentAt : Number(sentAt);
}

/**
 * The `sent_at` of a local event.
 * @throws {RangeError} when `sentAt` is not a non-negative safe integer
 */
export function sentAtToWire(sentAt: number): bigint {
  if (!Number.isSafeInteger(sentAt) || sentAt < 0) {
    throw new RangeError(`sentAt: expected a non-negative safe integer of ms, got ${sentAt}`);
  }
  return BigInt(sentAt);
}

/**
 * The fields every control message addressed to an organization starts with: its clock, the
 * organization's public key and orgchat's `sent_at`.
 *
 * @throws {RangeError} when `organizationId` is not a member id, or `event.sentAt` is not a
 *   non-negative safe integer
 */
export function controlFields(
  event: { readonly clock: bigint; readonly sentAt: number },
  organizationId: MemberId,
): { clock: bigint; organizationId: Uint8Array; sentAt: bigint } {
  return {
    clock: event.clock,
    organizationId: publicKeyFromMemberId(organizationId),
    sentAt: sentAtToWire(event.sentAt),
  };
}

/**
 * The checks every control message addressed to an organization starts with, in this order: the
 * envelope context, the message is a record, its clock is the envelope's, its `organization_id`
 * is a public key.
 *
 * @returns the message as a record, or the first failure
 */
export function readControlMessage(
  message: unknown,
  context: WireEventContext,
): WireMappingResult<Record<string, unknown>> {
  const bad = checkContext(context);
  if (bad) return bad;
  if (!isRecord(message)) return malformed("message");
  const clockBad = checkClock(message, context);
  if (clockBad) return clockBad;
  if (!isPublicKey(message.organizationId)) return malformed("organizationId");
  return ok(message);
}
