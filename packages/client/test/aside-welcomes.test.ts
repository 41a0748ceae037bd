/**
 * Welcomes kept aside (`aside-welcomes.ts`, `AddStepJudge`): a delegate's Welcome of a branch the
 * member cannot place yet is kept, not entered, and entered or dropped once commit references
 * place it (strict script 111 end to end: `fork-convergence.test.ts`); the Welcomes kept aside
 * (of a lower epoch, or unplaced) survive a restart, sealed in the store, at most
 * `asideWelcomeLimits.maxPerOrg` per organization under a flood. On plain organization records
 * (the judge reads ids, bans, rosters and the group's place), with a real store, a sealed vault and
 * the real `CommitForks`.
 */
import { toHex } from "@orgchat/base";
import { defaultProvider, type MemberGroup } from "@orgchat/crypto";
import { memoryStore, type Store } from "@orgchat/store";
import { describe, expect, it } from "vitest";
import { AsideWelcomes, asideWelcomeLimits } from "../src/aside-welcomes.js";
import { CommitForks } from "../src/commit-forks.js";
import type { ClientCore } from "../src/core.js";
import { AddStepJudge } from "../src/invalid-adds.js";
import type { ReceivedWelcome } from "../src/key-sync.js";
import { newTxn, type Txn } from "../src/org.js";
import { orgSpace } from "../src/persistence.js";
import { Vault } from "../src/vault.js";
import { addStepOrg, commitPlace, key, keyId, orgHex } from "./add-step-fixtures.js";
import { seededRandom } from "./helpers.js";

const space = orgSpace(orgHex);
const hex = (n: number) => toHex(keyId(n));

async function sealedVault(): Promise<Vault> {
  const { vault } = await Vault.open({
    provider: defaultProvider(),
    random: seededRandom(21),
    passphrase: "correct horse",
    stored: undefined,
    scryptN: 16,
  });
  return vault;
}

/** A member's group as the judge reads it: its place only. */
function groupAt(n: number, epoch: bigint): MemberGroup {
  return {
    status: "member",
    keyId: keyId(n),
    epoch,
    keepsParent: () => false,
  } as unknown as MemberGroup;
}

/** The judge's organization record (`add-step-fixtures.ts`), the member's group at `group`. */
function plainOrg(group: MemberGroup, banned: Map<string, { clock: bigint }> = new Map()) {
  return addStepOrg(banned, group).org;
}

/** A Welcome of commit `n` (its secrets seeded, to compare after a restart). */
function welcome(n: number, epoch: bigint, channelId = ""): ReceivedWelcome {
  return {
    version: 1,
    organizationId: new Uint8Array(32).fill(0xab),
    channelId,
    epoch,
    epochSecret: new Uint8Array(32).fill(n + 100),
    rosterHash: new Uint8Array(32).fill(n + 50),
    keyId: keyId(n),
    leafIndex: 2,
    leafSecret: new Uint8Array(32).fill(n + 150),
    history: [],
  };
}

/** A client as the judge sees it (store, vault, reports); a restart is a new one on the store. */
function client(store: Store, vault: Vault) {
  const reports: string[] = [];
  const core = {
    p: { store, vault },
    report: (r: { reason: string }) => reports.push(r.reason),
  } as unknown as ClientCore;
  const forks = new CommitForks(core, {
    entered: () => undefined,
    followRosters: () => undefined,
    retryNamed: () => undefined,
    applyWaiting: () => undefined,
  });
  const entered: ReceivedWelcome[] = [];
  const judge = new AddStepJudge(core, forks, async (org, _txn, w) => {
    entered.push(w);
    org.member.groups.set("", groupAt(w.keyId[0] ?? 0, w.epoch));
  });
  return { forks, judge, entered, reports };
}

const signer = key(9);
const place = commitPlace;

async function commit(store: Store, txn: Txn): Promise<void> {
  await store.batch(txn.ops);
}

