// The public surface shared by the Node entry (index.ts) and the browser entry (index.browser.ts).
// Everything public is listed here by name; internals (the secret tree, sender chains, byte helpers)
// stay unexported.

export { type CommitRef, compareCommits } from "./commit-order.js";
export {
  type PairwiseChainRecords,
  type PairwiseResponse,
  type PairwiseRole,
  PairwiseSession,
  type PairwiseSessionParts,
} from "./double-ratchet.js";
export type { EpochLimits } from "./epoch-entry.js";
export {
  epochRetention,
  type GroupPlaintext,
  type HeldEpoch,
  sendReservation,
} from "./epoch-window.js";
export {
  DecryptionFailedError,
  DuplicateMessageError,
  GenerationTooFarError,
  InvalidPublicKeyError,
  isDecryptionFailedError,
  isDuplicateMessageError,
  isGenerationTooFarError,
  isInvalidPublicKeyError,
  isNoForkPointError,
  isStateCorruptedError,
  isUnknownEpochError,
  NoForkPointError,
  StateCorruptedError,
  UnknownEpochError,
} from "./errors.js";
export { type GroupLimits, groupLimits } from "./group-limits.js";
export { type DecryptedGroupMessage, EpochKeys, groupMessageVersion } from "./group-message.js";
export type { GroupParts } from "./group-parts.js";
export { deriveSecret, expandWithLabel, labelInfo, labelPrefix } from "./kdf.js";
export {
  addStepEpochSecret,
  deriveKeyId,
  EpochSecrets,
  evolveLeafSecret,
  type GroupId,
  groupContext,
  type Roster,
  type RosterLeaf,
  rosterHash,
} from "./key-schedule.js";
export {
  type BuildKeyUpdateInit,
  buildKeyUpdate,
  ed25519EnvelopeSigner,
  ed25519EnvelopeVerifier,
  type KeyUpdateChunk,
  type KeyUpdateRecipient,
  keyUpdateHoldsHint,
  keyUpdateLimits,
  keyUpdateTopic,
  keyUpdateVersion,
  type OpenKeyUpdateInit,
  openKeyUpdate,
  openKeyUpdateEnvelope,
  type SealKeyUpdateInit,
  sealKeyUpdate,
} from "./key-update.js";
export {
  type KeyUpdateEnvelopesOptions,
  type KeyUpdateEnvelopesOutcome,
  type ReadKeyUpdate,
  readKeyUpdateEnvelope,
  type UnverifiedKeyUpdate,
} from "./key-update-envelopes.js";
export {
  delegateSalt,
  deriveRekeySecret,
  maxMissedKeyUpdates,
  maxPossibleKeyUpdates,
} from "./leaf-salts.js";
export type {
  DelegateAdd,
  DelegateCommit,
  DelegateJoiner,
  DelegateKeyUpdate,
} from "./member-commits.js";
export {
  type ApplyAddInit,
  type ApplyKeyUpdateOptions,
  MemberGroup,
  type MemberGroupInit,
  type MemberGroupParts,
  type MemberTransition,
} from "./member-group.js";
export {
  memberKeysSigningInput,
  memberKeysSigningLabel,
  type SignedMemberKeys,
  signMemberKeys,
  verifyMemberKeys,
} from "./member-keys.js";
export type { FollowInit, LeafHandoverInit, OwnerFollow } from "./owner-follow.js";
export {
  type OwnerForkPoint,
  type OwnerSibling,
  ownerForkPointLimits,
  pruneOwnerForkPoints,
  readOwnerForkPoint,
  wipeOwnerForkPoint,
  writeOwnerForkPoint,
} from "./owner-forks.js";
export {
  type HistoryPolicy,
  type Joiner,
  type OwnerAdd,
  OwnerGroup,
  type OwnerGroupInit,
  type OwnerGroupOptions,
  type OwnerGroupParts,
  type OwnerKeyUpdate,
  type OwnerRegenesisInit,
  refreshIntervalMs,
} from "./owner-group.js";
export { ownerHeadEpoch } from "./owner-head-epoch.js";
export {
  type AcceptedEphemeralKey,
  OwnerPrekeys,
  type OwnerPrekeysInit,
} from "./owner-prekeys.js";
export { pairwiseMessageVersion } from "./pairwise-header.js";
export {
  type PrekeyBundleFields,
  prekeyBundleSigningInput,
  prekeyBundleSigningLabel,
  verifyPrekeyBundle,
} from "./prekey-bundle.js";
export type { CryptoProvider, KeyPair } from "./provider.js";
export { nobleProvider } from "./providers/noble.js";
export { pairwiseLimits } from "./ratchet-state.js";
export { rosterHashOnce } from "./roster-hashes.js";
export { type WelcomeInit, welcomeVersion } from "./welcome.js";
export {
  type X3dhAgreement,
  type X3dhHeaderFields,
  type X3dhInitiation,
  type X3dhInitiatorInit,
  x3dhInitiate,
  x3dhInitiatorSigningInput,
  x3dhInitiatorSigningLabel,
} from "./x3dh.js";
