/**
 * The child process of `removal-alone.ts`: loads the owner dump into a memory store, restarts the
 * owner on it and removes members one after the other, timing each removal and what its transport
 * and store did inside it. Holds nothing else.
 *
 * @module
 */
import { createClient } from "@orgchat/client";
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { memoryNetwork, type Transport } from "@orgchat/transport";
import { collector, mainThreadCpuMs, processCpuMs } from "./cpu-clock.js";
import { readOwnerDump } from "./owner-alone.js";
import type { RemovalAloneInput, RemovalAloneResult, RemovalFigures } from "./removal-alone.js";

const collect = collector();
const round = (value: number) => Math.round(value * 10) / 10;

/** What the transport and the store did since {@link Seen.reset}. */
interface Seen {
  firstPublishAt: number | undefined;
  publishMs: number;
  storeMs: number;
  storeWrites: number;
  storeBytes: number;
  envelopes: Array<readonly [string, number]>;
}
const nothingSeen = (): Seen => ({
  firstPublishAt: undefined,
  publishMs: 0,
  storeMs: 0,
  storeWrites: 0,
  storeBytes: 0,
  envelopes: [],
});
const seen: Seen = nothingSeen();

const opBytes = (op: StoreOp) => {
  switch (op.type) {
    case "put":
      return op.value.length;
    case "append":
      return op.entries.reduce((sum, entry) => sum + entry.value.length, 0);
    default:
      return 0;
  }
};

/** `inner`, timing every write and counting its bytes into {@link seen}. */
function timedStore(inner: Store): Store {
  const timed =
    (write: (...args: never[]) => Promise<unknown>, bytes: (...args: never[]) => number) =>
    async (...args: never[]) => {
      const start = performance.now();
      try {
        return await write(...args);
      } finally {
        seen.storeMs += performance.now() - start;
        seen.storeWrites++;
        seen.storeBytes += bytes(...args);
      }
    };
  return new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      const bound = value.bind(target) as (...args: never[]) => Promise<unknown>;
      switch (property) {
        case "batch":
          return timed(bound, (ops: readonly StoreOp[]) =>
            ops.reduce((sum, op) => sum + opBytes(op), 0),
          );
        case "put":
          return timed(bound, (_space: string, _key: string, data: Uint8Array) => data.length);
        case "append":
          return timed(bound, (log: string, entries: StoreOp[]) =>
            opBytes({ type: "append", log, entries } as unknown as StoreOp),
          );
        case "delete":
        case "deleteEntries":
          return timed(bound, () => 0);
        default:
          return bound;
      }
    },
  });
}

/** `inner`, timing every publish into {@link seen}. */
function timedTransport(inner: Transport): Transport {
  return new Proxy(inner, {
    get(target, property) {
      if (property === "publish") {
        return async (topic: string, payload: Uint8Array, options?: object) => {
          const start = performance.now();
          seen.firstPublishAt ??= start;
          seen.envelopes.push([topic.split("/").slice(-2).join("/"), payload.length]);
          try {
            return await target.publish(topic, payload, options);
          } finally {
            seen.publishMs += performance.now() - start;
          }
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

process.once("message", async (message) => {
  const input = message as RemovalAloneInput;
  const dump = readOwnerDump(input.file);
  const inner = memoryStore();
  const ops: StoreOp[] = [];
  for (const [space, key, value] of dump.records) ops.push({ type: "put", space, key, value });
  for (const [log, entries] of dump.logs) ops.push({ type: "append", log, entries });
  await inner.batch(ops);
  const network = memoryNetwork();
  // As the scale bench's owner: its configuration, the re-key inside removeMember.
  const config = { ...dump.config, rekeyWindowMs: 0 };
  const restartStart = performance.now();
  const owner = await createClient({
    transport: timedTransport(network.transport({ name: "owner" })),
    store: timedStore(inner),
    config,
  });
  const orgId = dump.organizationId;
  const restartMs = performance.now() - restartStart;
  await owner.idle();
  const removals: RemovalFigures[] = [];
  for (let i = 0; i < input.removals; i++) {
    const organization = owner.getOrganization(orgId);
    const victim = [...organization.members.keys()].find((id) => id !== owner.memberId);
    if (victim === undefined) throw new Error("removal-alone: no member left to remove");
    collect();
    Object.assign(seen, nothingSeen());
    const start = performance.now();
    const startCpu = processCpuMs();
    const startMainCpu = mainThreadCpuMs();
    await owner.removeMember(orgId, victim);
    const wallMs = performance.now() - start;
    const cpuMs = processCpuMs() - startCpu;
    const mainCpuMs = mainThreadCpuMs() - startMainCpu;
    const after = owner.getOrganization(orgId);
    removals.push({
      wallMs: round(wallMs),
      cpuMs: round(cpuMs),
      mainCpuMs: round(mainCpuMs),
      untilFirstPublishMs: round((seen.firstPublishAt ?? performance.now()) - start),
      publishMs: round(seen.publishMs),
      storeMs: round(seen.storeMs),
      storeWrites: seen.storeWrites,
      storeBytes: seen.storeBytes,
      envelopes: [...seen.envelopes],
      members: after.members.size,
      epoch: after.epoch,
    });
    // What the removal left due (a compaction, the outbox) runs before the next one is timed.
    await owner.idle();
  }
  await owner.close();
  const result: RemovalAloneResult = { restartMs: round(restartMs), removals };
  process.send?.(result, () => process.exit(0));
});
