import { create, toBinary } from "@bufbuild/protobuf";
import { OrgchatError } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { DecodeError, EnvelopeMismatchError, InvalidSignatureError } from "../src/errors.js";
import {
  decodeChannelMessage,
  decodeDescriptionPage,
  decodeEpochRoster,
  decodeGrant,
  decodeKeyUpdate,
  decodeMemberKeys,
  decodeOrganizationDescription,
  decodePairwiseContent,
  decodeResyncRequest,
  encodeChannelMessage,
  encodeDescriptionPage,
  encodeEpochRoster,
  encodeGrant,
  encodeKeyUpdate,
  encodeMemberKeys,
  encodeOrganizationDescription,
  encodePairwiseContent,
  encodeResyncRequest,
  isChatId,
  isDecodeError,
  isEnvelopeMismatchError,
  isInvalidSignatureError,
  isMemberId,
  keysTopic,
  memberIdFromPublicKey,
  publicKeyFromMemberId,
  RosterChangeKind,
  sealEnvelope,
  wireLimits,
} from "../src/index.js";
import {
  ChannelMessageSchema,
  codecs,
  decodeMessage,
  encodeMessage,
  MemberKeysSchema,
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
  memberHex,
  owner,
  ownerId,
  rosterDeltaSample,
  rosterPageSample,
  rosterSnapshotPageSample,
} from "./fixtures.js";

const descriptionSchema = codecs.OrganizationDescription.schema;
const rawDescription = (init: Parameters<typeof create<typeof descriptionSchema>>[1]) =>
  toBinary(descriptionSchema, create(descriptionSchema, init));

describe("protocol rules", () => {
  const cases: Array<[string, Parameters<typeof encodeOrganizationDescription>[0], string]> = [
    ["a member key that is not a public key", { members: { alice: {} } }, "members"],
    ["a chat id with a space", { chats: { "a b": {} } }, "chats"],
    ["a chat id of 65 characters", { chats: { ["x".repeat(65)]: {} } }, "chats"],
    [
      "a display name over 256 bytes",
      { identity: { displayName: "é".repeat(129) } },
      "displayName",
    ],
    [
      "a description over 4096 bytes",
      { identity: { description: "x".repeat(4097) } },
      "description",
    ],
    [
      "too many images",
      {
        identity: {
          images: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`i${i}`, {}])),
        },
      },
      "images",
    ],
    ["an empty image name", { identity: { images: { "": {} } } }, "images"],
    [
      "a member with 9 roles",
      { members: { [memberHex]: { roles: [1, 1, 1, 1, 1, 1, 1, 1, 1] } } },
      "roles",
    ],
    ["a tag over 64 bytes", { tags: ["t".repeat(65)] }, "tags"],
    [
      "a channel member key that is not a public key",
      { chats: { general: { members: { bob: {} } } } },
      "members",
    ],
    [
      "a channel in a malformed category",
      { chats: { general: { categoryId: "no spaces" } } },
      "categoryId",
    ],
  ];

  for (const [what, init, field] of cases) {
    it(`refuses ${what}: RangeError on encode, DecodeError(invalid-field) on decode`, () => {
      expect(() => encodeOrganizationDescription(init)).toThrowError(RangeError);
      expect(() => encodeOrganizationDescription(init)).toThrowError(new RegExp(field));
      let caught: unknown;
      try {
        decodeOrganizationDescription(rawDescription(init));
      } catch (error) {
        caught = error;
      }
      expect(isDecodeError(caught)).toBe(true);
      expect(caught).toMatchObject({
        reason: "invalid-field",
        path: expect.stringContaining(field),
      });
    });
  }

  it("accepts text exactly at the byte limits", () => {
    const bytes = encodeOrganizationDescription({
      identity: {
        displayName: "é".repeat(128),
        description: "x".repeat(4096),
        ensName: "e".repeat(255),
      },
      tags: Array.from({ length: 32 }, () => "t".repeat(64)),
    });
    expect(decodeOrganizationDescription(bytes).tags).toHaveLength(32);
  });

  it("accepts exactly maxMessageBytes and refuses one byte more as oversized", () => {
    const base = encodeMessage(codecs.OrganizationInvitation, { publicKey: ownerId });
    // field 1 (bytes): tag 0x0a + 3-byte length varint for lengths in [16384, 2097151]
    const payloadLength = wireLimits.maxMessageBytes - base.length - 1 - 3;
    const exact = encodeMessage(codecs.OrganizationInvitation, {
      publicKey: ownerId,
      organizationDescription: new Uint8Array(payloadLength),
    });
    expect(exact.length).toBe(wireLimits.maxMessageBytes);
    expect(
      decodeMessage(codecs.OrganizationInvitation, exact).organizationDescription,
    ).toHaveLength(payloadLength);
    const over = new Uint8Array(exact.length + 1);
    expect(() => decodeMessage(codecs.OrganizationInvitation, over)).toThrowError(
      expect.objectContaining({ name: "DecodeError", reason: "oversized" }),
    );
    expect(() =>
      encodeMessage(codecs.OrganizationInvitation, {
        publicKey: ownerId,
        organizationDescription: new Uint8Array(payloadLength + 1),
      }),
    ).toThrowError(/split/);
  });

  it("applies a caller's smaller maxBytes", () => {
    const bytes = encodeGrant(fullSamples.Grant);
    expect(() => decodeGrant(bytes, { maxBytes: bytes.length - 1 })).toThrowError(
      expect.objectContaining({ reason: "oversized" }),
    );
    expect(decodeGrant(bytes, { maxBytes: bytes.length }).chatId).toBe("general");
  });

  it("throws TypeError, not DecodeError, when the input is not a Uint8Array (a programming error)", () => {
    expect(() => decodeGrant("0a20" as unknown as Uint8Array)).toThrowError(TypeError);
  });
});

