import { proto_message } from "@waku/proto";
import { describe, expect, it } from "vitest";
import { encodeWakuMessage } from "../src/waku-message.js";
import { decodeWakuMessageFast } from "../src/waku-message-decode.js";

/** Deterministic xorshift32 in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** A message as a publisher might encode it, with every optional field sometimes present. */
function randomMessage(next: () => number): Uint8Array {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  const message: Partial<proto_message.WakuMessage> = {
    payload: bytes(pick([0, 1, 127, 128, 300, 2_000])),
    contentTopic: pick(["/org-chat/1/c-1/proto", "", "/é/1/ü/proto", "/a/b/c/d", "x".repeat(200)]),
  };
  if (next() < 0.9) message.version = pick([0, 1, 127, 128, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]);
  if (next() < 0.9) {
    message.timestamp = pick([
      0n,
      1n,
      -1n,
      1_700_000_000_123_456_789n,
      -1_700_000_000_123_456_789n,
      2n ** 62n,
      -(2n ** 62n),
      2n ** 63n - 1n,
    ]);
  }
  if (next() < 0.5) message.meta = bytes(pick([0, 5, 64]));
  if (next() < 0.3) message.ephemeral = next() < 0.5;
  if (next() < 0.05) {
    message.rateLimitProof = {
      proof: bytes(8),
      merkleRoot: bytes(4),
      epoch: bytes(4),
      shareX: bytes(4),
      shareY: bytes(4),
      nullifier: bytes(4),
      rlnIdentifier: bytes(4),
    };
  }
  return proto_message.WakuMessage.encode(message);
}

/** What protons decodes, or "throws". */
function reference(bytes: Uint8Array): proto_message.WakuMessage | "throws" {
  try {
    return proto_message.WakuMessage.decode(bytes);
  } catch {
    return "throws";
  }
}

describe("decodeWakuMessageFast", () => {
  it("decodes what a relay publishes, as @waku/proto does", () => {
    const bytes = encodeWakuMessage({
      contentTopic: "/org-chat/1/general/proto",
      payload: new Uint8Array(256).fill(3),
      timestampNs: 1_700_000_000_123_456_789n,
    });
    const fast = decodeWakuMessageFast(bytes);
    expect(fast).toBeDefined();
    expect(fast).toEqual(proto_message.WakuMessage.decode(bytes));
  });

  it("answers what @waku/proto decodes, or nothing, on generated and mutated messages", () => {
    const next = random(0x5eed);
    let fastAnswers = 0;
    for (let i = 0; i < 2_000; i++) {
      const original = randomMessage(next);
      const variants = [original];
      const flipped = original.slice();
      flipped[Math.floor(next() * flipped.length)] = Math.floor(next() * 256);
      variants.push(flipped, original.subarray(0, Math.floor(next() * original.length)));
      const extended = new Uint8Array(original.length + 2);
      extended.set(original);
      extended.set([0x18, 0x05], original.length);
      variants.push(extended);
      for (const bytes of variants) {
        const fast = decodeWakuMessageFast(bytes);
        if (fast === undefined) continue;
        fastAnswers++;
        expect(fast).toEqual(reference(bytes));
      }
    }
    // The fast path is taken for most well-formed messages (not a test that passes by never answering).
    expect(fastAnswers).toBeGreaterThan(400);
  });

  it("reads ephemeral only as 0 or 1, and any other byte there as @waku/proto does", () => {
    const base = encodeWakuMessage({
      contentTopic: "/org-chat/1/general/proto",
      payload: Uint8Array.of(1),
      timestampNs: 5n,
      ephemeral: true,
    });
    for (let flag = 0; flag < 256; flag++) {
      const bytes = base.slice();
      bytes[bytes.length - 1] = flag;
      const fast = decodeWakuMessageFast(bytes);
      if (flag <= 1) expect(fast?.ephemeral).toBe(flag === 1);
      if (fast !== undefined) expect(fast).toEqual(reference(bytes));
    }
  });
});
