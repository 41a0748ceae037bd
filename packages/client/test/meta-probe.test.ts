import { describe, expect, it } from "vitest";
import type { Org } from "../src/org.js";
import { metaProbe, metaUnchanged } from "../src/persistence.js";

/** The fields of an organization the `meta` record holds, as a commit reads them. */
function owner() {
  return {
    role: "owner" as const,
    discovered: true,
    marks: new Map<string, number>([["/topic/a", 1]]),
    owner: {
      pendingRemovals: new Map<string, Set<string>>(),
      rekeyDueAt: undefined as number | undefined,
    },
  };
}

function member() {
  return {
    role: "member" as const,
    discovered: false,
    marks: new Map<string, number>(),
    member: {
      bundle: { id: 1 } as unknown,
      request: { id: "r1", status: "pending", reason: undefined as string | undefined },
    },
  };
}

const asOrg = (org: object) => org as unknown as Org;

describe("the meta record's change check (read in place)", () => {
  it("says unchanged when nothing the record holds changed", () => {
    for (const org of [owner(), member()]) {
      expect(metaUnchanged(metaProbe(asOrg(org)), asOrg(org))).toBe(true);
    }
  });

  it("sees each field of an owner change, in place", () => {
    const changes: Array<(org: ReturnType<typeof owner>) => void> = [
      (org) => org.marks.set("/topic/a", 2),
      (org) => org.marks.set("/topic/b", 1),
      (org) => org.marks.delete("/topic/a"),
      (org) => {
        org.discovered = false;
      },
      (org) => {
        org.owner.rekeyDueAt = 5;
      },
      (org) => org.owner.pendingRemovals.set("general", new Set(["m1"])),
    ];
    for (const change of changes) {
      const org = owner();
      const probe = metaProbe(asOrg(org));
      change(org);
      expect(metaUnchanged(probe, asOrg(org))).toBe(false);
      expect(metaUnchanged(metaProbe(asOrg(org)), asOrg(org))).toBe(true);
    }
    const org = owner();
    org.owner.pendingRemovals.set("general", new Set(["m1"]));
    const probe = metaProbe(asOrg(org));
    org.owner.pendingRemovals.get("general")?.add("m2");
    expect(metaUnchanged(probe, asOrg(org))).toBe(false);
    // Another member in the same count.
    org.owner.pendingRemovals.set("general", new Set(["m3"]));
    expect(metaUnchanged(probe, asOrg(org))).toBe(false);
  });

  it("sees a member's request change status in place, and a new bundle", () => {
    const org = member();
    const probe = metaProbe(asOrg(org));
    org.member.request.status = "accepted";
    expect(metaUnchanged(probe, asOrg(org))).toBe(false);
    const refused = member();
    const pending = metaProbe(asOrg(refused));
    refused.member.request.status = "rejected";
    refused.member.request.reason = "full";
    expect(metaUnchanged(pending, asOrg(refused))).toBe(false);
    const rejected = metaProbe(asOrg(refused));
    refused.member.request.reason = "banned";
    expect(metaUnchanged(rejected, asOrg(refused))).toBe(false);
    const next = member();
    const before = metaProbe(asOrg(next));
    next.member.bundle = { id: 1 };
    expect(metaUnchanged(before, asOrg(next))).toBe(false);
  });
});
