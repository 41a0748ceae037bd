// The example of README.md, kept here so that it typechecks (tsc) and runs:
//   tsx --conditions=@orgchat/source examples/readme.ts
import { tmpdir } from "node:os";
import { isStoreLockedError } from "@orgchat/store";
import { openSqliteStore } from "@orgchat/store-sqlite";

try {
  const store = await openSqliteStore({ path: `${tmpdir()}/orgchat-readme-example/store.db` });
  await store.batch([
    { type: "put", space: "ratchet", key: "org-1/general", value: new Uint8Array([1, 2, 3]) },
    {
      type: "append",
      log: "outbox",
      entries: [{ id: "m1", sortKey: 1n, value: new Uint8Array([4]) }],
    },
  ]);
  await store.close();
} catch (error) {
  // Another orgchat process uses this data directory: say so and stop.
  if (isStoreLockedError(error)) console.error(error.message);
  else throw error;
}
