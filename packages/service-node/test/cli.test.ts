/**
 * `orgchat-node` as a child process: prints its addresses, stops cleanly on SIGTERM and SIGINT (exit
 * 0, nothing left running), keeps its identity and messages across restarts, and reports bad
 * command lines and unusable resources in one line with a non-zero exit code.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatDiagnostic, parseCliArgs } from "../src/cli-options.ts";
import { exitCode, firstLine, run as runIn } from "./cli-process.ts";
import { lightTransportFor } from "./fixtures.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts the CLI from source; killed (if still running) after the test. */
function run(args: readonly string[]) {
  return runIn(args, cleanups);
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "orgchat-cli-test-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("orgchat-node", () => {
  it("prints its addresses as JSON, stops on SIGTERM with exit 0, and keeps its messages across a restart", async () => {
    const data = await tempDir();
    const first = run(["--data", data, "--json", "--listen", "/ip4/127.0.0.1/tcp/0/ws"]);
    const info = JSON.parse(await firstLine(first)) as {
      peerId: string;
      multiaddrs: string[];
      clusterId: number;
      shards: number[];
      storedMessages: number;
    };
    expect(info.multiaddrs).toHaveLength(1);
    expect(info.multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//);
    expect(info).toMatchObject({
      clusterId: 55,
      shards: [0, 1, 2, 3, 4, 5, 6, 7],
      storedMessages: 0,
    });

    const light = lightTransportFor(info.multiaddrs);
    await light.start();
    for (let i = 0; i < 3; i++) {
      await light.publish("/orgchat-cli/1/restart/proto", new TextEncoder().encode(`m${i}`));
    }
    await light.stop();
    first.child.kill("SIGTERM");
    expect(await exitCode(first)).toBe(0);

    const second = run(["--data", data, "--json", "--listen", "/ip4/127.0.0.1/tcp/0/ws"]);
    const again = JSON.parse(await firstLine(second)) as { peerId: string; storedMessages: number };
    expect(again.peerId).toBe(info.peerId);
    expect(again.storedMessages).toBe(3);
    second.child.kill("SIGINT");
    expect(await exitCode(second)).toBe(0);
  });

  it("prints one multiaddr per line by default", async () => {
    const r = run(["--data", await tempDir()]);
    await firstLine(r);
    // Count the lines once the process has closed its output (not after a pause): every line is in.
    r.child.kill("SIGTERM");
    expect(await exitCode(r)).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines)
      expect(line).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+(\/ws)?\/p2p\/12D3KooW/);
  });

  it("--help prints the flags and an example", async () => {
    const r = run(["--help"]);
    expect(await exitCode(r)).toBe(0);
    expect(r.stdout).toContain("--retention-days");
    expect(r.stdout).toContain("Example:");
  });

  it("reports a bad command line in one line with exit code 2", async () => {
    const r = run(["--cluster", "abc"]);
    expect(await exitCode(r)).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--cluster needs a whole number");
  });

  it("reports a bad multiaddr, a port in use and an unusable data directory in one line with exit code 1", async () => {
    // Three independent processes, each with its own data directory, run side by side: on a busy
    // machine the test then takes the time of one start, not three.
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    cleanups.push(() => new Promise((done) => server.close(() => done())));
    const { port } = server.address() as { port: number };
    const file = join(await tempDir(), "not-a-directory");
    await writeFile(file, "");
    const badAddress = run([
      "--data",
      await tempDir(),
      "--listen",
      "/ip4/127.0.0.1/tcp/notaport/ws",
    ]);
    const busy = run(["--data", await tempDir(), "--listen", `/ip4/127.0.0.1/tcp/${port}/ws`]);
    const unwritable = run(["--data", join(file, "node")]);
    const codes = await Promise.all([exitCode(badAddress), exitCode(busy), exitCode(unwritable)]);
    expect(codes).toEqual([1, 1, 1]);

    expect(badAddress.stderr.trim().split("\n")).toHaveLength(1);
    expect(badAddress.stderr).toContain("notaport");
    expect(busy.stderr.trim().split("\n")).toHaveLength(1);
    expect(busy.stderr).toContain("in use");
    expect(unwritable.stderr.trim().split("\n")).toHaveLength(1);
    expect(unwritable.stderr).toContain("--data");
  });
});

