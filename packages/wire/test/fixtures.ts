import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type {
  EnvelopeSigner,
  EnvelopeVerifier,
  MessageTypeName,
  OpenEnvelopeOptions,
} from "../src/index.js";
import {
  IdentityImage_SourceType,
  ImageType,
  OrganizationMember_Roles,
  OrganizationPermissions_Access,
  RosterChangeKind,
  wireLimits,
} from "../src/index.js";
import { codecs, type MessageCodec, type MessageName } from "../src/schema.js";

/** A deterministic Ed25519 key from a one-byte seed pattern (tests and vectors only). */
export function testKey(seedByte: number): EnvelopeSigner & { secretKey: Uint8Array } {
  const secretKey = new Uint8Array(32).fill(seedByte);
  const publicKey = ed25519.getPublicKey(secretKey);
  return {
    scheme: "ed25519",
    publicKey,
    secretKey,
    sign: (message) => ed25519.sign(message, secretKey),
  };
}

export const verifyEd25519: EnvelopeVerifier = ({ publicKey, message, signature }) =>
  ed25519.verify(signature, message, publicKey);

export const owner = testKey(0x01);
export const member = testKey(0x02);
export const outsider = testKey(0x03);
export const ownerId = owner.publicKey;
export const memberHex = bytesToHex(member.publicKey);
export const outsiderHex = bytesToHex(outsider.publicKey);

export type Samples = { [K in MessageName]: MessageInitShape<(typeof codecs)[K]["schema"]> };

const image = {
  payload: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  sourceType: IdentityImage_SourceType.RAW_PAYLOAD,
  imageType: ImageType.PNG,
  encryptionKeys: [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6])],
  encrypted: true,
};

const identity = {
  clock: 7n,
  ensName: "acme.eth",
  images: { thumbnail: image },
  displayName: "Acme — Ünïcode ✓",
  description: "The Acme organization",
};

const chat = {
  members: { [memberHex]: { roles: [OrganizationMember_Roles.ROLE_MODERATE_CONTENT] } },
  permissions: {
    ensOnly: false,
    private: true,
    access: OrganizationPermissions_Access.INVITATION_ONLY,
  },
  identity: { ...identity, clock: 3n, displayName: "general", images: {} },
  categoryId: "cat-main",
};

const description = {
  clock: 42n,
  members: {
    [bytesToHex(owner.publicKey)]: { roles: [OrganizationMember_Roles.ROLE_ALL] },
    [memberHex]: {
      roles: [
        OrganizationMember_Roles.ROLE_MANAGE_USERS,
        OrganizationMember_Roles.ROLE_MODERATE_CONTENT,
      ],
    },
  },
  permissions: { ensOnly: true, private: false, access: OrganizationPermissions_Access.ON_REQUEST },
  identity,
  chats: { general: chat },
  banList: [outsiderHex],
  categories: { "cat-main": { categoryId: "cat-main", name: "Main" } },
  adminSettings: { pinMessageAllMembersEnabled: true },
  encrypted: true,
  tags: ["dao", "privacy"],
};

/** A description header's content: the description without its rosters. */
const headerDescription = {
  ...description,
  members: {},
  banList: [],
  chats: { general: { ...chat, members: {} } },
};

/** A description header page (the one with an `index`) listing two roster pages. */
export const headerPageSample = {
  clock: 42n,
  index: {
    pageCount: 2,
    pageHashes: [new Uint8Array(32).fill(0x17), new Uint8Array(32).fill(0x18)],
  },
  description: headerDescription,
};

/**
 * One instance of every message, every field set to a non-default value (except
 * `DescriptionPage.pageIndex`: a header page, the one with an `index`, has none).
 */
