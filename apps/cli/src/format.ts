/**
 * Everything the CLI prints: JSON views of the SDK's objects (bigints as strings, maps as objects),
 * human renderings, and progress on stderr. Commands build a result; only this module decides how it
 * looks. Machine output is exactly one JSON document on stdout (`--json`); progress and errors go to
 * stderr. Human output shows every string that is data (names, descriptions, reasons, message texts,
 * ids read from the network, and what the user typed) through `terminal-text.ts`: escaped on one
 * line, or as marked continuation lines for message bodies; JSON keeps the exact text.
 */
import type { MessageView, OrganizationView, RequestView } from "@orgchat/client";
import { isDelegateOf, rankIn } from "./ranks.js";
import {
  bodyText,
  inlineText,
  jsonText,
  nameWidth,
  outputText,
  textWidth,
} from "./terminal-text.js";

/** Where output goes (injected so that tests and the demo can capture it). */
export interface Output {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress is redrawn in place). */
  readonly stderrIsTTY: boolean;
}

export const processOutput: Output = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTTY: process.stderr.isTTY === true,
};

/** Progress of long work, on stderr: redrawn in place on a terminal, one line per change otherwise. */
export interface Progress {
  update(text: string): void;
  done(): void;
}

export function progressOn(output: Output, enabled: boolean): Progress {
  let last = "";
  let lastShape = "";
  let lastLineAt = 0;
  let shown = false;
  return {
    update(text) {
      if (!enabled || text === last) return;
      last = text;
      // Progress is one line: a name in it must not break it, nor drive the terminal.
      text = inlineText(text);
      if (output.stderrIsTTY) {
        output.stderr(`\r\x1b[K${text}`);
        shown = true;
        return;
      }
      // Not a terminal (a log): a line when the step changes, else at most one every 5 s.
      const shape = text.replace(/\d+/g, "#");
      const now = performance.now();
      if (shape === lastShape && now - lastLineAt < 5000) return;
      lastShape = shape;
      lastLineAt = now;
      output.stderr(`${text}\n`);
    },
    done() {
      if (shown) output.stderr("\r\x1b[K");
      shown = false;
      last = "";
      lastShape = "";
    },
  };
}

/** What a command returns: the JSON document and the human text (without a final newline). */
export interface CommandResult {
  readonly json: unknown;
  readonly human: string;
}

/**
 * Prints a result in the requested form. The human text goes through {@link outputText} once more (a
 * last line of defence: its only control character left is our own `\n`); JSON is exact, with the
 * code points a terminal would act on written as `\uXXXX` ({@link jsonText}).
 * @param output - where to print
 * @param result - the command's result
 * @param json - print `result.json` as one JSON document instead of the human text
 */
export function printResult(output: Output, result: CommandResult, json: boolean): void {
  if (json) output.stdout(`${jsonText(JSON.stringify(result.json, jsonReplacer, 2))}\n`);
  else if (result.human !== "") output.stdout(`${outputText(result.human)}\n`);
}

/**
 * A name (organization, channel, category, member) for one line of human output: escaped, and cut
 * at {@link nameWidth} code points with `…`.
 * @param text - the name as stored (exact in JSON)
 * @returns the name safe to print on one line
 */
export function shownName(text: string): string {
  return inlineText(text, nameWidth);
}