describe("parseCliArgs", () => {
  it("maps flags to node options", () => {
    const command = parseCliArgs(
      [
        "--listen",
        "/ip4/0.0.0.0/tcp/60000/ws",
        "--listen",
        "/ip4/0.0.0.0/tcp/60001",
        "--data",
        "/srv/node",
        "--cluster",
        "7",
        "--num-shards",
        "4",
        "--shards",
        "0,2",
        "--retention-days",
        "1.5",
        "--retention-messages",
        "5000",
        "--retention-gb",
        "0.5",
        "--peer",
        "/dns4/hub.example/tcp/443/wss/p2p/12D3KooWExample",
      ],
      "/home/someone",
    );
    expect(command).toEqual({
      kind: "run",
      json: false,
      init: {
        dataDir: "/srv/node",
        listen: ["/ip4/0.0.0.0/tcp/60000/ws", "/ip4/0.0.0.0/tcp/60001"],
        peers: ["/dns4/hub.example/tcp/443/wss/p2p/12D3KooWExample"],
        networkConfig: { clusterId: 7, numShardsInCluster: 4 },
        shards: [0, 2],
        retention: { maxAgeMs: 1.5 * 24 * 3600 * 1000, maxMessages: 5000, maxBytes: 2 ** 29 },
      },
    });
  });

  it("maps the archive's timestamp skew and per-peer quota flags", () => {
    expect(
      parseCliArgs(
        ["--timestamp-skew", "30", "--peer-quota-messages", "500", "--peer-quota-mb", "2.5"],
        "/home/someone",
      ),
    ).toMatchObject({
      init: { maxTimestampSkewMs: 30_000, peerQuota: { maxMessages: 500, maxBytes: 2_621_440 } },
    });
    for (const argv of [
      ["--timestamp-skew", "0"],
      ["--peer-quota-messages", "0"],
      ["--peer-quota-mb", "none"],
    ]) {
      expect(() => parseCliArgs(argv), argv.join(" ")).toThrow(/needs a|must be between/);
    }
  });

  it("defaults to ~/.orgchat/node, cluster 55 and 8 shards", () => {
    expect(parseCliArgs(["--json"], "/home/someone")).toEqual({
      kind: "run",
      json: true,
      init: {
        dataDir: "/home/someone/.orgchat/node",
        networkConfig: { clusterId: 55, numShardsInCluster: 8 },
      },
    });
  });

  it("--diagnostics asks for one stderr line per diagnostic", () => {
    expect(parseCliArgs(["--diagnostics"], "/home/someone")).toMatchObject({
      kind: "run",
      diagnostics: true,
    });
    expect(parseCliArgs([], "/home/someone")).not.toHaveProperty("diagnostics");
    expect(
      formatDiagnostic({
        component: "service-node/light-push",
        reason: "accept-failed",
        topic: "/a/1/b/proto",
        error: new Error("disk\nfull"),
      }),
    ).toBe(
      "orgchat-node: diagnostic service-node/light-push accept-failed on /a/1/b/proto: disk full",
    );
    expect(formatDiagnostic({ component: "service-node/store", reason: "request-timeout" })).toBe(
      "orgchat-node: diagnostic service-node/store request-timeout",
    );
  });

  it("refuses unknown flags, positionals, shards outside the cluster and non-numbers", () => {
    for (const argv of [
      ["--port", "1"],
      ["extra"],
      ["--shards", "0,8"],
      ["--shards", "a"],
      ["--retention-days", "0"],
      ["--retention-messages", "-1"],
      ["--retention-gb", "0"],
      ["--cluster", "70000"],
    ]) {
      expect(() => parseCliArgs(argv), argv.join(" ")).toThrow(/./);
      try {
        parseCliArgs(argv);
      } catch (error) {
        expect((error as Error).name).toBe("UsageError");
      }
    }
  });
});
