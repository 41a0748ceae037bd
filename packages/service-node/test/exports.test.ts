import { describe, expect, it } from "vitest";
import * as api from "../src/index.ts";

describe("public surface", () => {
  it("the entry point exports exactly this (a change here needs a changeset)", () => {
    expect(Object.keys(api).sort()).toMatchSnapshot();
  });

  it("every error class has a matching guard and a static errorName equal to its name", () => {
    for (const [key, value] of Object.entries(api)) {
      if (typeof value !== "function" || !/^[A-Z]\w*Error$/.test(key)) continue;
      const errorClass = value as unknown as { errorName?: unknown };
      expect(errorClass.errorName, key).toBe(key);
      expect(typeof (api as Record<string, unknown>)[`is${key}`], `is${key}`).toBe("function");
    }
  });
});
