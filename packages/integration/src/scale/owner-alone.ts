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
 * The copy is an **owner dump** file ({@link writeOwnerDump}): the store's records and log entries,
 * the organization's id and the owner's configuration, in one file (`node:v8` serialization). The
 * scale bench keeps it with `--dump-owner FILE`, and `bench/owner-restart.ts` restarts the owner on
 * a kept file, so that two source trees can be timed on the same bytes (docs/SCALE.md, "Owner
 * restart").
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
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

/** An owner dump's format tag (its first field), changed when its shape changes. */
export const ownerDumpFormat = "orgchat-owner-dump/1";

/** An owner dump: its store's content, whose organization, which configuration. */
export interface OwnerDump extends StoreDump {
  readonly format: typeof ownerDumpFormat;
  readonly organizationId: string;
  readonly config: ClientConfig;
}

/** What the child is told: where the owner dump is, how many warm restarts follow the cold one. */
export interface OwnerAloneInput {
  readonly file: string;
  readonly warmRounds: number;
}

/** How {@link measureOwnerAloneFile} runs its child. */
export interface OwnerAloneOptions {
  /** Restarts after the cold one. @default ownerAloneWarmRounds */
  readonly warmRounds?: number;
  /** Extra Node flags for the child (e.g. `--cpu-prof`, `--cpu-prof-dir=DIR`). */
  readonly execArgv?: readonly string[];
}

/** What the child answers: wall and process CPU (ms) of each restart, the first one cold. */
export interface OwnerAloneResult {
  readonly coldMs: number;
  readonly coldCpuMs: number;
  /**
   * The main thread's share of {@link coldCpuMs}: the rest is the collector's and the compilers'
   * background threads.
   */
  readonly coldMainCpuMs: number;
  readonly warmMs: number[];
  readonly warmCpuMs: number[];
  /** The main thread's share of each of {@link warmCpuMs}. */
  readonly warmMainCpuMs: number[];
  /**
   * The cold restart until ready: `createClient` → the first view → `idle()` (what the start left
   * queued done: an owner's groups restored, the catch-up), wall and process CPU (ms).
   */
  readonly coldReadyMs: number;
  readonly coldReadyCpuMs: number;
  /** The longest the event loop was held between the cold first view and ready (ms, ~1 ms steps). */
  readonly coldLongestBlockMs: number;
  /**
   * The first operation after a start (a restart after the others): a member removed right after
   * `createClient` resolved, until `removeMember` resolved (it waits for what the start queued).
   */
  readonly firstRemovalMs: number;
  readonly firstRemovalCpuMs: number;
  /** Members the loaded organization showed (each restart the same). */
  readonly members: number;
  /**
   * The organization-wide epoch the loaded owner was in (each restart the same); undefined when no
   * group was loaded (a restart that lost them still shows the members).
   */
  readonly epoch: bigint | undefined;
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
 * Writes an owner dump to `file` (replacing it).
 *
 * @param file - where to write
 * @param dump - the owner's store content ({@link dumpStore})
 * @param organizationId - the organization the owner loads
 * @param config - the owner's client configuration
 */
export function writeOwnerDump(
  file: string,
  dump: StoreDump,
  organizationId: string,
  config: ClientConfig,
): void {
  const owner: OwnerDump = {
    format: ownerDumpFormat,
    organizationId,
    config,
    records: dump.records,
    logs: dump.logs,
  };
  writeFileSync(file, serialize(owner));
}

/**
 * Reads an owner dump {@link writeOwnerDump} wrote.
 *
 * @param file - the dump's path
 * @returns the dump
 * @throws when the file is not an owner dump of this format
 */
export function readOwnerDump(file: string): OwnerDump {
  const dump = deserialize(readFileSync(file)) as Partial<OwnerDump> | null;
  if (
    dump?.format !== ownerDumpFormat ||
    typeof dump.organizationId !== "string" ||
    !Array.isArray(dump.records) ||
    !Array.isArray(dump.logs)
  ) {
    throw new Error(
      `${file} is not an owner dump (${ownerDumpFormat}): write one with the scale bench's --dump-owner FILE`,
    );
  }
  return dump as OwnerDump;
}

/**
 * Restarts the owner on the owner dump in `file`, in a child process holding nothing else (see the
 * module's comment).
 *
 * @param file - an owner dump ({@link writeOwnerDump})
 * @param options - warm rounds, the child's extra flags
 * @returns the cold and warm restarts' wall and CPU times
 * @throws when the child fails or answers nothing
 */
export async function measureOwnerAloneFile(
  file: string,
  options: OwnerAloneOptions = {},
): Promise<OwnerAloneResult> {
  const input: OwnerAloneInput = {
    file,
    warmRounds: options.warmRounds ?? ownerAloneWarmRounds,
  };
  return await askChild<OwnerAloneResult>(
    new URL("./owner-alone-child.ts", import.meta.url),
    input,
    "owner-alone",
    options.execArgv,
  );
}

/**
 * Restarts the owner on a copy of `dump` in a child process holding nothing else (see the module's
 * comment).
 *
 * @param dump - the owner's store content
 * @param organizationId - the organization to load
 * @param config - the owner's client configuration
 * @param keepAt - where to keep the owner dump (`--dump-owner`); a temporary file otherwise
 * @returns the cold and warm restarts' wall and CPU times
 * @throws when the child fails or answers nothing
 */
export async function measureOwnerAlone(
  dump: StoreDump,
  organizationId: string,
  config: ClientConfig,
  keepAt?: string,
): Promise<OwnerAloneResult> {
  const dir =
    keepAt === undefined ? mkdtempSync(join(tmpdir(), "orgchat-owner-alone-")) : undefined;
  const file = keepAt ?? join(dir ?? "", "owner.dump");
  writeOwnerDump(file, dump, organizationId, config);
  try {
    return await measureOwnerAloneFile(file);
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}
