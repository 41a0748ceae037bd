import { mergeConfig } from "vitest/config";
import { orgchatVitestConfig } from "../../vitest.shared.ts";

// Every test starts `orgchat` processes (each a Node start-up plus the Waku stack): on a loaded 2-core
// machine one test takes minutes. The timeout is only a net for a real hang: tests wait for exits and
// output lines, never for time.
export default mergeConfig(orgchatVitestConfig(), {
  test: {
    globalSetup: ["test/launcher.ts"],
    testTimeout: 480_000,
    hookTimeout: 240_000,
  },
});
