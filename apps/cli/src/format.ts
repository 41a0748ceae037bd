/**
 * Everything the CLI prints: JSON views of the SDK's objects (bigints as strings, maps as objects),
 * human renderings, and progress on stderr. Commands build a result; only this module decides how it
 * looks. Machine output is exactly one JSON document on stdout (`--json`); progress and errors go to
 * stderr.
 */
import type { MessageView, OrganizationView, RequestView } from "@orgchat/client";

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

/** Prints a result in the requested form. */
export function printResult(output: Output, result: CommandResult, json: boolean): void {
  if (json) output.stdout(`${JSON.stringify(result.json, jsonReplacer, 2)}\n`);
  else if (result.human !== "") output.stdout(`${result.human}\n`);
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

export function orgJson(org: OrganizationView): Record<string, unknown> {
  return {
    id: org.id,
    name: org.identity.displayName,
    description: org.identity.description,
    role: org.role,
    access: org.access,
    encrypted: org.encrypted,
    members: Object.fromEntries([...org.members].map(([id, roles]) => [id, [...roles]])),
    banned: [...org.banned],
    channels: org.channels.map((channel) => ({ ...channel })),
    categories: Object.fromEntries(org.categories),
    clock: org.clock.toString(),
    ...(org.epoch === undefined ? {} : { epoch: org.epoch.toString() }),
    ...(org.request === undefined ? {} : { request: { ...org.request } }),
  };
}

export function orgHuman(org: OrganizationView, self: string): string {
  const lines = [
    `${org.identity.displayName}  ${org.id}`,
    ...(org.identity.description === "" ? [] : [`  ${org.identity.description}`]),
    `  you are: ${org.banned.includes(self) ? "banned" : org.role}${org.request !== undefined && org.role !== "owner" && org.role !== "member" && !org.banned.includes(self) ? ` (request ${short(org.request.id)} ${org.request.status}${org.request.reason === undefined ? "" : `: ${org.request.reason}`})` : ""}`,
    `  access: ${org.access}, ${org.encrypted ? `encrypted${org.epoch === undefined ? "" : ` (epoch ${org.epoch})`}` : "public"}`,
    `  channels: ${org.channels.length === 0 ? "none" : org.channels.map((c) => `#${c.id}${c.restricted ? " (restricted)" : ""}`).join(", ")}`,
    `  members (${org.members.size}): ${[...org.members]
      .map(
        ([id, roles]) =>
          `${short(id)}${id === org.id ? " (owner)" : ""}${id === self ? " (you)" : ""}${roles.length === 0 ? "" : ` [${roles.join(",")}]`}`,
      )
      .join(", ")}`,
    ...(org.banned.length === 0 ? [] : [`  banned: ${org.banned.map(short).join(", ")}`]),
  ];
  return lines.join("\n");
}

export function orgLine(org: OrganizationView): string {
  return `${short(org.id)}  ${org.identity.displayName}  (${org.role}, ${org.encrypted ? "encrypted" : "public"}, ${org.members.size} member(s), ${org.channels.length} channel(s))`;
}

export function requestJson(request: RequestView): Record<string, unknown> {
  return { ...request };
}

export function requestLine(request: RequestView): string {
  return `${short(request.id)}  ${request.displayName === "" ? "(no name)" : request.displayName}  ${short(request.requester)}  ${request.status}${request.chatId === "" ? "" : ` #${request.chatId}`}${request.reason === undefined ? "" : `  reason: ${request.reason}`}  ${new Date(request.sentAt).toISOString()}`;
}

export function messageJson(message: MessageView): Record<string, unknown> {
  return { ...message, clock: message.clock.toString() };
}

/** How authors are named in message lines: the owner by that word, members by id prefix. */
export function authorNames(org: OrganizationView): Map<string, string> {
  return new Map([[org.id, "owner"]]);
}

/** `[12:03:04] 1a2b3c4d: text` with markers for own, edited, deleted, pinned messages. */
export function messageLine(
  message: MessageView,
  names: ReadonlyMap<string, string> = new Map(),
): string {
  // `shownAt`: the author's claimed time when it agrees with when the post arrived, else the
  // arrival time (a member cannot backdate or postdate what others see: docs/SECURITY.md, row 9).
  const time =
    message.shownAt > 0 ? new Date(message.shownAt).toISOString().slice(11, 19) : "--:--:--";
  const who = message.own ? "you" : (names.get(message.author) ?? short(message.author));
  const text = message.deleted ? "(deleted)" : message.text;
  const marks = `${message.edited ? " (edited)" : ""}${message.pinned ? " (pinned)" : ""}`;
  return `[${time}] ${who}: ${text}${marks}`;
}

/** A table with aligned columns. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
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
