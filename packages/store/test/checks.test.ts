import { OrgchatError } from "@orgchat/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertKey, assertName, compareCodePoints, normalizeRangeQuery } from "../src/implement.ts";
import {
  AbortError,
  InvalidKeyError,
  isAbortError,
  isInvalidKeyError,
  isRecordNotFoundError,
  isSchemaVersionError,
  isStoreClosedError,
  isStoreCorruptError,
  isStoreIOError,
  isStoreLockedError,
  isValueTooLargeError,
  RecordNotFoundError,
  SchemaVersionError,
  StoreClosedError,
  StoreCorruptError,
  StoreIOError,
  StoreLockedError,
  storeLimits,
  ValueTooLargeError,
} from "../src/index.ts";

const encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

describe("compareCodePoints", () => {
  it("orders like the UTF-8 bytes of the strings (what SQLite's BLOB comparison does)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(
          Math.sign(compareBytes(encoder.encode(a), encoder.encode(b))),
        );
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it("differs from JavaScript's code unit order exactly where it must", () => {
    expect("😀" < "\uffff").toBe(true);
    expect(compareCodePoints("😀", "\uffff")).toBeGreaterThan(0);
  });
});

describe("normalizeRangeQuery", () => {
  it("fills in defaults and normalizes bounds", () => {
    expect(normalizeRangeQuery(undefined)).toEqual({
      after: undefined,
      before: undefined,
      limit: undefined,
      reverse: false,
    });
    expect(normalizeRangeQuery({ after: 3n, before: { sortKey: 9n, id: "x" }, limit: 2 })).toEqual({
      after: { sortKey: 3n, id: undefined },
      before: { sortKey: 9n, id: "x" },
      limit: 2,
      reverse: false,
    });
  });
});

describe("errors", () => {
  const cause = new Error("root cause");
  const cases: [Error, (error: unknown) => boolean, string][] = [
    [new RecordNotFoundError("s", "k"), isRecordNotFoundError, "RecordNotFoundError"],
    [new StoreClosedError("get"), isStoreClosedError, "StoreClosedError"],
    [new AbortError("batch", { cause }), isAbortError, "AbortError"],
    [new InvalidKeyError("key", "empty"), isInvalidKeyError, "InvalidKeyError"],
    [new ValueTooLargeError(10, 5), isValueTooLargeError, "ValueTooLargeError"],
    [new StoreCorruptError("bad header", { cause }), isStoreCorruptError, "StoreCorruptError"],
    [new SchemaVersionError(3, 1), isSchemaVersionError, "SchemaVersionError"],
    [new StoreLockedError("/data/orgchat.db", { cause }), isStoreLockedError, "StoreLockedError"],
    [new StoreIOError("disk full", { cause }), isStoreIOError, "StoreIOError"],
  ];

  it.each(cases)("%s has its class name, a guard, and a hint", (error, guard, name) => {
    expect(error.name).toBe(name);
    expect((error.constructor as unknown as { errorName: string }).errorName).toBe(name);
    expect(guard(error)).toBe(true);
    expect(guard({ name })).toBe(true);
    expect(guard(new Error(name))).toBe(false);
    expect(error.message.length).toBeGreaterThan(40);
  });

  it("are OrgchatErrors whose message keeps its text, ending with the hint", () => {
    for (const [error] of cases) expect(error).toBeInstanceOf(OrgchatError);
    const notFound = new RecordNotFoundError("s", "k");
    expect(notFound.message).toBe(
      'No record "k" in space "s". Use get() when the record may be absent, or write it first.',
    );
    expect(notFound.hint).toBe("Use get() when the record may be absent, or write it first.");
    expect(new StoreIOError("disk full").message).toBe(
      "Storage error: disk full. Nothing was applied; free disk space or fix the permissions of the data directory, then retry.",
    );
    expect(new AbortError("put").hint).toBeUndefined();
    expect(String(new SchemaVersionError(3, 1))).toBe(
      "SchemaVersionError: Store schema version 3 is newer than the newest this version of orgchat supports (1). Upgrade orgchat to open it; nothing was changed.",
    );
    expect("cause" in new StoreLockedError("/p")).toBe(false);
    expect(Object.keys(new InvalidKeyError("id", "empty"))).not.toContain("name");
  });

  it("keeps the cause", () => {
    expect(new StoreIOError("disk full", { cause }).cause).toBe(cause);
  });

  it("recognizes the DOM's AbortError by name", () => {
    expect(isAbortError(new DOMException("aborted", "AbortError"))).toBe(true);
  });
});

describe("assertKey and assertName", () => {
  // The short well-formed path skips the UTF-8 count: what it lets through, and what it refuses,
  // must be what the count decides.
  const refusal = (check: () => void): string | undefined => {
    try {
      check();
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidKeyError);
      return (error as Error).message;
    }
  };
  const { maxKeyBytes, maxNameBytes } = storeLimits;

  it("refuses a short string with a lone surrogate (no UTF-8 form)", () => {
    for (const bad of ["\ud800", "a\udc00", "x\ud83d", "\udfff\ud800"]) {
      expect(refusal(() => assertKey("key", bad))).toMatch(
        /^Invalid key: contains a lone UTF-16 surrogate\./,
      );
      expect(refusal(() => assertName("space", bad))).toMatch(/lone UTF-16 surrogate/);
    }
    expect(refusal(() => assertKey("id", "😀"))).toBeUndefined();
  });

  it("counts a long string's UTF-8 bytes: at the limit accepted, past it refused with the count", () => {
    expect(refusal(() => assertKey("key", "a".repeat(maxKeyBytes)))).toBeUndefined();
    expect(refusal(() => assertKey("key", "a".repeat(maxKeyBytes + 1)))).toContain(
      `Invalid key: ${maxKeyBytes + 1} UTF-8 bytes, more than ${maxKeyBytes}.`,
    );
    // 86 three-byte characters: 258 bytes in 86 code units, just past the short path's 85.
    expect(refusal(() => assertName("log", "€".repeat(86)))).toContain(
      `Invalid log: 258 UTF-8 bytes, more than ${maxNameBytes}.`,
    );
    expect(refusal(() => assertName("log", "€".repeat(85)))).toBeUndefined();
    expect(refusal(() => assertName("log", "😀".repeat(64)))).toBeUndefined();
    expect(refusal(() => assertName("log", `${"😀".repeat(64)}x`))).toMatch(/257 UTF-8 bytes/);
    expect(refusal(() => assertName("log", "x".repeat(maxNameBytes + 1)))).toMatch(
      /257 UTF-8 bytes, more than 256/,
    );
  });

  it("refuses a long string with a lone surrogate as before", () => {
    expect(refusal(() => assertKey("id", `${"a".repeat(600)}\ud800`))).toMatch(
      /lone UTF-16 surrogate/,
    );
  });

  it("agrees with a plain UTF-8 count on random short strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 90 }), (value) => {
        const message = refusal(() => assertName("space", value));
        const loneSurrogate =
          /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
        const bytes = encoder.encode(value).length;
        if (value.length === 0) expect(message).toMatch(/empty/);
        else if (loneSurrogate.test(value)) expect(message).toMatch(/lone UTF-16 surrogate/);
        else if (bytes > maxNameBytes) expect(message).toMatch(new RegExp(`${bytes} UTF-8 bytes`));
        else expect(message).toBeUndefined();
      }),
      { seed: 11, numRuns: 3000 },
    );
  });
});
