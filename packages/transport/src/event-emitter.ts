/**
 * Events for transport implementations: a small typed emitter, and the one way to call a
 * subscription handler (a throw or a rejection becomes `handler:failed`, never the transport's
 * problem).
 */
import { type Diagnostic, TypedEventEmitter } from "@orgchat/base";
import type {
  MessageHandler,
  TransportEvents,
  TransportListener,
  TransportMessage,
} from "./types.js";

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
  try {
    const result = handler(message);
    if (result && typeof (result as Promise<void>).then === "function") {
      (result as Promise<void>).then(undefined, (error: unknown) =>
        reportFailure(events, message, error),
      );
    }
  } catch (error) {
    reportFailure(events, message, error);
  }
}

function reportFailure(
  events: TransportEventEmitter,
  message: TransportMessage,
  error: unknown,
): void {
  events.emit("handler:failed", {
    contentTopic: message.contentTopic,
    messageId: message.id,
    error,
  });
}
