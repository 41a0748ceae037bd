/**
 * `@orgchat/transport/implement`: what a transport author needs and an app does not — the shared
 * input checks (so every transport refuses the same inputs with the same typed errors), the event
 * emitter and handler isolation every transport uses, and the abort-error factory for
 * `@orgchat/base`'s `sleep` / `raceAbort`. Prove the result with `@orgchat/transport/compliance`.
 *
 * @example
 * ```ts
 * import { assertPublishable, TransportEventEmitter, throwIfAborted } from "@orgchat/transport/implement";
 *
 * class MyTransport implements Transport {
 *   readonly #events = new TransportEventEmitter();
 *   async publish(topic: string, payload: Uint8Array, options: CallOptions = {}) {
 *     throwIfAborted(options.signal, "publish");
 *     assertPublishable(topic, payload, this.capabilities);
 *     // …
 *   }
 * }
 * ```
 *
 * @packageDocumentation
 */
export {
  assertContentTopic,
  assertPublishable,
  type NormalizedHistoryQuery,
  normalizeHistoryQuery,
  throwIfAborted,
} from "./checks.js";
export { abortErrorFor } from "./errors.js";
export { invokeHandler, TransportEventEmitter } from "./event-emitter.js";
export { type NativeHash, nativeHash } from "./native-hash.js";
