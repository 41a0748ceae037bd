// Runs in headless Chromium (vitest.config.ts): a real IndexedDB, never a fake one.
import { runStoreCompliance } from "@orgchat/store/compliance";
import { deleteIndexedDbStore, openIndexedDbStore } from "../src/index.ts";

let name: string | undefined;
let count = 0;

runStoreCompliance({
  name: "openIndexedDbStore() in Chromium",
  open: async () => {
    count += 1;
    name = `compliance-${count}`;
    return openIndexedDbStore({ name });
  },
  reopen: async () => openIndexedDbStore({ name: name as string }),
  cleanup: async () => {
    if (name !== undefined) await deleteIndexedDbStore({ name });
    name = undefined;
  },
});
