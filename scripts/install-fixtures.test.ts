import { delimiter, join, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { isInstalled, machineEnv } from "./install-fixtures.mjs";

describe("install-fixtures: npm runs as the machine's own", () => {
  const env = {
    PATH: [
      join(sep, "repo", "node_modules", ".bin"),
      join(sep, "repo", "apps", "cli", "node_modules", ".bin"),
      join(sep, "usr", "local", "bin"),
      join(sep, "usr", "bin"),
      "",
    ].join(delimiter),
    HOME: "/home/someone",
    npm_config_user_agent: "pnpm/10",
    npm_config_globalconfig: "/repo/node_modules/node/etc/npmrc",
    npm_package_name: "orgchat-monorepo",
    npm_lifecycle_event: "postinstall",
    npm_node_execpath: "/repo/node_modules/.bin/node",
    PNPM_SCRIPT_SRC_DIR: "/repo",
    NODE: "/repo/node_modules/.bin/node",
    SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
  };

  it("drops every node_modules directory from PATH and keeps the rest in order", () => {
    expect(machineEnv(env).PATH).toBe(
      [join(sep, "usr", "local", "bin"), join(sep, "usr", "bin")].join(delimiter),
    );
  });

  it("drops pnpm's npm_* settings (npm reads its own global config) and keeps everything else", () => {
    const out = machineEnv(env);
    expect(Object.keys(out).sort()).toEqual(["HOME", "PATH", "SSL_CERT_FILE"]);
  });

  it("says a fixture without its probe file is not installed", () => {
    expect(isInstalled({ dir: import.meta.dirname, probe: "no-such-file" })).toBe(false);
  });
});
