// Two tabs of one profile, and a reload, in Chromium: the extra pages are real pages of the test's
// browser context (same origin, same storage), driven through test/pages/commands.ts.
import { isStoreLockedError } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { commands } from "vitest/browser";
import { deleteIndexedDbStore, type IndexedDbStore, openIndexedDbStore } from "../src/index.ts";

const text = (value: string) => new TextEncoder().encode(value);
/**
 * Lock waits: "at once" where a test wants the refusal (nothing decided by a clock), and a safety
 * bound only where it waits for a page that is gone to drop its lock (the browser does it a moment
 * after the page closes).
 */
const atOnce = 0;
const untilReleased = 30_000;
const opened: IndexedDbStore[] = [];
const pages: string[] = [];
const names: string[] = [];

async function open(name: string, lockTimeoutMs = atOnce): Promise<IndexedDbStore> {
  const store = await openIndexedDbStore({ name, lockTimeoutMs });
  opened.push(store);
  return store;
}

async function page(): Promise<string> {
  const id = await commands.openPage();
  pages.push(id);
  return id;
}

function profile(name: string): string {
  names.push(name);
  return name;
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const id of pages.splice(0)) await commands.closePage(id);
  for (const name of names.splice(0))
    await deleteIndexedDbStore({ name, lockTimeoutMs: untilReleased });
});

describe("two tabs of one profile", () => {
  it("a second tab cannot open a store this page holds, and can once it is closed", async () => {
    const name = profile("tabs-1");
    const store = await open(name);
    await store.put("s", "k", text("from the first tab"));
    const other = await page();
    expect(await commands.callPage(other, "open", name, atOnce)).toMatchObject({
      ok: false,
      name: "StoreLockedError",
    });
    await store.close();
    expect(await commands.callPage(other, "open", name, atOnce)).toEqual({
      ok: true,
      value: `orgchat-store:${name}`,
    });
    expect(await commands.callPage(other, "get", "s", "k")).toEqual({
      ok: true,
      value: "from the first tab",
    });
    await commands.callPage(other, "put", "s", "k", "from the second tab");
    const error = await openIndexedDbStore({ name, lockTimeoutMs: atOnce }).catch(
      (e: unknown) => e,
    );
    expect(isStoreLockedError(error), String(error)).toBe(true);
    expect((error as Error).message).toContain(`orgchat-store:${name}`);
    expect(await commands.callPage(other, "close")).toEqual({ ok: true });
    const again = await open(name);
    expect(await again.get("s", "k")).toEqual(text("from the second tab"));
  });

  it("a tab closed without closing its store leaves no stale lock, and what it committed stays", async () => {
    const name = profile("tabs-2");
    const other = await page();
    expect(await commands.callPage(other, "open", name, atOnce)).toMatchObject({ ok: true });
    await commands.callPage(other, "appendAndPut", "events", ["e0", "e1"], "s", "last", "e1");
    expect(
      isStoreLockedError(
        await openIndexedDbStore({ name, lockTimeoutMs: atOnce }).catch((e: unknown) => e),
      ),
    ).toBe(true);
    await commands.closePage(other);
    pages.splice(pages.indexOf(other), 1);
    // The browser drops a closed page's locks (a moment later): the open waiting for it gets it.
    const store = await open(name, untilReleased);
    expect(await store.get("s", "last")).toEqual(text("e1"));
    expect((await store.range("events")).map((entry) => entry.id)).toEqual(["e0", "e1"]);
  });

  it("an open waiting for the lock gets it when the other tab closes its store", async () => {
    const name = profile("tabs-4");
    const other = await page();
    expect(await commands.callPage(other, "open", name, atOnce)).toMatchObject({ ok: true });
    await commands.callPage(other, "put", "s", "k", "written while we waited");
    const waiting = openIndexedDbStore({ name, lockTimeoutMs: untilReleased });
    expect(await commands.callPage(other, "close")).toEqual({ ok: true });
    const store = await waiting;
    opened.push(store);
    expect(await store.get("s", "k")).toEqual(text("written while we waited"));
  });

  it("an open waiting for a lock that stays held fails with StoreLockedError after its timeout", async () => {
    const name = profile("tabs-6");
    const holder = await open(name);
    // The holder never lets go here, so the outcome does not depend on how long 20 ms is.
    const error = await openIndexedDbStore({ name, lockTimeoutMs: 20 }).catch((e: unknown) => e);
    expect(isStoreLockedError(error), String(error)).toBe(true);
    await holder.put("s", "k", text("still the only writer"));
    expect(await holder.get("s", "k")).toEqual(text("still the only writer"));
  });

  it("an open waiting for the lock stops with AbortError when its signal aborts", async () => {
    const name = profile("tabs-5");
    const holder = await open(name);
    const controller = new AbortController();
    const waiting = openIndexedDbStore(
      { name, lockTimeoutMs: untilReleased },
      { signal: controller.signal },
    ).catch((e: unknown) => e);
    const reason = new Error("user gave up");
    controller.abort(reason);
    const error = await waiting;
    expect(error).toMatchObject({ name: "AbortError", cause: reason });
    await holder.put("s", "k", text("still the only writer"));
  });

  it("a worker of the origin is refused while the page holds the store, and served after", async () => {
    const name = profile("tabs-7");
    const store = await open(name);
    await store.put("s", "k", text("from the page"));
    const worker = new Worker(new URL("./pages/worker.ts", import.meta.url), { type: "module" });
    const ask = () =>
      new Promise<unknown>((resolve) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.postMessage({ name });
      });
    try {
      expect(await ask()).toEqual({ ok: false, name: "StoreLockedError" });
      await store.close();
      expect(await ask()).toEqual({ ok: true, value: "from the page" });
    } finally {
      worker.terminate();
    }
  });

  it("one page cannot open the same store twice; other names are independent", async () => {
    const store = await open(profile("tabs-3"));
    const error = await openIndexedDbStore({ name: "tabs-3", lockTimeoutMs: atOnce }).catch(
      (e: unknown) => e,
    );
    expect(isStoreLockedError(error), String(error)).toBe(true);
    const other = await open(profile("tabs-3b"));
    await other.put("s", "k", text("b"));
    expect(await store.get("s", "k")).toBeUndefined();
    const deleting = await deleteIndexedDbStore({ name: "tabs-3", lockTimeoutMs: atOnce }).catch(
      (e: unknown) => e,
    );
    expect(isStoreLockedError(deleting), String(deleting)).toBe(true);
    expect(await other.get("s", "k")).toEqual(text("b"));
  });
});

