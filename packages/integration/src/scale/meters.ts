import type { LogEntry, Store, StoreOp } from "@orgchat/store";
import type { Transport } from "@orgchat/transport";

/** Bytes written to a store, and what it holds now (by key prefix: the part before the first `/`). */
export interface StoreMeter {
  /** Every value byte written (puts and appends), from the start. */
  written: number;
  /** {@link written} by `space:prefix` (as {@link live} groups keys). */
  readonly writtenBy: Map<string, number>;
  /** Batches committed. */
  batches: number;
  /** Every space a record was put in, and every log an entry was appended to (to copy the store). */
  readonly spaces: Set<string>;
  readonly logs: Set<string>;
  /** Live value bytes by `space:prefix` (puts net of deletes, appends net of deleted entries). */
  live(): Map<string, number>;
  /** Sum of {@link live}. */
  liveBytes(): number;
}

/** Keys without a `/` (outbox entries by hash, single records) are summed as `*`. */
function prefixOf(space: string, key: string): string {
  return `${space.split("/")[0]}:${key.includes("/") ? key.split("/")[0] : "*"}`;
}

/**
 * `inner` with a meter: counts the value bytes every put, append and batch writes, and keeps the
 * size of every live record and log entry, so that the store's live size is known whatever store it
 * is (the client reaches the store only through this interface).
 */
export function meteredStore(inner: Store): { store: Store; meter: StoreMeter } {
  const records = new Map<string, number>();
  const writtenBy = new Map<string, number>();
  const wrote = (space: string, key: string, size: number) => {
    meter.written += size;
    const prefix = prefixOf(space, key);
    writtenBy.set(prefix, (writtenBy.get(prefix) ?? 0) + size);
  };
  const meter: StoreMeter = {
    written: 0,
    writtenBy,
    batches: 0,
    spaces: new Set(),
    logs: new Set(),
    live() {
      const out = new Map<string, number>();
      for (const [key, size] of records) {
        const [space = "", rest = ""] = key.split("\u0000");
        const prefix = prefixOf(space, rest);
        out.set(prefix, (out.get(prefix) ?? 0) + size);
      }
      return out;
    },
    liveBytes() {
      let total = 0;
      for (const size of records.values()) total += size;
      return total;
    },
  };
  const record = (op: StoreOp) => {
    switch (op.type) {
      case "put":
        meter.spaces.add(op.space);
        wrote(op.space, op.key, op.value.length);
        records.set(`${op.space}\u0000${op.key}`, op.value.length);
        break;
      case "delete":
        records.delete(`${op.space}\u0000${op.key}`);
        break;
      case "append":
        meter.logs.add(op.log);
        for (const entry of op.entries) {
          const key = `${op.log}\u0000${entry.id}`;
          // The first write of an id wins (`Store.append`): a repeat changes nothing.
          if (records.has(key)) continue;
          wrote(op.log, entry.id, entry.value.length);
          records.set(key, entry.value.length);
        }
        break;
      case "deleteEntries":
        for (const id of op.ids) records.delete(`${op.log}\u0000${id}`);
        break;
    }
  };
  const store = new Proxy(inner, {
    get(target, property) {
      switch (property) {
        case "batch":
          return (ops: readonly StoreOp[], options?: object) => {
            meter.batches++;
            for (const op of ops) record(op);
            return target.batch(ops, options);
          };
        case "put":
          return (space: string, key: string, value: Uint8Array, options?: object) => {
            record({ type: "put", space, key, value });
            return target.put(space, key, value, options);
          };
        case "delete":
          return (space: string, key: string, options?: object) => {
            record({ type: "delete", space, key });
            return target.delete(space, key, options);
          };
        case "append":
          return (log: string, entries: readonly LogEntry[], options?: object) => {
            record({ type: "append", log, entries });
            return target.append(log, entries, options);
          };
        case "deleteEntries":
          return (log: string, ids: readonly string[], options?: object) => {
            record({ type: "deleteEntries", log, ids });
            return target.deleteEntries(log, ids, options);
          };
        default: {
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === "function" ? value.bind(target) : value;
        }
      }
    },
  });
  return { store, meter };
}

/** What a transport published. */
export interface PublishMeter {
  bytes: number;
  envelopes: number;
  /** When the first publish since this was last set to undefined began (`performance.now()`). */
  firstAt?: number | undefined;
}

/** `inner`, counting what it publishes into `meter`. */
export function meteredTransport(inner: Transport, meter: PublishMeter): Transport {
  return new Proxy(inner, {
    get(target, property) {
      if (property === "publish") {
        return (topic: string, payload: Uint8Array, options?: object) => {
          meter.bytes += payload.length;
          meter.envelopes += 1;
          meter.firstAt ??= performance.now();
          return target.publish(topic, payload, options);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