/** A removal in the "core" channel's group: leaf 2 emptied, leaf 5 filled. */
export const rosterDeltaSample = {
  version: 1,
  channelId: "core",
  epoch: 4n,
  keyId: new Uint8Array(8).fill(0x31),
  previousKeyId: new Uint8Array(8).fill(0x30),
  rosterHash: new Uint8Array(32).fill(0x33),
  previousRosterHash: new Uint8Array(32).fill(0x32),
  change: RosterChangeKind.REKEY,
  body: {
    case: "delta" as const,
    value: {
      removedLeaves: [2],
      leaves: [
        {
          index: 5,
          identityKey: member.publicKey,
          signingKey: new Uint8Array(32).fill(0x34),
          prekey: new Uint8Array(32).fill(0x35),
          keysSignature: new Uint8Array(64).fill(0x36),
          prekeyVersion: 3n,
        },
      ],
      leafCount: 6,
    },
  },
};

/**
 * A genesis snapshot: the owner's group before anyone joined, on one page. (An empty leaf is absent
 * from a page, so the minimal page lists none.)
 */
export const rosterGenesisSample = {
  version: 1,
  keyId: new Uint8Array(8),
  rosterHash: new Uint8Array(32),
  change: RosterChangeKind.GENESIS,
  body: { case: "page" as const, value: { pageCount: 1, leafCount: 1 } },
};

/**
 * A description delta from the description of clock 42 to the one of clock 43: the header changed
 * (its content, without rosters), one member's roles set, one removed, keys banned and unbanned,
 * a channel roster changed.
 */
export const descriptionDeltaSample = {
  clock: 43n,
  baseClock: 42n,
  baseDigest: new Uint8Array(32).fill(0x31),
  digest: new Uint8Array(32).fill(0x32),
  header: { ...headerPageSample.description, clock: 43n },
  members: { [memberHex]: { roles: [OrganizationMember_Roles.ROLE_MODERATE_CONTENT] } },
  removedMembers: [outsiderHex],
  banned: ["ab".repeat(32)],
  unbanned: ["cd".repeat(32)],
  chats: [{ chatId: "general", members: { [outsiderHex]: {} }, removed: [memberHex] }],
};

/** A delegate's handover to the owner of the leaf secret it gave leaf 3 at epoch 5 of "core". */
export const leafHandoverSample = {
  channelId: "core",
  epoch: 5n,
  keyId: new Uint8Array(8).fill(0x51),
  leaf: 3,
  member: member.publicKey,
  leafSecret: new Uint8Array(32).fill(0x52),
};

/** A delegate's decision: an accept (JSON of the event) with the request it decides. */
export const delegateEventSample = {
  organizationId: ownerId,
  author: member.publicKey,
  clock: 23n,
  event: new TextEncoder().encode('{"type":"request.accepted"}'),
  request: new TextEncoder().encode('{"type":"request.sent"}'),
};

