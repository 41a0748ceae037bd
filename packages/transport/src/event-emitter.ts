/**
 * Events for transport implementations: a small typed emitter, and the one way to call a
 * subscription handler (a throw or a rejection becomes `handler:failed`, never the transport's
 * problem).
 */
import type { Diagnostic } from "@orgchat/base";
import type {
  MessageHandler,
  TransportEvents,
  TransportListener,
  TransportMessage,
} from "./types.js";

/**
 * A small typed event emitter over an event map (`{ "name:happened": payload }`). Nothing in it is
 * specific to transports. A throwing listener is isolated: it cannot break the emitter, the emitting
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
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (event: Events[K]) => void)(payload);
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

/**
 * The event emitter of a transport ({@link TransportEvents}). A listener that throws is reported as a
 * `diagnostic` (`component: "transport/events"`, `reason: "listener-failed"`), except a failing
 * `diagnostic` listener itself, which is dropped (reporting it would loop).
 *
 * @example
 * ```ts
 * readonly #events = new TransportEventEmitter();
 * on<K extends keyof TransportEvents>(event: K, listener: TransportListener<K>) {
 *   return this.#events.on(event, listener);
 * }
 * ```
 */
export class TransportEventEmitter extends TypedEventEmitter<TransportEvents> {
  constructor() {
    super((event, error) => {
      if (event === "diagnostic") return;
      this.emit("diagnostic", {
        component: "transport/events",
        reason: "listener-failed",
        error,
      });
    });
  }

  override on<K extends keyof TransportEvents>(
    event: K,
    listener: TransportListener<K>,
  ): () => void {
    return super.on(event, listener);
  }

  /**
   * Reports a dropped input or failed background step as a `diagnostic` event.
   * @param diagnostic - what was dropped and why
   */
  diagnostic(diagnostic: Diagnostic): void {
    this.emit("diagnostic", diagnostic);
  }
}

/**
 * Calls a subscription handler. A throw or a rejection is reported as `handler:failed` and never
 * reaches the transport: one app bug must not end the subscription or other handlers.
 *
 * @param events - the transport's emitter
 * @param handler - the app's handler
 * @param message - what to hand it (give each handler its own copy of the bytes)
 * @example
 * ```ts
 * for (const entry of subscribers) invokeHandler(this.#events, entry.handler, copyOf(message));
 * ```
 */
export function invokeHandler(
  events: TransportEventEmitter,
  handler: MessageHandler,
  message: TransportMessage,
): void {
  const report = (error: unknown) =>
    events.emit("handler:failed", {
      contentTopic: message.contentTopic,
      messageId: message.id,
      error,
    });
  try {
    const result = handler(message);
    if (result && typeof (result as Promise<void>).then === "function") {
      (result as Promise<void>).then(undefined, report);
    }
  } catch (error) {
    report(error);
  }
}
