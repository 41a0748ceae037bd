/**
 * The owner's restart measured the way a device pays it: alone. The scale bench's process holds the
 * owner, 10,000 lean members and the network's history (hundreds of MB), so a restart there also
 * pays for collections of everyone's heap. Here the owner's store is copied (every record and log
 * entry, as bytes through a temporary file) to a child process that holds only that store in a
 * memory store, imports the client, and times `createClient` → its organization loaded: once cold
 * (the first restart in the process, its modules imported but no client code run yet: a device's
 * start) and {@link ownerAloneWarmRounds} times warm (the code optimized). The goal
 * (≤ 200 ms) is read on the cold wall time.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import type { ClientConfig } from "@orgchat/client";
import type { LogEntry, Store } from "@orgchat/store";
import { askChild } from "./child.js";

/** Restarts after the cold one, each on the same store in the same process. */
export const ownerAloneWarmRounds = 3;

/** A store's content: every record by space and every entry by log. */
export interface StoreDump {
  readonly records: Array<readonly [space: string, key: string, value: Uint8Array]>;
  readonly logs: Array<readonly [log: string, entries: readonly LogEntry[]]>;
}

/** What the child is told: where the store's copy is, whose organization, which configuration. */
export interface OwnerAloneInput {
  readonly file: string;
  readonly organizationId: string;
  readonly config: ClientConfig;
  readonly warmRounds: number;
}

/** What the child answers: wall and process CPU (ms) of each restart, the first one cold. */
export interface OwnerAloneResult {
  readonly coldMs: number;
  readonly coldCpuMs: number;
  readonly warmMs: number[];
  readonly warmCpuMs: number[];
  /** Members the loaded organization showed (each restart the same). */
  readonly members: number;
  /** Bytes of the store's values the child loaded. */
  readonly storeBytes: number;
}

/**
 * Copies what `store` holds in `spaces` and `logs` (every record and every entry).
 *
 * @param store - the store to read
 * @param spaces - the spaces to copy (those written to)
 * @param logs - the logs to copy (those appended to)
 * @returns the records and entries
 */
export async function dumpStore(
  store: Store,
  spaces: Iterable<string>,
  logs: Iterable<string>,
): Promise<StoreDump> {
  const records: Array<readonly [string, string, Uint8Array]> = [];
  for (const space of spaces) {
    if (store.entries !== undefined) {
      for (const [key, value] of await store.entries(space)) records.push([space, key, value]);
      continue;
    }
    for (const key of await store.keys(space)) {
      const value = await store.get(space, key);
      if (value !== undefined) records.push([space, key, value]);
    }
  }
  const entries: Array<readonly [string, readonly LogEntry[]]> = [];
  for (const log of logs) entries.push([log, await store.range(log)]);
  return { records, logs: entries };
}

/**
 * Restarts the owner on a copy of `dump` in a child process holding nothing else (see the module's
 * comment).
 *
 * @param dump - the owner's store content
 * @param organizationId - the organization to load
 * @param config - the owner's client configuration
 * @param warmRounds - restarts after the cold one
 * @returns the cold and warm restarts' wall and CPU times
 * @throws when the child fails or answers nothing
 */
export async function measureOwnerAlone(
  dump: StoreDump,
  organizationId: string,
  config: ClientConfig,
  warmRounds = ownerAloneWarmRounds,
): Promise<OwnerAloneResult> {
  const dir = mkdtempSync(join(tmpdir(), "orgchat-owner-alone-"));
  const file = join(dir, "store.bin");
  writeFileSync(file, serialize(dump));
  const input: OwnerAloneInput = { file, organizationId, config, warmRounds };
  try {
    return await askChild<OwnerAloneResult>(
      new URL("./owner-alone-child.ts", import.meta.url),
      input,
      "owner-alone",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
