/**
 * Abort-aware waiting. Each package passes a factory for its own typed abort error, so callers keep
 * branching on that package's `AbortError` (or the CLI's interruption) while the mechanics live here.
 */

/** Makes the error an aborted wait rejects with, from `signal.reason`. */
export type AbortErrorFactory = (reason: unknown) => Error;

const defaultAbortError: AbortErrorFactory = (reason) =>
  reason instanceof Error ? reason : new DOMException("The operation was aborted.", "AbortError");

/**
 * Settles like `promise`, or rejects with `makeError(signal.reason)` as soon as `signal` aborts. The
 * underlying work may go on (its later rejection is observed, so it is never "unhandled"); callers undo
 * what it did if that matters. Leaves no listener on the signal.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  makeError: AbortErrorFactory = defaultAbortError,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(makeError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(makeError(signal.reason));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Resolves after `ms` milliseconds, or rejects with `makeError(signal.reason)` when `signal` aborts
 * first (at once if it already has). Leaves no timer or listener behind either way.
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  makeError: AbortErrorFactory = defaultAbortError,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(makeError(signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(makeError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
