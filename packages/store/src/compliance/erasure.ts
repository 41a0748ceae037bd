/**
 * Erasing what a batch superseded (`batch(ops, { checkpoint: true })`, issue #13 row 10): the batch
 * commits like any other, and — for a store with files — the values it replaced or deleted are in
 * none of them afterwards, so a re-key leaves no earlier epoch's keys on disk after a crash.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../types.js";
import { type ComplianceSuite, pseudoRandomBytes, sameBytes, text } from "./support.js";

/** Bytes of each window of a superseded value looked for in the files. */
const window = 16;

/** The offsets of the `window`-byte pieces of `value` found in any of `files`. */
function survivors(value: Uint8Array, files: readonly Uint8Array[]): number[] {
  const found: number[] = [];
  const haystacks = files.map((file) => Buffer.from(file.buffer, file.byteOffset, file.byteLength));
  for (let at = 0; at + window <= value.length; at += window / 2) {
    const needle = value.subarray(at, at + window);
    if (haystacks.some((haystack) => haystack.indexOf(needle) !== -1)) found.push(at);
  }
  return found;
}

/** An epoch's group state as the client stores it: small ones in a page, large ones overflowing. */
async function rekey(store: Store) {
  const old = {
    small: pseudoRandomBytes(200, 0x5eed01),
    large: pseudoRandomBytes(20_000, 0x5eed02),
    retired: pseudoRandomBytes(3_000, 0x5eed03),
  };
  await store.batch([
    { type: "put", space: "org", key: "group/", value: old.small },
    { type: "put", space: "org", key: "group/ops", value: old.large },
    { type: "put", space: "org", key: "retired/0001/ops", value: old.retired },
    { type: "put", space: "org", key: "meta", value: text("epoch 1") },
  ]);
  // Writes in between (messages received in the epoch), then the re-key.
  for (let i = 0; i < 20; i++) {
    await store.append("org/events", [
      { id: `e${i}`, sortKey: BigInt(i), value: pseudoRandomBytes(500, i + 1) },
    ]);
  }
  const next = {
    small: pseudoRandomBytes(200, 0x5eed11),
    large: pseudoRandomBytes(20_000, 0x5eed12),
  };
  await store.batch(
    [
      { type: "put", space: "org", key: "group/", value: next.small },
      { type: "put", space: "org", key: "group/ops", value: next.large },
      { type: "delete", space: "org", key: "retired/0001/ops" },
      { type: "put", space: "org", key: "meta", value: text("epoch 2") },
    ],
    { checkpoint: true },
  );
  return { old, next };
}

/** Defines the erasure cases of the compliance suite. */
export function describeErasure(
  suite: ComplianceSuite,
  files: (() => Promise<readonly Uint8Array[]>) | undefined,
): void {
  describe("erasing superseded values (batch with checkpoint)", () => {
    it("commits like any batch, and keeps committing afterwards", async () => {
      const { next } = await rekey(suite.store);
      expect(sameBytes(await suite.store.get("org", "group/"), next.small)).toBe(true);
      expect(sameBytes(await suite.store.get("org", "group/ops"), next.large)).toBe(true);
      expect(await suite.store.get("org", "retired/0001/ops")).toBeUndefined();
      await suite.store.batch([], { checkpoint: true });
      await suite.store.put("org", "meta", text("epoch 3"));
      expect(await suite.store.get("org", "meta")).toEqual(text("epoch 3"));
    });

    it(`keeps a checkpointing batch across close and reopen${suite.noReopen}`, async ({ skip }) => {
      if (!suite.canReopen) skip();
      const { next } = await rekey(suite.store);
      const again = await suite.reopened();
      expect(sameBytes(await again.get("org", "group/ops"), next.large)).toBe(true);
      expect(await again.get("org", "retired/0001/ops")).toBeUndefined();
    });

    it(`leaves no byte of a replaced or deleted value in the store's files${
      files === undefined ? " [skipped: this store has no files]" : ""
    }`, async ({ skip }) => {
      if (files === undefined) return skip();
      const { old, next } = await rekey(suite.store);
      const now = await files();
      // The search finds what is there: the current values are.
      expect(survivors(next.large, now).length).toBeGreaterThan(0);
      expect(survivors(old.small, now)).toEqual([]);
      expect(survivors(old.large, now)).toEqual([]);
      expect(survivors(old.retired, now)).toEqual([]);
    });
  });
}
