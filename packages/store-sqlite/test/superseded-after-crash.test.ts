/**
 * Issue #13, row 10: a process that dies between committing a re-key and checkpointing leaves the
 * superseded value in the WAL; opening the store again checkpoints and truncates that WAL, so from
 * then on the value is in none of the store's files.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, expect, it } from "vitest";
import { openSqliteStore } from "../src/index.ts";
import { spawnFixture } from "./fixtures/spawn.ts";

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "orgchat-superseded-"));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Deterministic bytes (xorshift32). */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Whether any 16-byte window of `value` is in the database or its companions. */
async function lingers(path: string, value: Uint8Array): Promise<boolean> {
  const files = [path, `${path}-wal`, `${path}-shm`].filter((file) => existsSync(file));
  const contents = await Promise.all(files.map((file) => readFile(file)));
  for (let at = 0; at + 16 <= value.length; at += 8) {
    const needle = value.subarray(at, at + 16);
    if (contents.some((content) => content.indexOf(needle) !== -1)) return true;
  }
  return false;
}

it("a WAL left by a crash right after a re-key is checkpointed and truncated when the store opens", async () => {
  const path = join(directory, "store.db");
  const old = bytes(6_000, 0x1234567);
  const next = bytes(6_000, 0x7654321);
  const child = spawnFixture("./supersede-child.ts", [
    path,
    Buffer.from(old).toString("hex"),
    Buffer.from(next).toString("hex"),
  ]);
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) if (line === "replaced") break;
  child.kill("SIGKILL");
  await exited;
  // The crash left the old value on disk (the precondition: otherwise this test proves nothing).
  expect(await lingers(path, old)).toBe(true);
  const store = await openSqliteStore({ path });
  try {
    expect(await lingers(path, old)).toBe(false);
    expect(Buffer.from((await store.get("org", "group/")) ?? [])).toEqual(Buffer.from(next));
  } finally {
    await store.close();
  }
}, 60_000);
