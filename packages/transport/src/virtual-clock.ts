/**
 * A manual clock and timer queue for deterministic tests of anything that takes injected time, such
 * as `memoryNetwork(init, clock)`: time moves only when the test calls `advance()` or `runAll()`.
 */

/** A clock whose time moves only when told to, with the timer queue that goes with it. */
export interface VirtualClock {
  /** Current virtual time, ms. */
  now(): number;
  /**
   * Runs `task` once virtual time reaches `now() + delayMs`. Tasks due at the same time run in the
   * order they were scheduled.
   * @returns a function that cancels the task (no effect once it ran)
   */
  schedule(task: () => void, delayMs: number): () => void;
  /**
   * Moves time forward by `ms`, running every task that falls due on the way, at its own time (a
   * task scheduled by a running task runs too when it falls within the window).
   * @throws RangeError when `ms` is negative or not finite
   */
  advance(ms: number): void;
  /**
   * Runs every scheduled task, including those scheduled meanwhile, moving time to each deadline.
   * @param maxTasks - guard against a task that always reschedules itself. @default 1_000_000
   * @throws RangeError when more than `maxTasks` tasks ran
   */
  runAll(maxTasks?: number): void;
  /** Tasks scheduled and not yet run or cancelled. */
  readonly pending: number;
}

/** Options of {@link virtualClock}. */
export interface VirtualClockInit {
  /** Start time, ms since the Unix epoch. @default 1_700_000_000_000 (a fixed instant, so runs repeat) */
  readonly start?: number;
}

interface Timer {
  readonly due: number;
  readonly order: number;
  readonly task: () => void;
}

/**
 * Makes a {@link VirtualClock}.
 *
 * @example
 * ```ts
 * const clock = virtualClock();
 * const network = memoryNetwork({ seed: 7, latency: { minMs: 10, maxMs: 50 } }, clock);
 * // … publish …
 * clock.advance(50); // every delivery has happened, synchronously, in a seeded order
 * ```
 * @throws RangeError when `init.start` is not a finite non-negative number
 */
export function virtualClock(init: VirtualClockInit = {}): VirtualClock {
  let time = init.start ?? 1_700_000_000_000;
  if (!Number.isFinite(time) || time < 0) {
    throw new RangeError(`start must be a finite non-negative number of ms, got ${init.start}`);
  }
  let nextOrder = 0;
  // A small sorted list: tests schedule thousands of timers at most, and ties must stay FIFO.
  const timers: Timer[] = [];

  const insert = (timer: Timer) => {
    let low = 0;
    let high = timers.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = timers[mid] as Timer;
      if (other.due < timer.due || (other.due === timer.due && other.order < timer.order)) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    timers.splice(low, 0, timer);
  };

  const runDue = (until: number, budget: { left: number }) => {
    for (;;) {
      const first = timers[0];
      if (first === undefined || first.due > until) return;
      if (budget.left-- <= 0) {
        throw new RangeError("runAll: too many tasks (does a task reschedule itself forever?)");
      }
      timers.shift();
      if (first.due > time) time = first.due;
      first.task();
    }
  };

  return {
    now: () => time,
    schedule(task, delayMs) {
      const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
      const timer: Timer = { due: time + delay, order: nextOrder++, task };
      insert(timer);
      return () => {
        const index = timers.indexOf(timer);
        if (index !== -1) timers.splice(index, 1);
      };
    },
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new RangeError(`advance: ms must be a finite non-negative number, got ${ms}`);
      }
      const until = time + ms;
      runDue(until, { left: Number.POSITIVE_INFINITY });
      time = until;
    },
    runAll(maxTasks = 1_000_000) {
      runDue(Number.POSITIVE_INFINITY, { left: maxTasks });
    },
    get pending() {
      return timers.length;
    },
  };
}
