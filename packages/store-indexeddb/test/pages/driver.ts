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
  ids: (log: string) => settle(async () => (await opened().range(log)).map((entry) => entry.id)),
};

/** The driver's calls, as the commands invoke them. */
export type Driver = typeof driver;

(globalThis as { orgchatDriver?: Driver }).orgchatDriver = driver;
