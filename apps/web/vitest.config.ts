import { mergeConfig } from "vitest/config";
import { orgchatVitestConfig } from "../../vitest.shared.ts";

// The smoke test starts `orgchat` processes and a Chromium: on a loaded 2-core machine that takes
// minutes. The timeouts are only a net for a hang: the test waits for events, never for time. The
// global setup builds the `orgchat` command the tests run once.
export default mergeConfig(orgchatVitestConfig(), {
  test: { globalSetup: ["test/cli-build.ts"], testTimeout: 480_000, hookTimeout: 240_000 },
});
