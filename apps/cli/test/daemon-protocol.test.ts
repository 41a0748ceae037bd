/**
 * The daemon socket (docs/CLI-DAEMON.md): frames, rendezvous, and a real server and client on a Unix
 * socket in a temp directory, with every bound exercised. No test waits for time: each waits for an
 * event (a frame, a close, an abort).
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { connectDaemon, DaemonLostError, runThroughDaemon } from "../src/daemon/client.js";
import {
  daemonLimits,
  encodeFrame,
  FrameError,
  FrameReader,
  parseCommandFrame,
  parseDaemonFrame,
  parseRunFrame,
} from "../src/daemon/frames.js";
import {
  maxSocketPathBytes,
  prepareSocketDir,
  readDaemonRecord,
  socketPathFor,
  UnsafeSocketDirError,
  writeDaemonRecord,
} from "../src/daemon/rendezvous.js";
import { type CommandIo, type DaemonServer, listenDaemon } from "../src/daemon/server.js";

const temps: string[] = [];
const servers: DaemonServer[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "orgchat-daemon-"));
  chmodSync(dir, 0o700);
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close({ abort: true });
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const noSignal = new AbortController().signal;

/** A promise and the function that resolves it (a test's "this happened"). */
function signal(): [Promise<void>, () => void] {
  let done!: () => void;
  const happened = new Promise<void>((resolve) => {
    done = resolve;
  });
  return [happened, done];
}
function collect() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (text: string) => out.push(text),
      stderr: (text: string) => err.push(text),
      stdinIsTTY: false,
      stdoutIsTTY: false,
      stderrIsTTY: false,
      signal: noSignal,
    },
  };
}

async function serve(run: (io: CommandIo) => Promise<number>, limits = {}) {
  const socketPath = join(tempDir(), "daemon.sock");
  const server = await listenDaemon({ socketPath, run, limits });
  servers.push(server);
  return server;
}

/** A daemon whose command runs until it is aborted (then exits 130); `running` once it started. */
async function serveUntilAborted(): Promise<{ server: DaemonServer; running: Promise<void> }> {
  const [running, started] = signal();
  const server = await serve(
    (io) =>
      new Promise<number>((resolve) => {
        io.signal.addEventListener("abort", () => resolve(130));
        started();
      }),
  );
  return { server, running };
}

async function connected(path: string): Promise<Socket> {
  const socket = await connectDaemon(path);
  if (socket === undefined) throw new Error("no daemon");
  return socket;
}

/** A raw connection that collects the daemon's frames until it closes. */
function rawFrames(socket: Socket): Promise<unknown[]> {
  const reader = new FrameReader();
  const frames: unknown[] = [];
  socket.on("data", (chunk: Buffer) => frames.push(...reader.push(chunk)));
  socket.on("error", () => undefined);
  return new Promise((resolve) => socket.on("close", () => resolve(frames)));
}

const run = (argv: string[]) => ({
  v: 1,
  argv,
  stdinIsTTY: false,
  stdoutIsTTY: false,
  stderrIsTTY: false,
});

describe("frames", () => {
  it("cuts frames across chunk boundaries and keeps the unfinished rest", () => {
    const reader = new FrameReader(64);
    const bytes = Buffer.from(`${encodeFrame({ out: "a" })}${encodeFrame({ err: "é" })}{"exit"`);
    expect(reader.push(bytes.subarray(0, 5))).toEqual([]);
    expect(reader.push(bytes.subarray(5))).toEqual([{ out: "a" }, { err: "é" }]);
    expect(reader.pendingBytes).toBe(7);
    expect(reader.push(Buffer.from(":3}\n"))).toEqual([{ exit: 3 }]);
    expect(reader.pendingBytes).toBe(0);
  });

  it("refuses a frame longer than the bound, also before its newline arrives", () => {
    const reader = new FrameReader(16);
    expect(() => reader.push(Buffer.from("x".repeat(17)))).toThrow(FrameError);
    expect(reader.pendingBytes).toBe(0);
    const split = new FrameReader(16);
    split.push(Buffer.from("x".repeat(10)));
    expect(() => split.push(Buffer.from(`${"x".repeat(7)}\n`))).toThrow(/longer than 16 bytes/);
    expect(new FrameReader(16).push(Buffer.from(`"${"x".repeat(14)}"\n`))).toEqual([
      "x".repeat(14),
    ]);
  });

  it("refuses what is not UTF-8 JSON", () => {
    expect(() => new FrameReader().push(Buffer.from("{nope\n"))).toThrow(FrameError);
    expect(() => new FrameReader().push(Buffer.from([0x22, 0xff, 0x22, 0x0a]))).toThrow(FrameError);
  });

  it("checks the first frame's shape and bounds", () => {
    expect(parseRunFrame(run(["send", "x"]))).toEqual(run(["send", "x"]));
    expect(parseRunFrame({ ...run([]), columns: 80 }).columns).toBe(80);
    const bad: unknown[] = [
      null,
      [],
      { ...run([]), v: 2 },
      { ...run([]), argv: "send" },
      { ...run([]), argv: [1] },
      { ...run([]), argv: Array(daemonLimits.maxArgs + 1).fill("a") },
      { ...run([]), argv: ["a".repeat(daemonLimits.maxArgChars + 1)] },
      { ...run([]), stdinIsTTY: "yes" },
      { ...run([]), columns: 0 },
      { ...run([]), columns: 1.5 },
      { ...run([]), extra: true },
    ];
    for (const value of bad)
      expect(() => parseRunFrame(value), JSON.stringify(value)).toThrow(FrameError);
  });

  it("checks later frames of both sides", () => {
    expect(parseCommandFrame({ stdin: "hi" })).toEqual({ stdin: "hi" });
    expect(parseCommandFrame({ stdinEnd: true })).toEqual({ stdinEnd: true });
    expect(parseCommandFrame({ signal: "SIGINT" })).toEqual({ signal: "SIGINT" });
    for (const value of [{ stdin: 1 }, { signal: "SIGKILL" }, { stdin: "a", x: 1 }, "x", null]) {
      expect(() => parseCommandFrame(value)).toThrow(FrameError);
    }
    expect(parseDaemonFrame({ refused: "busy", exit: 1 })).toEqual({ refused: "busy", exit: 1 });
    for (const value of [
      { exit: 256 },
      { exit: -1 },
      { exit: 1.5 },
      { out: 1 },
      { refused: "x" },
    ]) {
      expect(() => parseDaemonFrame(value)).toThrow(FrameError);
    }
  });
});

