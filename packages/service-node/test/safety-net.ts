/**
 * How long a test wait may take before the test fails: a safety net against a hang only (below
 * Vitest's 60 s test timeout), never what decides a test on a slow machine. Waits end on events.
 */
export const safetyNetMs = 30_000;
