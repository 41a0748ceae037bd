import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { type CryptoProvider, type Roster, type RosterLeaf, rosterHash } from "@orgchat/crypto";
import {
  codecs,
  decodeSignedEnvelope,
  type EnvelopeSigner,
  encodeMessage,
  envelopeSigningInput,
  envelopeVersion,
  keysTopic,
  type MessageType,
  SignatureScheme,
} from "@orgchat/wire";

/** Lowercase hex of `bytes`. */
export const toHex = (bytes: Uint8Array): string => bytesToHex(bytes);
/** Bytes of lowercase hex. */
export const fromHex = (hex: string): Uint8Array => hexToBytes(hex);
/** Hex SHA-256: the id of everything the client publishes or receives (docs/CLIENT.md). */
export const hashId = (bytes: Uint8Array): string => bytesToHex(sha256(bytes));

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export const encodeText = (text: string): Uint8Array => utf8.encode(text);
export const decodeText = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);

/** JSON with bigints (`{"$n":"…"}`) and byte arrays (`{"$b":"hex"}`), for records and log entries. */
export function encodeJson(value: unknown): Uint8Array {
  return utf8.encode(
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return { $n: v.toString() };
      if (v instanceof Uint8Array) return { $b: bytesToHex(v) };
      return v;
    }),
  );
}

/** The inverse of {@link encodeJson}. @throws SyntaxError on bytes that are not such JSON */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decodeText(bytes), (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 1 && typeof record.$n === "string") return BigInt(record.$n);
      if (keys.length === 1 && typeof record.$b === "string") return hexToBytes(record.$b);
    }
    return v;
  }) as T;
}

// -------------------------------------------------------------------------------------------------
// Epoch rosters (docs/CLIENT.md, "Epoch rosters")
// -------------------------------------------------------------------------------------------------

/**
 * Provisional envelope type of an epoch roster. `@orgchat/wire` registers no message for the
 * owner-signed roster of an epoch (leaf order and keys), which members need to follow an add step,
 * to apply a removal's KeyUpdate and to check senders; until it does, the client seals it itself in
 * a version-1 `SignedEnvelope` of this number (in the key-management range), signed by the
 * organization key over the standard signing input. Peers that do not know it drop it quietly
 * (`unknown-type`).
 */
export const epochRosterType = 19;

/** What an epoch roster announces. */
export type RosterChange = "genesis" | "add" | "rekey" | "resync";
const changes: readonly RosterChange[] = ["genesis", "add", "rekey", "resync"];

/** An owner-signed roster of one epoch of one group. */
export interface EpochRoster {
  readonly change: RosterChange;
  readonly channelId: string;
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly rosterHash: Uint8Array;
  readonly roster: Roster;
}

const rosterVersion = 1;
const maxLeaves = 100_000;

function encodeRosterPayload(value: EpochRoster): Uint8Array {
  const channel = utf8.encode(value.channelId);
  const size = 1 + 1 + 2 + channel.length + 8 + 8 + 8 + 32 + 4 + value.roster.length * 97;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  out[offset++] = rosterVersion;
  out[offset++] = changes.indexOf(value.change);
  view.setUint16(offset, channel.length);
  offset += 2;
  out.set(channel, offset);
  offset += channel.length;
  view.setBigUint64(offset, value.epoch);
  offset += 8;
  out.set(value.keyId, offset);
  offset += 8;
  out.set(value.previousKeyId.length === 8 ? value.previousKeyId : new Uint8Array(8), offset);
  offset += 8;
  out.set(value.rosterHash, offset);
  offset += 32;
  view.setUint32(offset, value.roster.length);
  offset += 4;
  for (const leaf of value.roster) {
    if (leaf === undefined) {
      out[offset] = 0;
      offset += 97;
      continue;
    }
    out[offset++] = 1;
    out.set(leaf.identityKey, offset);
    out.set(leaf.signingKey, offset + 32);
    out.set(leaf.prekey, offset + 64);
    offset += 96;
  }
  return out;
}

