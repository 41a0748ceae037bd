// Loaded into the extra pages the tests open (test/pages/commands.ts): a second tab, a reloaded page.
// Exposes the store to the test through `globalThis.orgchatDriver`, with JSON-safe arguments and
// results (values as text), and typed errors reported by name.
import { type IndexedDbStore, openIndexedDbStore } from "../../src/index.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let store: IndexedDbStore | undefined;

/** What a driver call returns: its value, or the name and message of what it threw. */
export type DriverResult =
  | { ok: true; value: unknown }
  | { ok: false; name: string; message: string };

async function settle(body: () => Promise<unknown>): Promise<DriverResult> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    const { name, message } = error as Error;
    return { ok: false, name: String(name), message: String(message) };
  }
}

function opened(): IndexedDbStore {
  if (store === undefined) throw new Error("the driver has no open store");
  return store;
}

const driver = {
  open: (name: string, lockTimeoutMs: number) =>
    settle(async () => {
      store = await openIndexedDbStore({ name, lockTimeoutMs });
      return store.databaseName;
    }),
  close: () => settle(async () => opened().close()),
  put: (space: string, key: string, value: string) =>
    settle(async () => opened().put(space, key, encoder.encode(value))),
  get: (space: string, key: string) =>
    settle(async () => {
      const value = await opened().get(space, key);
      return value === undefined ? null : decoder.decode(value);
    }),
  appendAndPut: (log: string, ids: string[], space: string, key: string, value: string) =>
    settle(async () =>
      opened().batch([
        {
          type: "append",
          log,
          entries: ids.map((id, i) => ({ id, sortKey: BigInt(i), value: encoder.encode(id) })),
        },
        { type: "put", space, key, value: encoder.encode(value) },
      ]),
    ),
  /**
   * Starts `batches` batches, each appending `perBatch` entries (ids `b<i>-<j>`) and putting
   * `s/last = i`, and returns once the first has committed, the others still on their way.
   */
  startBatches: (log: string, batches: number, perBatch: number) =>
    settle(async () => {
      const calls = Array.from({ length: batches }, (_, i) =>
        opened().batch([
          {
            type: "append",
            log,
            entries: Array.from({ length: perBatch }, (_, j) => ({
              id: `b${i}-${j}`,
              sortKey: BigInt(i),
              value: new Uint8Array(256),
            })),
          },
          { type: "put", space: "s", key: "last", value: encoder.encode(String(i)) },
        ]),
      );
      for (const call of calls) call.catch(() => {});
      await calls[0];
    }),
  /** How many entries of each sort key `log` holds, by sort key. */
  countBySortKey: (log: string) =>
    settle(async () => {
      const counts: number[] = [];
      for (const entry of await opened().range(log)) {
        const at = Number(entry.sortKey);
        counts[at] = (counts[at] ?? 0) + 1;
      }
      return counts;
    }),
  ids: (log: string) => settle(async () => (await opened().range(log)).map((entry) => entry.id)),
};

/** The driver's calls, as the commands invoke them. */
export type Driver = typeof driver;

(globalThis as { orgchatDriver?: Driver }).orgchatDriver = driver;