describe("rendezvous", () => {
  it("puts the socket in the data directory, or under the temp dir when the path is too long", () => {
    const dir = tempDir();
    expect(socketPathFor(dir)).toBe(join(dir, "daemon.sock"));
    const long = join(dir, "x".repeat(maxSocketPathBytes));
    const outside = socketPathFor(long, "/tmp/t");
    expect(outside).toMatch(/^\/tmp\/t\/orgchat-[^/]+\/[0-9a-f]{32}\.sock$/);
    expect(socketPathFor(long, "/tmp/t")).toBe(outside);
    expect(socketPathFor(`${long}y`, "/tmp/t")).not.toBe(outside);
  });

  it("makes the socket's directory 0700 and refuses one open to others", () => {
    const dir = tempDir();
    prepareSocketDir(join(dir, "sub", "d.sock"));
    expect(statSync(join(dir, "sub")).mode & 0o777).toBe(0o700);
    chmodSync(join(dir, "sub"), 0o755);
    expect(() => prepareSocketDir(join(dir, "sub", "d.sock"))).toThrow(UnsafeSocketDirError);
  });

  it("keeps a record for status and ignores a malformed one", () => {
    const dir = tempDir();
    expect(readDaemonRecord(dir)).toBeUndefined();
    const record = {
      pid: 42,
      socket: "/s",
      version: "0.0.0",
      startedAt: "2026-12-07T00:00:00.000Z",
      peers: ["/p"],
    };
    writeDaemonRecord(dir, record);
    expect(readDaemonRecord(dir)).toEqual(record);
    expect(statSync(join(dir, "daemon.json")).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, "daemon.json"), '{"pid":"42"}');
    expect(readDaemonRecord(dir)).toBeUndefined();
  });
});

