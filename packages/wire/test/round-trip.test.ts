import { create, equals } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as wire from "../src/index.js";
import { codecs, decodeMessage, encodeMessage } from "../src/schema.js";
import { anyCodec, fullSamples, messageNames, minimalSamples, sampleOf } from "./fixtures.js";

describe("encodeX() / decodeX()", () => {
  for (const name of messageNames) {
    const codec = anyCodec(name);
    for (const [variant, samples] of [
      ["minimal", minimalSamples],
      ["full", fullSamples],
    ] as const) {
      it(`round-trips a ${variant} ${name}`, () => {
        const original = create(codec.schema, sampleOf(samples, name));
        const bytes = encodeMessage(codec, original);
        const decoded = decodeMessage(codec, bytes);
        expect(equals(codec.schema, decoded, original)).toBe(true);
        // Encoding is stable: the decoded message encodes to the same bytes.
        expect(encodeMessage(codec, decoded)).toEqual(bytes);
      });
    }

    it(`exports encode${name === "SignedEnvelope" ? "Message" : name} and decode${name} that use the ${name} schema`, () => {
      const decode = (wire as Record<string, unknown>)[`decode${name}`] as (
        b: Uint8Array,
      ) => unknown;
      expect(typeof decode).toBe("function");
      const bytes = encodeMessage(codec, sampleOf(fullSamples, name));
      const decoded = decode(bytes) as ReturnType<typeof decodeMessage>;
      expect(equals(codec.schema, decoded, decodeMessage(codec, bytes))).toBe(true);
      if (name !== "SignedEnvelope") {
        const encode = (wire as Record<string, unknown>)[`encode${name}`] as (
          m: unknown,
        ) => Uint8Array;
        expect(encode(fullSamples[name])).toEqual(bytes);
      }
    });
  }

  it("keeps unknown fields from a newer peer through decode and re-encode", () => {
    const known = encodeMessage(
      codecs.OrganizationRequestToLeave,
      fullSamples.OrganizationRequestToLeave,
    );
    // field 199, length-delimited, 3 bytes: what a later version might add.
    const extended = new Uint8Array([...known, 0xba, 0x0c, 0x03, 0x61, 0x62, 0x63]);
    const decoded = wire.decodeOrganizationRequestToLeave(extended);
    expect(decoded.organizationId).toEqual(fullSamples.OrganizationRequestToLeave.organizationId);
    expect(encodeMessage(codecs.OrganizationRequestToLeave, decoded)).toEqual(extended);
  });
});
