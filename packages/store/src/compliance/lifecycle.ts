/**
 * Abort, close and reopen: aborted calls apply nothing, closed stores refuse every call, committed
 * writes survive close and reopen.
 */
import { describe, expect, it } from "vitest";
import { isAbortError, isStoreClosedError } from "../errors.js";
import {
  type ComplianceSuite,
  entry,
  positions,
  pseudoRandomBytes,
  rejection,
  sameBytes,
  text,
} from "./support.js";

/** Defines the lifecycle cases of the compliance suite. */
export function describeLifecycle(suite: ComplianceSuite): void {
  describe("abort", () => {
    it("rejects every call with an already-aborted signal with AbortError carrying the reason, and applies nothing", async () => {
      await suite.store.put("s", "existing", text("v"));
      await suite.store.append("l", [entry("existing", 1n)]);
      const controller = new AbortController();
      const reason = new Error("user cancelled");
      controller.abort(reason);
      const options = { signal: controller.signal };
      const calls: Promise<unknown>[] = [
        suite.store.get("s", "existing", options),
        suite.store.getOrThrow("s", "existing", options),
        suite.store.put("s", "new", text("v"), options),
        suite.store.delete("s", "existing", options),
        suite.store.keys("s", {}, options),
        suite.store.append("l", [entry("new", 2n)], options),
        suite.store.getEntry("l", "existing", options),
        suite.store.range("l", {}, options),
        suite.store.deleteEntries("l", ["existing"], options),
        suite.store.batch(
          [
            { type: "put", space: "s", key: "batched", value: text("v") },
            { type: "append", log: "l", entries: [entry("batched", 3n)] },
          ],
          options,
        ),
      ];
      for (const call of calls) {
        const error = await rejection(call);
        expect(isAbortError(error), String(error)).toBe(true);
        expect((error as Error).cause).toBe(reason);
      }
      expect(await suite.store.keys("s")).toEqual(["existing"]);
      expect(positions(await suite.store.range("l"))).toEqual([[1n, "existing"]]);
    });

    it("completes calls whose signal is not aborted", async () => {
      const controller = new AbortController();
      await suite.store.put("s", "k", text("v"), { signal: controller.signal });
      expect(await suite.store.get("s", "k", { signal: controller.signal })).toEqual(text("v"));
      await suite.store.batch([], { signal: controller.signal });
    });
  });

  describe("close", () => {
    it("is idempotent, and every call afterwards rejects with StoreClosedError", async () => {
      await suite.store.put("s", "k", text("v"));
      await suite.store.close();
      await suite.store.close();
      const calls: Promise<unknown>[] = [
        suite.store.get("s", "k"),
        suite.store.getOrThrow("s", "k"),
        suite.store.put("s", "k", text("v")),
        suite.store.delete("s", "k"),
        suite.store.keys("s"),
        suite.store.append("l", [entry("a", 1n)]),
        suite.store.getEntry("l", "a"),
        suite.store.range("l"),
        suite.store.deleteEntries("l", ["a"]),
        suite.store.batch([]),
      ];
      for (const call of calls) {
        const error = await rejection(call);
        expect(isStoreClosedError(error), String(error)).toBe(true);
      }
    });

    it.skipIf(!suite.canReopen)(
      `keeps every committed write across close and reopen${suite.noReopen}`,
      async () => {
        const big = pseudoRandomBytes(1024 * 1024, 9);
        await suite.store.put("identity", "key", text("secret (encrypted by the client)"));
        await suite.store.put("s", "deleted", text("x"));
        await suite.store.delete("s", "deleted");
        await suite.store.put("ratchet", "big", big);
        await suite.store.append("events", [entry("e2", 2n), entry("e1", 1n), entry("e1b", 1n)]);
        await suite.store.batch([
          { type: "put", space: "counters", key: "generation", value: text("41") },
          { type: "append", log: "outbox", entries: [entry("m41", 41n), entry("m40", 40n)] },
          { type: "deleteEntries", log: "events", ids: ["e2"] },
        ]);
        const again = await suite.reopened();
        expect(await again.get("identity", "key")).toEqual(
          text("secret (encrypted by the client)"),
        );
        expect(await again.get("s", "deleted")).toBeUndefined();
        expect(sameBytes(await again.get("ratchet", "big"), big)).toBe(true);
        expect(await again.get("counters", "generation")).toEqual(text("41"));
        expect(positions(await again.range("events"))).toEqual([
          [1n, "e1"],
          [1n, "e1b"],
        ]);
        expect(positions(await again.range("outbox"))).toEqual([
          [40n, "m40"],
          [41n, "m41"],
        ]);
        expect(await again.append("events", [entry("e1", 1n)])).toBe(0);
        expect(await again.keys("s")).toEqual([]);
      },
    );

    it.skipIf(!suite.canReopen)(
      `reopens a store that was closed right after a batch${suite.noReopen}`,
      async () => {
        for (let i = 0; i < 20; i++) {
          await suite.store.batch([
            { type: "put", space: "c", key: "n", value: text(String(i)) },
            { type: "append", log: "l", entries: [entry(`e${i}`, BigInt(i))] },
          ]);
        }
        const again = await suite.reopened();
        expect(await again.get("c", "n")).toEqual(text("19"));
        expect(await again.range("l")).toHaveLength(20);
        await again.close();
        const third = await suite.reopened();
        expect(await third.range("l", { reverse: true, limit: 1 })).toEqual([entry("e19", 19n)]);
      },
    );
  });
}
