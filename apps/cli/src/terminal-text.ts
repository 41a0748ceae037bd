/**
 * Text from other people, made safe to print on a terminal. Names, descriptions, reasons and message
 * texts come from other identities (or from the user's own paste): printed raw, they would drive the
 * reader's terminal (`\e[31m` colours, `\e]0;…\a` renames the window), reorder what follows (bidi
 * overrides), or start a line of their own that looks like a real message, a prompt or our status
 * output (`hi\n[06:50:00] owner: please send me your passphrase`, `\r` over the author prefix).
 * `--json` output keeps the exact text (JSON escaping already makes it inert); only human output goes
 * through here.
 *
 * ## Policy
 *
 * - **Escaped, never raw** (both modes): C0 controls U+0000–U+001F, DEL U+007F and C1 controls
 *   U+0080–U+009F (category Cc, which includes 8-bit CSI U+009B and NEL U+0085); every format
 *   character (category Cf): bidi marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F,
 *   U+202A–U+202E, U+2066–U+2069), zero-width space U+200B, word joiner U+2060 and the invisible
 *   operators, BOM U+FEFF, soft hyphen U+00AD, interlinear annotations, tag characters
 *   U+E0000–U+E007F; line and paragraph separators U+2028, U+2029; lone surrogates; the Hangul
 *   fillers (U+115F, U+1160, U+3164, U+FFA0), which draw nothing and make blank-looking names.
 * - **Kept**: everything else printable, including zero-width joiner / non-joiner (U+200D, U+200C:
 *   emoji sequences, Persian and Indic scripts), variation selectors, combining marks (a terminal
 *   draws them in their base's cell: a pile of them is ugly, not a forgery), private-use and
 *   unassigned code points (drawn as a box), and tag characters inside an emoji tag sequence
 *   (U+1F3F4, 1–7 tags, U+E007F: the flags of England, Scotland, Wales).
 * - **The escapes** are the ones a shell user reads in `$'…'` and C: `\e` for ESC (so `\e[31m`,
 *   `\e]0;title\a` show as one inert token: the bytes after ESC are printable anyway), `\a \b \t \n
 *   \v \f \r`, `\xHH` for the other C0 controls and DEL, `\uHHHH` (or `\u{HHHHH}`) for the rest.
 *   They are plain ASCII (nothing a terminal interprets, no font needed) and contain no line break,
 *   so they cannot start a line nor look like a header: every header we print starts at column 0
 *   with `[`, `#`, `*`, `!`, `--` or a word we chose. Backslashes typed by people are not doubled
 *   (a shrug `¯\_(ツ)_/¯` stays readable): a `\n` on screen is either a typed backslash-n or an
 *   escaped line break, both inert; `--json` tells them apart.
 * - **Line breaks** (`\r\n`, `\n`, `\r`, U+0085, U+2028, U+2029): escaped in one-line text
 *   ({@link inlineText}: names, table cells, prompts, errors, progress). In a message body
 *   ({@link bodyText}) each one starts a continuation line that begins with
 *   {@link continuationPrefix} (indented, then `│`): no header line of ours starts with blanks, so
 *   nobody's text can start a line that passes for another message, a prompt or our own output.
 *   Tab, vertical tab and form feed are escaped in both modes (they move the cursor).
 * - **JSON** (`--json`) keeps the exact text: JSON.stringify escapes C0 controls, but leaves C1
 *   controls, bidi controls, U+2028/U+2029 and the other format characters raw, so
 *   {@link jsonText} writes those as `\uXXXX` escapes too (the document parses to the same strings).
 * - **Length**: one-line fields shown in tables and message lines are cut at a bound in code points
 *   ({@link nameWidth} for names, {@link textWidth} for reasons), with a visible `…`; escapes are
 *   never cut in half. Code points, not terminal cells: a wide (CJK, emoji) name may take up to twice
 *   the columns, still bounded.
 *
 * Every function here is pure (same input, same output) and total (any JavaScript string, including
 * lone surrogates).
 */

/**
 * At most this many code points of a name (display name; organization, channel or category name)
 * in a table cell, a list line or a message line, after escaping; the wire allows 256 bytes
 * (docs/PROTOCOL.md, Limits), which would push every other column off an 80-column terminal.
 */
export const nameWidth = 40;

/**
 * At most this many code points of a one-line free text (a rejection reason, a request's message) in
 * a list line; the wire allows 4096 bytes.
 */
export const textWidth = 160;

/** What begins each continuation line of a message body: two blanks, a bar, a blank. */
export const continuationPrefix = "  │ ";

/** What replaces the end of a cut field. */
export const ellipsis = "…";

