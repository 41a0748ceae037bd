/**
 * One typed event emitter for every package (the client's events, the transports', their
 * components'): listeners per event name, removal by the returned function, and listener isolation.
 */

/**
 * A small typed event emitter over an event map (`{ "name:happened": payload }`). Used by the
 * client, the transports and their components. A throwing listener is isolated: it cannot break the emitter, the emitting
 * code or the other listeners; its error is reported to `onListenerError` when given.
 *
 * @example
 * ```ts
 * const events = new TypedEventEmitter<{ "peer:dialed": { peerId: string } }>();
 * const off = events.on("peer:dialed", ({ peerId }) => console.log(peerId));
 * events.emit("peer:dialed", { peerId: "12D3KooW…" });
 * off();
 * ```
 */
export class TypedEventEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(event: never) => void>>();
  readonly #onListenerError: ((event: keyof Events, error: unknown) => void) | undefined;

  /** @param onListenerError - told about a listener that threw (it must not throw itself) */
  constructor(onListenerError?: (event: keyof Events, error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  /**
   * Adds a listener.
   * @returns the function that removes it
   */
  on<K extends keyof Events>(event: K, listener: (event: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const listeners = set;
    listeners.add(listener as (event: never) => void);
    return () => {
      listeners.delete(listener as (event: never) => void);
    };
  }

  /** Calls every listener of `event` with `payload`, in the order they were added. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    this.dispatch(event, payload);
  }

  /**
   * Calls every listener of `event` with `payload`: for subclasses that hold an event and its
   * payload apart from their types (a queued `[name, payload]` entry).
   */
  protected dispatch(event: keyof Events, payload: unknown): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (event: unknown) => void)(payload);
      } catch (error) {
        // A listener's bug must not stop delivery to the others; it is reported, not rethrown.
        try {
          this.#onListenerError?.(event, error);
        } catch {
          // The reporter is the owner's code and documented not to throw: nothing more to do.
        }
      }
    }
  }

  /** Whether `event` has at least one listener. */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
