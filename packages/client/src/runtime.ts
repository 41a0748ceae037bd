import type { ClientCore } from "./core.js";
import { AbortError, ClientClosedError } from "./errors.js";

/** @throws {AbortError} when `signal` is aborted */
export function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError({ cause: signal.reason });
}

/**
 * Runtime: one serial queue for every operation and received message (a task never interleaves
 * with another at an await), background tasks whose failure becomes an `error` event, the periodic
 * tick, and close. Owns: the queue, the busy count, the closed flag, waiters outside the queue.
 */
export class Runtime {
  readonly #c: ClientCore;
  #queue: Promise<void> = Promise.resolve();
  #busy = 0;
  #closed = false;
  #tick: unknown;
  /** Timers armed with {@link Runtime.timer} and not fired yet: cleared on close. */
  readonly #timers = new Set<unknown>();
  /** Operations waiting outside the queue (a rejoin waiting for its leave): failed on close. */
  readonly waiters = new Set<(error: Error) => void>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` after every task queued before it. @throws {ClientClosedError} once closed */
  task<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClientClosedError());
    this.#busy++;
    const run = this.#queue.then(fn);
    // One callback for every task (none made per task).
    this.#queue = run.then(this.#done, this.#done);
    return run;
  }

  /** A task ended, either way. */
  readonly #done = (): void => {
    this.#busy--;
  };

  /** Queues `fn`; its failure is an `error` event (for `org` when given). */
  background(org: string | undefined, fn: () => Promise<void>): void {
    if (this.#closed) return;
    this.task(fn).catch((error: unknown) => {
      if (!this.#closed) {
        this.#c.emitter.emit(
          "error",
          org === undefined ? { error } : { organizationId: org, error },
        );
      }
    });
  }

  async idle(): Promise<void> {
    while (this.#busy > 0) await this.#queue;
  }

  /**
   * Arms a one-shot timer that close clears (a closed client keeps no timer, so a process that
   * closed it can end). Nothing is armed once closed.
   *
   * @returns the handle, for `timers.clearTimeout` (or `undefined` once closed)
   */
  timer(fn: () => void, ms: number): unknown {
    if (this.#closed) return undefined;
    const handle = this.#c.p.timers.setTimeout(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  /** Clears a timer armed with {@link Runtime.timer} (nothing for `undefined`). */
  clearTimer(handle: unknown): void {
    if (handle === undefined || !this.#timers.delete(handle)) return;
    this.#c.p.timers.clearTimeout(handle);
  }

  /** Arms the periodic tick (`republishIntervalMs`): each runs `periodic` for every organization. */
  scheduleTick(): void {
    const c = this.#c;
    const interval = c.p.config.republishIntervalMs;
    if (interval <= 0 || this.#closed) return;
    this.#tick = c.p.timers.setTimeout(() => {
      this.#tick = undefined;
      this.background(undefined, async () => {
        for (const org of c.orgs.values()) await c.epochs.periodic(org);
      });
      this.scheduleTick();
    }, interval);
  }

  /** Waits for the queue, then refuses new tasks, fails the waiters and stops the tick. */
  async close(): Promise<boolean> {
    if (this.#closed) return false;
    await this.idle();
    this.#closed = true;
    for (const fail of [...this.waiters]) fail(new ClientClosedError());
    if (this.#tick !== undefined) this.#c.p.timers.clearTimeout(this.#tick);
    for (const handle of this.#timers) this.#c.p.timers.clearTimeout(handle);
    this.#timers.clear();
    return true;
  }
}
