/**
 * Writes the committed wire vectors in `vectors/wire/` (see its README).
 *
 * Run with `pnpm --filter @orgchat/wire vectors`. The output is deterministic (fixed keys, Ed25519
 * is deterministic, map order is insertion order), so CI regenerates and fails on any diff. Every
 * negative vector is checked here to fail with the error it records before it is written.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  channelTopic,
  DecodeError,
  descriptionTopic,
  envelopeSigningInput,
  inboxTopic,
  keysTopic,
  type MessageType,
  type MessageTypeName,
  messageTypes,
  openEnvelope,
  requestsTopic,
  type SealEnvelopeInit,
  type SignatureScheme,
  sealEnvelope,
} from "../src/index.js";
import {
  codecs,
  decodeMessage,
  encodeMessage,
  type MessageName,
  SignedEnvelopeSchema,
} from "../src/schema.js";
import {
  anyCodec,
  delegateEventNegatives,
  epochRosterNegatives,
  fullSamples,
  headerPageSample,
  keyUpdateNegatives,
  leafHandoverNegatives,
  leafHandoverSample,
  member,
  messageNames,
  minimalSamples,
  openOptions,
  outsider,
  owner,
  ownerId,
  rosterPageSample,
  rosterSnapshotPageSample,
  sampleOf,
  type VectorContext,
} from "../test/fixtures.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "vectors", "wire");

function write(name: string, content: unknown): void {
  const text = `${JSON.stringify(content, (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2)}\n`;
  writeFileSync(join(root, name), text);
  process.stdout.write(`wrote vectors/wire/${name}\n`);
}

function hex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

// ---------------------------------------------------------------------------------------------
// messages.json

interface MessageVector {
  name: string;
  message: MessageName;
  json: unknown;
  hex: string;
}
interface NegativeMessageVector {
  name: string;
  message: MessageName;
  hex: string;
  error: "DecodeError";
  reason: string;
}

const positive: MessageVector[] = [];
for (const message of messageNames) {
  const codec = anyCodec(message);
  for (const [variant, samples] of [
    ["minimal", minimalSamples],
    ["full", fullSamples],
  ] as const) {
    const value = create(codec.schema, sampleOf(samples, message));
    positive.push({
      name: `${message}/${variant}`,
      message,
      json: toJson(codec.schema, value),
      hex: hex(encodeMessage(codec, value)),
    });
  }
}

function fullBytes(message: MessageName): Uint8Array {
  return encodeMessage(anyCodec(message), sampleOf(fullSamples, message));
}

function tagged(fieldNumber: number, wireType: number): number {
  return (fieldNumber << 3) | wireType;
}

const negative: NegativeMessageVector[] = [];
function addNegative(name: string, message: MessageName, bytes: Uint8Array, reason: string): void {
  try {
    decodeMessage(anyCodec(message), bytes);
  } catch (error) {
    if (error instanceof DecodeError && error.reason === reason) {
      negative.push({ name, message, hex: hex(bytes), error: "DecodeError", reason });
      return;
    }
    throw new Error(`negative vector ${name} failed with the wrong error`, { cause: error });
  }
  throw new Error(`negative vector ${name} decoded without error`);
}

for (const message of messageNames) {
  const bytes = fullBytes(message);
  addNegative(
    `${message}/truncated-last-byte`,
    message,
    bytes.subarray(0, bytes.length - 1),
    "malformed",
  );
}
addNegative(
  "Grant/organization-id-31-bytes",
  "Grant",
  toBinary(
    codecs.Grant.schema,
    create(codecs.Grant.schema, { ...fullSamples.Grant, organizationId: ownerId.subarray(0, 31) }),
  ),
  "invalid-field",
);
addNegative(
  "Grant/missing-member-id",
  "Grant",
  toBinary(codecs.Grant.schema, create(codecs.Grant.schema, { organizationId: ownerId })),
  "invalid-field",
);
addNegative(
  "Grant/chat-id-with-slash",
  "Grant",
  toBinary(
    codecs.Grant.schema,
    create(codecs.Grant.schema, { ...fullSamples.Grant, chatId: "a/b" }),
  ),
  "invalid-field",
);
addNegative(
  "PrekeyBundle/owner-device-15-bytes",
  "PrekeyBundle",
  toBinary(
    codecs.PrekeyBundle.schema,
    create(codecs.PrekeyBundle.schema, {
      ...fullSamples.PrekeyBundle,
      ownerDevice: new Uint8Array(15),
    }),
  ),
  "invalid-field",
);
addNegative("Grant/field-1-as-varint", "Grant", new Uint8Array([tagged(1, 0), 0x01]), "malformed");
addNegative(
  "Grant/invalid-wire-type-7",
  "Grant",
  new Uint8Array([tagged(1, 7), 0x00]),
  "malformed",
);
addNegative(
  "Grant/length-past-end",
  "Grant",
  new Uint8Array([tagged(1, 2), 0x7f, 0x01]),
  "malformed",
);
addNegative(
  "Grant/varint-11-bytes",
  "Grant",
  new Uint8Array([tagged(4, 0), ...new Array(10).fill(0xff), 0x01]),
  "malformed",
);
addNegative(
  "OrganizationRequestToJoin/invalid-utf8-display-name",
  "OrganizationRequestToJoin",
  new Uint8Array([tagged(4, 2), 32, ...ownerId, tagged(5, 2), 2, 0xc3, 0x28]),
  "malformed",
);
addNegative(
  "OrganizationMember/display-name-over-256-bytes",
  "OrganizationMember",
  toBinary(
    codecs.OrganizationMember.schema,
    create(codecs.OrganizationMember.schema, { displayName: "é".repeat(129) }),
  ),
  "invalid-field",
);
addNegative(
  "OrganizationDescription/member-key-uppercase",
  "OrganizationDescription",
  toBinary(
    codecs.OrganizationDescription.schema,
    create(codecs.OrganizationDescription.schema, {
      members: { [hex(ownerId).toUpperCase()]: {} },
    }),
  ),
  "invalid-field",
);
addNegative(
  "OrganizationDescription/ban-list-not-a-key",
  "OrganizationDescription",
  toBinary(
    codecs.OrganizationDescription.schema,
    create(codecs.OrganizationDescription.schema, { banList: ["0xdeadbeef"] }),
  ),
  "invalid-field",
);
addNegative(
  "OrganizationDescription/category-key-mismatch",
  "OrganizationDescription",
  toBinary(
    codecs.OrganizationDescription.schema,
    create(codecs.OrganizationDescription.schema, { categories: { a: { categoryId: "b" } } }),
  ),
  "invalid-field",
);
addNegative(
  "OrganizationDescription/too-many-tags",
  "OrganizationDescription",
  toBinary(
    codecs.OrganizationDescription.schema,
    create(codecs.OrganizationDescription.schema, { tags: new Array(33).fill("t") }),
  ),
  "invalid-field",
);
addNegative(
  "OrganizationRequestToLeave/clock-with-64-bit-wire-type",
  "OrganizationRequestToLeave",
  // 0x09 = field 1 with wire type 1 (64-bit) carrying a varint: protobuf-es alone would read it.
  new Uint8Array([tagged(1, 1), 0x05, tagged(2, 2), 32, ...ownerId]),
  "malformed",
);
addNegative(
  "OrganizationDescription/member-roles-as-64-bit",
  "OrganizationDescription",
  new Uint8Array([
    tagged(2, 2),
    70,
    tagged(1, 2),
    64,
    ...new TextEncoder().encode(hex(ownerId)),
    tagged(2, 2),
    2,
    tagged(1, 1),
    1,
  ]),
  "malformed",
);
addNegative("SignedEnvelope/empty", "SignedEnvelope", new Uint8Array(), "invalid-field");
const pageSchema = codecs.DescriptionPage.schema;
const rawPage = (init: Parameters<typeof create<typeof pageSchema>>[1]) =>
  toBinary(pageSchema, create(pageSchema, init));
addNegative(
  "DescriptionPage/missing-description",
  "DescriptionPage",
  rawPage({ clock: 42n, pageIndex: 1 }),
  "invalid-field",
);
addNegative(
  "DescriptionPage/clock-differs-from-description",
  "DescriptionPage",
  rawPage({ ...rosterPageSample, clock: 43n }),
  "invalid-field",
);
addNegative(
  "DescriptionPage/header-with-page-index",
  "DescriptionPage",
  rawPage({ ...headerPageSample, pageIndex: 1 }),
  "invalid-field",
);
addNegative(
  "DescriptionPage/page-hash-31-bytes",
  "DescriptionPage",
  rawPage({
    ...headerPageSample,
    index: { pageCount: 1, pageHashes: [new Uint8Array(31).fill(0x17)] },
  }),
  "invalid-field",
);
addNegative(
  "DescriptionPage/page-count-differs-from-hashes",
  "DescriptionPage",
  rawPage({
    ...headerPageSample,
    index: { pageCount: 3, pageHashes: [new Uint8Array(32).fill(0x17)] },
  }),
  "invalid-field",
);
addNegative(
  "DescriptionPage/page-count-over-10000",
  "DescriptionPage",
  rawPage({ ...headerPageSample, index: { pageCount: 10_001 } }),
  "invalid-field",
);
const deltaSchema = codecs.DescriptionDelta.schema;
const rawDelta = (init: Parameters<typeof create<typeof deltaSchema>>[1]) =>
  toBinary(deltaSchema, create(deltaSchema, init));
const deltaBase = {
  clock: 43n,
  baseClock: 42n,
  baseDigest: new Uint8Array(32).fill(0x31),
  digest: new Uint8Array(32).fill(0x32),
};
addNegative(
  "DescriptionDelta/clock-not-above-base",
  "DescriptionDelta",
  rawDelta({ ...deltaBase, clock: 42n }),
  "invalid-field",
);
addNegative(
  "DescriptionDelta/digest-31-bytes",
  "DescriptionDelta",
  rawDelta({ ...deltaBase, digest: new Uint8Array(31).fill(0x32) }),
  "invalid-field",
);
addNegative(
  "DescriptionDelta/header-of-another-clock",
  "DescriptionDelta",
  rawDelta({ ...deltaBase, header: { clock: 42n } }),
  "invalid-field",
);
addNegative(
  "DescriptionDelta/header-with-rosters",
  "DescriptionDelta",
  rawDelta({ ...deltaBase, header: { clock: 43n, members: { [hex(ownerId)]: {} } } }),
  "invalid-field",
);
addNegative(
  "DescriptionDelta/removed-member-not-a-key",
  "DescriptionDelta",
  rawDelta({ ...deltaBase, removedMembers: ["not-a-key"] }),
  "invalid-field",
);
addNegative(
  "DescriptionDelta/channel-twice",
  "DescriptionDelta",
  rawDelta({ ...deltaBase, chats: [{ chatId: "general" }, { chatId: "general" }] }),
  "invalid-field",
);
addNegative(
  "DescriptionDelta/entries-over-1500",
  "DescriptionDelta",
  rawDelta({ ...deltaBase, banned: new Array(1_501).fill(hex(ownerId)) }),
  "invalid-field",
);

const channelSchema = codecs.ChannelMessage.schema;
const rawChannel = (init: Parameters<typeof create<typeof channelSchema>>[1]) =>
  toBinary(channelSchema, create(channelSchema, init));
const channelBase = {
  organizationId: ownerId,
  channelId: "general",
  author: new Uint8Array(32).fill(2),
  clock: 12n,
};
addNegative(
  "ChannelMessage/no-body",
  "ChannelMessage",
  rawChannel({ ...channelBase }),
  "invalid-field",
);
addNegative(
  "ChannelMessage/author-31-bytes",
  "ChannelMessage",
  rawChannel({
    ...channelBase,
    author: new Uint8Array(31).fill(2),
    body: { case: "post", value: { text: "hi" } },
  }),
  "invalid-field",
);
addNegative(
  "ChannelMessage/edit-without-target",
  "ChannelMessage",
  rawChannel({ ...channelBase, body: { case: "edit", value: { text: "x" } } }),
  "invalid-field",
);
addNegative("PairwiseContent/empty", "PairwiseContent", new Uint8Array(), "invalid-field");

/** Writes each broken message of a fixtures table as a negative vector `<message>/<name>`. */
function addNegatives(
  message: "EpochRoster" | "LeafHandover" | "KeyUpdate" | "DelegateEvent",
  negatives: ReadonlyArray<{ readonly name: string; readonly init: object }>,
): void {
  const { schema } = anyCodec(message);
  for (const { name, init } of negatives) {
    // 3,401 KeyUpdate entries are 122 KiB of hex: tested in test/validation.test.ts, not written here.
    if (name.startsWith("entries-over-")) continue;
    addNegative(
      `${message}/${name}`,
      message,
      toBinary(schema, create(schema, init as never)),
      "invalid-field",
    );
  }
}
addNegatives("EpochRoster", epochRosterNegatives);
addNegatives("LeafHandover", leafHandoverNegatives);
addNegatives("DelegateEvent", delegateEventNegatives);
addNegatives("KeyUpdate", keyUpdateNegatives);
const keysSchema = codecs.MemberKeys.schema;
for (const length of [63, 65]) {
  addNegative(
    `MemberKeys/keys-signature-${length}-bytes`,
    "MemberKeys",
    toBinary(
      keysSchema,
      create(keysSchema, { ...fullSamples.MemberKeys, keysSignature: new Uint8Array(length) }),
    ),
    "invalid-field",
  );
}
addNegative(
  "PairwiseContent/leaf-handover-without-leaf-secret",
  "PairwiseContent",
  toBinary(
    codecs.PairwiseContent.schema,
    create(codecs.PairwiseContent.schema, {
      content: {
        case: "leafHandover",
        value: { ...leafHandoverSample, leafSecret: new Uint8Array() },
      },
    }),
  ),
  "invalid-field",
);

