import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  concatBytes,
  type Diagnostic,
  describeError,
  encodedUtf8Length,
  equalBytes,
  errorGuard,
  fromHex,
  hasErrorName,
  ignoreDiagnostic,
  isHex,
  OrgchatError,
  raceAbort,
  reportDiagnostic,
  sleep,
  TypedEventEmitter,
  toHex,
  utf8Length,
} from "../src/index.ts";

class SampleError extends OrgchatError {
  constructor(options: { cause?: unknown } = {}) {
    super("SampleError", "Something broke.", { ...options, hint: "Do this instead." });
  }
}
const isSampleError = errorGuard<SampleError>("SampleError");

describe("OrgchatError", () => {
  it("takes its name, message, hint and cause", () => {
    const cause = new Error("root");
    const error = new SampleError({ cause });
    expect(error.name).toBe("SampleError");
    expect(error.message).toBe("Something broke. Do this instead.");
    expect(error.hint).toBe("Do this instead.");
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toBe("SampleError: Something broke. Do this instead.");
    expect(Object.keys(error)).not.toContain("name");
  });

  it("has no cause property unless one was given", () => {
    expect("cause" in new SampleError()).toBe(false);
    expect(new OrgchatError("X", "m").hint).toBeUndefined();
  });

  it("guards compare names, not classes", () => {
    expect(isSampleError(new SampleError())).toBe(true);
    expect(isSampleError({ name: "SampleError" })).toBe(true);
    expect(isSampleError(new Error("SampleError"))).toBe(false);
    expect(isSampleError(null)).toBe(false);
    expect(isSampleError("SampleError")).toBe(false);
    expect(hasErrorName(undefined, "x")).toBe(false);
  });

  it("describes any thrown value", () => {
    expect(describeError(new Error("boom"))).toBe("boom");
    expect(describeError(42)).toBe("42");
  });
});

/** True when `text` has no lone surrogate (encodeURIComponent refuses exactly those). */
function wellFormed(text: string): boolean {
  try {
    encodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

describe("bytes", () => {
  it("hex round-trips any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toMatch(/^[0-9a-f]*$/);
        expect(equalBytes(fromHex(hex), bytes)).toBe(true);
        expect(equalBytes(fromHex(hex.toUpperCase()), bytes)).toBe(true);
      }),
      { seed: 7 },
    );
  });

  it("hex round-trips across toHex's chunks (a 140 KiB message), every byte value in place", () => {
    const bytes = new Uint8Array(140 * 1024 + 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 8)) & 255;
    const hex = toHex(bytes);
    expect(hex).toHaveLength(bytes.length * 2);
    expect(hex.slice(16382, 16390)).toBe(toHex(bytes.subarray(8191, 8195)));
    expect(equalBytes(fromHex(hex), bytes)).toBe(true);
    expect(toHex(new Uint8Array([0, 9, 10, 15, 16, 160, 255]))).toBe("00090a0f10a0ff");
    expect([...fromHex("0aA0fF")]).toEqual([10, 160, 255]);
  });

  it("refuses bad hex with a TypeError", () => {
    expect(() => fromHex("abc")).toThrow(TypeError);
    expect(() => fromHex("zz")).toThrow(TypeError);
    expect(isHex("0a0B")).toBe(true);
    expect(isHex("0g")).toBe(false);
  });

  it("compares and concatenates", () => {
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(equalBytes(new Uint8Array([1]), new Uint8Array([1, 2]))).toBe(false);
    expect(equalBytes(new Uint8Array([1]), undefined)).toBe(false);
    expect([...concatBytes(new Uint8Array([1]), new Uint8Array(), new Uint8Array([2, 3]))]).toEqual(
      [1, 2, 3],
    );
  });

  it("counts UTF-8 like TextEncoder for well-formed text", () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (text) => {
        expect(utf8Length(text)).toBe(encoder.encode(text).length);
        expect(encodedUtf8Length(text)).toBe(encoder.encode(text).length);
      }),
      { seed: 11 },
    );
  });

  it("counts any UTF-16 string (lone surrogates included) exactly as TextEncoder encodes it", () => {
    const encoder = new TextEncoder();
    const unit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
        expect(encodedUtf8Length(text)).toBe(encoder.encode(text).length);
        const strict = utf8Length(text);
        if (wellFormed(text)) expect(strict).toBe(encoder.encode(text).length);
        else expect(strict).toBe(-1);
      }),
      { seed: 13 },
    );
  });

  it("flags lone surrogates, counts them as U+FFFD when encoded, and stops past a limit", () => {
    expect(utf8Length("a\ud800")).toBe(-1);
    expect(utf8Length("\udc00a")).toBe(-1);
    expect(encodedUtf8Length("a\ud800")).toBe(new TextEncoder().encode("a\ud800").length);
    expect(utf8Length("x".repeat(1000), 10)).toBe(11);
  });
});