export const fullSamples: Samples = {
  IdentityImage: image,
  ChatIdentity: identity,
  Grant: {
    organizationId: ownerId,
    memberId: member.publicKey,
    chatId: "general",
    clock: 9n,
    sentAt: 1_700_000_000_009n,
  },
  OrganizationMember: { roles: [OrganizationMember_Roles.ROLE_ALL], displayName: "Alice" },
  OrganizationPermissions: {
    ensOnly: true,
    private: true,
    access: OrganizationPermissions_Access.NO_MEMBERSHIP,
  },
  OrganizationAdminSettings: { pinMessageAllMembersEnabled: true },
  OrganizationChat: chat,
  OrganizationCategory: { categoryId: "cat-main", name: "Main" },
  OrganizationInvitation: {
    organizationDescription: new Uint8Array([0x0a, 0x01, 0x02]),
    grant: new Uint8Array([0x12, 0x00]),
    chatId: "general",
    publicKey: ownerId,
    sentAt: 1_700_000_000_010n,
    inviteePublicKey: member.publicKey,
  },
  OrganizationRequestToJoin: {
    clock: 11n,
    ensName: "bob.eth",
    chatId: "general",
    organizationId: ownerId,
    displayName: "Bob",
    sentAt: 1_700_000_000_011n,
  },
  OrganizationCancelRequestToJoin: {
    clock: 12n,
    ensName: "bob.eth",
    chatId: "general",
    organizationId: ownerId,
    displayName: "Bob",
    sentAt: 1_700_000_000_012n,
    requestId: "3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a",
  },
  OrganizationRequestToJoinResponse: {
    clock: 13n,
    organization: description,
    accepted: true,
    grant: new Uint8Array([0x0a, 0x20]),
    organizationId: ownerId,
    sentAt: 1_700_000_000_013n,
    requestId: "3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a",
    // Every field non-default, so set even though `accepted` (readers ignore it then).
    rejectionReason: "not a reason: the request was accepted",
  },
  OrganizationRequestToLeave: { clock: 14n, organizationId: ownerId, sentAt: 1_700_000_000_014n },
  OrganizationDescription: description,
  SignedEnvelope: {
    version: 1,
    type: 1,
    organizationId: ownerId,
    clock: 42n,
    contentTopic: "/orgchat/1/d-00000000000000000000000000000000/proto",
    signatureScheme: 1,
    signer: ownerId,
    payload: new Uint8Array([0x08, 0x2a]),
    signature: new Uint8Array(64).fill(0xab),
  },
  GroupMessage: {
    version: 1,
    keyId: new Uint8Array(8).fill(0x11),
    contentType: 1,
    senderData: new Uint8Array(28).fill(0x22),
    ciphertext: new Uint8Array(144).fill(0x33),
  },
  KeyUpdate: {
    version: 1,
    channelId: "general",
    epoch: 3n,
    previousKeyId: new Uint8Array(8).fill(0x01),
    keyId: new Uint8Array(8).fill(0x02),
    rosterHash: new Uint8Array(32).fill(0x03),
    ephemeralPublicKey: new Uint8Array(32).fill(0x04),
    chunkIndex: 1,
    chunkCount: 2,
    entries: new Uint8Array(72).fill(0x05),
  },
  Welcome: {
    version: 1,
    organizationId: ownerId,
    channelId: "general",
    epoch: 4n,
    epochSecret: new Uint8Array(32).fill(0x06),
    rosterHash: new Uint8Array(32).fill(0x07),
    keyId: new Uint8Array(8).fill(0x08),
    leafIndex: 2,
    leafSecret: new Uint8Array(32).fill(0x09),
    history: [
      {
        epoch: 3n,
        epochSecret: new Uint8Array(32).fill(0x0a),
        rosterHash: new Uint8Array(32).fill(0x0b),
      },
    ],
    freshEpoch: true,
  },
  MemberKeys: {
    identityKey: member.publicKey,
    signingKey: new Uint8Array(32).fill(0x0c),
    prekey: new Uint8Array(32).fill(0x0d),
    prekeyVersion: 2n,
    keysSignature: new Uint8Array(64).fill(0x1c),
  },
  PrekeyBundle: {
    identityKey: ownerId,
    identityDhKey: new Uint8Array(32).fill(0x0e),
    signedPrekey: new Uint8Array(32).fill(0x0f),
    signedPrekeyId: 7,
    signature: new Uint8Array(64).fill(0x10),
    ownerDevice: new Uint8Array(16).fill(0x11),
  },
  PairwiseMessage: {
    version: 1,
    x3dh: {
      initiatorIdentityKey: member.publicKey,
      initiatorIdentityDhKey: new Uint8Array(32).fill(0x12),
      ephemeralKey: new Uint8Array(32).fill(0x13),
      signedPrekeyId: 7,
      initiatorSignature: new Uint8Array(64).fill(0x16),
    },
    ratchetKey: new Uint8Array(32).fill(0x14),
    messageNumber: 5,
    previousChainLength: 3,
    ciphertext: new Uint8Array(48).fill(0x15),
  },
  DescriptionPage: headerPageSample,
  DescriptionDelta: descriptionDeltaSample,
  ChannelMessage: {
    organizationId: ownerId,
    channelId: "general",
    author: member.publicKey,
    clock: 12n,
    sentAt: 1_700_000_000_012n,
    body: { case: "post", value: { text: "hello, general", replyTo: "evt_parent-1" } },
  },
  PairwiseContent: {
    content: {
      case: "resyncRequest",
      value: {
        channelId: "core",
        haveEpoch: 3n,
        haveKeyId: new Uint8Array(8).fill(0x21),
        wantedKeyId: new Uint8Array(8).fill(0x22),
        descriptionClock: 40n,
      },
    },
  },
  ResyncRequest: {
    channelId: "core",
    haveEpoch: 3n,
    haveKeyId: new Uint8Array(8).fill(0x21),
    wantedKeyId: new Uint8Array(8).fill(0x22),
    descriptionClock: 40n,
    restored: true,
  },
  EpochRoster: rosterDeltaSample,
  LeafHandover: leafHandoverSample,
  DelegateEvent: delegateEventSample,
};

