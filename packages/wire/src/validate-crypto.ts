/** Validators of the crypto messages (crypto.proto): group messages, KeyUpdates, Welcomes, X3DH. */
import type {
  GroupMessage,
  KeyUpdate,
  LeafHandover,
  MemberKeys,
  PairwiseMessage,
  PrekeyBundle,
  Welcome,
  WelcomeEpoch,
  X3dhHeader,
} from "./gen/orgchat/v1/crypto_pb.js";
import { wireLimits } from "./limits.js";
import {
  count,
  exactBytes,
  keysSignature,
  leafIndex,
  maxBytes,
  optionalChatId,
  publicKey,
  type Validator,
} from "./validate-fields.js";

export const validateGroupMessage: Validator<GroupMessage> = (message, path) =>
  exactBytes(message.keyId, wireLimits.keyIdBytes, `${path}.keyId`) ??
  exactBytes(message.senderData, wireLimits.senderDataBytes, `${path}.senderData`) ??
  (message.ciphertext.length < wireLimits.minGroupCiphertextBytes
    ? {
        path: `${path}.ciphertext`,
        problem: `${message.ciphertext.length} bytes, less than the ${wireLimits.minGroupCiphertextBytes} of an empty padded message`,
      }
    : undefined);

export const validateKeyUpdate: Validator<KeyUpdate> = (update, path) =>
  optionalChatId(update.channelId, `${path}.channelId`) ??
  exactBytes(update.previousKeyId, wireLimits.keyIdBytes, `${path}.previousKeyId`) ??
  exactBytes(update.keyId, wireLimits.keyIdBytes, `${path}.keyId`) ??
  exactBytes(update.rosterHash, 32, `${path}.rosterHash`) ??
  publicKey(update.ephemeralPublicKey, `${path}.ephemeralPublicKey`) ??
  (update.chunkCount === 0 || update.chunkCount > wireLimits.maxKeyUpdateChunks
    ? { path: `${path}.chunkCount`, problem: `must be 1-${wireLimits.maxKeyUpdateChunks}` }
    : undefined) ??
  (update.chunkIndex >= update.chunkCount
    ? { path: `${path}.chunkIndex`, problem: `must be below chunkCount ${update.chunkCount}` }
    : undefined) ??
  (update.entries.length === 0 || update.entries.length % wireLimits.keyUpdateEntryBytes !== 0
    ? {
        path: `${path}.entries`,
        problem: `length must be a non-zero multiple of ${wireLimits.keyUpdateEntryBytes}`,
      }
    : undefined) ??
  (update.entries.length > wireLimits.maxKeyUpdateEntries * wireLimits.keyUpdateEntryBytes
    ? {
        path: `${path}.entries`,
        problem: `${update.entries.length / wireLimits.keyUpdateEntryBytes} entries, more than the limit of ${wireLimits.maxKeyUpdateEntries}`,
      }
    : undefined);

export const validateWelcomeEpoch: Validator<WelcomeEpoch> = (epoch, path) =>
  exactBytes(epoch.epochSecret, 32, `${path}.epochSecret`) ??
  exactBytes(epoch.rosterHash, 32, `${path}.rosterHash`);

export const validateWelcome: Validator<Welcome> = (welcome, path) => {
  const problem =
    publicKey(welcome.organizationId, `${path}.organizationId`) ??
    optionalChatId(welcome.channelId, `${path}.channelId`) ??
    exactBytes(welcome.epochSecret, 32, `${path}.epochSecret`) ??
    exactBytes(welcome.rosterHash, 32, `${path}.rosterHash`) ??
    exactBytes(welcome.keyId, wireLimits.keyIdBytes, `${path}.keyId`) ??
    exactBytes(welcome.leafSecret, 32, `${path}.leafSecret`) ??
    count(welcome.history.length, wireLimits.maxWelcomeHistory, `${path}.history`);
  if (problem) return problem;
  for (const [index, epoch] of welcome.history.entries()) {
    const epochProblem = validateWelcomeEpoch(epoch, `${path}.history[${index}]`);
    if (epochProblem) return epochProblem;
  }
  return undefined;
};

export const validateMemberKeys: Validator<MemberKeys> = (keys, path) =>
  publicKey(keys.identityKey, `${path}.identityKey`) ??
  publicKey(keys.signingKey, `${path}.signingKey`) ??
  publicKey(keys.prekey, `${path}.prekey`) ??
  keysSignature(keys.keysSignature, `${path}.keysSignature`);

/**
 * Structural rules of a leaf handover (docs/DELEGATION.md): a group id, an 8-byte key id, a leaf
 * inside the roster limit, a 32-byte member id and a 32-byte leaf secret. Whether the leaf holds
 * that member in that epoch is for the owner, who holds the roster.
 */
export const validateLeafHandover: Validator<LeafHandover> = (handover, path) =>
  optionalChatId(handover.channelId, `${path}.channelId`) ??
  exactBytes(handover.keyId, wireLimits.keyIdBytes, `${path}.keyId`) ??
  leafIndex(handover.leaf, `${path}.leaf`) ??
  publicKey(handover.member, `${path}.member`) ??
  exactBytes(handover.leafSecret, wireLimits.leafSecretBytes, `${path}.leafSecret`);

export const validatePrekeyBundle: Validator<PrekeyBundle> = (bundle, path) =>
  publicKey(bundle.identityKey, `${path}.identityKey`) ??
  publicKey(bundle.identityDhKey, `${path}.identityDhKey`) ??
  publicKey(bundle.signedPrekey, `${path}.signedPrekey`) ??
  exactBytes(bundle.signature, wireLimits.signatureBytes, `${path}.signature`) ??
  (bundle.ownerDevice.length === 0
    ? undefined
    : exactBytes(bundle.ownerDevice, wireLimits.ownerDeviceBytes, `${path}.ownerDevice`));

export const validateX3dhHeader: Validator<X3dhHeader> = (header, path) =>
  publicKey(header.initiatorIdentityKey, `${path}.initiatorIdentityKey`) ??
  publicKey(header.initiatorIdentityDhKey, `${path}.initiatorIdentityDhKey`) ??
  publicKey(header.ephemeralKey, `${path}.ephemeralKey`) ??
  exactBytes(header.initiatorSignature, wireLimits.signatureBytes, `${path}.initiatorSignature`);

export const validatePairwiseMessage: Validator<PairwiseMessage> = (message, path) =>
  (message.x3dh ? validateX3dhHeader(message.x3dh, `${path}.x3dh`) : undefined) ??
  publicKey(message.ratchetKey, `${path}.ratchetKey`) ??
  maxBytes(message.ciphertext, wireLimits.maxMessageBytes, `${path}.ciphertext`) ??
  (message.ciphertext.length < 16
    ? { path: `${path}.ciphertext`, problem: "shorter than an AES-GCM tag" }
    : undefined);