describe("abort", () => {
  it("sleep resolves after its time and leaves no timer", async () => {
    vi.useFakeTimers();
    try {
      let done = false;
      const waiting = sleep(1000).then(() => {
        done = true;
      });
      await vi.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await waiting;
      expect(done).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("sleep rejects with the caller's error on abort, before or during the wait", async () => {
    const make = (reason: unknown) => new SampleError({ cause: reason });
    const already = AbortSignal.abort("early");
    await expect(sleep(10_000, already, make)).rejects.toMatchObject({
      name: "SampleError",
      cause: "early",
    });
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      const waiting = sleep(10_000, controller.signal, make);
      controller.abort("late");
      await expect(waiting).rejects.toMatchObject({ name: "SampleError", cause: "late" });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("raceAbort settles like the promise, or rejects on abort", async () => {
    await expect(raceAbort(Promise.resolve(1), undefined)).resolves.toBe(1);
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(2), controller.signal)).resolves.toBe(2);
    await expect(raceAbort(Promise.reject(new Error("x")), controller.signal)).rejects.toThrow("x");
    const never = new Promise<number>(() => {});
    const racing = raceAbort(never, controller.signal, () => new SampleError());
    controller.abort();
    await expect(racing).rejects.toSatisfy(isSampleError);
    await expect(
      raceAbort(Promise.reject(new Error("ignored")), AbortSignal.abort(), () => new SampleError()),
    ).rejects.toSatisfy(isSampleError);
  });
});

describe("diagnostics", () => {
  it("reach the sink, and a throwing sink does not throw at the reporter", () => {
    const seen: Diagnostic[] = [];
    reportDiagnostic((d) => seen.push(d), { component: "c", reason: "undecodable", topic: "/t" });
    expect(seen).toEqual([{ component: "c", reason: "undecodable", topic: "/t" }]);
    expect(() =>
      reportDiagnostic(
        () => {
          throw new Error("bad logger");
        },
        { component: "c", reason: "x" },
      ),
    ).not.toThrow();
    expect(() => reportDiagnostic(undefined, { component: "c", reason: "x" })).not.toThrow();
    ignoreDiagnostic({ component: "c", reason: "x" });
  });
});

describe("TypedEventEmitter", () => {
  type Events = { "a:happened": { n: number }; "b:happened": string };

  it("calls listeners in order, until removed", () => {
    const events = new TypedEventEmitter<Events>();
    const seen: string[] = [];
    const off = events.on("a:happened", ({ n }) => seen.push(`first ${n}`));
    events.on("a:happened", ({ n }) => seen.push(`second ${n}`));
    events.on("b:happened", (text) => seen.push(text));
    expect(events.has("a:happened")).toBe(true);
    events.emit("a:happened", { n: 1 });
    off();
    events.emit("a:happened", { n: 2 });
    events.emit("b:happened", "b");
    expect(seen).toEqual(["first 1", "second 1", "second 2", "b"]);
    events.clear();
    expect(events.has("a:happened")).toBe(false);
    events.emit("a:happened", { n: 3 });
    expect(seen).toHaveLength(4);
  });

  it("isolates a throwing listener and reports it, even when the reporter throws", () => {
    const reported: Array<[string, unknown]> = [];
    const events = new TypedEventEmitter<Events>((event, error) => {
      reported.push([event, error]);
      throw new Error("reporter broke");
    });
    const boom = new Error("listener broke");
    const seen: number[] = [];
    events.on("a:happened", () => {
      throw boom;
    });
    events.on("a:happened", ({ n }) => seen.push(n));
    expect(() => events.emit("a:happened", { n: 7 })).not.toThrow();
    expect(seen).toEqual([7]);
    expect(reported).toEqual([["a:happened", boom]]);
  });

  it("lets subclasses dispatch a held [name, payload] entry", () => {
    class Queue extends TypedEventEmitter<Events> {
      replay(entry: readonly [keyof Events, unknown]): void {
        this.dispatch(entry[0], entry[1]);
      }
    }
    const queue = new Queue();
    const seen: string[] = [];
    queue.on("b:happened", (text) => seen.push(text));
    queue.replay(["b:happened", "held"]);
    expect(seen).toEqual(["held"]);
  });
});
