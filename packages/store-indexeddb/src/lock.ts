/**
 * One writer per store across tabs, windows and workers of an origin: an exclusive Web Lock named
 * after the database. The browser releases it when its holder's page or worker goes away, so a
 * crashed or closed tab leaves no stale lock — but it does so a moment after the page is gone, which
 * is why a reload waits for it briefly (like the SQLite store's busy timeout) instead of failing.
 */

/** A held lock. */
export interface HeldLock {
  /** Releases the lock; resolves once another context can take it. Idempotent. */
  release(): Promise<void>;
}

/** Why {@link takeLock} returned without the lock. */
export type LockRefusal = "held" | "aborted";

/**
 * Takes the exclusive lock `name`, waiting up to `waitMs` for its holder to release it.
 * @param locks - the page's `navigator.locks`
 * @param name - the lock's name
 * @param waitMs - how long to wait; 0 fails at once when the lock is held (`ifAvailable`)
 * @param signal - the caller's signal: aborting it stops the wait
 * @returns the held lock, or why not: `"held"` (still held after `waitMs`), `"aborted"` (`signal`)
 * @throws whatever the browser rejects the request with (an invalid name)
 */
export async function takeLock(
  locks: LockManager,
  name: string,
  waitMs: number,
  signal?: AbortSignal,
): Promise<HeldLock | LockRefusal> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let granted!: (got: boolean) => void;
  let refused!: (error: unknown) => void;
  const answer = new Promise<boolean>((resolve, reject) => {
    granted = resolve;
    refused = reject;
  });
  // The wait stops on the caller's signal or after waitMs, whichever comes first (by hand rather
  // than AbortSignal.any/timeout, which older Safari lacks).
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (waitMs > 0) {
    timer = setTimeout(onAbort, waitMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  }
  const settled = () => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  const options: LockOptions =
    waitMs > 0
      ? { mode: "exclusive", signal: stop.signal }
      : { mode: "exclusive", ifAvailable: true };
  const callback = (lock: Lock | null) => {
    settled();
    granted(lock !== null);
    // Held until release() resolves `held`; with no lock the callback returns at once.
    return lock === null ? undefined : held;
  };
  const request = locks.request(name, options, callback);
  // A wait stopped by a signal rejects the request before the callback ran; anything else the
  // browser refuses with (an invalid name) is reported as is.
  request.catch((error: unknown) => {
    settled();
    if (stop.signal.aborted) granted(false);
    else refused(error);
  });
  if (!(await answer)) return signal?.aborted === true ? "aborted" : "held";
  let released: Promise<void> | undefined;
  return {
    release() {
      if (released === undefined) {
        release();
        released = request.then(
          () => undefined,
          () => undefined,
        );
      }
      return released;
    },
  };
}
