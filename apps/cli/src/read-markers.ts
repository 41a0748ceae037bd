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

/** The read marks of a data directory (none when the file is missing or unreadable). */
export function readMarkers(dataDir: string): ReadonlyMap<string, ReadMarker> {
  return load(dataDir);
}

/** The mark of one channel. */
export function markerOf(
  marks: ReadonlyMap<string, ReadMarker>,
  organizationId: string,
  channelId: string,
): ReadMarker | undefined {
  return marks.get(keyOf(organizationId, channelId));
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

/**
 * Marks a channel read up to `newest` (never backwards), atomically; keeps at most
 * {@link maxReadMarkers} channels.
 * @param dataDir - the profile's data directory
 * @param newest - the newest message shown (nothing happens when undefined)
 * @param limit - channels kept (tests use a small one)
 */
export function markRead(
  dataDir: string,
  newest: MessageView | undefined,
  limit: number = maxReadMarkers,
): void {
  if (newest === undefined) return;
  const marks = load(dataDir);
  const key = keyOf(newest.organizationId, newest.channelId);
  const current = marks.get(key);
  if (current !== undefined && !after(newest, current)) return;
  marks.delete(key);
  marks.set(key, { clock: newest.clock, id: newest.id });
  while (marks.size > limit) {
    const oldest = marks.keys().next().value;
    if (oldest === undefined) break;
    marks.delete(oldest);
  }
  const stored: Stored = {
    v: 1,
    marks: Object.fromEntries(
      [...marks].map(([k, mark]) => [k, { clock: mark.clock.toString(), id: mark.id }]),
    ),
  };
  const path = fileOf(dataDir);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}
