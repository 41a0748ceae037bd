/**
 * The parent side of the multi-process benchmarks: {@link spawnNode} forks a node process
 * (`node-main.ts`) with the same Node options as this one (e.g. tsx and the `@orgchat/source`
 * condition) and returns a {@link RemoteNode} to send it requests.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { NodeReady, NodeReply, NodeRequest, NodeRole } from "./protocol.js";

/** A node running in its own process. */
export interface RemoteNode {
  /** The child's process id. */
  readonly pid: number;
  /**
   * Sends a request and resolves with the child's answer.
   * @throws Error with the child's error (its stack), or when the child exits first
   */
  request<T = unknown>(request: NodeRequest): Promise<T>;
  /** Stops the node and waits for the process to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Longest wait for a child to start its node (a safety net against a hang). */
const startTimeoutMs = 60_000;

/**
 * Forks a node process and resolves once its node is started (for a client: online, with the
 * service node in its relay mesh).
 * @param role - what the child runs
 * @throws Error when the child exits or does not start within {@link startTimeoutMs}
 */
export async function spawnNode(role: NodeRole): Promise<RemoteNode> {
  const entry = fileURLToPath(new URL("./node-main.ts", import.meta.url));
  const child: ChildProcess = fork(entry, [JSON.stringify(role)], {
    // The same loader and conditions; with --cpu-prof each child writes its own profile too.
    execArgv: process.execArgv,
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      for (const { reject } of pending.values()) {
        reject(new Error(`node process exited (${code ?? signal}) before answering`));
      }
      pending.clear();
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node process not ready after ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node process exited (${code}) while starting`));
    });
    child.on("message", (message: NodeReply | NodeReady) => {
      if ("ready" in message) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const waiter = pending.get(message.id);
      if (waiter === undefined) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(`node process ${child.pid}: ${message.error}`));
    });
  });
  const request = <T>(body: NodeRequest): Promise<T> => {
    if (exited) return Promise.reject(new Error("node process has exited"));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...body, id });
    });
  };
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? 0,
    request,
    stop() {
      stopping ??= (async () => {
        if (!exited) await request({ op: "stop" }).catch(() => undefined);
        await exit;
      })();
      return stopping;
    },
  };
}
