/**
 * A member's side of a sealed KeyUpdate (docs/PROTOCOL.md, "Re-keying"): the member finds the chunk
 * that holds its entry before checking any signature, verifies that chunk only and applies it. The
 * other chunks are verified only before concluding "removed".
 *
 * Internal: reached through `MemberGroup.applyKeyUpdateEnvelopes`.
 *
 * @module
 */
import { type KeyUpdate, openEnvelope, type VerifyRequest } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import type { GroupId } from "./key-schedule.js";
import { keyUpdateLimits, keyUpdateTopic } from "./key-update.js";
import type { ApplyKeyUpdateOptions } from "./leaf-salts.js";
import type { MemberTransition } from "./member-group-types.js";
import type { CryptoProvider } from "./provider.js";

/** A KeyUpdate chunk decoded from its envelope before the envelope's signature was checked. */
export interface UnverifiedKeyUpdate {
  /** The decoded chunk: never applied before {@link UnverifiedKeyUpdate.verify} returned `true`. */
  readonly chunk: KeyUpdate;
  /** Checks the envelope's Ed25519 signature (once; the answer is kept). */
  verify(): boolean;
}

/** What {@link readKeyUpdateEnvelope} returns: the unverified chunk and who signed it. */
export interface ReadKeyUpdate extends UnverifiedKeyUpdate {
  /**
   * The envelope's signer: the organization key (entries salted with `L_m`) or a delegate's
   * identity key (delegate salts: docs/DELEGATION.md).
   */
  readonly signer: Uint8Array;
}

/**
 * Decodes a sealed KeyUpdate chunk with every check of `openKeyUpdateEnvelope` (type, organization,
 * topic, organization-key signer or a delegate in `committers`, channel) except the signature, which {@link UnverifiedKeyUpdate.verify}
 * checks later over the same signing input.
 *
 * @throws as `openKeyUpdateEnvelope`, except `InvalidSignatureError`
 */
export async function readKeyUpdateEnvelope(init: {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  readonly bytes: Uint8Array;
  /** Delegates whose KeyUpdates the receiver accepts (`OpenEnvelopeOptions.committers`). @default none */
  readonly committers?: (signer: Uint8Array) => boolean;
}): Promise<ReadKeyUpdate> {
  const { provider, group } = init;
  let request: VerifyRequest | undefined;
  const opened = await openEnvelope(init.bytes, {
    contentTopic: keyUpdateTopic(group),
    organizationId: group.organizationId,
    accept: ["key-update"],
    verify: (captured) => {
      request = captured;
      return true;
    },
    ...(init.committers === undefined ? {} : { committers: init.committers }),
  });
  if (opened.type !== "key-update" || request === undefined) {
    throw new RangeError("bytes: not a key-update envelope");
  }
  if (opened.message.channelId !== group.channelId) {
    throw new RangeError("bytes: the KeyUpdate names another channel than its keys topic");
  }
  const signed = request;
  let valid: boolean | undefined;
  return {
    chunk: opened.message,
    signer: opened.signer,
    verify: () => {
      if (valid === undefined) {
        try {
          valid =
            signed.scheme === "ed25519" &&
            provider.ed25519Verify(signed.publicKey, signed.message, signed.signature);
        } catch {
          // A key that is not a curve point: a bad signature too.
          valid = false;
        }
      }
      return valid;
    },
  };
}

/** What `MemberGroup.applyKeyUpdateEnvelopes` returns. */
export interface KeyUpdateEnvelopesOutcome {
  /**
   * The outcome of the last verified chunk applied: `applied`, `removed` (every chunk verified,
   * none for us), `not-in-chunk` (chunks missing), or a refusal (`stale`, `gap`, `roster-mismatch`);
   * `undefined` when no envelope both decoded and verified.
   */
  readonly transition: MemberTransition | undefined;
  /** Envelopes whose signature was checked and held. */
  readonly verifiedChunks: number;
  /** Envelopes dropped: undecodable, out of context, or with a signature that does not hold. */
  readonly refusedChunks: number;
}

/**
 * Options of `MemberGroup.applyKeyUpdateEnvelopes`: those of `applyKeyUpdate` (the salt mode comes
 * from each envelope's signer), and the delegates whose KeyUpdates are accepted.
 */
export interface KeyUpdateEnvelopesOptions extends Omit<ApplyKeyUpdateOptions, "salt"> {
  /** Delegates whose KeyUpdates the member accepts (`OpenEnvelopeOptions.committers`). @default none */
  readonly committers?: (signer: Uint8Array) => boolean;
}

/** The part of `MemberGroup` {@link applyKeyUpdateEnvelopes} uses. */
export interface KeyUpdateMember {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  holdsKeyUpdateEntry(chunk: KeyUpdate, options: ApplyKeyUpdateOptions): boolean;
  applyKeyUpdate(chunk: KeyUpdate, now: number, options: ApplyKeyUpdateOptions): MemberTransition;
}

/**
 * Follows one KeyUpdate from its sealed chunks: decodes them all, verifies and applies first the
 * chunks holding one of our hints, and verifies the others only while no entry was applied. Only a
 * verified chunk reaches `applyKeyUpdate`, so a forged chunk neither applies an entry nor counts
 * towards "removed".
 *
 * @throws {RangeError} when more than `keyUpdateLimits.maxChunks` (30) envelopes are passed
 * @throws what `applyKeyUpdate` throws for a verified chunk
 */
export async function applyKeyUpdateEnvelopes(
  member: KeyUpdateMember,
  envelopes: readonly Uint8Array[],
  now: number,
  options: KeyUpdateEnvelopesOptions,
): Promise<KeyUpdateEnvelopesOutcome> {
  if (envelopes.length > keyUpdateLimits.maxChunks) {
    throw new RangeError(
      `envelopes: ${envelopes.length} is over the ${keyUpdateLimits.maxChunks}-chunk limit`,
    );
  }
  const { committers, ...rest } = options;
  const { provider, group } = member;
  // The signer tells the salt: the organization key's entries use L_m, a delegate's its salts.
  const saltOf = (read: ReadKeyUpdate): ApplyKeyUpdateOptions => ({
    ...rest,
    salt: constantTimeEqual(read.signer, group.organizationId) ? "leaf" : "delegate",
  });
  const holding: ReadKeyUpdate[] = [];
  const others: ReadKeyUpdate[] = [];
  let refusedChunks = 0;
  for (const bytes of envelopes) {
    let read: ReadKeyUpdate;
    try {
      read = await readKeyUpdateEnvelope({
        provider,
        group,
        bytes,
        ...(committers === undefined ? {} : { committers }),
      });
    } catch {
      refusedChunks++;
      continue;
    }
    let holds = false;
    try {
      holds = member.holdsKeyUpdateEntry(read.chunk, saltOf(read));
    } catch {
      // e.g. an ephemeral key of small order: verified (and refused by applyKeyUpdate) with the rest.
    }
    (holds ? holding : others).push(read);
  }
  let transition: MemberTransition | undefined;
  let verifiedChunks = 0;
  for (const read of [...holding, ...others]) {
    if (!read.verify()) {
      refusedChunks++;
      continue;
    }
    verifiedChunks++;
    transition = member.applyKeyUpdate(read.chunk, now, saltOf(read));
    if (transition.status !== "not-in-chunk") break;
  }
  return { transition, verifiedChunks, refusedChunks };
}
