import { create, equals, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeChannelMessage, encodeChannelMessage } from "../src/index.js";
import { ChannelMessageSchema, codecs, decodeMessage, encodeMessage } from "../src/schema.js";

/** Strings the encoder meets: ids, ASCII, any UTF-16 (lone surrogates included), long ones. */
const anyText = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }),
  fc.string({ unit: "grapheme", minLength: 100, maxLength: 400 }),
);
const eventId = fc.oneof(
  fc.constant(""),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("hex")),
);
const uint64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: 0n, max: 300n }),
);
const body = fc.oneof(
  fc.record(
    { case: fc.constant("post" as const), value: fc.record({ text: anyText, replyTo: eventId }) },
    { requiredKeys: ["case"] },
  ),
  fc.record({
    case: fc.constant("edit" as const),
    value: fc.record({ messageId: eventId, text: anyText }, { requiredKeys: [] }),
  }),
  fc.record({
    case: fc.constant("delete" as const),
    value: fc.record({ messageId: eventId }, { requiredKeys: [] }),
  }),
  fc.record({
    case: fc.constant("pin" as const),
    value: fc.record({ messageId: eventId, pinned: fc.boolean() }, { requiredKeys: [] }),
  }),
);
const channelMessage = fc.record(
  {
    organizationId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    channelId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    author: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    clock: uint64,
    sentAt: uint64,
    body,
  },
  { requiredKeys: ["organizationId", "channelId", "author", "body"] },
);

/** What the generic path gives: `encodeMessage`'s bytes, or the error it throws. */
function generic(init: Parameters<typeof encodeChannelMessage>[0]): Uint8Array | string {
  try {
    return encodeMessage(codecs.ChannelMessage, init);
  } catch (error) {
    return String(error);
  }
}

function direct(init: Parameters<typeof encodeChannelMessage>[0]): Uint8Array | string {
  try {
    return encodeChannelMessage(init);
  } catch (error) {
    return String(error);
  }
}

describe("encodeChannelMessage (the direct encoder)", () => {
  it("writes the bytes toBinary writes, and refuses what encodeMessage refuses, with the same error", () => {
    fc.assert(
      fc.property(channelMessage, (init) => {
        expect(direct(init)).toEqual(generic(init));
        const bytes = direct(init);
        if (typeof bytes !== "string") {
          expect(bytes).toEqual(toBinary(ChannelMessageSchema, create(ChannelMessageSchema, init)));
        }
      }),
      { numRuns: 2000, seed: 14 },
    );
  });

  it("refuses a missing body, a bad channel id, a short key and a clock beyond uint64", () => {
    const base = {
      organizationId: new Uint8Array(32).fill(1),
      channelId: "general",
      author: new Uint8Array(32).fill(2),
      clock: 1n,
      sentAt: 2n,
      body: { case: "post" as const, value: { text: "hi", replyTo: "" } },
    };
    expect(() => encodeChannelMessage({ ...base, body: { case: undefined } })).toThrow(
      /ChannelMessage\.body: missing/,
    );
    expect(() => encodeChannelMessage({ ...base, channelId: "a b" })).toThrow(/channelId/);
    expect(() => encodeChannelMessage({ ...base, author: new Uint8Array(31) })).toThrow(/author/);
    expect(() => encodeChannelMessage({ ...base, clock: 2n ** 64n })).toThrow(RangeError);
    expect(() => encodeChannelMessage({ ...base, sentAt: -1n })).toThrow(RangeError);
    const text = "x".repeat(64 * 1024);
    expect(direct({ ...base, body: { case: "post", value: { text, replyTo: "" } } })).toEqual(
      generic({ ...base, body: { case: "post", value: { text, replyTo: "" } } }),
    );
  });

  it("takes a message made by create() (unknown fields kept) the generic way", () => {
    const message = create(ChannelMessageSchema, {
      organizationId: new Uint8Array(32).fill(1),
      channelId: "general",
      author: new Uint8Array(32).fill(2),
      clock: 5n,
      body: { case: "pin", value: { messageId: "ab".repeat(32), pinned: true } },
    });
    message.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([7]) }];
    expect(encodeChannelMessage(message)).toEqual(toBinary(ChannelMessageSchema, message));
  });
});

