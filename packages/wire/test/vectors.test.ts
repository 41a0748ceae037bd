import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import {
  channelTopic,
  descriptionTopic,
  envelopeSigningInput,
  inboxTopic,
  keysTopic,
  type MessageTypeName,
  openEnvelope,
  requestsTopic,
} from "../src/index.js";
import { codecs, decodeMessage, encodeMessage, type MessageName } from "../src/schema.js";
import { anyCodec, openOptions, type VectorContext } from "./fixtures.js";

function load<T>(name: string): T {
  const path = fileURLToPath(new URL(`../../../vectors/wire/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

interface Messages {
  vectors: Array<{ name: string; message: MessageName; json: unknown; hex: string }>;
  negative: Array<{
    name: string;
    message: MessageName;
    hex: string;
    error: string;
    reason: string;
  }>;
}
interface Topics {
  vectors: Array<{ kind: string; keyHex: string; channelId?: string; contentTopic: string }>;
}
type Context = VectorContext;
interface Envelopes {
  vectors: Array<{
    name: string;
    type: MessageTypeName;
    wireType: number;
    signerHex: string;
    organizationIdHex: string;
    clock: string;
    contentTopic: string;
    payloadHex: string;
    signingInputHex: string;
    envelopeHex: string;
    open: Context;
  }>;
  negative: Array<{
    name: string;
    envelopeHex: string;
    open: Context;
    error: string;
    reason?: string;
    field?: string;
  }>;
}

const messages = load<Messages>("messages.json");
const topics = load<Topics>("topics.json");
const envelopes = load<Envelopes>("envelopes.json");

describe("vectors/wire/messages.json", () => {
  it("covers every message, minimal and full", () => {
    const names = new Set(messages.vectors.map((vector) => vector.name));
    for (const message of Object.keys(codecs)) {
      expect(names).toContain(`${message}/minimal`);
      expect(names).toContain(`${message}/full`);
    }
  });

  for (const vector of messages.vectors) {
    it(`${vector.name}: JSON encodes to the hex and the hex decodes to the JSON`, () => {
      const codec = anyCodec(vector.message);
      const fromVector = fromJson(codec.schema, vector.json as JsonValue);
      expect(bytesToHex(encodeMessage(codec, fromVector))).toBe(vector.hex);
      expect(toJson(codec.schema, decodeMessage(codec, hexToBytes(vector.hex)))).toEqual(
        vector.json,
      );
    });
  }

  for (const vector of messages.negative) {
    it(`${vector.name}: fails with ${vector.error} (${vector.reason})`, () => {
      expect(() => decodeMessage(anyCodec(vector.message), hexToBytes(vector.hex))).toThrowError(
        expect.objectContaining({ name: vector.error, reason: vector.reason }),
      );
    });
  }
});

describe("vectors/wire/topics.json", () => {
  for (const vector of topics.vectors) {
    it(`${vector.kind} ${vector.channelId ?? ""} for ${vector.keyHex.slice(0, 8)}…`, () => {
      const key = hexToBytes(vector.keyHex);
      const derived =
        vector.kind === "description"
          ? descriptionTopic(key)
          : vector.kind === "requests"
            ? requestsTopic(key)
            : vector.kind === "inbox"
              ? inboxTopic(key)
              : vector.kind === "keys"
                ? keysTopic(key, vector.channelId)
                : channelTopic(key, vector.channelId ?? "");
      expect(derived).toBe(vector.contentTopic);
    });
  }
});

describe("vectors/wire/envelopes.json", () => {
  for (const vector of envelopes.vectors) {
    it(`${vector.name}: opens to the recorded payload and signing input`, async () => {
      const opened = await openEnvelope(hexToBytes(vector.envelopeHex), openOptions(vector.open));
      expect(opened.type).toBe(vector.type);
      expect(bytesToHex(opened.signer)).toBe(vector.signerHex);
      expect(opened.clock).toBe(BigInt(vector.clock));
      expect(bytesToHex(opened.payload)).toBe(vector.payloadHex);
      const input = envelopeSigningInput({
        version: 1,
        wireType: vector.wireType,
        organizationId: hexToBytes(vector.organizationIdHex),
        clock: BigInt(vector.clock),
        contentTopic: vector.contentTopic,
        signatureScheme: 1,
        signer: hexToBytes(vector.signerHex),
        payload: hexToBytes(vector.payloadHex),
      });
      expect(bytesToHex(input)).toBe(vector.signingInputHex);
    });
  }

  for (const vector of envelopes.negative) {
    it(`${vector.name}: fails with ${vector.error}`, async () => {
      const expected: Record<string, unknown> = { name: vector.error };
      if (vector.reason !== undefined) expected.reason = vector.reason;
      if (vector.field !== undefined) expected.field = vector.field;
      await expect(
        openEnvelope(hexToBytes(vector.envelopeHex), openOptions(vector.open)),
      ).rejects.toThrowError(expect.objectContaining(expected));
    });
  }
});
