/** The attack suite's shared hook: every arena a test opens is closed after it. */
import { afterEach } from "vitest";
import { Arena, type ArenaInit } from "../../src/adversary/index.ts";

/**
 * Registers an `afterEach` that closes the arenas opened meanwhile.
 * @returns a function that opens an arena (closed after the test)
 */
export function arenas(): (init?: ArenaInit) => Arena {
  const open: Arena[] = [];
  afterEach(async () => {
    for (const arena of open.splice(0)) await arena.close();
  });
  return (init) => {
    const arena = new Arena(init);
    open.push(arena);
    return arena;
  };
}