/** What the generic decoder gives: the message, or its error (name, reason, detail). */
function genericDecode(bytes: Uint8Array): unknown {
  try {
    return decodeMessage(codecs.ChannelMessage, bytes);
  } catch (error) {
    return String(error);
  }
}

function directDecode(bytes: Uint8Array): unknown {
  try {
    return decodeChannelMessage(bytes);
  } catch (error) {
    return String(error);
  }
}

/** Bytes near valid ones: flipped, cut, extended, a field appended, an unknown field, a byte set. */
const nearBytes = fc
  .tuple(channelMessage, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 6 }))
  .map(([init, at, byte, how]) => {
    const bytes = direct(init);
    const valid = typeof bytes === "string" ? new Uint8Array([0x0a, 0x00]) : bytes;
    const i = valid.length === 0 ? 0 : at % valid.length;
    switch (how) {
      case 0: {
        const out = valid.slice();
        out[i] = byte;
        return out;
      }
      case 1:
        return valid.slice(0, i);
      case 2:
        return Uint8Array.from([...valid, byte]);
      case 3:
        // Field 99 (varint): an unknown field, kept by the generic decoder.
        return Uint8Array.from([...valid, 0x98, 0x06, byte & 0x7f]);
      case 4:
        // The same field twice (the last wins in protobuf).
        return Uint8Array.from([...valid, 0x12, 0x01, 0x61]);
      case 5:
        // A non-minimal varint for the clock.
        return Uint8Array.from([...valid, 0x20, 0x81, 0x00]);
      default:
        return valid;
    }
  });

describe("decodeChannelMessage (the direct decoder of canonical bytes)", () => {
  it("gives what the generic decoder gives, message or error, for valid and damaged bytes", () => {
    fc.assert(
      fc.property(fc.oneof(nearBytes, fc.uint8Array({ maxLength: 120 })), (bytes) => {
        const mine = directDecode(bytes);
        const theirs = genericDecode(bytes);
        if (typeof theirs === "string") expect(mine).toBe(theirs);
        else expect(equals(ChannelMessageSchema, mine as never, theirs as never)).toBe(true);
      }),
      { numRuns: 3000, seed: 14 },
    );
  });

  it("reads back every valid message it encodes", () => {
    fc.assert(
      fc.property(channelMessage, (init) => {
        const bytes = direct(init);
        if (typeof bytes === "string") return;
        const decoded = decodeChannelMessage(bytes);
        expect(equals(ChannelMessageSchema, decoded, genericDecode(bytes) as never)).toBe(true);
      }),
      { numRuns: 1000, seed: 15 },
    );
  });
});

describe("the direct ChannelMessage codec and the schema", () => {
  it("knows every field the schema has (a field added to the .proto must be taught to channel-message-codec.ts)", () => {
    // What the direct encoder writes and the direct decoder reads, by message: name = number.
    const known: Record<string, string[]> = {
      "orgchat.v1.ChannelMessage": [
        "organization_id=1",
        "channel_id=2",
        "author=3",
        "clock=4",
        "sent_at=5",
        "post=6",
        "edit=7",
        "delete=8",
        "pin=9",
      ],
      "orgchat.v1.ChannelPost": ["text=1", "reply_to=2"],
      "orgchat.v1.ChannelEdit": ["message_id=1", "text=2"],
      "orgchat.v1.ChannelDelete": ["message_id=1"],
      "orgchat.v1.ChannelPin": ["message_id=1", "pinned=2"],
    };
    const seen: Record<string, string[]> = {};
    seen[ChannelMessageSchema.typeName] = ChannelMessageSchema.fields.map(
      (f) => `${f.name}=${f.number}`,
    );
    for (const field of ChannelMessageSchema.fields) {
      if (field.fieldKind === "message") {
        seen[field.message.typeName] = field.message.fields.map((f) => `${f.name}=${f.number}`);
      }
    }
    expect(seen).toEqual(known);
  });
});
