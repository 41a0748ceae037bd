import { concatBytes } from "@orgchat/base";
import { deriveSecret, expandWithLabel, u32, u64 } from "./kdf.js";
import type { CryptoProvider } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";

const encoder = new TextEncoder();

/**
 * Names one group: the organization (`channelId` empty) or a restricted channel that runs its own
 * epoch chain.
 */
export interface GroupId {
  /** The organization's 32-byte public key. */
  readonly organizationId: Uint8Array;
  /** `""` for the organization-wide group, else the restricted channel's id. */
  readonly channelId: string;
}

/** `groupContext = u32 len(org) ‖ org ‖ u32 len(channel) ‖ channel` (docs/PROTOCOL.md). */
export function groupContext(group: GroupId): Uint8Array {
  const channel = encoder.encode(group.channelId);
  return concatBytes(
    u32(group.organizationId.length),
    group.organizationId,
    u32(channel.length),
    channel,
  );
}

/** One roster leaf's public keys (all 32 bytes); `undefined` marks an empty (removed) leaf. */
export interface RosterLeaf {
  /** Ed25519 identity key: the member id. */
  readonly identityKey: Uint8Array;
  /** Ed25519 per-organization signing key `S_m`: verifies the member's group messages. */
  readonly signingKey: Uint8Array;
  /** X25519 prekey `P_m`: the member's KeyUpdate recipient key. */
  readonly prekey: Uint8Array;
}

/** The members of one epoch, by leaf index. */
export type Roster = ReadonlyArray<RosterLeaf | undefined>;

const rosterLabel = encoder.encode("orgchat v1 roster");

/**
 * `roster_hash = SHA-256("orgchat v1 roster" ‖ for each leaf: u32 leaf ‖ identity ‖ signing ‖ prekey)`,
 * an empty leaf contributing 96 zero bytes.
 */
export function rosterHash(provider: CryptoProvider, roster: Roster): Uint8Array {
  // One buffer written in place: spreading a part per leaf into `concat` overflows the call stack
  // long before the wire's 100,000 leaves.
  const leafBytes = 4 + 3 * 32;
  const out = new Uint8Array(rosterLabel.length + roster.length * leafBytes);
  const view = new DataView(out.buffer);
  out.set(rosterLabel, 0);
  let offset = rosterLabel.length;
  for (let index = 0; index < roster.length; index++) {
    const leaf = roster[index];
    // In place, no allocation per leaf: a 10,000-leaf roster is hashed at every add step.
    view.setUint32(offset, index);
    if (leaf) {
      if (
        leaf.identityKey.length !== 32 ||
        leaf.signingKey.length !== 32 ||
        leaf.prekey.length !== 32
      ) {
        throw new RangeError(`roster[${index}]: keys must be 32 bytes each`);
      }
      out.set(leaf.identityKey, offset + 4);
      out.set(leaf.signingKey, offset + 36);
      out.set(leaf.prekey, offset + 68);
    }
    // An empty leaf contributes 96 zero bytes: the buffer starts zeroed.
    offset += leafBytes;
  }
  return provider.sha256(out);
}

/**
 * The secrets of one epoch, derived from its `epoch_secret` (which is then wiped).
 * Holds key material: it never prints it (see `redactSecrets`).
 */
export class EpochSecrets {
  readonly epoch: bigint;
  /** Public 8-byte commitment naming the epoch on the wire. */
  readonly keyId: Uint8Array;
  /** Root of the secret tree (per-sender chains). */
  readonly encryptionSecret: Uint8Array;
  readonly senderDataSecret: Uint8Array;
  /** Encrypts the organization description of a private organization. */
  readonly descriptionKey: Uint8Array;
  /** Input of the next add step; wiped once used. */
  initSecret: Uint8Array | undefined;

  private constructor(fields: {
    epoch: bigint;
    keyId: Uint8Array;
    encryptionSecret: Uint8Array;
    senderDataSecret: Uint8Array;
    descriptionKey: Uint8Array;
    initSecret: Uint8Array;
  }) {
    this.epoch = fields.epoch;
    this.keyId = fields.keyId;
    this.encryptionSecret = fields.encryptionSecret;
    this.senderDataSecret = fields.senderDataSecret;
    this.descriptionKey = fields.descriptionKey;
    this.initSecret = fields.initSecret;
    redactSecrets(this, "EpochSecrets");
  }

  /**
   * Derives the epoch's secrets (docs/PROTOCOL.md, "Epochs and the key schedule").
   * @param wipeInput - overwrite `epochSecret` afterwards (default true: it must not outlive this call)
   */
  static derive(
    provider: CryptoProvider,
    group: GroupId,
    epoch: bigint,
    epochSecret: Uint8Array,
    wipeInput = true,
  ): EpochSecrets {
    if (epochSecret.length !== 32) throw new RangeError("epochSecret: expected 32 bytes");
    const secrets = new EpochSecrets({
      epoch,
      keyId: deriveKeyId(provider, group, epoch, epochSecret),
      encryptionSecret: deriveSecret(provider, epochSecret, "enc"),
      senderDataSecret: deriveSecret(provider, epochSecret, "sender data"),
      descriptionKey: expandWithLabel(
        provider,
        epochSecret,
        "description",
        groupContext(group),
        32,
      ),
      initSecret: deriveSecret(provider, epochSecret, "init"),
    });
    if (wipeInput) wipe(epochSecret);
    return secrets;
  }
}

/** `key_id[e] = ExpandWithLabel(epoch_secret, "key id", groupContext ‖ u64 e, 8)`. */
export function deriveKeyId(
  provider: CryptoProvider,
  group: GroupId,
  epoch: bigint,
  epochSecret: Uint8Array,
): Uint8Array {
  return expandWithLabel(
    provider,
    epochSecret,
    "key id",
    concatBytes(groupContext(group), u64(epoch)),
    8,
  );
}

/**
 * The add step: `epoch_secret[e+1] = ExpandWithLabel(init_secret[e], "add", roster_hash[e+1] ‖ u64 (e+1), 32)`.
 * One-way and bound to the new roster: no new randomness and no broadcast key bytes; a joiner given
 * `epoch_secret[e+1]` cannot go back to epoch e.
 */
export function addStepEpochSecret(
  provider: CryptoProvider,
  initSecret: Uint8Array,
  nextRosterHash: Uint8Array,
  nextEpoch: bigint,
): Uint8Array {
  return expandWithLabel(
    provider,
    initSecret,
    "add",
    concatBytes(nextRosterHash, u64(nextEpoch)),
    32,
  );
}

/** `L_m[e+1] = ExpandWithLabel(L_m[e], "evolve", u64 (e+1), 32)`: the one-way step of a leaf secret. */
export function evolveLeafSecret(
  provider: CryptoProvider,
  leafSecret: Uint8Array,
  nextEpoch: bigint,
): Uint8Array {
  return expandWithLabel(provider, leafSecret, "evolve", u64(nextEpoch), 32);
}