/** The second page of a two-page snapshot of an add epoch's roster. */
export const rosterSnapshotPageSample = {
  version: 1,
  channelId: "",
  epoch: 7n,
  keyId: new Uint8Array(8).fill(0x41),
  previousKeyId: new Uint8Array(8).fill(0x40),
  rosterHash: new Uint8Array(32).fill(0x43),
  previousRosterHash: new Uint8Array(32).fill(0x42),
  change: RosterChangeKind.ADD,
  body: {
    case: "page" as const,
    value: {
      pageIndex: 1,
      pageCount: 2,
      leafCount: 1_500,
      firstLeaf: 1_000,
      leaves: [
        {
          index: 1_000,
          identityKey: member.publicKey,
          signingKey: new Uint8Array(32).fill(0x44),
          prekey: new Uint8Array(32).fill(0x45),
        },
        {
          index: 1_499,
          identityKey: outsider.publicKey,
          signingKey: new Uint8Array(32).fill(0x46),
          prekey: new Uint8Array(32).fill(0x47),
        },
      ],
    },
  },
};

/** A roster page of the description whose header is `fullSamples.DescriptionPage`. */
export const rosterPageSample = {
  clock: 42n,
  pageIndex: 1,
  description: {
    clock: 42n,
    members: description.members,
    banList: description.banList,
    chats: { general: { members: chat.members } },
  },
};

/** The smallest valid instance of every message (required fields only). */
export const minimalSamples: Samples = {
  IdentityImage: {},
  ChatIdentity: {},
  Grant: { organizationId: ownerId, memberId: member.publicKey },
  OrganizationMember: {},
  OrganizationPermissions: {},
  OrganizationAdminSettings: {},
  OrganizationChat: {},
  OrganizationCategory: {},
  OrganizationInvitation: { publicKey: ownerId },
  OrganizationRequestToJoin: { organizationId: ownerId },
  OrganizationCancelRequestToJoin: { organizationId: ownerId },
  OrganizationRequestToJoinResponse: { organizationId: ownerId },
  OrganizationRequestToLeave: { organizationId: ownerId },
  OrganizationDescription: {},
  DescriptionDelta: {
    clock: 1n,
    baseDigest: new Uint8Array(32),
    digest: new Uint8Array(32),
  },
  SignedEnvelope: {
    organizationId: ownerId,
    contentTopic: "/a/1/b/proto",
    signer: ownerId,
    signature: new Uint8Array(64),
  },
  GroupMessage: {
    keyId: new Uint8Array(8),
    senderData: new Uint8Array(28),
    ciphertext: new Uint8Array(144),
  },
  KeyUpdate: {
    previousKeyId: new Uint8Array(8),
    keyId: new Uint8Array(8),
    rosterHash: new Uint8Array(32),
    ephemeralPublicKey: new Uint8Array(32),
    chunkCount: 1,
    entries: new Uint8Array(36),
  },
  Welcome: {
    organizationId: ownerId,
    epochSecret: new Uint8Array(32),
    rosterHash: new Uint8Array(32),
    keyId: new Uint8Array(8),
    leafSecret: new Uint8Array(32),
  },
  MemberKeys: {
    identityKey: member.publicKey,
    signingKey: new Uint8Array(32),
    prekey: new Uint8Array(32),
  },
  PrekeyBundle: {
    identityKey: ownerId,
    identityDhKey: new Uint8Array(32),
    signedPrekey: new Uint8Array(32),
    signature: new Uint8Array(64),
  },
  PairwiseMessage: { ratchetKey: new Uint8Array(32), ciphertext: new Uint8Array(16) },
  DescriptionPage: { description: {} },
  ChannelMessage: {
    organizationId: ownerId,
    channelId: "general",
    author: member.publicKey,
    body: { case: "delete", value: { messageId: "m1" } },
  },
  PairwiseContent: { content: { case: "resyncRequest", value: {} } },
  ResyncRequest: {},
  EpochRoster: rosterGenesisSample,
  LeafHandover: {
    keyId: new Uint8Array(8),
    member: member.publicKey,
    leafSecret: new Uint8Array(32),
  },
  DelegateEvent: {
    organizationId: ownerId,
    author: member.publicKey,
    event: new Uint8Array([0x7b, 0x7d]),
  },
};

