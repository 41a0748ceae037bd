/**
 * A plain organization record for the add-step judge's tests (`invalid-adds.test.ts`,
 * `aside-welcomes.test.ts`): what `AddStepJudge` and `CommitForks` read of it (id, bans, rosters,
 * the member's groups).
 */
import { toHex } from "@orgchat/base";
import type { MemberGroup, Roster } from "@orgchat/crypto";
import type { EpochRoster } from "../src/epoch-roster.js";
import type { MemberOrg } from "../src/org.js";

export const orgHex = "ab".repeat(32);
export const key = (n: number) => new Uint8Array(32).fill(n);
export const keyId = (n: number) => new Uint8Array(8).fill(n);
const leaf = (n: number) => ({ identityKey: key(n), signingKey: key(n), prekey: key(n) });

/**
 * Parent epoch 1 (members 1, 2); add step 2 writes member 3 into leaf 2 (the parent's leaf 1
 * kept). The member's organization group is `group`, if given.
 */
export function addStepOrg(banned: ReadonlyMap<string, { clock: bigint }>, group?: MemberGroup) {
  const parent = {
    change: "add",
    channelId: "",
    epoch: 1n,
    keyId: keyId(1),
    previousKeyId: keyId(0),
    roster: [leaf(1), leaf(2)] as Roster,
  } as unknown as EpochRoster;
  const child = {
    ...parent,
    epoch: 2n,
    keyId: keyId(2),
    previousKeyId: keyId(1),
    roster: [leaf(1), { ...leaf(2) }, leaf(3)] as Roster,
  } as unknown as EpochRoster;
  const rosters = new Map([
    [toHex(keyId(1)), parent],
    [toHex(keyId(2)), child],
  ]);
  const value = {
    hex: orgHex,
    id: new Uint8Array(32).fill(0xab),
    log: { state: { banned } },
    rosters,
    member: { groups: new Map(group === undefined ? [] : [["", group]]) },
  } as unknown as MemberOrg;
  return { org: value, parent, child };
}

/** The place of commit `n` on commit `parent` (what `CommitForks.note` reads). */
export const commitPlace = (n: number, parent: number, epoch: bigint) => ({
  keyId: keyId(n),
  previousKeyId: keyId(parent),
  epoch,
  channelId: "",
});
