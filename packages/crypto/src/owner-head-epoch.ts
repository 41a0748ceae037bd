/**
 * The epoch an owner group's saved head is in, read without restoring the group: a client that
 * restores its owner groups after its first view (docs/CLIENT.md, "Owner groups after the first
 * view") shows the epoch from the head alone. Reads the head's fields up to the current epoch's
 * number and stops: no member record, roster or secret is decoded, nothing is checked beyond the
 * fields read (the group's restore checks the whole head later).
 *
 * @module
 */
import { isStateCorruptedError, StateCorruptedError } from "./errors.js";
import { headVersion } from "./group-parts-encoding.js";
import { ownerMagic, readHead, readHistory, readOwnerSecrets } from "./group-state-encoding.js";
import { StateReader } from "./state-bytes.js";

/**
 * The epoch number of the current epoch saved in an owner group's head (`takeParts().head`).
 *
 * @param head - the head bytes, as `OwnerGroup.restore` takes them
 * @returns the current epoch, or `undefined` when the head holds none, or when `head` is not a
 *   head in pieces (the whole state an older client saved, `OwnerGroup.deserialize`'s format):
 *   restore the group to know its epoch then
 * @throws {@link StateCorruptedError} when the fields before the epoch do not read (truncated, another
 *   magic)
 * @example
 * ```ts
 * const epoch = ownerHeadEpoch(vault.read(space, "group/", sealedHead));
 * ```
 */
export function ownerHeadEpoch(head: Uint8Array): bigint | undefined {
  if (!(head instanceof Uint8Array)) throw new TypeError("head: expected a Uint8Array");
  // `magic ‖ u8 version`: only a head in pieces (version 2) is peeked.
  if (head.length <= ownerMagic.length || head[ownerMagic.length] !== headVersion) {
    return undefined;
  }
  try {
    const reader = new StateReader(head);
    readHead(reader, ownerMagic, "owner group", headVersion);
    readOwnerSecrets(reader);
    reader.u32();
    readHistory(reader);
    if (!reader.flag()) return undefined;
    // The current epoch's keys (`EpochKeys` format 2): `u8 version ‖ organization_id ‖ channel_id ‖
    // u64 epoch ‖ …`.
    const keys = new StateReader(reader.bytes());
    keys.u8();
    keys.bytes();
    keys.string();
    return keys.u64();
  } catch (cause) {
    if (isStateCorruptedError(cause)) throw cause;
    throw new StateCorruptedError("invalid owner group head", { cause });
  }
}
