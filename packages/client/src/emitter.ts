import type { ClientEventEntry } from "./org.js";
import type { ClientEvents, ClientListener } from "./types.js";

type AnyListener = (payload: unknown) => void;

/** A small typed event emitter; a listener that throws is isolated from the others. */
export class ClientEmitter {
  readonly #listeners = new Map<keyof ClientEvents, Set<AnyListener>>();

  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const any = listener as AnyListener;
    set.add(any);
    return () => {
      set.delete(any);
    };
  }

  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    this.#dispatch(event, payload);
  }

  /** Emits one prepared entry (a transaction's events, after its commit). */
  emitEntry(entry: ClientEventEntry): void {
    this.#dispatch(entry[0], entry[1]);
  }

  #dispatch(event: keyof ClientEvents, payload: unknown): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (error) {
        // A failing app listener must not break the client's pipeline; report it once.
        if (event !== "error") this.emit("error", { error });
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
