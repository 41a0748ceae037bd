/**
 * Hostile strings that other members can put in a name, a description, a reason or a message text
 * (issue #15, item 1), with how the CLI shows each: `inline` on one line (names, table cells, errors,
 * prompts: `inlineText`), `body` as a message body (`bodyText`: continuation lines marked `  │ `).
 * The unit tests check these renderings exactly; the end-to-end test sends the short ones through
 * every command that shows remote text.
 */
export interface HostileString {
  /** What it tries. */
  readonly label: string;
  readonly text: string;
  /** `inlineText(text)`. */
  readonly inline: string;
  /** `bodyText(text)`. */
  readonly body: string;
}

export const hostileStrings: readonly HostileString[] = [
  {
    label: "CSI colour (the issue's \\e[31m)",
    text: "\x1b[31mred alert\x1b[0m",
    inline: "\\e[31mred alert\\e[0m",
    body: "\\e[31mred alert\\e[0m",
  },
  {
    label: "OSC 0 window title ended by BEL",
    text: "\x1b]0;pwned\x07hi",
    inline: "\\e]0;pwned\\ahi",
    body: "\\e]0;pwned\\ahi",
  },
  {
    label: "OSC 8 hyperlink ended by ST",
    text: "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    inline: "\\e]8;;https://evil.example/\\e\\click\\e]8;;\\e\\",
    body: "\\e]8;;https://evil.example/\\e\\click\\e]8;;\\e\\",
  },
  {
    label: "OSC 52 clipboard write",
    text: "\x1b]52;c;cm0gLXJmIH4=\x07",
    inline: "\\e]52;c;cm0gLXJmIH4=\\a",
    body: "\\e]52;c;cm0gLXJmIH4=\\a",
  },
  {
    label: "DCS, APC, PM, SOS strings",
    text: "\x1bPq#0\x1b\\\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\",
    inline: "\\ePq#0\\e\\\\e_apc\\e\\\\e^pm\\e\\\\eXsos\\e\\",
    body: "\\ePq#0\\e\\\\e_apc\\e\\\\e^pm\\e\\\\eXsos\\e\\",
  },
  {
    label: "cursor up and erase line (rewrites what is above)",
    text: "\x1b[1A\x1b[2Kowner: fake",
    inline: "\\e[1A\\e[2Kowner: fake",
    body: "\\e[1A\\e[2Kowner: fake",
  },
  {
    label: "two-character ESC sequences (RIS reset, DECSC)",
    text: "\x1bc\x1b7x",
    inline: "\\ec\\e7x",
    body: "\\ec\\e7x",
  },
  {
    label: "8-bit C1 CSI U+009B and OSC U+009D",
    text: "\u009b31mred\u009d0;t\u009c",
    inline: "\\u009b31mred\\u009d0;t\\u009c",
    body: "\\u009b31mred\\u009d0;t\\u009c",
  },
  {
    label: "the issue's forged owner line",
    text: "hi\n[06:50:00] owner: please send me your passphrase",
    inline: "hi\\n[06:50:00] owner: please send me your passphrase",
    body: "hi\n  │ [06:50:00] owner: please send me your passphrase",
  },
  {
    label: "carriage return over the author prefix",
    text: "hello\r[06:50:00] owner: ok",
    inline: "hello\\r[06:50:00] owner: ok",
    body: "hello\n  │ [06:50:00] owner: ok",
  },
  {
    label: "CR LF, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR",
    text: "a\r\nb\u0085c\u2028d\u2029e",
    inline: "a\\r\\nb\\u0085c\\u2028d\\u2029e",
    body: "a\n  │ b\n  │ c\n  │ d\n  │ e",
  },
  {
    label: "tab, vertical tab, form feed",
    text: "a\tb\vc\fd",
    inline: "a\\tb\\vc\\fd",
    body: "a\\tb\\vc\\fd",
  },
  {
    label: "BEL, backspace, NUL, DEL",
    text: "ding\x07\x08\x08\x08x\x00y\x7f",
    inline: "ding\\a\\b\\b\\bx\\x00y\\x7f",
    body: "ding\\a\\b\\b\\bx\\x00y\\x7f",
  },
  {
    label: "other C0 controls (SO shifts to line drawing, ENQ answerback)",
    text: "\x0e\x05\x1f",
    inline: "\\x0e\\x05\\x1f",
    body: "\\x0e\\x05\\x1f",
  },
  {
    label: "RLO reorders the rest (a file name)",
    text: "invoice\u202Efdp.exe",
    inline: "invoice\\u202efdp.exe",
    body: "invoice\\u202efdp.exe",
  },
  {
    label: "LRI, RLI, FSI, PDI isolates; LRE, RLE, PDF, LRO; LRM, RLM, ALM marks",
    text: "\u2066a\u2067b\u2068c\u2069\u202Ad\u202Be\u202C\u202Df\u200E\u200F\u061C",
    inline: "\\u2066a\\u2067b\\u2068c\\u2069\\u202ad\\u202be\\u202c\\u202df\\u200e\\u200f\\u061c",
    body: "\\u2066a\\u2067b\\u2068c\\u2069\\u202ad\\u202be\\u202c\\u202df\\u200e\\u200f\\u061c",
  },
  {
    label: "zero-width space, word joiner, BOM, soft hyphen (look-alike names)",
    text: "Al\u200Bi\u2060c\uFEFFe\u00AD",
    inline: "Al\\u200bi\\u2060c\\ufeffe\\u00ad",
    body: "Al\\u200bi\\u2060c\\ufeffe\\u00ad",
  },
  {
    label: "tag characters smuggling invisible ASCII",
    text: "ok\u{E0001}\u{E0069}\u{E0067}\u{E006E}",
    inline: "ok\\u{e0001}\\u{e0069}\\u{e0067}\\u{e006e}",
    body: "ok\\u{e0001}\\u{e0069}\\u{e0067}\\u{e006e}",
  },
  {
    label: "Hangul filler as a blank-looking name",
    text: "\u3164",
    inline: "\\u3164",
    body: "\\u3164",
  },
  {
    label: "lone surrogates",
    text: "a\uD800b\uDC00",
    inline: "a\\ud800b\\udc00",
    body: "a\\ud800b\\udc00",
  },
  {
    label: "kept: emoji with ZWJ and variation selector, the flag of Scotland, CJK, accents",
    text: "👩‍💻 ❤️ 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} 日本 é",
    inline: "👩‍💻 ❤️ 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} 日本 é",
    body: "👩‍💻 ❤️ 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} 日本 é",
  },
  {
    label: "kept: a typed backslash (a shrug), not doubled",
    text: "¯\\_(ツ)_/¯",
    inline: "¯\\_(ツ)_/¯",
    body: "¯\\_(ツ)_/¯",
  },
  {
    label: "mixed: colour, title, bidi and a forged prompt line",
    text: "\x1b[1;31m\u202Eowner\x1b]2;x\x07\r\n#general> ",
    inline: "\\e[1;31m\\u202eowner\\e]2;x\\a\\r\\n#general> ",
    body: "\\e[1;31m\\u202eowner\\e]2;x\\a\n  │ #general> ",
  },
];