describe("a Welcome of a branch not placed yet", () => {
  // P (1); the winner 4 (clock 3) → 5, where the member is; the loser 2 (clock 5) → 3 → 6.
  it("is kept aside, then dropped once its branch is known to lose", async () => {
    const { forks, judge, entered, reports } = client(memoryStore(), await sealedVault());
    const o = plainOrg(groupAt(5, 3n));
    forks.note(o, undefined, place(4, 1, 2n), signer, 3n);
    forks.note(o, undefined, place(5, 4, 3n), signer, 7n);
    const txn = newTxn(o);
    expect(judge.keepsUnplaced(o, txn, groupAt(5, 3n), welcome(6, 4n))).toBe(true);
    expect(reports).toEqual(["welcome-kept-aside"]);
    expect(judge.aside.list(o, "unplaced")).toHaveLength(1);
    // A reference of the loser comes, not the one that joins: still unplaced.
    forks.note(o, undefined, place(6, 3, 4n), signer, 8n);
    expect(judge.placeAside(o, txn)).toBe(false);
    expect(judge.aside.list(o)).toHaveLength(1);
    forks.note(o, undefined, place(3, 2, 3n), signer, 6n);
    forks.note(o, undefined, place(2, 1, 2n), signer, 5n);
    expect(judge.placeAside(o, txn)).toBe(false);
    expect(entered).toEqual([]);
    expect(judge.aside.list(o)).toHaveLength(0);
    expect(txn.ops.at(-1)).toMatchObject({ type: "delete", key: `aside-welcome/${hex(6)}` });
  });

  it("is entered once the member's branch is known to lose to it", async () => {
    const { forks, judge, entered } = client(memoryStore(), await sealedVault());
    const o = plainOrg(groupAt(3, 3n));
    forks.note(o, undefined, place(2, 1, 2n), signer, 5n);
    forks.note(o, undefined, place(3, 2, 3n), signer, 6n);
    const txn = newTxn(o);
    expect(judge.keepsUnplaced(o, txn, groupAt(3, 3n), welcome(7, 4n))).toBe(true);
    for (const [n, parent, epoch, clock] of [
      [4, 1, 2n, 3n],
      [5, 4, 3n, 7n],
      [7, 5, 4n, 8n],
    ] as const) {
      expect(entered).toEqual([]);
      forks.note(o, undefined, place(n, parent, epoch), signer, clock);
      judge.placeAside(o, txn);
    }
    expect(entered.map((w) => toHex(w.keyId))).toEqual([hex(7)]);
    expect(judge.aside.list(o)).toHaveLength(0);
  });

  it("is entered at once when its branch follows the group's epoch, or wins; never kept when lower, equal or of a channel", async () => {
    const { forks, judge } = client(memoryStore(), await sealedVault());
    const o = plainOrg(groupAt(5, 3n));
    forks.note(o, undefined, place(4, 1, 2n), signer, 3n);
    forks.note(o, undefined, place(5, 4, 3n), signer, 7n);
    forks.note(o, undefined, place(8, 5, 4n), signer, 9n);
    const txn = newTxn(o);
    const group = groupAt(5, 3n);
    expect(judge.keepsUnplaced(o, txn, group, welcome(8, 4n))).toBe(false);
    expect(judge.keepsUnplaced(o, txn, group, welcome(5, 3n))).toBe(false);
    expect(judge.keepsUnplaced(o, txn, group, welcome(4, 2n))).toBe(false);
    expect(judge.keepsUnplaced(o, txn, group, welcome(9, 4n, "c"))).toBe(false);
    expect(judge.aside.list(o)).toHaveLength(0);
    // Placed later (its reference after the Welcome): entered then.
    expect(judge.keepsUnplaced(o, txn, group, welcome(10, 4n))).toBe(true);
    forks.note(o, undefined, place(10, 5, 4n), signer, 10n);
    expect(judge.placeAside(o, txn)).toBe(true);
    expect(toHex(o.member.groups.get("")?.keyId ?? new Uint8Array())).toBe(hex(10));
  });
});

