import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type {
  EnvelopeSigner,
  EnvelopeVerifier,
  MessageCodec,
  MessageName,
  MessageTypeName,
  OpenEnvelopeOptions,
} from "../src/index.js";
import {
  codecs,
  IdentityImage_SourceType,
  ImageType,
  OrganizationMember_Roles,
  OrganizationPermissions_Access,
} from "../src/index.js";

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
  OrganizationMember: { roles: [OrganizationMember_Roles.ROLE_ALL] },
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
  },
  MemberKeys: {
    identityKey: member.publicKey,
    signingKey: new Uint8Array(32).fill(0x0c),
    prekey: new Uint8Array(32).fill(0x0d),
    prekeyVersion: 2n,
  },
  PrekeyBundle: {
    identityKey: ownerId,
    identityDhKey: new Uint8Array(32).fill(0x0e),
    signedPrekey: new Uint8Array(32).fill(0x0f),
    signedPrekeyId: 7,
    signature: new Uint8Array(64).fill(0x10),
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
};

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
  };
}
