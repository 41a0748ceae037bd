/**
 * A message of a sibling epoch not entered yet (docs/PROTOCOL.md, "Delegated management"): its
 * roster is here, its parent is a fork point the group keeps, but its KeyUpdate chunk has not come.
 * It waits for that sibling (kept as a genuine waiting message: never evicted by junk, announced,
 * recovered) and opens once the sibling is entered, not dropped as an epoch this member passed
 * (`fork-convergence.test.ts`, strict profile, script 2).
 */
import { toHex } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { unopenedVerdict } from "../src/key-evidence.js";
import type { MemberOrg } from "../src/org.js";

const me = new Uint8Array(32).fill(1);
const keyId = (n: number) => new Uint8Array(8).fill(n);

/** A member at epoch 8 that holds the roster of epoch 7 `keyId(7)`, a child of `keyId(6)`. */
function org(keepsParent: boolean): MemberOrg {
  const roster = {
    channelId: "",
    epoch: 7n,
    keyId: keyId(7),
    previousKeyId: keyId(6),
    roster: [{ identityKey: me, signingKey: me, prekey: me }],
  };
  const group = {
    status: "member",
    epoch: 8n,
    keepsParent: (parent: Uint8Array) => keepsParent && toHex(parent) === toHex(keyId(6)),
  };
  return {
    role: "member",
    rosters: {
      named: (hex: string) => (hex === toHex(keyId(7)) ? { channelId: "", epoch: 7n } : undefined),
      get: (hex: string) => (hex === toHex(keyId(7)) ? roster : undefined),
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
    expect(unopenedVerdict(org(true), toHex(keyId(7)), me)).toBe("waiting");
    expect(unopenedVerdict(org(false), toHex(keyId(7)), me)).toBe("past");
  });
});
