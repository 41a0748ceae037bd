/**
 * What this profile has read: per channel, the newest message shown by `read` or `chat`, kept in
 * `<data dir>/read.json` (0600). Unread counts are the messages after it that are not our own. The
 * file is the CLI's, not the protocol's: losing it only makes everything unread.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MessageView } from "@orgchat/client";

/** Channels remembered at most (the oldest marks are dropped first beyond it). */
export const maxReadMarkers = 10_000;

/** The newest message read in one channel. */
export interface ReadMarker {
  readonly clock: bigint;
  readonly id: string;
}

const fileOf = (dataDir: string) => join(dataDir, "read.json");
const keyOf = (organizationId: string, channelId: string) => `${organizationId}/${channelId}`;

interface Stored {
  readonly v: 1;
  /** In the order they were last written (oldest first). */
  readonly marks: Record<string, { readonly clock: string; readonly id: string }>;
}

function load(dataDir: string): Map<string, ReadMarker> {
  const marks = new Map<string, ReadMarker>();
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(fileOf(dataDir), "utf8"));
  } catch {
    return marks;
  }
  const stored = value as Partial<Stored> | null;
  if (stored === null || typeof stored !== "object" || stored.v !== 1) return marks;
  for (const [key, mark] of Object.entries(stored.marks ?? {})) {
    if (
      typeof mark?.id === "string" &&
      typeof mark.clock === "string" &&
      /^\d{1,20}$/.test(mark.clock)
    ) {
      marks.set(key, { clock: BigInt(mark.clock), id: mark.id });
    }
  }
  return marks;
}

/**
 * A profile's read marks, loaded once and written once ({@link ReadMarkers.save}): `chat` marks every
 * message it shows, and rewriting the file (up to {@link maxReadMarkers} channels) per message would
 * put a file write on the path of every message. A crash before `save` only leaves those unread.
 */
export class ReadMarkers {
  readonly #dataDir: string;
  readonly #limit: number;
  readonly #marks: Map<string, ReadMarker>;
  #changed = false;

  private constructor(dataDir: string, limit: number) {
    this.#dataDir = dataDir;
    this.#limit = limit;
    this.#marks = load(dataDir);
  }

  /**
   * Reads `<dataDir>/read.json` (nothing read when it is missing or unreadable).
   * @param limit - channels kept (tests use a small one)
   */
  static open(dataDir: string, limit: number = maxReadMarkers): ReadMarkers {
    return new ReadMarkers(dataDir, limit);
  }

  /** Channels with a mark. */
  get size(): number {
    return this.#marks.size;
  }

  /** The keys of the marks, least recently marked first (`<organization>/<channel>`). */
  keys(): string[] {
    return [...this.#marks.keys()];
  }

  /** The mark of one channel. */
  markerOf(organizationId: string, channelId: string): ReadMarker | undefined {
    return this.#marks.get(keyOf(organizationId, channelId));
  }

  /**
   * Marks a channel read up to `newest` (never backwards), in memory; keeps at most the limit of
   * channels, dropping the least recently marked.
   * @param newest - the newest message shown (nothing happens when undefined)
   */
  mark(newest: MessageView | undefined): void {
    if (newest === undefined) return;
    const key = keyOf(newest.organizationId, newest.channelId);
    const current = this.#marks.get(key);
    if (current !== undefined && !after(newest, current)) return;
    this.#marks.delete(key);
    this.#marks.set(key, { clock: newest.clock, id: newest.id });
    while (this.#marks.size > this.#limit) {
      const oldest = this.#marks.keys().next().value;
      if (oldest === undefined) break;
      this.#marks.delete(oldest);
    }
    this.#changed = true;
  }

  /** Writes the marks atomically (0600) when something changed since the last write. */
  save(): void {
    if (!this.#changed) return;
    const stored: Stored = {
      v: 1,
      marks: Object.fromEntries(
        [...this.#marks].map(([k, mark]) => [k, { clock: mark.clock.toString(), id: mark.id }]),
      ),
    };
    const path = fileOf(this.#dataDir);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
    renameSync(temp, path);
    this.#changed = false;
  }
}

/** Whether `message` comes after `marker` in history order (clock, then id). */
function after(message: MessageView, marker: ReadMarker | undefined): boolean {
  if (marker === undefined) return true;
  if (message.clock !== marker.clock) return message.clock > marker.clock;
  return message.id > marker.id;
}

/**
 * Messages of a channel's history after the mark, not our own and not deleted.
 * @param history - the channel's messages, oldest first (`client.history`)
 * @param marker - the channel's mark
 */
export function unreadCount(
  history: readonly MessageView[],
  marker: ReadMarker | undefined,
): number {
  let count = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    if (message === undefined || !after(message, marker)) break;
    if (!message.own && !message.deleted) count++;
  }
  return count;
}
