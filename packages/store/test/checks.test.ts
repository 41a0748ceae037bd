import { OrgchatError } from "@orgchat/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareCodePoints, normalizeRangeQuery } from "../src/implement.ts";
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
