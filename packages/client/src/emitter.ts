import type { ClientEvents, ClientListener } from "./types.js";

/** A small typed event emitter; a listener that throws is isolated from the others. */
export class ClientEmitter {
  readonly #listeners = new Map<keyof ClientEvents, Set<(event: never) => void>>();

  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (event: never) => void);
    return () => {
      set.delete(listener as (event: never) => void);
    };
  }

  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as ClientListener<K>)(payload);
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
