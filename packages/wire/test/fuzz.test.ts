import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isDecodeError, openEnvelope } from "../src/index.js";
import {
  codecs,
  decodeMessage,
  encodeMessage,
  type MessageName,
  SignedEnvelopeSchema,
} from "../src/schema.js";
import {
  anyCodec,
  fullSamples,
  messageNames,
  minimalSamples,
  sampleOf,
  verifyEd25519,
} from "./fixtures.js";

// CI runs a short profile; `pnpm --filter @orgchat/wire fuzz:long` runs 100x more by hand.
const runs = Number(process.env.ORGCHAT_FUZZ_RUNS ?? 5000);
// A fixed seed keeps CI deterministic; the long profile picks a fresh one and prints it.
const seed = Number(process.env.ORGCHAT_FUZZ_SEED ?? 0x0c0ffee);

function validEncodings(name: MessageName): Uint8Array[] {
  return [minimalSamples, fullSamples].map((samples) =>
    encodeMessage(anyCodec(name), sampleOf(samples, name)),
  );
}

/** Only a DecodeError may escape a decoder; anything else (or a hang) fails the property. */
function decodesOrThrowsDecodeError(name: MessageName, bytes: Uint8Array): boolean {
  try {
    decodeMessage(anyCodec(name), bytes);
    return true;
  } catch (error) {
    if (isDecodeError(error)) return true;
    throw error;
  }
}

const mutation = (seedBytes: Uint8Array[]) =>
  fc
    .tuple(
      fc.constantFrom(...seedBytes),
      fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant("flip" as const),
            at: fc.nat(),
            bit: fc.integer({ min: 0, max: 7 }),
          }),
          fc.record({
            kind: fc.constant("set" as const),
            at: fc.nat(),
            value: fc.integer({ min: 0, max: 255 }),
          }),
          fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
          fc.record({
            kind: fc.constant("insert" as const),
            at: fc.nat(),
            bytes: fc.uint8Array({ maxLength: 8 }),
          }),
          fc.record({
            kind: fc.constant("delete" as const),
            at: fc.nat(),
            length: fc.integer({ min: 1, max: 8 }),
          }),
        ),
        { minLength: 1, maxLength: 6 },
      ),
    )
    .map(([original, edits]) => {
      let bytes = Uint8Array.from(original);
      for (const edit of edits) {
        const at = bytes.length === 0 ? 0 : edit.at % (bytes.length + 1);
        switch (edit.kind) {
          case "flip":
            if (at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << edit.bit);
            break;
          case "set":
            if (at < bytes.length) bytes[at] = edit.value;
            break;
          case "truncate":
            bytes = bytes.subarray(0, at);
            break;
          case "insert":
            bytes = Uint8Array.from([
              ...bytes.subarray(0, at),
              ...edit.bytes,
              ...bytes.subarray(at),
            ]);
            break;
          case "delete":
            bytes = Uint8Array.from([
              ...bytes.subarray(0, at),
              ...bytes.subarray(at + edit.length),
            ]);
            break;
        }
      }
      return bytes;
    });

describe("decoders under fuzzing", () => {
  for (const name of messageNames) {
    it(`decode${name}: random bytes yield a message or a DecodeError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) =>
          decodesOrThrowsDecodeError(name, bytes),
        ),
        { numRuns: runs, seed },
      );
    });

    it(`decode${name}: mutated valid encodings yield a message or a DecodeError`, () => {
      fc.assert(
        fc.property(mutation(validEncodings(name)), (bytes) =>
          decodesOrThrowsDecodeError(name, bytes),
        ),
        { numRuns: runs, seed },
      );
    });

    it(`decode${name}: any valid encoding of another message yields a message or a DecodeError`, () => {
      const others = messageNames.filter((other) => other !== name).flatMap(validEncodings);
      for (const bytes of others) expect(decodesOrThrowsDecodeError(name, bytes)).toBe(true);
    });
  }

  it("deeply nested unknown groups are a DecodeError, not a stack overflow", () => {
    // 100k nested start-group tags (field 15, wire type 3): a classic recursion bomb.
    const depth = 100_000;
    const bytes = new Uint8Array(depth).fill((15 << 3) | 3);
    expect(() => decodeMessage(codecs.Grant, bytes)).toThrowError(
      expect.objectContaining({ name: "DecodeError" }),
    );
  });

  it("openEnvelope: mutated envelopes are refused with a typed error", async () => {
    const base = toBinary(
      SignedEnvelopeSchema,
      create(SignedEnvelopeSchema, fullSamples.SignedEnvelope),
    );
    const typed = new Set(["DecodeError", "InvalidSignatureError", "EnvelopeMismatchError"]);
    await fc.assert(
      fc.asyncProperty(mutation([base]), async (bytes) => {
        try {
          await openEnvelope(bytes, {
            contentTopic: fullSamples.SignedEnvelope.contentTopic ?? "",
            verify: verifyEd25519,
          });
          return false; // the sample's signature is not valid, so nothing may open
        } catch (error) {
          return typed.has((error as Error).name);
        }
      }),
      { numRuns: Math.max(100, Math.floor(runs / 5)), seed },
    );
  });
});
