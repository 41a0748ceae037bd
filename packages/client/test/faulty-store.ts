import { type BatchOptions, memoryStore, type Store, type StoreOp } from "@orgchat/store";

/**
 * A memory store that records every batch, can refuse the next one (a disk error) and can "die"
 * like a killed process (after `crash()` every call rejects; `inner` is what the disk kept).
 */
export function faulty(inner: Store = memoryStore()) {
  let dead = false;
  let failNext = false;
  const batches: Array<{ ops: readonly StoreOp[]; options: BatchOptions | undefined }> = [];
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (dead) return Promise.reject(new Error("the process is gone"));
        if (name === "batch") {
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error("disk error"));
          }
          batches.push({ ops: args[0] as StoreOp[], options: args[1] as BatchOptions });
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store,
    inner,
    batches,
    failNextBatch: () => {
      failNext = true;
    },
    crash: () => {
      dead = true;
    },
  };
}
