/**
 * Plumbing the relay and light transports share: serialised start/stop, status events, unique
 * message timestamps and handler isolation. Kept here so that both modes behave the same way on
 * the points the compliance suite checks.
 */
import {
  type MessageHandler,
  type TransportEventEmitter,
  type TransportMessage,
  type TransportStatus,
  throwIfAborted,
} from "@orgchat/transport";

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
 * Calls a subscription handler. A throw or a rejection is reported as `handler:failed` and never
 * reaches the transport: one app bug must not end the subscription or other handlers.
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
