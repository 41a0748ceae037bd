import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createVitest } from "vitest/node";
import { transportComplianceCases } from "../src/compliance.ts";
import { mutants } from "./compliance-mutants/mutants.ts";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));

/** Runs the suite against every mutant in a nested Vitest and returns each test's state by fixture. */
async function runMutants(): Promise<Map<string, Map<string, string>>> {
  const vitest = await createVitest(
    { config: false, root: packageRoot, watch: false, reporters: [] },
    {
      // Run from source like every other test here (the suite imports @orgchat/base).
      resolve: { conditions: ["@orgchat/source"] },
      ssr: { resolve: { conditions: ["@orgchat/source"] } },
      test: { include: ["test/compliance-mutants/*.suite.ts"], retry: 0 },
    },
  );
  try {
    const result = await vitest.start();
    const byFixture = new Map<string, Map<string, string>>();
    for (const module of result.testModules) {
      for (const test of module.children.allTests()) {
        const fixture = /transport compliance: (.+?) > /.exec(test.fullName)?.[1] ?? "?";
        const id = /\[([^\]]+)\]/.exec(test.name)?.[1] ?? test.name;
        const states = byFixture.get(fixture) ?? new Map<string, string>();
        states.set(id, test.result().state);
        byFixture.set(fixture, states);
      }
    }
    return byFixture;
  } finally {
    await vitest.close();
  }
}

describe("the compliance suite catches broken transports", () => {
  it("fails exactly the cases each mutant breaks, passes allowed faults, skips visibly by capability", async () => {
    const results = await runMutants();
    for (const mutant of mutants) {
      const states = results.get(mutant.name);
      expect(states, `the suite ran for "${mutant.name}"`).toBeDefined();
      const failed = [...(states ?? [])]
        .filter(([, state]) => state === "failed")
        .map(([id]) => id);
      const expected = [...mutant.expectedFailures].sort();
      const reported = mutant.othersMayFail ? failed.filter((id) => expected.includes(id)) : failed;
      expect({ mutant: mutant.name, failed: reported.sort() }).toEqual({
        mutant: mutant.name,
        failed: expected,
      });
      const skipped = [...(states ?? [])]
        .filter(([, state]) => state === "skipped")
        .map(([id]) => id);
      expect({ mutant: mutant.name, skipped: skipped.sort() }).toEqual({
        mutant: mutant.name,
        skipped: [...(mutant.expectedSkips ?? [])].sort(),
      });
      expect(states?.size, "every case is defined, skipped ones included").toBe(
        transportComplianceCases.length,
      );
    }
  }, 120_000);
});
