/**
 * A message of a sibling epoch not entered yet (docs/PROTOCOL.md, "Delegated management"): its
 * roster is here, its parent is a fork point the group keeps, but its KeyUpdate chunk has not come.
 * It waits for that sibling (kept as a genuine waiting message: never evicted by junk, announced,
 * recovered) and opens once the sibling is entered, not dropped as an epoch this member passed
 * (`fork-convergence.test.ts`, strict profile, script 2). So does a message of an epoch on top of
 * such a sibling (its branch starts at the fork point: strict script 71).
 */
import { toHex } from "@orgchat/base";
import type { MemberGroup } from "@orgchat/crypto";
import { describe, expect, it } from "vitest";
import type { EpochRoster } from "../src/epoch-roster.js";
import { maxBranchSteps, onKeptBranch, unopenedVerdict } from "../src/key-evidence.js";
import type { MemberOrg } from "../src/org.js";

const me = new Uint8Array(32).fill(1);
const keyId = (n: number) => new Uint8Array(8).fill(n);

/**
 * A member at epoch 8 that holds the rosters of epochs 5 to 7 of a branch `keyId(5)` ← `keyId(6)` ←
 * `keyId(7)` on `keyId(4)`; its group keeps `keptParent` as a fork point.
 */
function org(keptParent: number | undefined): MemberOrg {
  const rosters = new Map(
    [5, 6, 7].map((n) => [
      toHex(keyId(n)),
      {
        channelId: "",
        epoch: BigInt(n),
        keyId: keyId(n),
        previousKeyId: keyId(n - 1),
        roster: [{ identityKey: me, signingKey: me, prekey: me }],
      },
    ]),
  );
  const group = {
    status: "member",
    epoch: 8n,
    keepsParent: (parent: Uint8Array) =>
      keptParent !== undefined && toHex(parent) === toHex(keyId(keptParent)),
  };
  return {
    role: "member",
    rosters: {
      named: (hex: string) => rosters.get(hex),
      get: (hex: string) => rosters.get(hex),
      placed: (hex: string) => rosters.has(hex),
    },
    log: { state: { epochs: [] } },
    member: {
      groups: new Map([["", group]]),
      waitingWelcomes: new Map(),
      waitingChunks: new Map(),
    },
  } as unknown as MemberOrg;
}

describe("a message of a sibling epoch not entered yet", () => {
  it("waits while its parent is a kept fork point; past once it is not", () => {
    expect(unopenedVerdict(org(6), toHex(keyId(7)), me)).toBe("waiting");
    expect(unopenedVerdict(org(undefined), toHex(keyId(7)), me)).toBe("past");
  });

  it("waits on top of such a sibling: an ancestor's parent is a kept fork point", () => {
    expect(unopenedVerdict(org(5), toHex(keyId(7)), me)).toBe("waiting");
    expect(unopenedVerdict(org(4), toHex(keyId(7)), me)).toBe("waiting");
    // The branch's rosters stop at epoch 5: a fork point below what is held is not reached.
    expect(unopenedVerdict(org(3), toHex(keyId(7)), me)).toBe("past");
  });
});

describe("onKeptBranch", () => {
  it(`walks back at most ${maxBranchSteps} epochs, each lower than the one before`, () => {
    const chain = new Map<string, EpochRoster>();
    const top = maxBranchSteps + 10;
    for (let n = 1; n <= top; n++) {
      chain.set(toHex(keyId(n)), {
        epoch: BigInt(n),
        keyId: keyId(n),
        previousKeyId: keyId(n - 1),
      } as unknown as EpochRoster);
    }
    // A roster whose parent claims a higher epoch (a loop) ends the walk.
    chain.set(toHex(keyId(200)), {
      epoch: 5n,
      keyId: keyId(200),
      previousKeyId: keyId(201),
    } as unknown as EpochRoster);
    chain.set(toHex(keyId(201)), {
      epoch: 6n,
      keyId: keyId(201),
      previousKeyId: keyId(200),
    } as unknown as EpochRoster);
    const orgWith = { rosters: { get: (hex: string) => chain.get(hex) } } as unknown as MemberOrg;
    const keeping = (n: number) =>
      ({ keepsParent: (parent: Uint8Array) => toHex(parent) === toHex(keyId(n)) }) as MemberGroup;
    const from = (n: number) => chain.get(toHex(keyId(n))) as EpochRoster;
    expect(onKeptBranch(orgWith, keeping(top - maxBranchSteps), from(top))).toBe(true);
    expect(onKeptBranch(orgWith, keeping(top - maxBranchSteps - 1), from(top))).toBe(false);
    expect(onKeptBranch(orgWith, keeping(999), from(200))).toBe(false);
  });
});