/** Broken messages, each with the path its `invalid-field` error names. */
type Negatives<Init> = ReadonlyArray<{
  readonly name: string;
  readonly init: Init;
  readonly path: string;
}>;

type EpochRosterInit = MessageInitShape<(typeof codecs)["EpochRoster"]["schema"]>;

const rosterLeaf = (index: number) => ({
  index,
  identityKey: member.publicKey,
  signingKey: new Uint8Array(32).fill(0x34),
  prekey: new Uint8Array(32).fill(0x35),
});
const rosterDelta = rosterDeltaSample;
const deltaWith = (value: Record<string, unknown>): EpochRosterInit => ({
  ...rosterDelta,
  body: { case: "delta", value: { removedLeaves: [2], leafCount: 6, ...value } },
});
const pageWith = (value: Record<string, unknown>): EpochRosterInit => ({
  ...rosterSnapshotPageSample,
  body: { case: "page", value: { ...rosterSnapshotPageSample.body.value, ...value } },
});

/**
 * One broken `EpochRoster` per rule (docs/PROTOCOL.md, "Epoch rosters"), with the path the error
 * names: each must fail to encode (RangeError) and to decode (DecodeError, `invalid-field`). The
 * vector generator writes them to `vectors/wire/messages.json`.
 */
export const epochRosterNegatives: Negatives<EpochRosterInit> = [
  { name: "version-2", init: { ...rosterDelta, version: 2 }, path: "EpochRoster.version" },
  {
    name: "key-id-7-bytes",
    init: { ...rosterDelta, keyId: new Uint8Array(7) },
    path: "EpochRoster.keyId",
  },
  {
    name: "roster-hash-31-bytes",
    init: { ...rosterDelta, rosterHash: new Uint8Array(31) },
    path: "EpochRoster.rosterHash",
  },
  {
    name: "channel-id-with-a-space",
    init: { ...rosterDelta, channelId: "a b" },
    path: "EpochRoster.channelId",
  },
  {
    name: "change-unspecified",
    init: { ...rosterDelta, change: RosterChangeKind.UNSPECIFIED },
    path: "EpochRoster.change",
  },
  {
    name: "change-unknown-value",
    init: { ...rosterDelta, change: 9 as RosterChangeKind },
    path: "EpochRoster.change",
  },
  {
    name: "genesis-with-previous-key-id",
    init: {
      ...rosterGenesisSample,
      previousKeyId: new Uint8Array(8),
    },
    path: "EpochRoster.previousKeyId",
  },
  {
    name: "genesis-as-delta",
    init: {
      ...rosterGenesisSample,
      body: { case: "delta", value: { leafCount: 1 } },
    },
    path: "EpochRoster.delta",
  },
  {
    name: "rekey-without-previous-key-id",
    init: { ...rosterDelta, previousKeyId: new Uint8Array() },
    path: "EpochRoster.previousKeyId",
  },
  {
    name: "add-without-previous-roster-hash",
    init: { ...rosterSnapshotPageSample, previousRosterHash: new Uint8Array() },
    path: "EpochRoster.previousRosterHash",
  },
  { name: "rekey-at-epoch-0", init: { ...rosterDelta, epoch: 0n }, path: "EpochRoster.epoch" },
  {
    name: "no-body",
    init: { ...rosterDelta, body: { case: undefined } },
    path: "EpochRoster.body",
  },
  {
    name: "delta-leaf-count-0",
    init: deltaWith({ removedLeaves: [], leafCount: 0 }),
    path: "EpochRoster.delta.leafCount",
  },
  {
    name: "delta-leaf-count-over-100000",
    init: deltaWith({ leafCount: 100_001 }),
    path: "EpochRoster.delta.leafCount",
  },
  {
    name: "delta-removed-leaves-not-increasing",
    init: deltaWith({ removedLeaves: [3, 2] }),
    path: "EpochRoster.delta.removedLeaves[1]",
  },
  {
    name: "delta-removed-leaf-repeated",
    init: deltaWith({ removedLeaves: [2, 2] }),
    path: "EpochRoster.delta.removedLeaves[1]",
  },
  {
    name: "delta-removed-leaf-beyond-leaf-count",
    init: deltaWith({ removedLeaves: [6] }),
    path: "EpochRoster.delta.removedLeaves[0]",
  },
  {
    name: "delta-leaves-not-increasing",
    init: deltaWith({ leaves: [rosterLeaf(4), rosterLeaf(3)] }),
    path: "EpochRoster.delta.leaves[1].index",
  },
  {
    name: "delta-leaf-beyond-leaf-count",
    init: deltaWith({ leaves: [rosterLeaf(6)] }),
    path: "EpochRoster.delta.leaves[0].index",
  },
  {
    name: "delta-leaf-removed-and-written",
    init: deltaWith({ leaves: [rosterLeaf(2)] }),
    path: "EpochRoster.delta.leaves[0].index",
  },
  {
    name: "leaf-identity-key-31-bytes",
    init: deltaWith({ leaves: [{ ...rosterLeaf(3), identityKey: new Uint8Array(31) }] }),
    path: "EpochRoster.delta.leaves[0].identityKey",
  },
  {
    name: "leaf-signing-key-33-bytes",
    init: deltaWith({ leaves: [{ ...rosterLeaf(3), signingKey: new Uint8Array(33) }] }),
    path: "EpochRoster.delta.leaves[0].signingKey",
  },
  {
    name: "leaf-prekey-missing",
    init: deltaWith({ leaves: [{ ...rosterLeaf(3), prekey: new Uint8Array() }] }),
    path: "EpochRoster.delta.leaves[0].prekey",
  },
  {
    name: "leaf-keys-signature-63-bytes",
    init: deltaWith({ leaves: [{ ...rosterLeaf(3), keysSignature: new Uint8Array(63) }] }),
    path: "EpochRoster.delta.leaves[0].keysSignature",
  },
  {
    name: "leaf-keys-signature-65-bytes",
    init: deltaWith({ leaves: [{ ...rosterLeaf(3), keysSignature: new Uint8Array(65) }] }),
    path: "EpochRoster.delta.leaves[0].keysSignature",
  },
  {
    name: "leaf-prekey-version-without-signature",
    init: deltaWith({ leaves: [{ ...rosterLeaf(3), prekeyVersion: 1n }] }),
    path: "EpochRoster.delta.leaves[0].prekeyVersion",
  },
  {
    // A signed leaf counts twice: 501 of them weigh 1,002 against the 1,000 of a message.
    name: "delta-501-signed-leaves",
    init: deltaWith({
      removedLeaves: [],
      leafCount: 501,
      leaves: Array.from({ length: 501 }, (_, index) => ({
        ...rosterLeaf(index),
        keysSignature: new Uint8Array(64).fill(0x36),
      })),
    }),
    path: "EpochRoster.delta.leaves (a signed leaf counts twice)",
  },
  {
    name: "leaf-index-over-limit",
    init: pageWith({ leaves: [rosterLeaf(100_000)] }),
    path: "EpochRoster.page.leaves[0].index",
  },
  {
    name: "page-count-0",
    init: pageWith({ pageIndex: 0, pageCount: 0, firstLeaf: 0 }),
    path: "EpochRoster.page.pageCount",
  },
  {
    name: "page-count-over-100",
    init: pageWith({ pageCount: 101 }),
    path: "EpochRoster.page.pageCount",
  },
  {
    name: "page-index-equals-page-count",
    init: pageWith({ pageIndex: 2 }),
    path: "EpochRoster.page.pageIndex",
  },
  {
    name: "page-leaf-count-0",
    init: pageWith({ leafCount: 0 }),
    path: "EpochRoster.page.leafCount",
  },
  {
    name: "page-count-over-leaf-count",
    init: pageWith({ pageIndex: 0, pageCount: 3, leafCount: 2, firstLeaf: 0, leaves: [] }),
    path: "EpochRoster.page.pageCount",
  },
  {
    name: "page-0-first-leaf-not-0",
    init: pageWith({ pageIndex: 0, firstLeaf: 1 }),
    path: "EpochRoster.page.firstLeaf",
  },
  {
    name: "page-first-leaf-below-page-index",
    init: pageWith({ firstLeaf: 0, leaves: [] }),
    path: "EpochRoster.page.firstLeaf",
  },
  {
    name: "page-first-leaf-beyond-leaf-count",
    init: pageWith({ firstLeaf: 1_500, leaves: [] }),
    path: "EpochRoster.page.firstLeaf",
  },
  {
    name: "page-leaf-before-first-leaf",
    init: pageWith({ leaves: [rosterLeaf(999)] }),
    path: "EpochRoster.page.leaves[0].index",
  },
  {
    name: "page-leaf-beyond-leaf-count",
    init: pageWith({ leaves: [rosterLeaf(1_500)] }),
    path: "EpochRoster.page.leaves[0].index",
  },
  {
    name: "page-leaf-repeated",
    init: pageWith({ leaves: [rosterLeaf(1_200), rosterLeaf(1_200)] }),
    path: "EpochRoster.page.leaves[1].index",
  },
];