/** JSON of values the SDK uses: bigint → decimal string, Map → object, Uint8Array → hex. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  return value;
}

/** Shortens a 64-hex id for people (JSON always has the full id). */
export function short(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

/** `Alice (1a2b3c4d)` for a named member, `1a2b3c4d` for an unnamed one (both escaped). */
function nameAndId(name: string | undefined, id: string): string {
  return name === undefined ? shownName(short(id)) : `${shownName(name)} (${shownName(short(id))})`;
}

export function orgJson(org: OrganizationView): Record<string, unknown> {
  return {
    id: org.id,
    name: org.identity.displayName,
    description: org.identity.description,
    role: org.role,
    access: org.access,
    encrypted: org.encrypted,
    members: Object.fromEntries([...org.members].map(([id, roles]) => [id, [...roles]])),
    // Admins and managers: they accept, reject, remove and ban below their rank (docs/DELEGATION.md).
    delegates: Object.fromEntries(
      [...org.members.keys()]
        .filter((id) => isDelegateOf(org, id))
        .map((id) => [id, rankIn(org, id)]),
    ),
    memberNames: Object.fromEntries(org.memberNames),
    banned: [...org.banned],
    channels: org.channels.map((channel) => ({ ...channel })),
    categories: Object.fromEntries(org.categories),
    clock: org.clock.toString(),
    ...(org.epoch === undefined ? {} : { epoch: org.epoch.toString() }),
    ...(org.request === undefined ? {} : { request: { ...org.request } }),
  };
}

/**
 * `org show`: an organization in a few lines. The name and description are shown whole (escaped on
 * one line: the wire bounds them at 256 and 4096 bytes); names in lists are cut at {@link nameWidth}.
 * @param org - the organization
 * @param self - this identity's member id (to mark "(you)")
 * @returns the lines, joined by `\n`
 */
export function orgHuman(org: OrganizationView, self: string): string {
  const request = org.request;
  const lines = [
    `${inlineText(org.identity.displayName)}  ${inlineText(org.id)}`,
    ...(org.identity.description === "" ? [] : [`  ${inlineText(org.identity.description)}`]),
    `  you are: ${org.banned.includes(self) ? "banned" : org.role}${isDelegateOf(org, self) ? ` (${rankIn(org, self)}: you accept, reject, remove and ban below your rank)` : ""}${request !== undefined && org.role !== "owner" && org.role !== "member" && !org.banned.includes(self) ? ` (request ${shownName(short(request.id))} ${request.status}${request.reason === undefined ? "" : `: ${inlineText(request.reason)}`})` : ""}`,
    `  access: ${org.access}, ${org.encrypted ? `encrypted${org.epoch === undefined ? "" : ` (epoch ${org.epoch})`}` : "public"}`,
    `  channels: ${org.channels.length === 0 ? "none" : org.channels.map((c) => `#${shownName(c.id)}${c.restricted ? " (restricted)" : ""}`).join(", ")}`,
    `  members (${org.members.size}): ${[...org.members]
      .map(
        ([id, roles]) =>
          `${nameAndId(org.memberNames.get(id), id)}${id === org.id ? " (owner)" : isDelegateOf(org, id) ? ` (${rankIn(org, id)})` : ""}${id === self ? " (you)" : ""}${roles.length === 0 ? "" : ` [${inlineText(roles.join(","), textWidth)}]`}`,
      )
      .join(", ")}`,
    ...(org.banned.length === 0
      ? []
      : [`  banned: ${org.banned.map((id) => shownName(short(id))).join(", ")}`]),
  ];
  return lines.join("\n");
}

/**
 * One organization on one line (`org show` of several, `id show`).
 * @param org - the organization
 * @returns `<key prefix>  <name>  (<role>, …)`, the name cut at {@link nameWidth}
 */
export function orgLine(org: OrganizationView): string {
  return `${shownName(short(org.id))}  ${shownName(org.identity.displayName)}  (${org.role}, ${org.encrypted ? "encrypted" : "public"}, ${org.members.size} member(s), ${org.channels.length} channel(s))`;
}

export function requestJson(request: RequestView): Record<string, unknown> {
  return { ...request };
}

/**
 * One request to join on one line: its fields come from the requester (name) and the owner (reason),
 * so each is escaped; the name is cut at {@link nameWidth}, the reason at {@link textWidth}.
 * @param request - the request
 * @returns `<id prefix>  <name>  <requester prefix>  <status>[ #chat][  reason: …]  <ISO time>`
 */
export function requestLine(request: RequestView): string {
  return `${shownName(short(request.id))}  ${request.displayName === "" ? "(no name)" : shownName(request.displayName)}  ${shownName(short(request.requester))}  ${request.status}${request.chatId === "" ? "" : ` #${shownName(request.chatId)}`}${request.reason === undefined ? "" : `  reason: ${inlineText(request.reason, textWidth)}`}  ${isoTime(request.sentAt)}`;
}

/** An ISO time, or `--` for a number no `Date` holds (a time claimed by someone else). */
function isoTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : "--";
}