describe("a reload", () => {
  it("keeps what was written before the store was closed and the page reloaded", async () => {
    const name = profile("reload-1");
    const tab = await page();
    expect(await commands.callPage(tab, "open", name, untilReleased)).toMatchObject({ ok: true });
    await commands.callPage(tab, "appendAndPut", "messages", ["m0", "m1", "m2"], "s", "k", "v1");
    expect(await commands.callPage(tab, "close")).toEqual({ ok: true });
    await commands.reloadPage(tab);
    expect(await commands.callPage(tab, "open", name, untilReleased)).toMatchObject({ ok: true });
    expect(await commands.callPage(tab, "get", "s", "k")).toEqual({ ok: true, value: "v1" });
    expect(await commands.callPage(tab, "ids", "messages")).toEqual({
      ok: true,
      value: ["m0", "m1", "m2"],
    });
  });

  it("keeps every resolved write of a page reloaded with its store still open", async () => {
    const name = profile("reload-2");
    const tab = await page();
    expect(await commands.callPage(tab, "open", name, untilReleased)).toMatchObject({ ok: true });
    await commands.callPage(tab, "put", "s", "k", "before");
    await commands.callPage(tab, "appendAndPut", "messages", ["m0"], "s", "k", "after");
    await commands.reloadPage(tab);
    // The reloaded page opens: the old document's lock went with it (a moment after it).
    expect(await commands.callPage(tab, "open", name, untilReleased)).toMatchObject({ ok: true });
    expect(await commands.callPage(tab, "get", "s", "k")).toEqual({ ok: true, value: "after" });
    expect(await commands.callPage(tab, "ids", "messages")).toEqual({ ok: true, value: ["m0"] });
  });

  it("keeps each batch whole or absent, and a prefix of them, when the page goes away mid-stream", async () => {
    const name = profile("reload-3");
    const tab = await page();
    expect(await commands.callPage(tab, "open", name, untilReleased)).toMatchObject({ ok: true });
    // 100 batches of 50 entries and a "last" record each, the page reloaded once the first has
    // committed: however many commit before the page goes, each is entirely there or entirely
    // absent, the committed ones are the first k in call order, and "last" names batch k - 1.
    const batches = 100;
    const perBatch = 50;
    await commands.callPage(tab, "startBatches", "stream", batches, perBatch);
    await commands.reloadPage(tab);
    expect(await commands.callPage(tab, "open", name, untilReleased)).toMatchObject({ ok: true });
    const counts = await commands.callPage(tab, "countBySortKey", "stream");
    const last = await commands.callPage(tab, "get", "s", "last");
    expect(counts.ok && last.ok).toBe(true);
    const committed = Array.from(
      (counts.ok ? counts.value : []) as (number | null)[],
      (n) => n ?? 0,
    );
    expect(committed.length).toBeGreaterThanOrEqual(1);
    expect(committed).toEqual(committed.map(() => perBatch));
    expect(last).toEqual({ ok: true, value: String(committed.length - 1) });
    console.log(`${committed.length} of ${batches} batches committed before the reload`);
  });
});