write("messages.json", {
  description:
    "orgchat wire vectors: protobuf encodings of every spec 55 message and the SignedEnvelope. `json` is the protobuf JSON form (proto3 canonical JSON); `hex` its binary encoding. Negative vectors must fail to decode with the error and reason given.",
  generator: "packages/wire/scripts/generate-vectors.ts",
  vectors: positive,
  negative,
});

// ---------------------------------------------------------------------------------------------
// topics.json

const topicVectors = [
  { kind: "description", keyHex: hex(ownerId), contentTopic: descriptionTopic(ownerId) },
  { kind: "requests", keyHex: hex(ownerId), contentTopic: requestsTopic(ownerId) },
  {
    kind: "channel",
    keyHex: hex(ownerId),
    channelId: "general",
    contentTopic: channelTopic(ownerId, "general"),
  },
  {
    kind: "channel",
    keyHex: hex(ownerId),
    channelId: "cat-main_2",
    contentTopic: channelTopic(ownerId, "cat-main_2"),
  },
  { kind: "inbox", keyHex: hex(member.publicKey), contentTopic: inboxTopic(member.publicKey) },
  { kind: "keys", keyHex: hex(ownerId), contentTopic: keysTopic(ownerId) },
  {
    kind: "keys",
    keyHex: hex(ownerId),
    channelId: "general",
    contentTopic: keysTopic(ownerId, "general"),
  },
  {
    kind: "description",
    keyHex: "00".repeat(32),
    contentTopic: descriptionTopic(new Uint8Array(32)),
  },
];
write("topics.json", {
  description:
    'Content topics derived from a 32-byte key: /orgchat/1/<prefix>-<hex(sha256("orgchat/v1/topic" 0x00 kind 0x00 key channelId)[0..16])>/proto, prefix d|r|c|i|k for description|requests|channel|inbox|keys.',
  generator: "packages/wire/scripts/generate-vectors.ts",
  vectors: topicVectors,
});

