/**
 * Protocol limits enforced by every encoder and decoder of this package.
 *
 * Why these numbers (docs/PROTOCOL.md, "Limits"):
 * - 150 KiB is nwaku's default `--max-msg-size` and The Waku Network's cap (64/WAKU2-NETWORK);
 *   a message over it is dropped by real relays, so we refuse to make or parse one.
 * - Keys are Ed25519 / X25519 public keys: exactly 32 bytes.
 * - Text caps keep one description field from eating the message budget; they are in UTF-8 bytes
 *   so every implementation counts the same way.
 */
/** Leaves of one epoch roster: see `wireLimits.maxRosterLeaves`. */
const maxRosterLeaves = 100_000;
/** Entries of one KeyUpdate chunk: see `wireLimits.maxKeyUpdateEntries`. */
const maxKeyUpdateEntries = 3_400;

export const wireLimits = {
  /** Largest encoded message, envelope included: 150 KiB. */
  maxMessageBytes: 150 * 1024,
  /** Length of an organization id, member id or other public key. */
  publicKeyBytes: 32,
  /** Length of an Ed25519 signature. */
  signatureBytes: 64,
  /** Chat (channel) and category ids: 1..64 characters of `[A-Za-z0-9_-]`. */
  maxIdLength: 64,
  /** ENS names (the DNS limit). */
  maxEnsNameBytes: 255,
  /** Display names and category names. */
  maxNameBytes: 256,
  /** Free-text descriptions. */
  maxDescriptionBytes: 4096,
  /** Keys of the `images` map (`thumbnail`, `large`, `banner`, …). */
  maxImageKeyLength: 32,
  /** Entries of one `images` map. */
  maxImages: 8,
  /** `IdentityImage.encryption_keys` entries. */
  maxEncryptionKeys: 64,
  /** Tags of one organization, and the length of each. */
  maxTags: 32,
  maxTagBytes: 64,
  /** Roles listed for one member. */
  maxRoles: 8,
  /** Public commitment naming a group epoch (`key_id`). */
  keyIdBytes: 8,
  /** Encrypted sender data of a group message: leaf u32 ‖ generation u32 ‖ reuse guard (4) + GCM tag. */
  senderDataBytes: 28,
  /** Smallest group ciphertext: 1-byte length prefix + 64-byte signature padded to 128 bytes, + GCM tag. */
  minGroupCiphertextBytes: 144,
  /** One KeyUpdate entry: 4-byte hint ‖ 32-byte wrapped epoch secret. */
  keyUpdateEntryBytes: 36,
  /**
   * Entries of one KeyUpdate chunk (`KeyUpdate.entries` holds at most this many 36-byte entries):
   * 3,400 × 36 = 122,400 bytes, which with the header and the signed envelope stays within the
   * 120 KiB a sealed chunk may take (the rest of the 150 KiB cap is for the Waku envelope and an RLN
   * proof). An owner splits a larger roster into more chunks.
   */
  maxKeyUpdateEntries,
  /**
   * Chunks of one KeyUpdate (`KeyUpdate.chunk_count`): the largest roster the limits allow
   * (`maxRosterLeaves`, the owner's own leaf included) has `maxRosterLeaves - 1` recipients, which
   * fit in `ceil(99,999 / 3,400) = 30` full chunks. No honest owner sends more, so a decoder refuses
   * a larger count before anything is held or allocated for it (a client that waits for every
   * chunk of an update before concluding it was removed waits for at most this many).
   */
  maxKeyUpdateChunks: Math.ceil((maxRosterLeaves - 1) / maxKeyUpdateEntries),
  /** Earlier epochs a Welcome may carry under the "shared" history policy. */
  maxWelcomeHistory: 1024,
  /** Request ids (`request_id`, an event id): 1..128 characters of `[A-Za-z0-9_-]`. */
  maxRequestIdLength: 128,
  /** A rejection's reason (`rejection_reason`). */
  maxRejectionReasonBytes: 4096,
  /** Content topic length accepted by `parseContentTopic`. */
  maxContentTopicLength: 256,
  /**
   * Roster pages one description header may list (`DescriptionIndex.page_count`). The 150 KiB cap
   * binds first (about 4,500 hashes of 34 encoded bytes each); this bound is for the decoder, so a
   * count is refused before anything is allocated for it.
   */
  maxDescriptionPages: 10_000,
  /** Length of a description page hash (SHA-256), and of a description digest. */
  descriptionPageHashBytes: 32,
  /**
   * Entries of one description delta (`DescriptionDelta`): members set or removed, keys banned or
   * unbanned, channel roster entries set or removed, all counted together. An owner with more
   * changes at once publishes a full description instead; a decoder refuses more before it builds
   * anything from them. 1,500 entries of about 75 encoded bytes stay under 120 KiB.
   */
  maxDescriptionDeltaEntries: 1_500,
  /**
   * Text of one channel message (post or edit), in UTF-8 bytes: 140 KiB leaves room for the
   * ChannelMessage fields, the group message's 129 bytes of overhead and padding, and the envelope,
   * inside the 150 KiB message cap.
   */
  maxChannelTextBytes: 140 * 1024,
  /**
   * Leaves of one epoch roster (`EpochRoster`: a page's or a delta's `leaf_count`), empty leaves
   * included: far above any organization we expect, low enough that a decoder bounds its work.
   */
  maxRosterLeaves,
  /**
   * Leaves listed in one roster page, and leaves written by one delta. A leaf encodes to at most
   * 108 bytes (index, three 32-byte keys, framing), so a full page is at most about 105.6 KiB and
   * stays under 120 KiB with its header and envelope (as KeyUpdate chunks do). A leaf that carries
   * a `keys_signature` (docs/DELEGATION.md: 78 bytes more with its `prekey_version`) counts twice,
   * so the bound holds whatever the mix: at most 500 signed leaves per message.
   */
  maxRosterLeavesPerPage: 1_000,
  /**
   * Pages of one roster snapshot: `maxRosterLeaves / maxRosterLeavesPerPage`, since pages hold up
   * to `maxRosterLeavesPerPage` leaves each.
   */
  maxRosterPages: 100,
  /**
   * Leaves emptied by one delta: at most 3 bytes each, so a delta that also writes
   * `maxRosterLeavesPerPage` leaves stays under 120 KiB with its envelope. Larger changes travel
   * as a snapshot.
   */
  maxRosterRemovedLeaves: 4_096,
  /** Length of a roster hash (SHA-256). */
  rosterHashBytes: 32,
  /** Length of a leaf secret `L_m` (`LeafHandover.leaf_secret`, `Welcome.leaf_secret`). */
  leafSecretBytes: 32,
  /** Length of an owner's device id (`PrekeyBundle.owner_device`), when present. */
  ownerDeviceBytes: 16,
  /** JSON bytes of each event a `DelegateEvent` carries (`event`, `request`). */
  maxDelegateEventJsonBytes: 4_096,
} as const;
