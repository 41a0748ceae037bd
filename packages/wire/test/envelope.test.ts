import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { equalBytes } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import {
  channelTopic,
  descriptionTopic,
  type EnvelopeSigner,
  envelopeSigningInput,
  inboxTopic,
  keysTopic,
  messageTypeName,
  messageTypes,
  openEnvelope,
  requestsTopic,
  type SealEnvelopeInit,
  sealEnvelope,
  wireLimits,
} from "../src/index.js";
import { SignedEnvelopeSchema } from "../src/schema.js";
import {
  fullSamples,
  member,
  outsider,
  owner,
  ownerId,
  rosterDeltaSample,
  rosterPageSample,
  verifyEd25519,
} from "./fixtures.js";

const descTopic = descriptionTopic(ownerId);
const reqTopic = requestsTopic(ownerId);

/** Seals a member's request to leave; `init` and `signer` override the parts a test breaks. */
function sealLeave(
  init: Partial<SealEnvelopeInit<"organization-request-to-leave">> = {},
  signer: EnvelopeSigner = member,
) {
  return sealEnvelope(
    {
      type: "organization-request-to-leave",
      organizationId: ownerId,
      clock: 1n,
      contentTopic: reqTopic,
      message: { clock: 1n, organizationId: ownerId },
      ...init,
    },
    signer,
  );
}

async function sealedDescription(clock = 42n) {
  return sealEnvelope(
    {
      type: "organization-description",
      organizationId: ownerId,
      clock,
      contentTopic: descTopic,
      message: { ...fullSamples.OrganizationDescription, clock },
    },
    owner,
  );
}

async function sealedRequest() {
  return sealEnvelope(
    {
      type: "organization-request-to-join",
      organizationId: ownerId,
      clock: 11n,
      contentTopic: reqTopic,
      message: fullSamples.OrganizationRequestToJoin,
    },
    member,
  );
}

