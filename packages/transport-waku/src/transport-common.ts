/**
 * Plumbing the relay and light transports share: serialised start/stop, status events, unique
 * message timestamps, waiting for a peer, quiet shutdown. Kept here so that both modes behave the
 * same way on the points the compliance suite checks.
 */
import type { TransportStatus } from "@orgchat/transport";
import { type TransportEventEmitter, throwIfAborted } from "@orgchat/transport/implement";

/**
 * Runs start and stop steps one after the other, whatever their callers do: concurrent `start()`
 * calls, or a `stop()` during a `start()`, must not interleave. A failed step does not block the
 * next one.
 */
export class LifecycleQueue {
  #chain: Promise<unknown> = Promise.resolve();

  /**
   * Queues `step` after the previous one; rejects at once (queuing nothing) when `signal` is aborted.
   * @throws AbortError (as a rejection)
   */
  run(
    operation: "start" | "stop",
    signal: AbortSignal | undefined,
    step: () => Promise<void>,
  ): Promise<void> {
    try {
      throwIfAborted(signal, operation);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.#chain.then(step, step);
    this.#chain = run.catch(() => {});
    return run;
  }
}

/** The transport's status, emitting `status:changed` only when the status or peer count changes. */
export class StatusTracker {
  readonly #events: TransportEventEmitter;
  #status: TransportStatus = "stopped";
  #peers = 0;

  constructor(events: TransportEventEmitter) {
    this.#events = events;
  }

  get status(): TransportStatus {
    return this.#status;
  }

  set(status: TransportStatus, peers: number): void {
    if (status === this.#status && peers === this.#peers) return;
    this.#status = status;
    this.#peers = peers;
    this.#events.emit("status:changed", { status, peers });
  }
}

/**
 * Waku message timestamps in nanoseconds, strictly increasing per transport: two identical
 * payloads published in the same millisecond would otherwise be the same message (gossipsub's
 * sha256 message id refuses the second as a duplicate).
 */
export class UniqueTimestamps {
  readonly #now: () => number;
  #last = 0n;

  constructor(now: () => number) {
    this.#now = now;
  }

  nextNs(): bigint {
    const now = BigInt(Math.floor(this.#now())) * 1_000_000n;
    this.#last = now > this.#last ? now : this.#last + 1n;
    return this.#last;
  }
}

/**
 * Wake-ups of calls waiting for a peer (a service node, a store peer). Whoever changes what they
 * wait for calls {@link Wakeups.wake}; a waiter re-checks its condition.
 */
export class Wakeups {
  readonly #waiters = new Set<() => void>();

  /** Wakes every waiter. */
  wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Waits until `ready()` returns a value, the deadline (a `performance.now()` time) passes, or
   * `open()` turns false. Leaves no timer or listener behind.
   * @returns what `ready()` returned, or undefined at the deadline or once closed
   * @throws AbortError (`operation`) when `signal` aborts
   */
  async until<T>(
    ready: () => T | undefined,
    deadline: number,
    signal: AbortSignal | undefined,
    open: () => boolean,
    operation: string,
  ): Promise<T | undefined> {
    for (;;) {
      throwIfAborted(signal, operation);
      if (!open()) return undefined;
      const value = ready();
      if (value !== undefined) return value;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        this.#waiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }
}

/** Stops a node whose start already failed; its own stop error would hide the one to report. */
export async function stopQuietly(node: { stop(): void | Promise<void> }): Promise<void> {
  try {
    await node.stop();
  } catch {
    // Already failing: the original error is the one to report.
  }
}