describe("daemon server and client", () => {
  it("runs a command line and returns its output and exit code", async () => {
    const server = await serve(async (io) => {
      io.stdout(`ran ${io.request.argv.join(" ")}\n`);
      io.stderr("progress\n");
      return 7;
    });
    const { out, err, io } = collect();
    const code = await runThroughDaemon(
      await connected(server.socketPath),
      ["send", "general", "hi"],
      io,
    );
    expect(code).toBe(7);
    expect(out.join("")).toBe("ran send general hi\n");
    expect(err.join("")).toBe("progress\n");
  });

  it("forwards stdin until it ends", async () => {
    const server = await serve(async (io) => {
      let text = "";
      for await (const chunk of io.stdin) text += String(chunk);
      io.stdout(text.toUpperCase());
      return 0;
    });
    const { out, io } = collect();
    const code = await runThroughDaemon(await connected(server.socketPath), ["chat"], {
      ...io,
      stdin: Readable.from(["hello\n", "world\n"]),
    });
    expect(code).toBe(0);
    expect(out.join("")).toBe("HELLO\nWORLD\n");
  });

  it("turns the command's Ctrl-C into an abort of the command", async () => {
    const { server, running } = await serveUntilAborted();
    const ctrlC = new AbortController();
    const { io } = collect();
    const result = runThroughDaemon(await connected(server.socketPath), ["chat"], {
      ...io,
      signal: ctrlC.signal,
    });
    await running;
    ctrlC.abort();
    expect(await result).toBe(130);
  });

  it("aborts a command whose connection closes", async () => {
    const [wasAborted, aborted] = signal();
    const [running, started] = signal();
    const server = await serve(
      (io) =>
        new Promise<number>((resolve) => {
          io.signal.addEventListener("abort", () => {
            aborted();
            resolve(130);
          });
          started();
        }),
    );
    const socket = await connected(server.socketPath);
    socket.write(encodeFrame(run(["read"])));
    await running;
    socket.destroy();
    await wasAborted;
    // close() resolves only once every command ended.
    await server.close();
    expect(server.running).toBe(0);
  });

  it("says the effect is unknown when the daemon goes away mid-command", async () => {
    const dir = tempDir();
    const path = join(dir, "d.sock");
    const raw = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => raw.listen(path, resolve));
    try {
      const { io } = collect();
      await expect(runThroughDaemon(await connected(path), ["send", "x", "y"], io)).rejects.toThrow(
        DaemonLostError,
      );
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it("finds no daemon where no socket is, nor where a dead one left its file", async () => {
    const dir = tempDir();
    expect(await connectDaemon(join(dir, "none.sock"))).toBeUndefined();
    writeFileSync(join(dir, "stale.sock"), "");
    expect(await connectDaemon(join(dir, "stale.sock"))).toBeUndefined();
  });

  it("replaces a file left at its socket path (it holds the store lock, so that daemon is dead)", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "daemon.sock"), "left over");
    const server = await listenDaemon({ socketPath: join(dir, "daemon.sock"), run: async () => 0 });
    servers.push(server);
    const { io } = collect();
    expect(await runThroughDaemon(await connected(server.socketPath), [], io)).toBe(0);
  });
});

describe("daemon bounds", () => {
  it("refuses connections beyond maxConnections while the others run", async () => {
    const [held, release] = signal();
    const [running, started] = signal();
    const server = await serve(
      async () => {
        started();
        await held;
        return 0;
      },
      { maxConnections: 1 },
    );
    const first = runThroughDaemon(await connected(server.socketPath), ["chat"], collect().io);
    await running;
    const second = collect();
    expect(await runThroughDaemon(await connected(server.socketPath), ["read"], second.io)).toBe(1);
    expect(second.err.join("")).toMatch(/busy \(1 commands at once\)/);
    release();
    expect(await first).toBe(0);
  });

  it("refuses an oversized frame and a wrong version without running anything", async () => {
    let ran = 0;
    const server = await serve(
      async () => {
        ran++;
        return 0;
      },
      { maxFrameBytes: 256 },
    );
    const big = await connected(server.socketPath);
    const bigFrames = rawFrames(big);
    big.write(encodeFrame(run(["x".repeat(300)])));
    expect(await bigFrames).toEqual([{ refused: "a frame is longer than 256 bytes", exit: 2 }]);
    const old = await connected(server.socketPath);
    const oldFrames = rawFrames(old);
    old.write(`${JSON.stringify({ ...run([]), v: 0 })}\n`);
    const [refusal] = await oldFrames;
    expect(refusal).toMatchObject({
      exit: 2,
      refused: expect.stringMatching(/protocol version 0/),
    });
    expect(ran).toBe(0);
  });

  it("closes a connection that sends no command line within the handshake bound", async () => {
    const server = await serve(async () => 0, { handshakeMs: 20 });
    const socket = await connected(server.socketPath);
    expect(await rawFrames(socket)).toEqual([
      { refused: "no command line arrived in time", exit: 2 },
    ]);
  });

  it("aborts a command whose reader does not read its output beyond the bound", async () => {
    let aborted!: (bytes: number) => void;
    const wasAborted = new Promise<number>((resolve) => {
      aborted = resolve;
    });
    const server = await serve(
      async (io) => {
        let written = 0;
        const line = `${"x".repeat(64 * 1024)}\n`;
        while (!io.signal.aborted) {
          io.stdout(line);
          written += line.length;
          await new Promise((resolve) => setImmediate(resolve));
        }
        aborted(written);
        return 130;
      },
      { maxPendingOutputBytes: 1024 * 1024 },
    );
    const socket = await connected(server.socketPath);
    socket.pause();
    socket.write(encodeFrame(run(["events"])));
    const written = await wasAborted;
    // Aborted soon after the bound (plus what the kernel's socket buffers took), not at some later size.
    expect(written).toBeGreaterThan(1024 * 1024);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    socket.destroy();
  });

  it("on close, aborts what runs and removes its socket", async () => {
    const { server, running } = await serveUntilAborted();
    const result = runThroughDaemon(await connected(server.socketPath), ["chat"], collect().io);
    await running;
    await server.close({ abort: true });
    expect(await result).toBe(130);
    expect(await connectDaemon(server.socketPath)).toBeUndefined();
  });
});