// ---------------------------------------------------------------------------------------------
// envelopes.json

type Context = VectorContext;

const descriptionContext: Context = {
  contentTopic: descriptionTopic(ownerId),
  organizationIdHex: hex(ownerId),
};
const requestsContext: Context = {
  contentTopic: requestsTopic(ownerId),
  organizationIdHex: hex(ownerId),
};
const inboxContext: Context = {
  contentTopic: inboxTopic(member.publicKey),
  organizationIdHex: hex(ownerId),
};

const sealed: Array<{
  name: string;
  type: MessageTypeName;
  signerSeedByte: number;
  clock: bigint;
  open: Context;
  message: unknown;
}> = [
  {
    name: "description",
    type: "organization-description",
    signerSeedByte: 1,
    clock: 42n,
    open: descriptionContext,
    message: fullSamples.OrganizationDescription,
  },
  {
    name: "invitation",
    type: "organization-invitation",
    signerSeedByte: 1,
    clock: 5n,
    open: inboxContext,
    message: fullSamples.OrganizationInvitation,
  },
  {
    name: "request-to-join",
    type: "organization-request-to-join",
    signerSeedByte: 2,
    clock: 11n,
    open: requestsContext,
    message: fullSamples.OrganizationRequestToJoin,
  },
  {
    name: "cancel-request-to-join",
    type: "organization-cancel-request-to-join",
    signerSeedByte: 2,
    clock: 12n,
    open: requestsContext,
    message: fullSamples.OrganizationCancelRequestToJoin,
  },
  {
    name: "request-to-join-response",
    type: "organization-request-to-join-response",
    signerSeedByte: 1,
    clock: 13n,
    open: inboxContext,
    message: fullSamples.OrganizationRequestToJoinResponse,
  },
  {
    name: "request-to-leave",
    type: "organization-request-to-leave",
    signerSeedByte: 2,
    clock: 14n,
    open: requestsContext,
    message: fullSamples.OrganizationRequestToLeave,
  },
  {
    name: "grant",
    type: "grant",
    signerSeedByte: 1,
    clock: 9n,
    open: { contentTopic: channelTopic(ownerId, "general"), organizationIdHex: hex(ownerId) },
    message: fullSamples.Grant,
  },
  {
    name: "key-update",
    type: "key-update",
    signerSeedByte: 1,
    clock: 15n,
    open: { contentTopic: keysTopic(ownerId, "general"), organizationIdHex: hex(ownerId) },
    message: fullSamples.KeyUpdate,
  },
  {
    name: "prekey-bundle",
    type: "prekey-bundle",
    signerSeedByte: 1,
    clock: 16n,
    open: descriptionContext,
    message: fullSamples.PrekeyBundle,
  },
  {
    name: "member-keys",
    type: "member-keys",
    signerSeedByte: 2,
    clock: 17n,
    open: requestsContext,
    message: fullSamples.MemberKeys,
  },
  {
    name: "epoch-roster-delta",
    type: "epoch-roster",
    signerSeedByte: 1,
    clock: 18n,
    open: {
      contentTopic: keysTopic(ownerId, "core"),
      organizationIdHex: hex(ownerId),
      accept: ["epoch-roster"],
    },
    message: fullSamples.EpochRoster,
  },
  {
    // A delegate's commit: the member key signs, and the receiver names it as a committer.
    name: "epoch-roster-delta-by-delegate",
    type: "epoch-roster",
    signerSeedByte: 2,
    clock: 20n,
    open: {
      contentTopic: keysTopic(ownerId, "core"),
      organizationIdHex: hex(ownerId),
      accept: ["epoch-roster"],
      committersHex: [hex(member.publicKey)],
    },
    message: fullSamples.EpochRoster,
  },
  {
    name: "key-update-by-delegate",
    type: "key-update",
    signerSeedByte: 2,
    clock: 21n,
    open: {
      contentTopic: keysTopic(ownerId, "general"),
      organizationIdHex: hex(ownerId),
      committersHex: [hex(member.publicKey)],
    },
    message: fullSamples.KeyUpdate,
  },
  {
    name: "delegate-bundle",
    type: "delegate-bundle",
    signerSeedByte: 2,
    clock: 22n,
    open: { ...descriptionContext, accept: ["delegate-bundle"] },
    message: { ...fullSamples.PrekeyBundle, identityKey: member.publicKey },
  },
  {
    name: "delegate-event",
    type: "delegate-event",
    signerSeedByte: 2,
    clock: 23n,
    open: { ...descriptionContext, accept: ["delegate-event"] },
    message: fullSamples.DelegateEvent,
  },
  {
    name: "epoch-roster-snapshot-page",
    type: "epoch-roster",
    signerSeedByte: 1,
    clock: 19n,
    open: { contentTopic: keysTopic(ownerId), organizationIdHex: hex(ownerId) },
    message: rosterSnapshotPageSample,
  },
  {
    name: "description-page-header",
    type: "description-page",
    signerSeedByte: 1,
    clock: 42n,
    open: { ...descriptionContext, accept: ["description-page"] },
    message: fullSamples.DescriptionPage,
  },
  {
    name: "description-page-roster",
    type: "description-page",
    signerSeedByte: 1,
    clock: 42n,
    open: { ...descriptionContext, accept: ["description-page"] },
    message: rosterPageSample,
  },
  {
    name: "description-delta",
    type: "description-delta",
    signerSeedByte: 1,
    clock: 43n,
    open: { ...descriptionContext, accept: ["description-delta"] },
    message: fullSamples.DescriptionDelta,
  },
];

