import { availableParallelism } from "node:os";
import { mergeConfig } from "vitest/config";
import { orgchatVitestConfig } from "../../vitest.shared.ts";

// Every test starts `orgchat` processes (each a Node start-up plus the Waku stack): on a loaded 2-core
// machine one test takes minutes. The timeout is only a net for a hang: tests wait for exits and
// output lines, never for time.
//
// Files run two at a time at least (Vitest's default on 2 cores is one): each file has its own
// service node on an ephemeral port and its own data directories, so they share nothing, and one
// file's waits for the network overlap the other's CPU. Measured on the 2-core dev machine under load
// (6 files, alternating runs): 432 s one at a time, 195 s two at a time.
export default mergeConfig(orgchatVitestConfig(), {
  test: {
    globalSetup: ["test/launcher.ts"],
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 480_000,
    hookTimeout: 240_000,
  },
});
