// A dedicated worker of the test page's origin: opens a store when told to and answers with the
// outcome (Web Locks and IndexedDB are shared between a page and its workers).
import { openIndexedDbStore } from "../../src/index.ts";

self.onmessage = async (event: MessageEvent<{ name: string }>) => {
  try {
    const store = await openIndexedDbStore({ name: event.data.name, lockTimeoutMs: 0 });
    const value = await store.get("s", "k");
    await store.close();
    postMessage({ ok: true, value: value === undefined ? null : new TextDecoder().decode(value) });
  } catch (error) {
    postMessage({ ok: false, name: (error as Error).name });
  }
};