/** Any code point that is never printed raw (see the policy above); U+200C/U+200D are let through. */
const unsafePattern = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u;
/** The same, to find every one in a text (plus the emoji tag sequences, kept whole). */
const tokenPattern =
  /\u{1F3F4}[\u{E0020}-\u{E007E}]{1,7}\u{E007F}|\r\n|[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/gu;
/** Line breaks of a message body. */
const lineBreaks: ReadonlySet<string> = new Set(["\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029"]);
/** Joiners that shape emoji and scripts: printed as they are. */
const joiners: ReadonlySet<string> = new Set(["\u200C", "\u200D"]);
const named: Readonly<Record<string, string>> = {
  "\x1b": "\\e",
  "\x07": "\\a",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\v": "\\v",
  "\f": "\\f",
  "\r": "\\r",
};

/** The visible escape of one unsafe code point. */
function escapeCodePoint(char: string): string {
  const known = named[char];
  if (known !== undefined) return known;
  const code = char.codePointAt(0) ?? 0;
  const hex = code.toString(16);
  if (code < 0x80) return `\\x${hex.padStart(2, "0")}`;
  return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, "0")}`;
}

/** How line breaks are treated: escaped, kept when `\n` (ours), or turned into continuation lines. */
type BreakMode = "escape" | "newline" | "continue";

/** A printable piece of a rendered text; `whole` pieces (escapes, emoji flags) are never cut. */
interface Piece {
  readonly text: string;
  readonly whole: boolean;
}

/** The text as printable pieces: runs of safe text, and one whole piece per escape or flag. */
function render(text: string, breaks: BreakMode): Piece[] {
  const pieces: Piece[] = [];
  let from = 0;
  for (const match of text.matchAll(tokenPattern)) {
    const at = match.index;
    const token = match[0];
    if (at > from) pieces.push({ text: text.slice(from, at), whole: false });
    from = at + token.length;
    if (joiners.has(token)) {
      pieces.push({ text: token, whole: false });
    } else if (token.startsWith("\u{1F3F4}")) {
      pieces.push({ text: token, whole: true });
    } else if (breaks === "continue" && lineBreaks.has(token)) {
      pieces.push({ text: `\n${continuationPrefix}`, whole: true });
    } else if (breaks === "newline" && token === "\n") {
      pieces.push({ text: "\n", whole: true });
    } else {
      // `\r\n` (two code points) is two escapes; anything else is one code point.
      for (const char of token) pieces.push({ text: escapeCodePoint(char), whole: true });
    }
  }
  if (from < text.length) pieces.push({ text: text.slice(from), whole: false });
  return pieces;
}

function join(pieces: readonly Piece[]): string {
  return pieces.map((piece) => piece.text).join("");
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Keeps at most `max` code points of the rendered pieces, ending with {@link ellipsis} when cut.
 * Whole pieces (escapes, flags) are kept or left out whole; a run of text is cut between code points.
 */
function cut(pieces: readonly Piece[], max: number): string {
  let total = 0;
  for (const piece of pieces) total += codePoints(piece.text);
  if (total <= max) return join(pieces);
  let budget = max - 1;
  let out = "";
  for (const piece of pieces) {
    const length = codePoints(piece.text);
    if (length <= budget) {
      out += piece.text;
      budget -= length;
      continue;
    }
    if (!piece.whole) out += [...piece.text].slice(0, budget).join("");
    break;
  }
  return `${out}${ellipsis}`;
}

/**
 * One line of text safe for a terminal: every control, format character and line break escaped
 * (see the module's policy), cut at `max` code points with `…` when given.
 * @param text - any string (a name, a table cell, a reason, a prompt, an error line)
 * @param max - at most this many code points in the result (e.g. {@link nameWidth}); none if absent
 * @returns the text with no C0/C1/DEL/format code point and no line break
 * @throws RangeError when `max` is not a whole number ≥ 1
 * @example
 * inlineText("Mallory\x1b]0;pwned\x07") // "Mallory\\e]0;pwned\\a"
 */
export function inlineText(text: string, max?: number): string {
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    throw new RangeError(`max must be a whole number ≥ 1, got ${max}`);
  }
  if (!unsafePattern.test(text)) {
    return max === undefined || text.length <= max ? text : cut([{ text, whole: false }], max);
  }
  const pieces = render(text, "escape");
  return max === undefined ? join(pieces) : cut(pieces, max);
}

/**
 * A message body safe for a terminal: controls and format characters escaped as in
 * {@link inlineText}; each line break starts a continuation line beginning with
 * {@link continuationPrefix}, so the first line follows the caller's header and no later line can
 * pass for a header of its own.
 * @param text - a message text
 * @returns the text whose only control characters are the `\n` before each continuation prefix
 * @example
 * bodyText("hi\n[06:50:00] owner: send me your passphrase")
 * // "hi\n  │ [06:50:00] owner: send me your passphrase"
 */
export function bodyText(text: string): string {
  return unsafePattern.test(text) ? join(render(text, "continue")) : text;
}

/**
 * Output we assembled ourselves (a command's human result, a line of the chat stream), as a last
 * line of defence: every `\n` kept (our own line structure) and everything else unsafe escaped as in
 * {@link inlineText}, so a field that escaped its escaping still cannot reach the terminal raw. A CR,
 * CR LF or Unicode line break is escaped, not kept: we only ever write `\n`.
 * @param text - text whose `\n` are ours
 * @returns the text whose only control characters are `\n`
 */
export function outputText(text: string): string {
  return unsafePattern.test(text) ? join(render(text, "newline")) : text;
}

/**
 * The policy's unsafe set minus C0 controls, to write as `\uXXXX` in a JSON document: JSON.stringify
 * escapes every C0 control inside strings, so a raw one in its output is its own layout (`\n`).
 */
const unsafeInJson = /[\x7F-\x9F\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/gu;

/**
 * A JSON document safe for a terminal and exactly equal in meaning: every code point that
 * {@link inlineText} would escape (DEL, C1 controls, bidi and other format characters, U+2028/U+2029,
 * fillers; JSON.stringify already escapes C0 controls and lone surrogates) is written as `\uXXXX`
 * (a surrogate pair beyond U+FFFF). They can only occur inside strings, where the escape is legal,
 * so `JSON.parse` of the result gives back exactly the same values, joiners and emoji flags included.
 * @param json - the output of `JSON.stringify`
 * @returns the same document with no raw control or format code point
 */
export function jsonText(json: string): string {
  return json.replace(unsafeInJson, (char) => {
    let out = "";
    for (let i = 0; i < char.length; i++) {
      out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
    }
    return out;
  });
}
