#!/usr/bin/env node
/**
 * Adds up the Vitest JSON reports that `.ci/run` asks every test run to write
 * (ORGCHAT_TEST_REPORT=.vitest-report.json) and prints one closing line:
 * "tests: N passed, N failed, N skipped". Exits 1 when a report is missing for a package that has
 * tests, when any test failed, or when no test ran at all.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const reportName = process.argv[2] ?? ".vitest-report.json";
const places = [join(root, "scripts")];
for (const group of ["packages", "apps"]) {
  const base = join(root, group);
  if (existsSync(base)) for (const entry of readdirSync(base)) places.push(join(base, entry));
}

let passed = 0;
let failed = 0;
let skipped = 0;
let problems = 0;
for (const place of places) {
  const hasTests = existsSync(join(place, "test")) || place.endsWith("scripts");
  const report = join(place, reportName);
  if (!existsSync(report)) {
    if (hasTests && existsSync(join(place, "package.json"))) {
      process.stderr.write(`summarize-tests: no report from ${place}; did its tests run?\n`);
      problems++;
    }
    continue;
  }
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
if (failed > 0 || passed === 0 || problems > 0) process.exit(1);
