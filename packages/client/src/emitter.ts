import { TypedEventEmitter } from "@orgchat/base";
import type { ClientEventEntry } from "./org.js";
import type { ClientEvents } from "./types.js";

/**
 * The client's events: base's typed emitter, where a listener that throws is isolated from the
 * others and reported once as an `error` event (an `error` listener's own throw goes nowhere).
 */
export class ClientEmitter extends TypedEventEmitter<ClientEvents> {
  constructor() {
    super((event, error) => {
      // A failing app listener must not break the client's pipeline; report it once.
      if (event !== "error") this.emit("error", { error });
    });
  }

  /** Emits one prepared entry (a transaction's events, after its commit). */
  emitEntry(entry: ClientEventEntry): void {
    this.dispatch(entry[0], entry[1]);
  }
}
