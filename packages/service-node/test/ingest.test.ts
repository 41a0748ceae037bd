/** The ingest's promise to light push clients: a message is committed to the archive before its ack. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { WakuRelay } from "@orgchat/transport-waku/relay";
import { afterEach, describe, expect, it } from "vitest";
import { MessageArchive } from "../src/archive.ts";
import type { FilterPusher } from "../src/filter-push.ts";
import type { FilterSubscriptions } from "../src/filter-subscriptions.ts";
import { MessageIngest } from "../src/ingest.ts";
import { archived, baseTimeNs, nsPerMs, pubsubTopic } from "./store-fixtures.ts";

const dirs: string[] = [];
const archives: MessageArchive[] = [];
afterEach(() => {
  for (const archive of archives.splice(0)) archive.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("MessageIngest with an archive that commits per turn", () => {
  it("commits a light-pushed message before answering, relayed ones at the end of the turn", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orgchat-ingest-"));
    dirs.push(dir);
    const file = path.join(dir, "messages.sqlite");
    const archive = MessageArchive.open({
      path: file,
      now: () => Number(baseTimeNs / nsPerMs),
      commitPerTurn: true,
    });
    archives.push(archive);
    const ingest = new MessageIngest({
      archive,
      subscriptions: { subscribers: () => [] } as unknown as FilterSubscriptions,
      pusher: { push: () => undefined } as unknown as FilterPusher,
      onDiagnostic: () => undefined,
    });
    let observer: Parameters<WakuRelay["observe"]>[0] | undefined;
    const relay = {
      observe: (listener: Parameters<WakuRelay["observe"]>[0]) => {
        observer = listener;
        return () => undefined;
      },
      publishRaw: async () => ({ recipients: [], duplicate: false, messageHash: "" }),
    } as unknown as WakuRelay;
    ingest.attach(relay);
    const committedRows = () => {
      const db = new DatabaseSync(file);
      try {
        return Number(db.prepare("SELECT count(*) AS n FROM message").get()?.n);
      } finally {
        db.close();
      }
    };
    // Relayed: archived in the turn's transaction, committed when the turn ends.
    const relayed = archived({ index: 1 });
    observer?.(pubsubTopic, relayed.message, new Uint8Array(0), false, {
      from: "peer",
      hash: relayed.hash,
      hashHex: "",
    });
    expect(archive.count()).toBe(1);
    expect(committedRows()).toBe(0);
    // Light-pushed in the same turn: committed (with the relayed one) before the answer.
    const pushed = archived({ index: 2 });
    const answer = ingest.lightPushed(pubsubTopic, pushed.message, new Uint8Array(0), "client");
    expect(committedRows()).toBe(2);
    await expect(answer).resolves.toEqual({ relayPeers: 0, duplicate: false });
  });
});
