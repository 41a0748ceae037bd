/**
 * A member's KeyUpdate CPU measured the way a member pays it: alone, on its own device. The scale
 * bench runs the owner, 10,000 lean members and the network in one process, so the process CPU
 * around a member's KeyUpdate also counts the garbage collector's helper threads sweeping and
 * marking everyone's heap (tens of MB) and any collection that lands in the window. Here a few
 * followers' states are captured before the removal's clock starts (`captureMember`), and a
 * child process that holds only those states, the chunks and the rosters applies it to each,
 * measuring its process CPU. The code is warmed first by untimed passes over copies of the same
 * members, as on a device that has run a while. (Settling the heap with `gc()` before each member
 * instead does not help: the collector's sweeping after it lands in the next window.)
 *
 * @module
 */
import type { MemberGroup, Roster } from "@orgchat/crypto";
import { hex as toHex } from "./bytes.js";
import { askChild } from "./child.js";

/** A follower's group just before it applies a KeyUpdate, in pieces (no rosters). */
export interface CapturedMember {
  readonly head: Uint8Array;
  readonly epochs: ReadonlyArray<readonly [keyIdHex: string, record: Uint8Array]>;
}

/** What the child process needs: the members, the KeyUpdate's chunks and the rosters. */
export interface MemberAloneInput {
  readonly members: CapturedMember[];
  readonly envelopes: Uint8Array[];
  /** Rosters by key id (hex): those the members' held epochs name, and the new epoch's. */
  readonly rosters: Array<[keyIdHex: string, roster: Roster]>;
  /** The new epoch's key id (hex). */
  readonly keyIdHex: string;
  readonly now: number;
}

/** Followers captured while they follow a KeyUpdate (`LeanCrowd.alone`), for the child. */
export interface AloneCapture {
  /** The first followers, as they were before the removal (captured before its clock starts). */
  readonly members: CapturedMember[];
  readonly rosters: Map<string, Roster>;
  /** The KeyUpdate's new key id (hex): its chunks are read from the crowd once all re-keyed. */
  keyIdHex?: string;
}

/** What the child answers. */
export interface MemberAloneResult {
  /** Process CPU (ms) of each member's `applyKeyUpdateEnvelopes` (after untimed warm-up passes). */
  readonly cpuMs: number[];
  /** Members whose KeyUpdate applied (all of them, unless something is wrong). */
  readonly applied: number;
  /** Each member's outcome, counted by status. */
  readonly statuses: Record<string, number>;
  /** Chunks verified per member, summed. */
  readonly verifiedChunks: number;
}

/** Members captured per run: enough for a p95, small enough for a quiet child heap. */
export const membersAlone = 40;

/**
 * Keeps `group` as it is before it applies a KeyUpdate (call it right before): its head and
 * retained epochs in pieces, and the rosters its held epochs name.
 *
 * @param group - the follower's group
 * @param roster - the roster of a key id (hex), from the crowd's shared rosters
 * @param into - where the rosters go, by key id (each once)
 */
export function captureMember(
  group: MemberGroup,
  roster: (keyIdHex: string) => Roster | undefined,
  into: Map<string, Roster>,
): CapturedMember {
  for (const held of group.heldEpochs()) {
    const keyIdHex = toHex(held.keyId);
    const found = roster(keyIdHex);
    if (found !== undefined) into.set(keyIdHex, found);
  }
  const parts = group.takeParts({ all: true });
  const epochs = parts.epochs.flatMap(([keyIdHex, record]) =>
    record === undefined ? [] : [[keyIdHex, record] as const],
  );
  return { head: parts.head, epochs };
}

/**
 * Applies the KeyUpdate to each captured member in a child process holding only them (see the
 * module's comment).
 *
 * @param input - the members, chunks and rosters
 * @returns each member's process CPU
 * @throws when the child fails or answers nothing
 */
export async function measureMembersAlone(input: MemberAloneInput): Promise<MemberAloneResult> {
  return askChild<MemberAloneResult>(
    new URL("./member-alone-child.ts", import.meta.url),
    input,
    "member-alone",
  );
}