type KeyUpdateInit = MessageInitShape<(typeof codecs)["KeyUpdate"]["schema"]>;
const keyUpdate = fullSamples.KeyUpdate as KeyUpdateInit;
const { maxKeyUpdateChunks, maxKeyUpdateEntries, keyUpdateEntryBytes } = wireLimits;

/**
 * KeyUpdate chunks no honest owner sends (decoded, they fail with `invalid-field` at `path`); the
 * vectors generator writes them as negative vectors `KeyUpdate/<name>`.
 */
export const keyUpdateNegatives: Negatives<KeyUpdateInit> = [
  {
    name: "chunk-count-0",
    init: { ...keyUpdate, chunkIndex: 0, chunkCount: 0 },
    path: "KeyUpdate.chunkCount",
  },
  {
    name: `chunk-count-over-${maxKeyUpdateChunks}`,
    init: { ...keyUpdate, chunkIndex: 0, chunkCount: maxKeyUpdateChunks + 1 },
    path: "KeyUpdate.chunkCount",
  },
  {
    name: "chunk-count-uint32-max",
    init: { ...keyUpdate, chunkIndex: 0, chunkCount: 0xffff_ffff },
    path: "KeyUpdate.chunkCount",
  },
  {
    name: "chunk-index-equal-to-count",
    init: { ...keyUpdate, chunkIndex: 2, chunkCount: 2 },
    path: "KeyUpdate.chunkIndex",
  },
  {
    name: "no-entries",
    init: { ...keyUpdate, entries: new Uint8Array(0) },
    path: "KeyUpdate.entries",
  },
  {
    name: "entries-35-bytes",
    init: { ...keyUpdate, entries: new Uint8Array(35) },
    path: "KeyUpdate.entries",
  },
  {
    name: `entries-over-${maxKeyUpdateEntries}`,
    init: {
      ...keyUpdate,
      entries: new Uint8Array((maxKeyUpdateEntries + 1) * keyUpdateEntryBytes),
    },
    path: "KeyUpdate.entries",
  },
];