const signers = new Map([
  [1, owner],
  [2, member],
  [3, outsider],
]);

/** Builds and signs an envelope field by field, bypassing sealEnvelope's checks (for negatives). */
function rawEnvelope(fields: {
  version?: number;
  wireType: number;
  organizationId?: Uint8Array;
  clock: bigint;
  contentTopic: string;
  signerSeedByte: number;
  payload: Uint8Array;
  corruptSignature?: boolean;
}): Uint8Array {
  const signer = signers.get(fields.signerSeedByte);
  if (!signer) throw new Error("unknown signer");
  const base = {
    version: fields.version ?? 1,
    wireType: fields.wireType,
    organizationId: fields.organizationId ?? ownerId,
    clock: fields.clock,
    contentTopic: fields.contentTopic,
    signatureScheme: 1,
    signer: signer.publicKey,
    payload: fields.payload,
  };
  const signature = signer.sign(envelopeSigningInput(base)) as Uint8Array;
  if (fields.corruptSignature) signature[0] = (signature[0] ?? 0) ^ 0x01;
  return toBinary(
    SignedEnvelopeSchema,
    create(SignedEnvelopeSchema, {
      ...base,
      type: base.wireType as MessageType,
      signatureScheme: base.signatureScheme as SignatureScheme,
      signature,
    }),
  );
}

