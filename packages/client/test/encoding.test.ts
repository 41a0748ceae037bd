import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { decodeJson, encodeJson } from "../src/encoding.js";

describe("encodeJson / decodeJson", () => {
  it("round-trips bigints and bytes, including Node Buffers (libp2p hands them out)", () => {
    const value = {
      clock: 2n ** 64n - 1n,
      plain: new Uint8Array([1, 2, 3]),
      buffer: Buffer.from([4, 5, 6]),
      nested: [{ key: Buffer.from("hi") }],
    };
    const back = decodeJson<typeof value>(encodeJson(value));
    expect(back.clock).toBe(2n ** 64n - 1n);
    expect(back.plain).toEqual(new Uint8Array([1, 2, 3]));
    expect(back.buffer).toBeInstanceOf(Uint8Array);
    expect([...back.buffer]).toEqual([4, 5, 6]);
    expect([...(back.nested[0]?.key ?? [])]).toEqual([104, 105]);
  });
});