describe("description page rules", () => {
  const pageSchema = codecs.DescriptionPage.schema;
  const hash = (fill: number) => new Uint8Array(32).fill(fill);
  const header = headerPageSample;
  const cases: Array<[string, Parameters<typeof encodeDescriptionPage>[0], string]> = [
    ["a page without a description", { clock: 1n }, "description"],
    [
      "a page clock that differs from the description's",
      { clock: 2n, description: { clock: 1n } },
      "description.clock",
    ],
    ["a header with a page index", { ...header, pageIndex: 1 }, "pageIndex"],
    [
      "a page hash of 31 bytes",
      { ...header, index: { pageCount: 1, pageHashes: [new Uint8Array(31)] } },
      "index.pageHashes[0]",
    ],
    [
      "fewer hashes than pageCount",
      { ...header, index: { pageCount: 2, pageHashes: [hash(1)] } },
      "index.pageHashes",
    ],
    [
      "more hashes than pageCount",
      { ...header, index: { pageCount: 0, pageHashes: [hash(1)] } },
      "index.pageHashes",
    ],
    [
      "a page count over the limit",
      { ...header, index: { pageCount: wireLimits.maxDescriptionPages + 1 } },
      "index.pageCount",
    ],
    [
      "a roster page index at the page limit",
      { ...rosterPageSample, pageIndex: wireLimits.maxDescriptionPages },
      "pageIndex",
    ],
    [
      "a nested description that breaks a rule",
      { description: { banList: ["not-a-key"] } },
      "description.banList[0]",
    ],
  ];

  for (const [what, init, field] of cases) {
    it(`refuses ${what}: RangeError on encode, DecodeError(invalid-field) on decode`, () => {
      expect(() => encodeDescriptionPage(init)).toThrowError(RangeError);
      let caught: unknown;
      try {
        decodeDescriptionPage(toBinary(pageSchema, create(pageSchema, init)));
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({
        name: "DecodeError",
        reason: "invalid-field",
        path: expect.stringContaining(`DescriptionPage.${field}`),
      });
    });
  }

  it("tells a header (index present, even empty) from a roster page", () => {
    const emptyHeader = decodeDescriptionPage(
      encodeDescriptionPage({ clock: 3n, index: {}, description: { clock: 3n } }),
    );
    expect(emptyHeader.index).toBeDefined();
    expect(emptyHeader.index?.pageCount).toBe(0);
    const roster = decodeDescriptionPage(encodeDescriptionPage(rosterPageSample));
    expect(roster.index).toBeUndefined();
    expect(roster.pageIndex).toBe(1);
  });

  it("accepts the largest page index and a header listing hashes up to the size cap", () => {
    const last = { ...rosterPageSample, pageIndex: wireLimits.maxDescriptionPages - 1 };
    expect(decodeDescriptionPage(encodeDescriptionPage(last)).pageIndex).toBe(
      wireLimits.maxDescriptionPages - 1,
    );
    const pageCount = 4000;
    const many = encodeDescriptionPage({
      clock: 1n,
      index: { pageCount, pageHashes: Array.from({ length: pageCount }, (_, i) => hash(i)) },
      description: { clock: 1n },
    });
    expect(decodeDescriptionPage(many).index?.pageHashes).toHaveLength(pageCount);
  });
});

describe("wire types", () => {
  it("accepts repeated enums packed and unpacked (both are valid protobuf)", () => {
    const packed = new Uint8Array([0x0a, 0x02, 0x01, 0x02]);
    const unpacked = new Uint8Array([0x08, 0x01, 0x08, 0x02]);
    expect(decodeMessage(codecs.OrganizationMember, packed).roles).toEqual([1, 2]);
    expect(decodeMessage(codecs.OrganizationMember, unpacked).roles).toEqual([1, 2]);
  });

  it("refuses a known field whose tag carries the wrong wire type, at any depth", () => {
    const good = encodeMessage(
      codecs.OrganizationRequestToLeave,
      fullSamples.OrganizationRequestToLeave,
    );
    expect(good[0]).toBe(0x08);
    const bad = Uint8Array.from(good);
    bad[0] = 0x0d; // field 1 as 32-bit
    expect(() => decodeMessage(codecs.OrganizationRequestToLeave, bad)).toThrowError(
      expect.objectContaining({ name: "DecodeError", reason: "malformed" }),
    );
    // A nested message (permissions.access as 64-bit) inside a description.
    const nested = new Uint8Array([0x1a, 0x09, 0x19, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeMessage(codecs.OrganizationDescription, nested)).toThrowError(
      expect.objectContaining({ reason: "malformed" }),
    );
  });

  it("still skips unknown fields of any wire type", () => {
    const good = encodeMessage(
      codecs.OrganizationRequestToLeave,
      fullSamples.OrganizationRequestToLeave,
    );
    const extended = new Uint8Array([...good, 0xb9, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8]); // field 199, 64-bit
    expect(decodeMessage(codecs.OrganizationRequestToLeave, extended).clock).toBe(14n);
  });
});

describe("DecodeError", () => {
  it("says what failed, where, and what to do; keeps the parser error as cause", () => {
    let error: unknown;
    try {
      decodeGrant(new Uint8Array([0x0a, 0x7f]));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DecodeError);
    const decodeError = error as DecodeError;
    expect(decodeError.name).toBe("DecodeError");
    expect(decodeError.reason).toBe("malformed");
    expect(decodeError.messageName).toBe("orgchat.v1.Grant");
    expect(decodeError.message).toMatch(/drop them/);
    expect(decodeError.cause).toBeInstanceOf(Error);
  });

  it("are OrgchatErrors whose message ends with the hint, with a cause only when there is one", () => {
    const decode = new DecodeError({
      messageName: "orgchat.v1.Grant",
      reason: "invalid-field",
      detail: "bad",
      path: "roles",
    });
    expect(decode).toBeInstanceOf(OrgchatError);
    expect(decode.message).toBe(
      "Cannot decode orgchat.v1.Grant (invalid-field at roles): bad. The bytes are not a valid " +
        "message of this type: drop them if they came from the network, or fix the code that produced them.",
    );
    expect(decode.hint).toMatch(/^The bytes are not a valid message/);
    expect("cause" in decode).toBe(false);
    expect(Object.keys(decode)).not.toContain("name");
    const signature = new InvalidSignatureError({ signerHex: "ab", cause: 1 });
    expect(signature.message).toBe(
      "Envelope signature does not verify for signer ab. The message was not produced by that key " +
        "or was altered in transit: drop it.",
    );
    expect(signature.cause).toBe(1);
    expect(String(new EnvelopeMismatchError({ field: "clock", detail: "3 != 4" }))).toBe(
      "EnvelopeMismatchError: Envelope clock mismatch: 3 != 4. A validly signed message was " +
        "replayed or misrouted: drop it.",
    );
  });

  it("guards match by name only", () => {
    expect(
      isDecodeError(new DecodeError({ messageName: "x", reason: "malformed", detail: "d" })),
    ).toBe(true);
    expect(isDecodeError(new Error("DecodeError"))).toBe(false);
    // The @orgchat/base convention (errorGuard): the name decides, even for an error that crossed a
    // structured clone or a realm as a plain object.
    expect(isDecodeError({ name: "DecodeError" })).toBe(true);
    expect(isDecodeError({ name: "InvalidSignatureError" })).toBe(false);
    expect(isDecodeError("DecodeError")).toBe(false);
    expect(
      isInvalidSignatureError(Object.assign(new Error(), { name: "InvalidSignatureError" })),
    ).toBe(true);
    expect(isEnvelopeMismatchError(null)).toBe(false);
  });
});

describe("ids", () => {
  it("round-trips member ids and refuses other spellings", () => {
    expect(publicKeyFromMemberId(memberIdFromPublicKey(ownerId))).toEqual(ownerId);
    expect(isMemberId(memberHex)).toBe(true);
    expect(isMemberId(memberHex.toUpperCase())).toBe(false);
    expect(isMemberId(`0x${memberHex.slice(2)}`)).toBe(false);
    expect(() => publicKeyFromMemberId("abc")).toThrowError(RangeError);
    expect(() => memberIdFromPublicKey(new Uint8Array(31))).toThrowError(RangeError);
  });

  it("accepts chat ids of 1-64 characters [A-Za-z0-9_-]", () => {
    expect(isChatId("general")).toBe(true);
    expect(isChatId("A-b_9")).toBe(true);
    expect(isChatId("x".repeat(64))).toBe(true);
    expect(isChatId("")).toBe(false);
    expect(isChatId("x".repeat(65))).toBe(false);
    expect(isChatId("café")).toBe(false);
  });
});

describe("client message rules (ChannelMessage, PairwiseContent, ResyncRequest)", () => {
  const base = {
    organizationId: new Uint8Array(32).fill(1),
    channelId: "general",
    author: new Uint8Array(32).fill(2),
  };
  const post = (text: string) => ({ ...base, body: { case: "post" as const, value: { text } } });
  const raw = (init: Parameters<typeof encodeChannelMessage>[0]) =>
    toBinary(ChannelMessageSchema, create(ChannelMessageSchema, init));
  const cases: Array<[string, Parameters<typeof encodeChannelMessage>[0], string]> = [
    ["no body", { ...base }, "body"],
    ["a 31-byte author", { ...post("hi"), author: new Uint8Array(31) }, "author"],
    [
      "a missing organization id",
      { ...post("hi"), organizationId: new Uint8Array() },
      "organizationId",
    ],
    ["a channel id with a space", { ...post("hi"), channelId: "a b" }, "channelId"],
    ["an empty channel id", { ...post("hi"), channelId: "" }, "channelId"],
    [
      "a text one byte over the limit",
      post("x".repeat(wireLimits.maxChannelTextBytes + 1)),
      "post.text",
    ],
    [
      "an edit without target",
      { ...base, body: { case: "edit", value: { text: "x" } } },
      "messageId",
    ],
    [
      "a delete naming a bad id",
      { ...base, body: { case: "delete", value: { messageId: "no spaces" } } },
      "messageId",
    ],
    [
      "a pin without target",
      { ...base, body: { case: "pin", value: { pinned: true } } },
      "messageId",
    ],
  ];
  for (const [what, init, field] of cases) {
    it(`refuses ${what}: RangeError on encode, DecodeError(invalid-field) on decode`, () => {
      expect(() => encodeChannelMessage(init)).toThrowError(RangeError);
      let caught: unknown;
      try {
        decodeChannelMessage(raw(init));
      } catch (error) {
        caught = error;
      }
      expect(isDecodeError(caught)).toBe(true);
      expect(caught).toMatchObject({
        reason: "invalid-field",
        path: expect.stringContaining(field),
      });
    });
  }

  it("accepts a text exactly at the limit", () => {
    const bytes = encodeChannelMessage(post("x".repeat(wireLimits.maxChannelTextBytes)));
    expect(decodeChannelMessage(bytes).body.case).toBe("post");
    expect(bytes.length).toBeLessThan(wireLimits.maxMessageBytes);
  });

  it("checks the content a pairwise message carries, and refuses an empty one", () => {
    expect(() => encodePairwiseContent({})).toThrowError(/content/);
    expect(() =>
      encodePairwiseContent({
        content: { case: "resyncRequest", value: { haveKeyId: new Uint8Array(7) } },
      }),
    ).toThrowError(/haveKeyId/);
    expect(() =>
      encodePairwiseContent({
        content: { case: "requestToJoin", value: { organizationId: new Uint8Array(3) } },
      }),
    ).toThrowError(/requestToJoin/);
    const bytes = encodePairwiseContent({
      content: { case: "resyncRequest", value: { channelId: "core", haveEpoch: 2n } },
    });
    const decoded = decodePairwiseContent(bytes);
    expect(decoded.content.case).toBe("resyncRequest");
    expect(
      decodeResyncRequest(encodeResyncRequest({ wantedKeyId: new Uint8Array(8) })).wantedKeyId,
    ).toHaveLength(8);
  });
});

/**
 * One test per negative of `message`: a RangeError when encoding it, a DecodeError
 * (`invalid-field`, at its `path`) when decoding its bytes.
 */
function refusesEach(
  message: "KeyUpdate" | "EpochRoster" | "LeafHandover" | "DelegateEvent",
  negatives: ReadonlyArray<{ readonly name: string; readonly init: object; readonly path: string }>,
): void {
  const codec = anyCodec(message);
  for (const { name, init, path } of negatives) {
    it(`refuses ${name}: RangeError on encode, DecodeError(invalid-field) at ${path} on decode`, () => {
      expect(() => encodeMessage(codec, init as never)).toThrowError(RangeError);
      let caught: unknown;
      try {
        decodeMessage(codec, toBinary(codec.schema, create(codec.schema, init as never)));
      } catch (error) {
        caught = error;
      }
      expect(isDecodeError(caught)).toBe(true);
      expect(caught).toMatchObject({ reason: "invalid-field", path });
    });
  }
}

describe("DelegateEvent rules (docs/DELEGATION.md)", () => {
  refusesEach("DelegateEvent", delegateEventNegatives);
});

describe("LeafHandover rules (docs/DELEGATION.md)", () => {
  refusesEach("LeafHandover", leafHandoverNegatives);

  it("carries a handover inside PairwiseContent, and refuses a broken one there", () => {
    const bytes = encodePairwiseContent({
      content: { case: "leafHandover", value: leafHandoverSample },
    });
    const decoded = decodePairwiseContent(bytes);
    expect(decoded.content.case).toBe("leafHandover");
    expect(decoded.content.value).toMatchObject({ leaf: 3, epoch: 5n });
    expect(() =>
      encodePairwiseContent({
        content: {
          case: "leafHandover",
          value: { ...leafHandoverSample, leafSecret: new Uint8Array(31) },
        },
      }),
    ).toThrowError(/PairwiseContent\.leafHandover\.leafSecret/);
  });
});

describe("keys signatures (MemberKeys, RosterLeaf: docs/DELEGATION.md)", () => {
  it("accepts none or 64 bytes, and refuses any other length both ways", () => {
    for (const length of [0, 64]) {
      const keys = { ...fullSamples.MemberKeys, keysSignature: new Uint8Array(length) };
      expect(decodeMemberKeys(encodeMemberKeys(keys)).keysSignature).toHaveLength(length);
    }
    for (const length of [1, 32, 63, 65, 128]) {
      const keys = { ...fullSamples.MemberKeys, keysSignature: new Uint8Array(length) };
      expect(() => encodeMemberKeys(keys)).toThrowError(/MemberKeys\.keysSignature/);
      const bytes = toBinary(MemberKeysSchema, create(MemberKeysSchema, keys));
      expect(() => decodeMemberKeys(bytes)).toThrowError(
        expect.objectContaining({ reason: "invalid-field", path: "MemberKeys.keysSignature" }),
      );
    }
  });
});

describe("KeyUpdate rules (chunk count, chunk index, entries)", () => {
  refusesEach("KeyUpdate", keyUpdateNegatives);

  it("derives the chunk bound from the largest roster: 99,999 recipients in 30 chunks of 3,400", () => {
    expect(wireLimits.maxKeyUpdateEntries).toBe(3_400);
    expect(wireLimits.maxKeyUpdateChunks).toBe(30);
    expect((wireLimits.maxKeyUpdateChunks - 1) * wireLimits.maxKeyUpdateEntries).toBeLessThan(
      wireLimits.maxRosterLeaves - 1,
    );
    expect(wireLimits.maxKeyUpdateChunks * wireLimits.maxKeyUpdateEntries).toBeGreaterThanOrEqual(
      wireLimits.maxRosterLeaves - 1,
    );
  });

  it("accepts the last chunk of the largest update, full, and a sealed one stays under 120 KiB", async () => {
    const last = {
      ...fullSamples.KeyUpdate,
      channelId: "x".repeat(wireLimits.maxIdLength),
      epoch: 2n ** 64n - 1n,
      chunkIndex: wireLimits.maxKeyUpdateChunks - 1,
      chunkCount: wireLimits.maxKeyUpdateChunks,
      entries: new Uint8Array(wireLimits.maxKeyUpdateEntries * wireLimits.keyUpdateEntryBytes),
    };
    expect(decodeKeyUpdate(encodeKeyUpdate(last))).toMatchObject({
      chunkIndex: last.chunkIndex,
      chunkCount: last.chunkCount,
    });
    const sealed = await sealEnvelope(
      {
        type: "key-update",
        organizationId: ownerId,
        clock: 2n ** 64n - 1n,
        contentTopic: keysTopic(ownerId, last.channelId),
        message: last,
      },
      owner,
    );
    expect(sealed.length).toBeLessThanOrEqual(120 * 1024);
  });
});

describe("epoch roster rules (EpochRoster: deltas and snapshot pages)", () => {
  refusesEach("EpochRoster", epochRosterNegatives);

  /** A leaf at the highest index: the longest encoding a leaf can have (signed: the largest). */
  const leaf = (index: number, signed = false) => ({
    index,
    identityKey: new Uint8Array(32).fill(0xa1),
    signingKey: new Uint8Array(32).fill(0xa2),
    prekey: new Uint8Array(32).fill(0xa3),
    keysSignature: new Uint8Array(signed ? 64 : 0).fill(0xa4),
    prekeyVersion: signed ? 2n ** 64n - 1n : 0n,
  });
  const highest = wireLimits.maxRosterLeaves - 1;
  const fullPage = (leaves: number) => ({
    ...rosterSnapshotPageSample,
    body: {
      case: "page" as const,
      value: {
        pageIndex: wireLimits.maxRosterPages - 1,
        pageCount: wireLimits.maxRosterPages,
        leafCount: wireLimits.maxRosterLeaves,
        firstLeaf: wireLimits.maxRosterLeaves - leaves,
        leaves: Array.from({ length: leaves }, (_, i) => leaf(highest - leaves + 1 + i)),
      },
    },
  });
  const sealedSize = async (message: Parameters<typeof encodeEpochRoster>[0]) =>
    (
      await sealEnvelope(
        {
          type: "epoch-roster",
          organizationId: ownerId,
          clock: 2n ** 40n,
          contentTopic: keysTopic(ownerId, "x".repeat(wireLimits.maxIdLength)),
          message: { ...message, channelId: "x".repeat(wireLimits.maxIdLength) },
        },
        owner,
      )
    ).length;

  it("a full page (1,000 leaves at the highest indexes) stays under 120 KiB sealed; 1,001 are refused", async () => {
    const size = await sealedSize(fullPage(wireLimits.maxRosterLeavesPerPage));
    expect(size).toBeLessThanOrEqual(120 * 1024);
    expect(() => encodeEpochRoster(fullPage(wireLimits.maxRosterLeavesPerPage + 1))).toThrowError(
      /page\.leaves: 1001 entries/,
    );
  });

  it("the largest delta (1,000 leaves written, or 500 signed, and 4,096 removed) stays under 120 KiB sealed; more is refused", async () => {
    let written = wireLimits.maxRosterLeavesPerPage;
    let signed = false;
    const delta = (removed: number) => ({
      ...rosterDeltaSample,
      body: {
        case: "delta" as const,
        value: {
          removedLeaves: Array.from({ length: removed }, (_, i) => highest - written - removed + i),
          leaves: Array.from({ length: written }, (_, i) =>
            leaf(highest - written + 1 + i, signed),
          ),
          leafCount: wireLimits.maxRosterLeaves,
        },
      },
    });
    const size = await sealedSize(delta(wireLimits.maxRosterRemovedLeaves));
    expect(size).toBeLessThanOrEqual(120 * 1024);
    expect(() => encodeEpochRoster(delta(wireLimits.maxRosterRemovedLeaves + 1))).toThrowError(
      /delta\.removedLeaves: 4097 entries/,
    );
    written = wireLimits.maxRosterLeavesPerPage / 2;
    signed = true;
    const signedSize = await sealedSize(delta(wireLimits.maxRosterRemovedLeaves));
    expect(signedSize).toBeLessThanOrEqual(120 * 1024);
    written += 1;
    expect(() => encodeEpochRoster(delta(0))).toThrowError(/counts twice/);
  });

  it("a removal costs a few bytes whatever the roster size", () => {
    const removal = (leafCount: number, removed: number) =>
      encodeEpochRoster({
        ...rosterDeltaSample,
        body: { case: "delta", value: { removedLeaves: [removed], leafCount } },
      }).length;
    expect(removal(30_000, 29_999) - removal(10, 9)).toBeLessThanOrEqual(4);
    expect(removal(30_000, 29_999)).toBeLessThan(160);
  });

  it("accepts a genesis page, a page of holes, and an empty delta (a refresh with the same roster)", () => {
    expect(
      decodeEpochRoster(
        encodeEpochRoster({
          ...rosterSnapshotPageSample,
          body: {
            case: "page",
            value: { pageIndex: 1, pageCount: 2, leafCount: 10, firstLeaf: 5, leaves: [] },
          },
        }),
      ).body.case,
    ).toBe("page");
    const refresh = decodeEpochRoster(
      encodeEpochRoster({
        ...rosterDeltaSample,
        change: RosterChangeKind.REKEY,
        body: { case: "delta", value: { leafCount: 6 } },
      }),
    );
    expect(refresh.body.case === "delta" && refresh.body.value.leaves).toEqual([]);
  });
});
