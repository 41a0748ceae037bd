import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bodyText,
  continuationPrefix,
  ellipsis,
  inlineText,
  jsonText,
  nameWidth,
  outputText,
} from "../src/terminal-text.ts";
import { hostileStrings } from "./hostile-strings.ts";

/** Code points a terminal must never get raw: C0, DEL, C1, format characters, separators, surrogates. */
const forbidden = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u;
/** What the policy lets through of those: the joiners, and tags inside an emoji flag sequence. */
const allowed = /\u{1F3F4}[\u{E0020}-\u{E007E}]{1,7}\u{E007F}|[\u200C\u200D]/gu;
/** Bidi controls, checked by name too (they are in Cf). */
const bidi = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

function rawOf(text: string): RegExpMatchArray | null {
  return text.replace(allowed, "").match(forbidden);
}

/** Any code point, lone surrogates included, with the interesting ones often. */
const unit = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "\x1b",
      "[",
      "]",
      "\x07",
      "\r",
      "\n",
      "\r\n",
      "\t",
      "\x00",
      "\x7f",
      "\u009b",
      "\u0085",
      "\u202e",
      "\u2066",
      "\u2028",
      "\u2029",
      "\u200d",
      "\u200b",
      "\ufeff",
      "\u{1F3F4}",
      "\u{E0067}",
      "\u{E007F}",
      "\\",
      "e",
      "…",
      "a",
      " ",
    ),
  },
);
const anyText = fc.string({ unit, maxLength: 60 });

function codePoints(text: string): number {
  return [...text].length;
}

describe("terminal text: the committed hostile strings", () => {
  it.each(hostileStrings)("$label: one line", ({ text, inline }) => {
    expect(inlineText(text)).toBe(inline);
    expect(rawOf(inlineText(text))).toBeNull();
  });

  it.each(hostileStrings)("$label: message body", ({ text, body }) => {
    expect(bodyText(text)).toBe(body);
  });

  it("a very long name is cut at the bound with a visible ellipsis", () => {
    const long = "A".repeat(10_000);
    expect(inlineText(long, nameWidth)).toBe(`${"A".repeat(nameWidth - 1)}${ellipsis}`);
    expect(inlineText("short", nameWidth)).toBe("short");
    expect(inlineText("x".repeat(nameWidth), nameWidth)).toBe("x".repeat(nameWidth));
  });

  it("a cut never splits an escape nor a surrogate pair", () => {
    // "abcdefgh" (8) + "\e" (2) would be 10 with the ellipsis 11: the escape is left out whole.
    expect(inlineText("abcdefgh\x1b[31m", 10)).toBe(`abcdefgh${ellipsis}`);
    expect(inlineText("abcdefg\x1b[31m", 10)).toBe(`abcdefg\\e${ellipsis}`);
    expect(inlineText("😀".repeat(20), 5)).toBe(`${"😀".repeat(4)}${ellipsis}`);
  });

  it("outputText keeps our own \\n and escapes every other break and control", () => {
    expect(outputText("line one\nline two")).toBe("line one\nline two");
    expect(outputText("a\r\nb\rc\u2028d\x1b[2J")).toBe("a\\r\\nb\\rc\\u2028d\\e[2J");
  });

  it("refuses a bound that is not a whole number ≥ 1", () => {
    expect(() => inlineText("x", 0)).toThrow(RangeError);
    expect(() => inlineText("x", 1.5)).toThrow(RangeError);
  });
});

describe("terminal text: properties", () => {
  it("one line: no control, format or bidi code point and no line break; pure; idempotent", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const shown = inlineText(text);
        expect(rawOf(shown)).toBeNull();
        expect(shown).not.toMatch(bidi);
        expect(shown).not.toMatch(/[\n\r\v\f\u0085\u2028\u2029]/);
        expect(inlineText(text)).toBe(shown);
        expect(inlineText(shown)).toBe(shown);
      }),
      { seed: 15, numRuns: 2000 },
    );
  });

  it("one line with a bound: at most that many code points", () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 50 }), (text, max) => {
        const shown = inlineText(text, max);
        expect(codePoints(shown)).toBeLessThanOrEqual(max);
        expect(rawOf(shown)).toBeNull();
        if (codePoints(inlineText(text)) <= max) expect(shown).toBe(inlineText(text));
        else expect(shown.endsWith(ellipsis)).toBe(true);
      }),
      { seed: 15, numRuns: 2000 },
    );
  });

  it("body: the only control left is \\n, and every line after the first is marked", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const shown = bodyText(text);
        expect(rawOf(shown.replaceAll("\n", ""))).toBeNull();
        for (const line of shown.split("\n").slice(1)) {
          expect(line.startsWith(continuationPrefix)).toBe(true);
        }
        expect(bodyText(text)).toBe(shown);
      }),
      { seed: 15, numRuns: 2000 },
    );
  });

  it("output: the only control left is \\n", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(rawOf(outputText(text).replaceAll("\n", ""))).toBeNull();
      }),
      { seed: 15, numRuns: 2000 },
    );
  });
});

describe("terminal text: JSON documents", () => {
  it("jsonText escapes what JSON.stringify leaves raw, and parses to the same strings", () => {
    const text =
      "\u009b31m\u202e\u2028\u{E0041}\u200b👩‍💻🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
    const json = jsonText(JSON.stringify({ text }));
    expect(json).toBe(
      '{"text":"\\u009b31m\\u202e\\u2028\\udb40\\udc41\\u200b👩\\u200d💻🏴\\udb40\\udc67\\udb40\\udc62\\udb40\\udc73\\udb40\\udc63\\udb40\\udc74\\udb40\\udc7f"}',
    );
    expect(JSON.parse(json)).toEqual({ text });
  });

  it("any value: no raw control or format code point, and JSON.parse gives it back", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const json = jsonText(JSON.stringify({ text, list: [text] }, null, 2));
        expect(json.replaceAll("\n", "")).not.toMatch(forbidden);
        expect(JSON.parse(json)).toEqual({ text, list: [text] });
      }),
      { seed: 15, numRuns: 2000 },
    );
  });
});
