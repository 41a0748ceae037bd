// Runs the README's example (examples/readme.ts) in Chromium, as a page would.
import { afterEach, expect, it, vi } from "vitest";
import { deleteIndexedDbStore, openIndexedDbStore } from "../src/index.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await deleteIndexedDbStore({ name: "readme-example" });
});

it("the README example commits a batch and reports it", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  await import("../examples/readme.ts");
  expect(log).toHaveBeenCalledWith("1 message(s) to send from orgchat-store:readme-example");
  const store = await openIndexedDbStore({ name: "readme-example" });
  expect(new TextDecoder().decode(await store.getOrThrow("ratchet", "org-1/general"))).toBe(
    "chain state",
  );
  await store.close();
});