async function main(): Promise<void> {
  const valid = [];
  for (const entry of sealed) {
    const signer = signers.get(entry.signerSeedByte);
    if (!signer) throw new Error("unknown signer");
    const bytes = await sealEnvelope(
      {
        type: entry.type,
        organizationId: ownerId,
        clock: entry.clock,
        contentTopic: entry.open.contentTopic,
        message: entry.message as SealEnvelopeInit<MessageTypeName>["message"],
      },
      signer,
    );
    const opened = await openEnvelope(bytes, openOptions(entry.open));
    const spec = messageTypes[entry.type];
    valid.push({
      name: entry.name,
      type: entry.type,
      wireType: spec.wireType,
      signerSeedHex: hex(new Uint8Array(32).fill(entry.signerSeedByte)),
      signerHex: hex(signer.publicKey),
      organizationIdHex: hex(ownerId),
      clock: entry.clock,
      contentTopic: entry.open.contentTopic,
      payloadHex: hex(opened.payload),
      signingInputHex: hex(
        envelopeSigningInput({
          version: 1,
          wireType: spec.wireType,
          organizationId: ownerId,
          clock: entry.clock,
          contentTopic: entry.open.contentTopic,
          signatureScheme: 1,
          signer: signer.publicKey,
          payload: opened.payload,
        }),
      ),
      envelopeHex: hex(bytes),
      open: entry.open,
    });
  }

  const requestPayload = encodeMessage(
    codecs.OrganizationRequestToJoin,
    fullSamples.OrganizationRequestToJoin,
  );
  const descriptionPayload = encodeMessage(
    codecs.OrganizationDescription,
    fullSamples.OrganizationDescription,
  );
  const grantPayload = encodeMessage(codecs.Grant, fullSamples.Grant);
  const rosterPagePayload = encodeMessage(codecs.DescriptionPage, rosterPageSample);
  const epochRosterPayload = encodeMessage(codecs.EpochRoster, fullSamples.EpochRoster);
  const keysContext: Context = {
    contentTopic: keysTopic(ownerId, "core"),
    organizationIdHex: hex(ownerId),
  };
  const requestTopic = requestsContext.contentTopic;
  const descTopic = descriptionContext.contentTopic;
  type Expectation = { error: string; reason?: string; field?: string };
  const invalid: Array<{ name: string; envelopeHex: string; open: Context } & Expectation> = [];
  // A member's request to join, signed correctly unless an override says otherwise.
  const request = (overrides: Partial<Parameters<typeof rawEnvelope>[0]> = {}) =>
    rawEnvelope({
      wireType: 3,
      clock: 11n,
      contentTopic: requestTopic,
      signerSeedByte: 2,
      payload: requestPayload,
      ...overrides,
    });
  const ownerOnly = (
    wireType: number,
    clock: bigint,
    payload: Uint8Array,
    signerSeedByte: number,
  ) => rawEnvelope({ wireType, clock, contentTopic: descTopic, signerSeedByte, payload });
  const memberSignedRoster = rawEnvelope({
    wireType: 19,
    clock: 18n,
    contentTopic: keysContext.contentTopic,
    signerSeedByte: 2,
    payload: epochRosterPayload,
  });
  const mismatch = (field: string): Expectation => ({ error: "EnvelopeMismatchError", field });
  const decodeError = (reason: string): Expectation => ({ error: "DecodeError", reason });
  const cases: Array<{ name: string; bytes: Uint8Array; open: Context } & Expectation> = [
    {
      name: "signature-bit-flipped",
      bytes: request({ corruptSignature: true }),
      open: requestsContext,
      error: "InvalidSignatureError",
    },
    {
      name: "received-on-another-topic",
      bytes: request(),
      open: { ...requestsContext, contentTopic: descTopic },
      ...mismatch("contentTopic"),
    },
    {
      name: "another-organization",
      bytes: request(),
      open: { ...requestsContext, organizationIdHex: hex(outsider.publicKey) },
      ...mismatch("organizationId"),
    },
    {
      name: "description-signed-by-member",
      bytes: ownerOnly(1, 42n, descriptionPayload, 2),
      open: descriptionContext,
      ...mismatch("signer"),
    },
    {
      name: "grant-signed-by-outsider",
      bytes: ownerOnly(7, 9n, grantPayload, 3),
      open: descriptionContext,
      ...mismatch("signer"),
    },
    {
      name: "description-page-signed-by-member",
      bytes: ownerOnly(48, 42n, rosterPagePayload, 2),
      open: descriptionContext,
      ...mismatch("signer"),
    },
    {
      name: "epoch-roster-signed-by-member",
      bytes: memberSignedRoster,
      open: keysContext,
      ...mismatch("signer"),
    },
    {
      name: "epoch-roster-signed-by-a-committer-the-receiver-does-not-name",
      bytes: memberSignedRoster,
      open: { ...keysContext, committersHex: [hex(outsider.publicKey)] },
      ...mismatch("signer"),
    },
    {
      name: "delegate-bundle-for-another-key",
      bytes: rawEnvelope({
        wireType: 20,
        clock: 22n,
        contentTopic: descTopic,
        signerSeedByte: 3,
        payload: encodeMessage(codecs.PrekeyBundle, {
          ...fullSamples.PrekeyBundle,
          identityKey: member.publicKey,
        }),
      }),
      open: descriptionContext,
      ...mismatch("signerInPayload"),
    },
    {
      name: "delegate-event-by-another-key",
      bytes: rawEnvelope({
        wireType: 52,
        clock: 23n,
        contentTopic: descTopic,
        signerSeedByte: 3,
        payload: encodeMessage(codecs.DelegateEvent, fullSamples.DelegateEvent),
      }),
      open: descriptionContext,
      ...mismatch("signerInPayload"),
    },
    {
      name: "description-page-clock-differs-from-envelope",
      bytes: ownerOnly(48, 41n, rosterPagePayload, 1),
      open: descriptionContext,
      ...mismatch("clock"),
    },
    {
      name: "envelope-clock-differs-from-payload",
      bytes: ownerOnly(1, 43n, descriptionPayload, 1),
      open: descriptionContext,
      ...mismatch("clock"),
    },
    {
      name: "payload-names-another-organization",
      bytes: request({ organizationId: outsider.publicKey }),
      open: { contentTopic: requestTopic },
      ...mismatch("organizationIdInPayload"),
    },
    {
      name: "type-not-accepted-here",
      bytes: request(),
      open: { ...requestsContext, accept: ["organization-request-to-leave"] },
      ...mismatch("type"),
    },
    {
      name: "type-confusion-request-as-leave",
      bytes: request({ wireType: 6 }),
      open: requestsContext,
      ...decodeError("invalid-field"),
    },
    {
      name: "version-2",
      bytes: request({ version: 2 }),
      open: requestsContext,
      ...decodeError("unsupported-version"),
    },
    {
      name: "unregistered-type-99",
      bytes: request({ wireType: 99 }),
      open: requestsContext,
      ...decodeError("unknown-type"),
    },
    {
      name: "payload-not-a-request",
      bytes: request({ clock: 0n, payload: new Uint8Array([0xff, 0xff]) }),
      open: requestsContext,
      ...decodeError("malformed"),
    },
  ];
  for (const entry of cases) {
    try {
      await openEnvelope(entry.bytes, openOptions(entry.open));
    } catch (error) {
      const e = error as { name?: string; reason?: string; field?: string };
      if (e.name === entry.error && e.reason === entry.reason && e.field === entry.field) {
        invalid.push({
          name: entry.name,
          envelopeHex: hex(entry.bytes),
          open: entry.open,
          error: entry.error,
          ...(entry.reason === undefined ? {} : { reason: entry.reason }),
          ...(entry.field === undefined ? {} : { field: entry.field }),
        });
        continue;
      }
      throw new Error(`negative envelope ${entry.name}: wrong error`, { cause: error });
    }
    throw new Error(`negative envelope ${entry.name} opened without error`);
  }

  write("envelopes.json", {
    description:
      "Signed envelopes. Keys are Ed25519 with a 32-byte secret of the repeated seed byte. `signingInputHex` is the canonical signing input (docs/PROTOCOL.md, Envelope); `open` is what the receiver expects. Negative vectors must fail with `error` (and `reason` for DecodeError, `field` for EnvelopeMismatchError).",
    generator: "packages/wire/scripts/generate-vectors.ts",
    vectors: valid,
    negative: invalid,
  });
}

await main();
