/**
 * Add steps found invalid (`invalid-adds.ts`), on plain organization records: which add step a ban
 * refuses (a joiner banned at a clock below the commit's, only a delegate's add step of the
 * organization's group), which members an add step wrote, and the bound of the Welcomes of a lower
 * epoch kept aside (stored: `aside-welcomes.test.ts`). The end-to-end cases are in
 * `commit-forks.test.ts`.
 */
import { toHex } from "@orgchat/base";
import { defaultProvider, type MemberGroup } from "@orgchat/crypto";
import { describe, expect, it } from "vitest";
import { CommitForks } from "../src/commit-forks.js";
import type { CommitRefRecord } from "../src/commit-refs.js";
import type { ClientCore } from "../src/core.js";
import {
  AddStepJudge,
  invalidAddStep,
  invalidOnChain,
  joinersOfAdd,
  maxLowerWelcomes,
} from "../src/invalid-adds.js";
import type { ReceivedWelcome } from "../src/key-sync.js";
import { newTxn } from "../src/org.js";
import { Vault } from "../src/vault.js";
import { addStepOrg, commitPlace, key, keyId, orgHex } from "./add-step-fixtures.js";

/** A vault without a passphrase (records pass through). */
async function plainVault(): Promise<Vault> {
  const random = (n: number) => new Uint8Array(n);
  const opened = await Vault.open({
    provider: defaultProvider(),
    random,
    passphrase: undefined,
    stored: undefined,
    scryptN: 16,
  });
  return opened.vault;
}
const id = (n: number) => toHex(key(n));

const org = (banned: ReadonlyMap<string, { clock: bigint }>) => addStepOrg(banned);

const ref = (clock: bigint, signer = id(9)): CommitRefRecord => ({
  signer,
  clock,
  parent: toHex(keyId(1)),
  epoch: 2n,
  channelId: "",
});

describe("which add step a ban refuses", () => {
  it("a joiner banned at a lower clock; not at the same or a higher one", () => {
    const at = (clock: bigint) => org(new Map([[id(3), { clock }]])).org;
    const child = toHex(keyId(2));
    expect(invalidAddStep(at(4n), child, ref(5n))).toBe(true);
    expect(invalidAddStep(at(5n), child, ref(5n))).toBe(false);
    expect(invalidAddStep(at(6n), child, ref(5n))).toBe(false);
  });

  it("only a joiner: a member of the parent banned is not the add step's (its removal is)", () => {
    const { org: banned2 } = org(new Map([[id(2), { clock: 1n }]]));
    expect(invalidAddStep(banned2, toHex(keyId(2)), ref(5n))).toBe(false);
    const { org: plain, child } = org(new Map());
    expect(joinersOfAdd(plain, child)).toEqual([id(3)]);
  });

  it("never the owner's commit, another group's, an unknown reference or roster", () => {
    const { org: o } = org(new Map([[id(3), { clock: 1n }]]));
    const child = toHex(keyId(2));
    expect(invalidAddStep(o, child, ref(5n, orgHex))).toBe(false);
    expect(invalidAddStep(o, child, { ...ref(5n), channelId: "c" })).toBe(false);
    expect(invalidAddStep(o, child, undefined)).toBe(false);
    expect(invalidAddStep(o, toHex(keyId(7)), ref(5n))).toBe(false);
  });

  it("the walk up the active chain stops where no fork point is kept", () => {
    const { org: o } = org(new Map([[id(3), { clock: 1n }]]));
    const refs = new Map([[toHex(keyId(2)), ref(5n)]]);
    const group = (kept: boolean) =>
      ({ keyId: keyId(2), keepsParent: () => kept }) as unknown as MemberGroup;
    expect(invalidOnChain(o, group(true), refs, 16)).toEqual({
      child: toHex(keyId(2)),
      parent: toHex(keyId(1)),
    });
    expect(invalidOnChain(o, group(false), refs, 16)).toBe(undefined);
  });
});

describe("Welcomes of a lower epoch", () => {
  it(`keeps at most ${maxLowerWelcomes}, the newest, once each`, async () => {
    const core = { p: { vault: await plainVault() } } as unknown as ClientCore;
    const forks = new CommitForks({} as ClientCore, {
      entered: () => undefined,
      followRosters: () => undefined,
      retryNamed: () => undefined,
      applyWaiting: () => undefined,
    });
    const judge = new AddStepJudge(core, forks, async () => undefined);
    const { org: o } = org(new Map());
    const group = { keyId: keyId(2) } as unknown as MemberGroup;
    const welcome = (n: number) => ({ channelId: "", keyId: keyId(n) }) as ReceivedWelcome;
    for (let n = 10; n < 20; n++)
      expect(judge.takesLowerWelcome(o, newTxn(o), group, welcome(n))).toBe(false);
    expect(judge.keptLower(o)).toBe(maxLowerWelcomes);
    // The same Welcome again (a copy) is kept once.
    const { org: once } = org(new Map());
    judge.takesLowerWelcome(once, newTxn(once), group, welcome(19));
    judge.takesLowerWelcome(once, newTxn(once), group, welcome(19));
    expect(judge.keptLower(once)).toBe(1);
    // A restricted channel's is not kept (only the organization's group goes back).
    const { org: other } = org(new Map());
    judge.takesLowerWelcome(other, newTxn(other), group, {
      channelId: "c",
      keyId: keyId(30),
    } as ReceivedWelcome);
    expect(judge.keptLower(other)).toBe(0);
  });
});

describe("a Welcome of a losing branch (`CommitForks.branchLoses`)", () => {
  it("compares the two branches at the parent they share; an ancestor or an unknown commit never loses", () => {
    const forks = new CommitForks({} as ClientCore, {
      entered: () => undefined,
      followRosters: () => undefined,
      retryNamed: () => undefined,
      applyWaiting: () => undefined,
    });
    const { org: o } = org(new Map());
    const signer = key(9);
    // P (1) → A1 (2, clock 5) → A2 (3, clock 6); P → B1 (4, clock 3): B1 wins at P.
    const place = commitPlace;
    forks.note(o, undefined, place(2, 1, 2n), signer, 5n);
    forks.note(o, undefined, place(3, 2, 3n), signer, 6n);
    forks.note(o, undefined, place(4, 1, 2n), signer, 3n);
    const hex = (n: number) => toHex(keyId(n));
    expect(forks.branchLoses(o, hex(3), hex(4))).toBe(true);
    expect(forks.branchLoses(o, hex(2), hex(4))).toBe(true);
    expect(forks.branchLoses(o, hex(4), hex(3))).toBe(false);
    expect(forks.branchLoses(o, hex(2), hex(3))).toBe(false);
    expect(forks.branchLoses(o, hex(3), hex(2))).toBe(false);
    expect(forks.branchLoses(o, hex(7), hex(4))).toBe(false);
  });
});
