/**
 * Issue #13 row 10 (docs/SECURITY.md): after a re-key, the group state it superseded must not linger
 * in the SQLite files — neither in the database's free pages nor in its write-ahead log — where a
 * crash (no clean close, so no final checkpoint) would leave it for whoever reads the disk later.
 * The client asks the store to erase what a key-replacing commit superseded
 * (`BatchOptions.checkpoint`); this test reads the raw files while the store is still open, as a
 * crash would leave them.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Store } from "@orgchat/store";
import { openSqliteStore } from "@orgchat/store-sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, orgWithMembers, viewOf, type World } from "../src/world.js";

let world: World | undefined;
let directory: string | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

/** Offsets of the 16-byte windows of `record` (every 8th byte) that occur in `haystack`. */
function windowsIn(record: Uint8Array, haystack: Buffer): number[] {
  const found: number[] = [];
  for (let at = 0; at + 16 <= record.length; at += 8) {
    if (haystack.indexOf(record.subarray(at, at + 16)) !== -1) found.push(at);
  }
  return found;
}

/** The bytes of every file of the store (the database, its WAL and shared-memory file if any). */
async function rawFiles(dir: string): Promise<Buffer> {
  const names = await readdir(dir);
  return Buffer.concat(await Promise.all(names.map((name) => readFile(join(dir, name)))));
}

/** Every record value of `space` now (what the store legitimately holds). */
async function liveValues(store: Store, space: string): Promise<Buffer> {
  const values: Uint8Array[] = [];
  for (const key of await store.keys(space)) {
    const value = await store.get(space, key);
    if (value !== undefined) values.push(value);
  }
  return Buffer.concat(values);
}

describe("keys of a superseded epoch on disk (row 10)", () => {
  it("a member's previous group state is gone from the SQLite files right after the re-key, without a close", async () => {
    directory = await mkdtemp(join(tmpdir(), "orgchat-keys-on-disk-"));
    const dir = directory;
    let aliceStore: Store | undefined;
    world = await createWorld("memory");
    const { owner, orgId } = await orgWithMembers(world, ["alice", "bob"], {
      stores: {
        alice: async () => {
          aliceStore = await openSqliteStore({ path: join(dir, "alice.db") });
          return aliceStore;
        },
      },
    });
    const store = aliceStore as Store;
    const space = `org/${orgId}`;
    const before = await store.get(space, "group/");
    expect(before).toBeDefined();
    const old = before as Uint8Array;
    // The control: the search finds the record (the group's head: its size no longer grows with
    // the roster) where it is, nearly every window of it.
    const windows = Math.floor((old.length - 16) / 8) + 1;
    expect(windows).toBeGreaterThan(32);
    expect(windowsIn(old, await rawFiles(dir)).length).toBeGreaterThan(windows * 0.9);

    const alice = world.peers.find((p) => p.name === "alice");
    const bob = world.peers.find((p) => p.name === "bob");
    await owner.client.removeMember(orgId, bob?.client.memberId ?? "");
    await world.until(
      () => (alice?.events ?? []).some(([name]) => name === "epoch:changed"),
      "alice to enter the epoch after bob's removal",
    );
    expect(alice === undefined ? undefined : viewOf(alice, orgId)?.role).toBe("member");

    // What no record holds any more: the superseded epoch's secrets (the record may be stored
    // unsealed without a passphrase, so what stays across epochs — the member's own keys — is
    // left out by looking only at the windows that no live value contains).
    const live = await liveValues(store, space);
    const superseded = windowsIn(old, Buffer.from(old)).filter(
      (at) => live.indexOf(old.subarray(at, at + 16)) === -1,
    );
    expect(superseded.length).toBeGreaterThan(8);
    const raw = await rawFiles(dir);
    const lingering = superseded.filter((at) => raw.indexOf(old.subarray(at, at + 16)) !== -1);
    expect(lingering).toEqual([]);
  });
});