type LeafHandoverInit = MessageInitShape<(typeof codecs)["LeafHandover"]["schema"]>;

/** Broken leaf handovers (each fails with `invalid-field` at `path`), written as negative vectors. */
export const leafHandoverNegatives: Negatives<LeafHandoverInit> = [
  {
    name: "channel-id-with-a-slash",
    init: { ...leafHandoverSample, channelId: "a/b" },
    path: "LeafHandover.channelId",
  },
  {
    name: "key-id-9-bytes",
    init: { ...leafHandoverSample, keyId: new Uint8Array(9) },
    path: "LeafHandover.keyId",
  },
  {
    name: "leaf-over-limit",
    init: { ...leafHandoverSample, leaf: wireLimits.maxRosterLeaves },
    path: "LeafHandover.leaf",
  },
  {
    name: "member-31-bytes",
    init: { ...leafHandoverSample, member: new Uint8Array(31) },
    path: "LeafHandover.member",
  },
  {
    name: "leaf-secret-missing",
    init: { ...leafHandoverSample, leafSecret: new Uint8Array() },
    path: "LeafHandover.leafSecret",
  },
  {
    name: "leaf-secret-33-bytes",
    init: { ...leafHandoverSample, leafSecret: new Uint8Array(33) },
    path: "LeafHandover.leafSecret",
  },
];

