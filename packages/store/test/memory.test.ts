import { describe, expect, it } from "vitest";
import { runStoreCompliance } from "../src/compliance.ts";
import { memoryStore } from "../src/index.ts";

// The memory store keeps nothing once closed: the reopen cases are skipped, visibly.
runStoreCompliance({
  name: "memoryStore()",
  open: async () => memoryStore(),
  cleanup: async () => {},
});

describe("memoryStore()", () => {
  it("gives every call its own store: two stores share nothing", async () => {
    const a = memoryStore();
    const b = memoryStore();
    await a.put("s", "k", new Uint8Array([1]));
    expect(await b.get("s", "k")).toBeUndefined();
    await a.close();
    await b.close();
  });

  it("keeps a long append-mostly log (ascending clocks) in order", async () => {
    const store = memoryStore();
    for (let i = 0; i < 2000; i += 100) {
      await store.append(
        "events",
        Array.from({ length: 100 }, (_, j) => ({
          id: `e${i + j}`,
          sortKey: BigInt(i + j),
          value: new Uint8Array(),
        })),
      );
    }
    const all = await store.range("events");
    expect(all.map((e) => e.sortKey)).toEqual(Array.from({ length: 2000 }, (_, i) => BigInt(i)));
    await store.close();
  });
});