describe("sealEnvelope() / openEnvelope()", () => {
  it("opens what it seals, with the payload decoded and the signer named", async () => {
    const opened = await openEnvelope(await sealedDescription(), {
      contentTopic: descTopic,
      organizationId: ownerId,
      accept: ["organization-description"],
      verify: verifyEd25519,
    });
    expect(opened.type).toBe("organization-description");
    if (opened.type !== "organization-description") throw new Error("narrowing");
    expect(opened.message.identity?.displayName).toBe("Acme — Ünïcode ✓");
    expect(opened.signer).toEqual(ownerId);
    expect(opened.clock).toBe(42n);
    expect(opened.signatureScheme).toBe("ed25519");
  });

  it("names a member as the signer of its own request to join", async () => {
    const opened = await openEnvelope(await sealedRequest(), {
      contentTopic: reqTopic,
      verify: verifyEd25519,
    });
    expect(opened.type).toBe("organization-request-to-join");
    expect(opened.signer).toEqual(member.publicKey);
  });

  it("accepts an async verifier and signer (WebCrypto style)", async () => {
    const bytes = await sealEnvelope(
      {
        type: "grant",
        organizationId: ownerId,
        clock: 9n,
        contentTopic: channelTopic(ownerId, "general"),
        message: fullSamples.Grant,
      },
      { ...owner, sign: async (message) => owner.sign(message) },
    );
    const opened = await openEnvelope(bytes, {
      contentTopic: channelTopic(ownerId, "general"),
      verify: async (request) => verifyEd25519(request),
    });
    expect(opened.type).toBe("grant");
  });

  it("rejects a verifier that throws as an invalid signature", async () => {
    await expect(
      openEnvelope(await sealedRequest(), {
        contentTopic: reqTopic,
        verify: () => {
          throw new Error("not a curve point");
        },
      }),
    ).rejects.toThrowError(expect.objectContaining({ name: "InvalidSignatureError" }));
  });

  it("rejects a verifier that returns a truthy non-boolean", async () => {
    await expect(
      openEnvelope(await sealedRequest(), {
        contentTopic: reqTopic,
        verify: () => 1 as unknown as boolean,
      }),
    ).rejects.toThrowError(expect.objectContaining({ name: "InvalidSignatureError" }));
  });

  it("signature covers every context field: changing any one breaks it", async () => {
    const envelope = fromBinary(SignedEnvelopeSchema, await sealedRequest());
    const variants: Array<[string, (e: typeof envelope) => void]> = [
      [
        "clock",
        (e) => {
          e.clock += 1n;
        },
      ],
      [
        "contentTopic",
        (e) => {
          e.contentTopic = inboxTopic(member.publicKey);
        },
      ],
      [
        "payload",
        (e) => {
          e.payload = Uint8Array.from([...e.payload, 0x28, 0x01]);
        },
      ],
      [
        "signer",
        (e) => {
          e.signer = outsider.publicKey;
        },
      ],
    ];
    for (const [field, change] of variants) {
      const copy = create(SignedEnvelopeSchema, envelope);
      change(copy);
      await expect(
        openEnvelope(toBinary(SignedEnvelopeSchema, copy), {
          contentTopic: copy.contentTopic,
          verify: verifyEd25519,
        }),
        field,
      ).rejects.toThrowError(
        expect.objectContaining({
          name: expect.stringMatching(/InvalidSignatureError|EnvelopeMismatchError/),
        }),
      );
    }
  });

  it("refuses to seal an owner-only type with a member key", async () => {
    await expect(
      sealEnvelope(
        {
          type: "organization-description",
          organizationId: ownerId,
          clock: 1n,
          contentTopic: descTopic,
          message: { clock: 1n },
        },
        member,
      ),
    ).rejects.toThrowError(RangeError);
  });

  it("refuses to seal when the envelope clock differs from the payload clock", async () => {
    await expect(
      sealEnvelope(
        {
          type: "organization-description",
          organizationId: ownerId,
          clock: 2n,
          contentTopic: descTopic,
          message: { clock: 1n },
        },
        owner,
      ),
    ).rejects.toThrowError(/clock/);
  });

  it("refuses to seal when the payload names another organization", async () => {
    await expect(
      sealLeave({ message: { clock: 1n, organizationId: outsider.publicKey } }),
    ).rejects.toThrowError(/organizationId/);
  });

  it("refuses an invalid content topic and a short organization id", async () => {
    await expect(sealLeave({ contentTopic: "not-a-topic" })).rejects.toThrowError(/contentTopic/);
    await expect(sealLeave({ organizationId: ownerId.subarray(1) })).rejects.toThrowError(
      RangeError,
    );
  });

  it("refuses a signer that returns a wrong-sized signature", async () => {
    await expect(sealLeave({}, { ...member, sign: () => new Uint8Array(10) })).rejects.toThrowError(
      TypeError,
    );
  });

  it("refuses to seal an envelope over 150 KiB", async () => {
    const huge = new Uint8Array(wireLimits.maxMessageBytes);
    await expect(
      sealEnvelope(
        {
          type: "organization-invitation",
          organizationId: ownerId,
          clock: 0n,
          contentTopic: inboxTopic(member.publicKey),
          message: { publicKey: ownerId, organizationDescription: huge },
        },
        owner,
      ),
    ).rejects.toThrowError(/150|153600|limit/);
  });

  it("honours maxBytes when opening", async () => {
    const bytes = await sealedDescription();
    await expect(
      openEnvelope(bytes, { contentTopic: descTopic, verify: verifyEd25519, maxBytes: 100 }),
    ).rejects.toThrowError(expect.objectContaining({ name: "DecodeError", reason: "oversized" }));
  });
});

describe("description pages in envelopes", () => {
  const page = (
    message: SealEnvelopeInit<"description-page">["message"] = rosterPageSample,
    clock = 42n,
    signer: EnvelopeSigner = owner,
  ) =>
    sealEnvelope(
      {
        type: "description-page",
        organizationId: ownerId,
        clock,
        contentTopic: descTopic,
        message,
      },
      signer,
    );

  it("opens a header and a roster page signed by the organization key", async () => {
    for (const message of [fullSamples.DescriptionPage, rosterPageSample]) {
      const opened = await openEnvelope(await page(message), {
        contentTopic: descTopic,
        organizationId: ownerId,
        accept: ["description-page"],
        verify: verifyEd25519,
      });
      if (opened.type !== "description-page") throw new Error("narrowing");
      expect(opened.message.clock).toBe(42n);
      expect(opened.message.index !== undefined).toBe(message === fullSamples.DescriptionPage);
    }
  });

  it("is owner-only and binds the page clock to the envelope's", async () => {
    await expect(page(rosterPageSample, 42n, member)).rejects.toThrowError(RangeError);
    await expect(page(rosterPageSample, 43n)).rejects.toThrowError(/clock/);
    expect(messageTypes["description-page"]).toMatchObject({
      wireType: 48,
      signer: "organization",
    });
  });
});

