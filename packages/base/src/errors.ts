/**
 * The one error base of orgchat. Every package's errors extend {@link OrgchatError}: the class name is
 * the error's `name` (an id callers branch on), `cause` keeps the underlying error, and `hint` says
 * what the caller can do. Guards made by {@link errorGuard} check `name`, never `instanceof`, so they
 * hold across package copies, bundles and realms.
 */

/** Options every orgchat error takes. */
export interface OrgchatErrorOptions {
  /** The underlying error, when there is one. */
  readonly cause?: unknown;
  /**
   * What the caller can do about it, as one sentence. It is appended to the message and kept as
   * {@link OrgchatError.hint} for apps that show it apart.
   */
  readonly hint?: string;
}

/**
 * Base class of every orgchat error.
 *
 * @example
 * ```ts
 * export class NotStartedError extends OrgchatError {
 *   static readonly errorName = "NotStartedError";
 *   constructor(operation: string) {
 *     super("NotStartedError", `${operation} needs a started transport.`, { hint: "Call start() first." });
 *   }
 * }
 * export const isNotStartedError = errorGuard<NotStartedError>(NotStartedError.errorName);
 * ```
 */
export class OrgchatError extends Error {
  /** What the caller can do about it, when the error knows (also the end of `message`). */
  readonly hint: string | undefined;

  /**
   * @param name - the error's id: its class name, what guards compare
   * @param message - what went wrong
   * @param options - `cause` and `hint`
   */
  constructor(name: string, message: string, options: OrgchatErrorOptions = {}) {
    const text = options.hint ? `${message} ${options.hint}` : message;
    super(text, "cause" in options ? { cause: options.cause } : undefined);
    // Own, non-enumerable, like Error.prototype.name: JSON and inspect show the message, not noise.
    Object.defineProperty(this, "name", {
      value: name,
      enumerable: false,
      configurable: true,
      writable: false,
    });
    this.hint = options.hint;
  }
}

/**
 * True when `value` is an object whose `name` is `name` (how orgchat recognises its errors: works
 * across package copies and realms, and for plain objects that crossed a structured clone).
 */
export function hasErrorName(value: unknown, name: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    "name" in value &&
    (value as { name: unknown }).name === name
  );
}

/**
 * Makes the `isX()` guard of an error class from its name.
 *
 * @example
 * ```ts
 * export const isAbortError = errorGuard<AbortError>("AbortError");
 * if (isAbortError(err)) return;
 * ```
 */
export function errorGuard<T extends Error>(name: string): (value: unknown) => value is T {
  return (value: unknown): value is T => hasErrorName(value, name);
}

/** The message of an error, or the string form of any other thrown value (for diagnostics). */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
