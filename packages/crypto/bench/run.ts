/**
 * `pnpm --filter @orgchat/crypto bench [-- --json] [-- --quick]`
 *
 * Prints each figure with its floor (the same primitive calls made directly, measured in the same
 * run) and the goal from the crypto issue; `--json` prints the same as JSON. `--quick` runs a small
 * profile (CI smoke run: proves the benchmarks still work, numbers are not meaningful).
 */
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { benchDelegation } from "./delegation.js";
import { benchForged } from "./forged.js";
import { type Figure, report } from "./harness.js";
import { benchKeyUpdates } from "./key-updates.js";
import { benchMessages } from "./messages.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const scale = quick ? 0.05 : 1;

const figures: Figure[] = [];
for (const provider of [nodeProvider(), nobleProvider()]) {
  // noble is ~10-30x slower on curve operations: fewer iterations keep the run short.
  const providerScale = provider.name === "noble" ? scale / 10 : scale;
  figures.push(...benchMessages(provider, providerScale));
  figures.push(...benchForged(provider, providerScale));
  figures.push(...(await benchKeyUpdates(provider, { quick, noble: provider.name === "noble" })));
  figures.push(...benchDelegation(provider, { quick, noble: provider.name === "noble" }));
}
report("@orgchat/crypto benchmarks", figures, json);
