// The example of README.md, kept here so that it typechecks (tsc) and runs: test/readme.test.ts
// imports it inside headless Chromium.
// consumers: not run on Node (it needs IndexedDB and Web Locks, i.e. a browser)
import { isStoreLockedError } from "@orgchat/store";
import { openIndexedDbStore } from "@orgchat/store-indexeddb";

const encoder = new TextEncoder();
try {
  const store = await openIndexedDbStore({ name: "readme-example" });
  // Persist before sending: the chain state and the outgoing message commit together, or neither.
  await store.batch([
    { type: "put", space: "ratchet", key: "org-1/general", value: encoder.encode("chain state") },
    {
      type: "append",
      log: "outbox",
      entries: [{ id: "m1", sortKey: 1n, value: encoder.encode("ciphertext") }],
    },
  ]);
  const outbox = await store.range("outbox");
  console.log(`${outbox.length} message(s) to send from ${store.databaseName}`);
  await store.close();
} catch (error) {
  // The profile is open in another tab: say so instead of running two writers.
  if (isStoreLockedError(error)) console.error("orgchat is already open in another tab");
  else throw error;
}
