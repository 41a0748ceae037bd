/**
 * Diagnostics: what a component dropped or could not do, reported instead of swallowed. Network input
 * that fails to decode, verify or apply is dropped (a peer must not be able to crash us), but a silent
 * drop is how missing messages hide, so every such drop goes through one hook the app can plug in
 * (a client's `diagnostic` event, a node's `onDiagnostic` option) and a test can count.
 */

/** One dropped input or failed background step. */
export interface Diagnostic {
  /** The component that dropped it, e.g. `"client/messages"`, `"service-node/filter"`. */
  readonly component: string;
  /** Why, as a stable short id (kebab-case), e.g. `"undecodable"`, `"bad-signature"`, `"stale"`. */
  readonly reason: string;
  /** The content topic the input came on, when there is one. */
  readonly topic?: string;
  /** The error that caused the drop, when there is one. */
  readonly error?: unknown;
}

/** Receives diagnostics. It must not throw; a throwing sink is ignored. */
export type DiagnosticSink = (diagnostic: Diagnostic) => void;

/** A sink that drops everything (the default where the app plugged none in). */
export const ignoreDiagnostic: DiagnosticSink = () => {};

/**
 * Calls `sink` with `diagnostic`, isolating the caller from a throwing sink (an app's bug in its
 * logger must not stop message processing).
 */
export function reportDiagnostic(sink: DiagnosticSink | undefined, diagnostic: Diagnostic): void {
  if (!sink) return;
  try {
    sink(diagnostic);
  } catch {
    // The sink is the app's code: its failure must not become ours (documented above).
  }
}
