import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStoreCompliance } from "@orgchat/store/compliance";
import { openSqliteStore } from "../src/index.ts";

let directory: string | undefined;
const path = () => join(directory as string, "store.db");

runStoreCompliance({
  name: "openSqliteStore()",
  open: async () => {
    directory = await mkdtemp(join(tmpdir(), "orgchat-store-"));
    return openSqliteStore({ path: path() });
  },
  reopen: async () => openSqliteStore({ path: path() }),
  files: async () => {
    const files = [path(), `${path()}-wal`, `${path()}-shm`].filter((file) => existsSync(file));
    return Promise.all(files.map((file) => readFile(file)));
  },
  cleanup: async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
    directory = undefined;
  },
});
