import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  channelTopic,
  descriptionTopic,
  inboxTopic,
  isValidContentTopic,
  parseContentTopic,
  requestsTopic,
} from "../src/index.js";

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const chatId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

describe("topic derivation", () => {
  it("yields valid auto-sharding content topics for every key and channel", () => {
    fc.assert(
      fc.property(key, chatId, (k, c) => {
        for (const topic of [
          descriptionTopic(k),
          requestsTopic(k),
          channelTopic(k, c),
          inboxTopic(k),
        ]) {
          const parts = parseContentTopic(topic);
          expect(parts).toMatchObject({ application: "orgchat", version: "1", encoding: "proto" });
          expect(topic).toMatch(/^\/orgchat\/1\/[drci]-[0-9a-f]{32}\/proto$/);
        }
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it("separates kinds, organizations and channels", () => {
    fc.assert(
      fc.property(key, key, chatId, chatId, (a, b, c1, c2) => {
        const topics = new Set([
          descriptionTopic(a),
          requestsTopic(a),
          inboxTopic(a),
          channelTopic(a, c1),
        ]);
        expect(topics.size).toBe(4);
        if (Buffer.compare(a, b) !== 0) expect(descriptionTopic(a)).not.toBe(descriptionTopic(b));
        if (c1 !== c2) expect(channelTopic(a, c1)).not.toBe(channelTopic(a, c2));
      }),
      { seed: 8, numRuns: 300 },
    );
  });

  it("rejects keys that are not 32 bytes and channel ids outside the id format", () => {
    expect(() => descriptionTopic(new Uint8Array(31))).toThrowError(RangeError);
    expect(() => requestsTopic(new Uint8Array(33))).toThrowError(RangeError);
    expect(() => inboxTopic("ab" as unknown as Uint8Array)).toThrowError(TypeError);
    expect(() => channelTopic(new Uint8Array(32), "")).toThrowError(/channelId/);
    expect(() => channelTopic(new Uint8Array(32), "a/b")).toThrowError(/channelId/);
    expect(() => channelTopic(new Uint8Array(32), "x".repeat(65))).toThrowError(/channelId/);
  });
});

describe("parseContentTopic()", () => {
  it("accepts the four-part form and the generation-0 five-part form", () => {
    expect(parseContentTopic("/app/1/name/proto")).toEqual({
      generation: undefined,
      application: "app",
      version: "1",
      topicName: "name",
      encoding: "proto",
    });
    expect(parseContentTopic("/0/app/1/name/proto")?.generation).toBe(0);
  });

  it.each([
    ["", "empty"],
    ["app/1/name/proto", "no leading slash"],
    ["/app/1/name", "three parts"],
    ["/app//name/proto", "an empty part"],
    ["/1/app/1/name/proto", "a generation other than 0"],
    ["/a/b/c/d/e/f", "six parts"],
    [`/a/1/${"x".repeat(300)}/proto`, "too long"],
  ])("rejects %j (%s)", (topic) => {
    expect(parseContentTopic(topic)).toBeUndefined();
    expect(isValidContentTopic(topic)).toBe(false);
  });
});