/** Total decoder: `undefined` for anything that is not a well-formed roster payload. */
function decodeRosterPayload(bytes: Uint8Array): Omit<EpochRoster, never> | undefined {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    if (bytes[offset++] !== rosterVersion) return undefined;
    const change = changes[bytes[offset++] ?? 255];
    if (change === undefined) return undefined;
    const channelLength = view.getUint16(offset);
    offset += 2;
    const channelId = decodeText(bytes.subarray(offset, offset + channelLength));
    if (channelId.length !== channelLength && channelLength > 0) return undefined;
    offset += channelLength;
    const epoch = view.getBigUint64(offset);
    offset += 8;
    const keyId = bytes.slice(offset, offset + 8);
    offset += 8;
    const previousKeyId = bytes.slice(offset, offset + 8);
    offset += 8;
    const hash = bytes.slice(offset, offset + 32);
    offset += 32;
    const count = view.getUint32(offset);
    offset += 4;
    if (count > maxLeaves || bytes.length !== offset + count * 97) return undefined;
    const roster: Array<RosterLeaf | undefined> = [];
    for (let i = 0; i < count; i++) {
      const flag = bytes[offset];
      if (flag === 0) {
        roster.push(undefined);
      } else if (flag === 1) {
        roster.push({
          identityKey: bytes.slice(offset + 1, offset + 33),
          signingKey: bytes.slice(offset + 33, offset + 65),
          prekey: bytes.slice(offset + 65, offset + 97),
        });
      } else {
        return undefined;
      }
      offset += 97;
    }
    return { change, channelId, epoch, keyId, previousKeyId, rosterHash: hash, roster };
  } catch {
    return undefined;
  }
}

/**
 * Seals an epoch roster in a `SignedEnvelope` of type {@link epochRosterType} for the group's keys
 * topic, signed by the organization key.
 */
export async function sealEpochRoster(
  organizationId: Uint8Array,
  value: EpochRoster,
  clock: bigint,
  signer: EnvelopeSigner,
): Promise<{ topic: string; bytes: Uint8Array }> {
  const topic = keysTopic(organizationId, value.channelId === "" ? undefined : value.channelId);
  const payload = encodeRosterPayload(value);
  const fields = {
    version: envelopeVersion,
    wireType: epochRosterType,
    organizationId,
    clock,
    contentTopic: topic,
    signatureScheme: SignatureScheme.ED25519,
    signer: signer.publicKey,
    payload,
  };
  const signature = await signer.sign(envelopeSigningInput(fields));
  const bytes = encodeMessage(codecs.SignedEnvelope, {
    version: envelopeVersion,
    type: epochRosterType as MessageType,
    organizationId,
    clock,
    contentTopic: topic,
    signatureScheme: SignatureScheme.ED25519,
    signer: signer.publicKey,
    payload,
    signature,
  });
  return { topic, bytes };
}

/**
 * Opens an epoch roster received on `topic`: a type-19 envelope for this organization and topic,
 * signed by the organization key, whose roster hashes to the announced hash. Never throws.
 *
 * @returns the roster, or `undefined` when the bytes are anything else (another envelope type
 *   included: the caller then tries the registered types)
 */
export function openEpochRoster(
  provider: CryptoProvider,
  organizationId: Uint8Array,
  topic: string,
  bytes: Uint8Array,
): EpochRoster | undefined {
  let envelope: ReturnType<typeof decodeSignedEnvelope>;
  try {
    envelope = decodeSignedEnvelope(bytes);
  } catch {
    return undefined;
  }
  if (
    envelope.version !== envelopeVersion ||
    envelope.type !== epochRosterType ||
    envelope.contentTopic !== topic ||
    envelope.signatureScheme !== SignatureScheme.ED25519 ||
    !equalBytes(envelope.organizationId, organizationId) ||
    !equalBytes(envelope.signer, organizationId)
  ) {
    return undefined;
  }
  const input = envelopeSigningInput({
    version: envelope.version,
    wireType: envelope.type,
    organizationId: envelope.organizationId,
    clock: envelope.clock,
    contentTopic: envelope.contentTopic,
    signatureScheme: envelope.signatureScheme,
    signer: envelope.signer,
    payload: envelope.payload,
  });
  if (!provider.ed25519Verify(envelope.signer, input, envelope.signature)) return undefined;
  const value = decodeRosterPayload(envelope.payload);
  if (value === undefined) return undefined;
  const expectedTopic = keysTopic(
    organizationId,
    value.channelId === "" ? undefined : value.channelId,
  );
  if (expectedTopic !== topic) return undefined;
  if (!equalBytes(rosterHash(provider, value.roster), value.rosterHash)) return undefined;
  return value;
}

/** Byte equality (public values only: not constant time). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