describe("Welcomes kept aside survive a restart", () => {
  it("a Welcome of a lower epoch kept, a restart, then the ban: the new client enters it", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    // The member joined at add step 2 (writes member 3); the author's new add step 11 (epoch 1)
    // of it is a lower epoch: kept.
    const group = groupAt(2, 2n);
    const before = client(store, vault);
    const o = plainOrg(group);
    before.forks.note(o, undefined, place(2, 1, 2n), signer, 5n);
    const txn = newTxn(o);
    expect(before.judge.takesLowerWelcome(o, txn, group, welcome(11, 1n))).toBe(false);
    await commit(store, txn);
    // The record is sealed: no secret of the Welcome in the clear.
    const [record] = await store.keys(space, { prefix: "aside-welcome/" });
    const bytes = (await store.get(space, record ?? "")) ?? new Uint8Array();
    expect(Buffer.from(bytes).includes(Buffer.from(welcome(11, 1n).leafSecret))).toBe(false);
    // Restart: a new client on the same store; member 3 banned at a clock below the add step's.
    const after = client(store, vault);
    const again = plainOrg(group, new Map([[toHex(key(3)), { clock: 1n }]]));
    after.forks.note(again, undefined, place(2, 1, 2n), signer, 5n);
    await after.judge.aside.load(again);
    expect(after.judge.keptLower(again)).toBe(1);
    const later = newTxn(again);
    expect(after.judge.judge(again, later)).toBe(true);
    expect(after.entered).toEqual([welcome(11, 1n)]);
    await commit(store, later);
    expect(await store.keys(space, { prefix: "aside-welcome/" })).toEqual([]);
  });

  it("an unplaced Welcome kept, a restart, then its place: entered", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const before = client(store, vault);
    const o = plainOrg(groupAt(3, 3n));
    const txn = newTxn(o);
    expect(before.judge.keepsUnplaced(o, txn, groupAt(3, 3n), welcome(7, 4n))).toBe(true);
    await commit(store, txn);
    const after = client(store, vault);
    const again = plainOrg(groupAt(3, 3n));
    await after.judge.aside.load(again);
    expect(after.judge.aside.list(again, "unplaced").map((e) => e.welcome)).toEqual([
      welcome(7, 4n),
    ]);
    for (const [n, parent, epoch, clock] of [
      [2, 1, 2n, 5n],
      [3, 2, 3n, 6n],
      [4, 1, 2n, 3n],
      [5, 4, 3n, 7n],
      [7, 5, 4n, 8n],
    ] as const) {
      after.forks.note(again, undefined, place(n, parent, epoch), signer, clock);
    }
    expect(after.judge.placeAside(again, newTxn(again))).toBe(true);
    expect(after.entered.map((w) => toHex(w.keyId))).toEqual([hex(7)]);
  });

  it(`a flood of Welcomes: at most ${asideWelcomeLimits.maxPerOrg} kept and stored, the newest`, async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const { judge } = client(store, vault);
    const group = groupAt(3, 3n);
    const o = plainOrg(group);
    for (let n = 20; n < 80; n++) {
      const txn = newTxn(o);
      // Lower and unplaced, one each in turn, and a copy of each (kept once).
      if (n % 2 === 0) judge.takesLowerWelcome(o, txn, group, welcome(n, 1n));
      else judge.keepsUnplaced(o, txn, group, welcome(n, 5n));
      if (n % 2 === 0) judge.takesLowerWelcome(o, txn, group, welcome(n, 1n));
      await commit(store, txn);
      const stored = await store.keys(space, { prefix: "aside-welcome/" });
      expect(stored.length).toBeLessThanOrEqual(asideWelcomeLimits.maxPerOrg);
    }
    const newest = [76, 77, 78, 79].map((n) => `aside-welcome/${hex(n)}`);
    expect([...(await store.keys(space, { prefix: "aside-welcome/" }))].sort()).toEqual(
      newest.sort(),
    );
    // After a restart: the same, in the same order; a junk record is skipped and deleted.
    await store.batch([
      { type: "put", space, key: "aside-welcome/00", value: new Uint8Array([1, 2, 3]) },
    ]);
    const { judge: after } = client(store, vault);
    const again = plainOrg(group);
    await after.aside.load(again);
    expect(after.aside.list(again).map((e) => toHex(e.welcome.keyId))).toEqual(
      [76, 77, 78, 79].map(hex),
    );
    expect(after.aside.list(again).map((e) => e.kind)).toEqual([
      "lower",
      "unplaced",
      "lower",
      "unplaced",
    ]);
    expect([...(await store.keys(space, { prefix: "aside-welcome/" }))].sort()).toEqual(
      newest.sort(),
    );
  });

  it("Welcomes kept before the load stay the newest; the oldest stored past the bound go", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const first = new AsideWelcomes({ p: { store, vault } } as unknown as ClientCore);
    const o = plainOrg(groupAt(3, 3n));
    const txn = newTxn(o);
    for (let n = 30; n < 34; n++) first.keep(o, txn, "lower", welcome(n, 1n));
    await commit(store, txn);
    const second = new AsideWelcomes({ p: { store, vault } } as unknown as ClientCore);
    const again = plainOrg(groupAt(3, 3n));
    const early = newTxn(again);
    second.keep(again, early, "unplaced", welcome(40, 5n));
    await commit(store, early);
    await second.load(again);
    expect(second.list(again).map((e) => toHex(e.welcome.keyId))).toEqual(
      [31, 32, 33, 40].map(hex),
    );
    expect([...(await store.keys(space, { prefix: "aside-welcome/" }))].sort()).toEqual(
      [31, 32, 33, 40].map((n) => `aside-welcome/${hex(n)}`).sort(),
    );
    // The one kept before the load stays the newest after another restart.
    const third = new AsideWelcomes({ p: { store, vault } } as unknown as ClientCore);
    const thrice = plainOrg(groupAt(3, 3n));
    await third.load(thrice);
    expect(third.list(thrice).map((e) => toHex(e.welcome.keyId))).toEqual(
      [31, 32, 33, 40].map(hex),
    );
  });
});