export function messageJson(message: MessageView): Record<string, unknown> {
  return { ...message, clock: message.clock.toString() };
}

/**
 * How authors are named in message lines: the owner by that word; members by the display name the
 * owner admitted them with (the organization's `memberNames`, which every member has); departed
 * members by the name of their accepted request when this identity knows it (the owner does); the id
 * prefix is added when two of them share a name; anyone else by id prefix.
 * @param org - the organization
 * @param requests - its requests, when this identity can list them (owner)
 * @returns author id → name (names are data: {@link messageLine} escapes them)
 */
export function authorNames(
  org: OrganizationView,
  requests: readonly RequestView[] = [],
): Map<string, string> {
  const named = new Map<string, string>(org.memberNames);
  for (const request of requests) {
    if (
      // Departed (left, removed, banned) members keep their name on what they wrote.
      request.status === "accepted" &&
      request.displayName !== "" &&
      !named.has(request.requester)
    ) {
      named.set(request.requester, request.displayName);
    }
  }
  const uses = new Map<string, number>();
  for (const name of named.values()) uses.set(name, (uses.get(name) ?? 0) + 1);
  const names = new Map<string, string>();
  for (const [id, name] of named) {
    names.set(id, (uses.get(name) ?? 0) > 1 ? `${name} (${short(id)})` : name);
  }
  names.set(org.id, "owner");
  return names;
}

/** `2026-12-06 10:00:00` (UTC), or `--` for a time no `Date` holds. */
function dateTime(ms: number): string {
  return ms > 0 && ms <= 8.64e15
    ? new Date(ms).toISOString().slice(0, 19).replace("T", " ")
    : "----------   --:--:--";
}

/**
 * `[2026-12-06 12:03:04 1a2b3c4d] alice (re 9f8e7d6c): text` — the time (UTC) and the message's id
 * prefix (what `edit`, `delete`, `pin` and `send --reply-to` take), the author, the message answered,
 * and markers for edited, deleted, pinned messages. The author's name is escaped and cut at
 * {@link nameWidth}; the text is a body ({@link bodyText}): its line breaks start continuation lines
 * marked `  │ `, so it cannot print a line that looks like another message.
 * @param message - the message
 * @param names - author id → name shown (default: an 8-hex prefix)
 * @returns the line (more than one when the text has line breaks)
 */
export function messageLine(
  message: MessageView,
  names: ReadonlyMap<string, string> = new Map(),
): string {
  // `shownAt`: the author's claimed time when it agrees with when the post arrived, else the
  // arrival time (a member cannot backdate or postdate what others see: docs/SECURITY.md, row 9).
  const time = dateTime(message.shownAt);
  const who = message.own ? "you" : shownName(names.get(message.author) ?? short(message.author));
  const reply = message.replyTo === undefined ? "" : ` (re ${shownName(short(message.replyTo))})`;
  const text = message.deleted ? "(deleted)" : bodyText(message.text);
  const marks = message.deleted
    ? ""
    : `${message.edited ? " (edited)" : ""}${message.pinned ? " (pinned)" : ""}`;
  return `[${time} ${shownName(short(message.id))}] ${who}${reply}: ${text}${marks}`;
}

/**
 * A table with aligned columns. Every cell is data: escaped on one line and cut at
 * {@link nameWidth} code points (a `\n` in a name cannot break the table).
 * @param headers - the column titles (ours)
 * @param rows - the cells
 * @returns the lines, joined by `\n`
 */
export function table(headers: readonly string[], cells: ReadonlyArray<readonly string[]>): string {
  const rows = cells.map((row) => row.map((cell) => inlineText(cell, nameWidth + 1)));
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