describe("delegated commits and bundles (docs/DELEGATION.md)", () => {
  const topic = keysTopic(ownerId, "core");
  const sealRoster = (signer: EnvelopeSigner) =>
    sealEnvelope(
      {
        type: "epoch-roster",
        organizationId: ownerId,
        clock: 20n,
        contentTopic: topic,
        message: rosterDeltaSample,
      },
      signer,
    );

  it("opens a delegate's epoch roster only when the receiver names the delegate", async () => {
    const bytes = await sealRoster(member);
    const base = { contentTopic: topic, organizationId: ownerId, verify: verifyEd25519 };
    await expect(openEnvelope(bytes, base)).rejects.toMatchObject({
      name: "EnvelopeMismatchError",
      field: "signer",
    });
    await expect(
      openEnvelope(bytes, { ...base, committers: (key) => equalBytes(key, outsider.publicKey) }),
    ).rejects.toMatchObject({ name: "EnvelopeMismatchError", field: "signer" });
    const opened = await openEnvelope(bytes, {
      ...base,
      committers: (key) => equalBytes(key, member.publicKey),
    });
    expect(opened.type).toBe("epoch-roster");
    expect(opened.signer).toEqual(member.publicKey);
  });

  it("never asks about the organization key, and still refuses a delegate's description", async () => {
    const asked: Uint8Array[] = [];
    const committers = (key: Uint8Array) => {
      asked.push(key);
      return true;
    };
    const opened = await openEnvelope(await sealRoster(owner), {
      contentTopic: topic,
      verify: verifyEd25519,
      committers,
    });
    expect(opened.signer).toEqual(ownerId);
    expect(asked).toEqual([]);
    await expect(
      sealEnvelope(
        {
          type: "organization-description",
          organizationId: ownerId,
          clock: 42n,
          contentTopic: descTopic,
          message: { ...fullSamples.OrganizationDescription, clock: 42n },
        },
        member,
      ),
    ).rejects.toThrowError(RangeError);
  });

  it("opens a delegate bundle signed by the key it names, and refuses one for another key", async () => {
    const message = { ...fullSamples.PrekeyBundle, identityKey: member.publicKey };
    const init = {
      type: "delegate-bundle" as const,
      organizationId: ownerId,
      clock: 3n,
      contentTopic: descTopic,
      message,
    };
    const opened = await openEnvelope(await sealEnvelope(init, member), {
      contentTopic: descTopic,
      verify: verifyEd25519,
      accept: ["delegate-bundle"],
    });
    expect(opened.type).toBe("delegate-bundle");
    await expect(sealEnvelope(init, outsider)).rejects.toThrowError(/author key/);
  });
});

describe("messageTypes", () => {
  it("gives every registered type a distinct wire number that maps back to it", () => {
    const numbers = Object.values(messageTypes).map((entry) => entry.wireType);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const [name, entry] of Object.entries(messageTypes)) {
      expect(messageTypeName(entry.wireType)).toBe(name);
    }
    expect(messageTypeName(0)).toBeUndefined();
  });
});

describe("envelopeSigningInput()", () => {
  it("starts with the domain label and a zero byte, and length-prefixes variable fields", () => {
    const input = envelopeSigningInput({
      version: 1,
      wireType: 3,
      organizationId: new Uint8Array([0xaa]),
      clock: 0x0102n,
      contentTopic: "/a/1/b/c",
      signatureScheme: 1,
      signer: new Uint8Array([0xbb]),
      payload: new Uint8Array([0xcc, 0xdd]),
    });
    const hex = Buffer.from(input).toString("hex");
    expect(hex).toBe(
      Buffer.from("orgchat/v1/envelope\0").toString("hex") +
        "00000001" +
        "00000003" +
        "00000001aa" +
        "0000000000000102" +
        "00000008" +
        Buffer.from("/a/1/b/c").toString("hex") +
        "00000001" +
        "00000001bb" +
        "00000002ccdd",
    );
  });

  it("rejects a clock outside uint64", () => {
    const base = {
      version: 1,
      wireType: 1,
      organizationId: ownerId,
      contentTopic: descTopic,
      signatureScheme: 1,
      signer: ownerId,
      payload: new Uint8Array(),
    };
    expect(() => envelopeSigningInput({ ...base, clock: -1n })).toThrowError(RangeError);
    expect(() => envelopeSigningInput({ ...base, clock: 1n << 64n })).toThrowError(RangeError);
  });
});
