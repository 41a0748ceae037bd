/**
 * The owner's removal measured alone, on an owner dump (`bench/scale.ts --dump-owner FILE`): a child
 * process loads the dump into a memory store, restarts the owner on it and removes members one after
 * the other (`removeMember`, `rekeyWindowMs: 0` as in the scale bench, so the re-key happens inside
 * it). Each removal is split by what the owner's transport and store saw: the time until its first
 * publish (building the KeyUpdate and the new epoch), the time inside `publish` and inside the
 * store's writes, and the bytes of each envelope. No members: their apply is measured by the scale
 * bench (`member-alone.ts`). Organizations of 10,000 need minutes to build; this needs seconds, so
 * a change to the removal path can be timed on the same bytes, tree against tree.
 *
 * @module
 */
import { askChild } from "./child.js";

/** What the child is told. */
export interface RemovalAloneInput {
  /** An owner dump ({@link import("./owner-alone.js").writeOwnerDump}). */
  readonly file: string;
  /** Removals, one after the other, the first with cold code. */
  readonly removals: number;
}

/** One removal's figures (ms unless named otherwise). */
export interface RemovalFigures {
  /** `removeMember` from its call to its return. */
  readonly wallMs: number;
  /** Process CPU over the same span. */
  readonly cpuMs: number;
  /** The main thread's CPU over the same span. */
  readonly mainCpuMs: number;
  /** From the call to the first publish: the KeyUpdate and the new epoch built. */
  readonly untilFirstPublishMs: number;
  /** Time inside the transport's `publish` (sum over the removal's envelopes). */
  readonly publishMs: number;
  /** Time inside the store's writes (batches, puts, appends, deletes: summed). */
  readonly storeMs: number;
  /** Store batches and single writes committed. */
  readonly storeWrites: number;
  /** Value bytes the store's writes carried. */
  readonly storeBytes: number;
  /** Envelopes published, in order: content topic's last segment and bytes. */
  readonly envelopes: ReadonlyArray<readonly [topic: string, bytes: number]>;
  /** Members after the removal, and the organization-wide epoch. */
  readonly members: number;
  readonly epoch: bigint | undefined;
}

/** What the child answers. */
export interface RemovalAloneResult {
  /** The owner's restart before the first removal (wall ms). */
  readonly restartMs: number;
  readonly removals: RemovalFigures[];
}

/** How {@link measureRemovalAlone} runs its child. */
export interface RemovalAloneOptions {
  /** Removals in the child. @default 3 */
  readonly removals?: number;
  /** Extra Node flags for the child (e.g. `--cpu-prof`, `--cpu-prof-dir=DIR`). */
  readonly execArgv?: readonly string[];
}

/**
 * Removes members from the owner dump in `file`, in a child process holding nothing else (see the
 * module's comment).
 *
 * @param file - an owner dump
 * @param options - removals, the child's extra flags
 * @returns each removal's figures
 * @throws when the child fails or answers nothing
 */
export async function measureRemovalAlone(
  file: string,
  options: RemovalAloneOptions = {},
): Promise<RemovalAloneResult> {
  const input: RemovalAloneInput = { file, removals: options.removals ?? 3 };
  return await askChild<RemovalAloneResult>(
    new URL("./removal-alone-child.ts", import.meta.url),
    input,
    "removal-alone",
    options.execArgv,
  );
}