type DelegateEventInit = MessageInitShape<(typeof codecs)["DelegateEvent"]["schema"]>;

/** Broken delegate events (each fails with `invalid-field` at `path`), written as negative vectors. */
export const delegateEventNegatives: Negatives<DelegateEventInit> = [
  {
    name: "author-31-bytes",
    init: { ...delegateEventSample, author: new Uint8Array(31) },
    path: "DelegateEvent.author",
  },
  {
    name: "organization-id-missing",
    init: { ...delegateEventSample, organizationId: new Uint8Array() },
    path: "DelegateEvent.organizationId",
  },
  {
    name: "event-missing",
    init: { ...delegateEventSample, event: new Uint8Array() },
    path: "DelegateEvent.event",
  },
  {
    name: "event-over-4096-bytes",
    init: { ...delegateEventSample, event: new Uint8Array(4_097) },
    path: "DelegateEvent.event",
  },
  {
    name: "request-over-4096-bytes",
    init: { ...delegateEventSample, request: new Uint8Array(4_097) },
    path: "DelegateEvent.request",
  },
];

export const messageNames = Object.keys(codecs) as MessageName[];

/** A codec looked up by name, typed loosely for loops over every message. */
export function anyCodec(name: MessageName): MessageCodec<DescMessage> {
  return codecs[name] as unknown as MessageCodec<DescMessage>;
}

/** The sample of `name` from a sample table, typed loosely for loops over every message. */
export function sampleOf(samples: Samples, name: MessageName): MessageInitShape<DescMessage> {
  return samples[name] as MessageInitShape<DescMessage>;
}

/** What a receiver expects of an envelope, as the vector files write it. */
export interface VectorContext {
  contentTopic: string;
  organizationIdHex?: string;
  accept?: MessageTypeName[];
  /** Keys besides the organization key that may sign a committer type (delegates). */
  committersHex?: string[];
}

/** The `openEnvelope` options for a vector's context, verifying with Ed25519. */
export function openOptions(context: VectorContext): OpenEnvelopeOptions {
  return {
    contentTopic: context.contentTopic,
    verify: verifyEd25519,
    ...(context.organizationIdHex === undefined
      ? {}
      : { organizationId: hexToBytes(context.organizationIdHex) }),
    ...(context.accept === undefined ? {} : { accept: context.accept }),
    ...(context.committersHex === undefined
      ? {}
      : {
          committers: (signer: Uint8Array) =>
            (context.committersHex ?? []).includes(bytesToHex(signer)),
        }),
  };
}
