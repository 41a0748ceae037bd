import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageView } from "@orgchat/client";
import { afterEach, describe, expect, it } from "vitest";
import { ReadMarkers, unreadCount } from "../src/read-markers.js";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "orgchat-read-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function message(clock: number, id: string, extra: Partial<MessageView> = {}): MessageView {
  return {
    id,
    organizationId: "org",
    channelId: "general",
    author: "someone",
    text: "hi",
    sentAt: 0,
    receivedAt: 0,
    shownAt: 0,
    clock: BigInt(clock),
    edited: false,
    deleted: false,
    pinned: false,
    own: false,
    ...extra,
  };
}

describe("read markers", () => {
  const history = [
    message(1, "a1"),
    message(2, "b2"),
    message(2, "c2", { own: true }),
    message(3, "d3", { deleted: true }),
    message(4, "e4"),
  ];

  it("counts what comes after the mark, not our own, not deleted", () => {
    expect(unreadCount(history, undefined)).toBe(3);
    expect(unreadCount(history, { clock: 2n, id: "b2" })).toBe(1);
    expect(unreadCount(history, { clock: 4n, id: "e4" })).toBe(0);
    expect(unreadCount([], undefined)).toBe(0);
  });

  it("remembers the newest message read per channel, never going back, saved once in a 0600 file", () => {
    const dir = dataDir();
    const marks = ReadMarkers.open(dir);
    marks.mark(history[1]);
    marks.mark(history[0]);
    expect(marks.markerOf("org", "general")).toEqual({ clock: 2n, id: "b2" });
    marks.mark(history[4]);
    marks.mark(message(1, "z", { channelId: "core" }));
    // Nothing is written until save().
    expect(ReadMarkers.open(dir).size).toBe(0);
    marks.save();
    const again = ReadMarkers.open(dir);
    expect(again.markerOf("org", "general")).toEqual({ clock: 4n, id: "e4" });
    expect(again.markerOf("org", "core")).toEqual({ clock: 1n, id: "z" });
    expect(statSync(join(dir, "read.json")).mode & 0o777).toBe(0o600);
  });

  it("keeps at most the bound of channels, dropping the least recently read", () => {
    const dir = dataDir();
    const marks = ReadMarkers.open(dir, 2);
    for (const channelId of ["a", "b", "c"]) marks.mark(message(1, "x", { channelId }));
    marks.save();
    expect(ReadMarkers.open(dir).keys()).toEqual(["org/b", "org/c"]);
  });

  it("reads a damaged file as nothing read", () => {
    const dir = dataDir();
    writeFileSync(join(dir, "read.json"), "{not json");
    expect(ReadMarkers.open(dir).size).toBe(0);
    writeFileSync(
      join(dir, "read.json"),
      JSON.stringify({ v: 1, marks: { "o/c": { clock: "-1", id: "x" } } }),
    );
    expect(ReadMarkers.open(dir).size).toBe(0);
    const marks = ReadMarkers.open(dir);
    marks.mark(history[0]);
    marks.save();
    expect(ReadMarkers.open(dir).size).toBe(1);
  });
});
