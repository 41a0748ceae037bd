/**
 * The child process of `owner-alone.ts`: loads the owner's store from the owner dump it is given
 * into a memory store and restarts the owner on it, cold then warm, timing `createClient` → its
 * organization loaded (wall and process CPU). Holds nothing else.
 *
 * @module
 */
import { createClient } from "@orgchat/client";
import { memoryStore, type StoreOp } from "@orgchat/store";
import { memoryNetwork } from "@orgchat/transport";
import { collector, processCpuMs as cpuNow, mainThreadCpuMs as mainCpuNow } from "./cpu-clock.js";
import { type OwnerAloneInput, type OwnerAloneResult, readOwnerDump } from "./owner-alone.js";

/** Collects twice (the second pass takes what the first one's finalizers released). */
const collectTwice = collector();
const round = (value: number) => Math.round(value * 10) / 10;

process.once("message", async (message) => {
  const input = message as OwnerAloneInput;
  const dump = readOwnerDump(input.file);
  const store = memoryStore();
  const ops: StoreOp[] = [];
  let storeBytes = 0;
  for (const [space, key, value] of dump.records) {
    ops.push({ type: "put", space, key, value });
    storeBytes += value.length;
  }
  for (const [log, entries] of dump.logs) {
    ops.push({ type: "append", log, entries });
    for (const entry of entries) storeBytes += entry.value.length;
  }
  await store.batch(ops);
  const network = memoryNetwork();
  const wall: number[] = [];
  const cpu: number[] = [];
  const mainCpu: number[] = [];
  let members = 0;
  const epochs = new Set<bigint | undefined>();
  let ready = { ms: 0, cpuMs: 0, longestBlockMs: 0 };
  for (let round = 0; round <= input.warmRounds; round++) {
    // The store's copy and the previous client's garbage collected: the restart pays its own.
    collectTwice();
    const start = performance.now();
    const startCpu = cpuNow();
    const startMainCpu = mainCpuNow();
    const owner = await createClient({
      transport: network.transport({ name: `owner-${round}` }),
      store,
      config: dump.config,
    });
    const organization = owner.getOrganization(dump.organizationId);
    wall.push(performance.now() - start);
    cpu.push(cpuNow() - startCpu);
    mainCpu.push(mainCpuNow() - startMainCpu);
    members = organization.members.size;
    epochs.add(organization.epoch);
    if (round === 0) {
      // Ready: what the start left to the client's queue (an owner's groups, the catch-up) done.
      // The longest the event loop was held: the longest gap between two turns of a 1 ms timer.
      let last = performance.now();
      let longest = 0;
      let probing = true;
      const probe = () => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
        if (probing) setTimeout(probe, 1);
      };
      setTimeout(probe, 1);
      await owner.idle();
      probing = false;
      longest = Math.max(longest, performance.now() - last);
      ready = {
        ms: performance.now() - start,
        cpuMs: cpuNow() - startCpu,
        longestBlockMs: longest,
      };
    }
    await owner.close();
  }
  // The first operation after a start: a member removed right after `createClient` resolves (it
  // waits for whatever the start left queued). Last, so the rounds above restart the same store.
  collectTwice();
  const owner = await createClient({
    transport: network.transport({ name: "owner-removal" }),
    store,
    config: dump.config,
  });
  const removalStart = performance.now();
  const removalCpu = cpuNow();
  const removed = [...owner.getOrganization(dump.organizationId).members.keys()].find(
    (member) => member !== dump.organizationId,
  );
  if (removed !== undefined) await owner.removeMember(dump.organizationId, removed);
  const removal = { ms: performance.now() - removalStart, cpuMs: cpuNow() - removalCpu };
  await owner.close();
  const result: OwnerAloneResult = {
    coldMs: round(wall[0] ?? 0),
    coldCpuMs: round(cpu[0] ?? 0),
    coldMainCpuMs: round(mainCpu[0] ?? 0),
    warmMs: wall.slice(1).map(round),
    warmCpuMs: cpu.slice(1).map(round),
    warmMainCpuMs: mainCpu.slice(1).map(round),
    coldReadyMs: round(ready.ms),
    coldReadyCpuMs: round(ready.cpuMs),
    coldLongestBlockMs: round(ready.longestBlockMs),
    firstRemovalMs: round(removal.ms),
    firstRemovalCpuMs: round(removal.cpuMs),
    members,
    // Two epochs would be two different loads of one store: none is reported then.
    epoch: epochs.size === 1 ? [...epochs][0] : undefined,
    storeBytes,
  };
  process.send?.(result, () => process.exit(0));
});
