/**
 * The compliance suite against every mutant of `mutants.ts`. Run only by `compliance-suite.test.ts`
 * (the name does not match `*.test.ts`), which checks which cases fail.
 */
import { runTransportCompliance } from "../../src/compliance.ts";
import { fixtureFor, mutants } from "./mutants.ts";

for (const mutant of mutants) runTransportCompliance(fixtureFor(mutant));
