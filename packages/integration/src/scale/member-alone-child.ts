/**
 * The child process of `member-alone.ts`: restores each captured member and measures the process
 * CPU of its `applyKeyUpdateEnvelopes`. Holds nothing else: its heap is a few MB (the rosters and
 * these members), so a collection that lands in the window collects the members' own garbage.
 *
 * @module
 */
import { defaultProvider, MemberGroup, type Roster, rosterHash } from "@orgchat/crypto";
import type { MemberAloneInput, MemberAloneResult } from "./member-alone.js";

/** Untimed passes over the members before the timed one. */
const warmUpPasses = 3;

process.once("message", async (message) => {
  const input = message as MemberAloneInput;
  const provider = defaultProvider();
  // Frozen, as a client's roster book holds them (their hashes are then remembered).
  const rosters = new Map<string, Roster>(
    input.rosters.map(([keyIdHex, roster]) => [keyIdHex, Object.freeze([...roster])]),
  );
  const roster = rosters.get(input.keyIdHex);
  if (roster === undefined) throw new Error("member-alone: the new epoch's roster is missing");
  // The client's roster book holds the hash once the roster hashed as announced: not a KeyUpdate cost.
  const hash = rosterHash(provider, roster);
  const restore = (member: MemberAloneInput["members"][number]) =>
    MemberGroup.restore(provider, {
      head: member.head,
      epochs: member.epochs,
      roster: (keyIdHex) => rosters.get(keyIdHex),
    });
  const options = { roster, rosterHash: hash };
  // A device that has run a while: the code is warm (optimized, no compilation in the window).
  // Untimed passes over copies of the members first, each copy dropped once used.
  for (let pass = 0; pass < warmUpPasses; pass++) {
    for (const member of input.members) {
      await restore(member).applyKeyUpdateEnvelopes(input.envelopes, input.now, options);
    }
  }
  const cpuMs: number[] = [];
  let applied = 0;
  let verifiedChunks = 0;
  const statuses: Record<string, number> = {};
  for (const member of input.members) {
    const group = restore(member);
    const start = process.cpuUsage();
    const outcome = await group.applyKeyUpdateEnvelopes(input.envelopes, input.now, options);
    const used = process.cpuUsage(start);
    cpuMs.push((used.user + used.system) / 1000);
    const status = outcome.transition?.status ?? "none";
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === "applied") applied++;
    verifiedChunks += outcome.verifiedChunks;
  }
  const result: MemberAloneResult = { cpuMs, applied, verifiedChunks, statuses };
  process.send?.(result, () => process.exit(0));
});
