import { createHash } from "node:crypto";
import { decodeDescriptionDelta, encodeDescriptionDelta } from "@orgchat/wire";
import fc from "fast-check";
import { Map as ImmutableMap, List } from "immutable";
import { describe, expect, it } from "vitest";
import {
  applyDescriptionDelta,
  buildDescriptionDelta,
  describedState,
  describeOrganization,
  stateFromDescription,
} from "../src/description/index.js";
import type { Role } from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import type { Ban, Channel, Member, OrgState } from "../src/state.js";

// Fixed seed: property tests are deterministic (docs/STYLE.md, "Tests").
const seed = 0xde17a;
const memberId = (label: string) => createHash("sha256").update(label).digest("hex");
const orgId = memberId("organization");
const pool = Array.from({ length: 10 }, (_, i) => memberId(`member-${i}`));
const roleNames: Role[] = ["all", "manage-users", "moderate-content"];

const rolesArb = fc.subarray(roleNames).map((roles) => List(roles));
const channelArb = fc.record({
  name: fc.constantFrom("General", "Random", "Ops"),
  private: fc.boolean(),
  roster: fc.dictionary(fc.constantFrom(...pool), rolesArb, { maxKeys: 6 }),
});
/** A description's worth of state: members, bans, channels with rosters, header fields. */
const shapeArb = fc.record({
  name: fc.constantFrom("Acme", "Acme Corp", "Globex"),
  tags: fc.subarray(["a", "b", "c"]),
  encrypted: fc.boolean(),
  members: fc.dictionary(fc.constantFrom(...pool), rolesArb, { maxKeys: 10 }),
  banned: fc.subarray(pool, { maxLength: 3 }),
  channels: fc.dictionary(fc.constantFrom("general", "ops", "random"), channelArb, { maxKeys: 3 }),
});
type Shape = typeof shapeArb extends fc.Arbitrary<infer T> ? T : never;

function stateOf(shape: Shape, clock: bigint): OrgState {
  const base = initialState(orgId);
  const banned = ImmutableMap<string, Ban>(
    shape.banned.map((id) => [id, { member: id, clock, deleteMessages: false }]),
  );
  const members = ImmutableMap<string, Member>().withMutations((map) => {
    map.set(orgId, { id: orgId, roles: List<Role>(["all"]), joinedAt: 1n, displayName: "" });
    for (const [id, roles] of Object.entries(shape.members)) {
      // Every third member named, one of them outside ASCII.
      const displayName = id.endsWith("0") ? `name ${id.slice(0, 4)} ü` : "";
      if (!banned.has(id)) map.set(id, { id, roles, joinedAt: clock, displayName });
    }
  });
  const channels = ImmutableMap<string, Channel>().withMutations((map) => {
    for (const [id, channel] of Object.entries(shape.channels)) {
      map.set(id, {
        id,
        identity: { displayName: channel.name, description: "", ensName: "", images: {} },
        permissions: { access: "on-request", ensOnly: false, private: channel.private },
        categoryId: "",
        members: ImmutableMap(Object.entries(channel.roster)),
      });
    }
  });
  return {
    ...base,
    created: true,
    clock,
    identity: { displayName: shape.name, description: "", ensName: "", images: {} },
    permissions: { access: "on-request", ensOnly: false, private: false },
    tags: List(shape.tags),
    encrypted: shape.encrypted,
    members,
    banned,
    channels,
  };
}

/** What a description says of a state (the fields deltas carry), comparable with `toEqual`. */
const said = (state: OrgState) => describeOrganization(state);

/** Builds, encodes, decodes and applies the delta from `a` to `b`. */
function roundTrip(a: OrgState, b: OrgState) {
  const base = describedState(a);
  const built = buildDescriptionDelta(base, b);
  if (built === undefined) throw new Error("delta over its entry limit");
  const decoded = decodeDescriptionDelta(encodeDescriptionDelta(built.delta));
  return { base, built, decoded, applied: applyDescriptionDelta(base, decoded, orgId) };
}

describe("description deltas", () => {
  it("apply(delta(a, b), a) describes b, with b's digest (random descriptions)", () => {
    fc.assert(
      fc.property(shapeArb, shapeArb, (shapeA, shapeB) => {
        const a = stateOf(shapeA, 10n);
        const b = stateOf(shapeB, 11n);
        const { built, applied } = roundTrip(a, b);
        // The incremental digest equals the digest computed from scratch.
        expect(built.described.digest).toEqual(describedState(b).digest);
        expect(applied.ok).toBe(true);
        if (!applied.ok) return;
        expect(said(applied.described.state)).toEqual(said(b));
        expect(applied.described.digest).toEqual(describedState(b).digest);
        expect(applied.described.rosterSum).toBe(describedState(b).rosterSum);
      }),
      { seed, numRuns: 300 },
    );
  });

  it("edits of a large state (maps sharing structure): the delta is exactly the edits", () => {
    const big = Array.from({ length: 300 }, (_, i) => memberId(`big-${i}`));
    const a = stateOf(
      { ...emptyShape, members: Object.fromEntries(big.map((id) => [id, List<Role>()])) },
      10n,
    );
    const editArb = fc.array(
      fc.record({
        at: fc.nat({ max: 399 }),
        kind: fc.constantFrom("add", "remove", "role", "rename"),
      }),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(editArb, (edits) => {
        let members = a.members;
        for (const { at, kind } of edits) {
          const id = at < 300 ? (big[at] as string) : memberId(`new-${at}`);
          if (kind === "remove") members = members.delete(id);
          else if (kind === "rename") {
            const old = members.get(id);
            const roles = old?.roles ?? List<Role>();
            members = members.set(id, { id, roles, joinedAt: 11n, displayName: `renamed ${at}` });
          } else {
            const roles = List<Role>(kind === "role" ? ["moderate-content"] : []);
            members = members.set(id, { id, roles, joinedAt: 11n, displayName: "" });
          }
        }
        const b = { ...a, clock: 11n, members };
        const { built, applied } = roundTrip(a, b);
        expect(built.entries).toBeLessThanOrEqual(edits.length);
        expect(applied.ok && said(applied.described.state)).toEqual(said(b));
        expect(built.described.digest).toEqual(describedState(b).digest);
      }),
      { seed, numRuns: 200 },
    );
  });

  it("a receiver that read the base from its description converges too", () => {
    fc.assert(
      fc.property(shapeArb, shapeArb, (shapeA, shapeB) => {
        const a = stateOf(shapeA, 10n);
        const b = stateOf(shapeB, 11n);
        const built = buildDescriptionDelta(describedState(a), b);
        if (built === undefined) throw new Error("delta over its entry limit");
        // The receiver's base: what a full description of `a` reads back as.
        const received = describedState(stateFromDescription(describeOrganization(a), orgId));
        expect(received.digest).toEqual(describedState(a).digest);
        const decoded = decodeDescriptionDelta(encodeDescriptionDelta(built.delta));
        const applied = applyDescriptionDelta(received, decoded, orgId);
        expect(applied.ok && said(applied.described.state)).toEqual(said(b));
      }),
      { seed, numRuns: 200 },
    );
  });

  it("a delta that names another base is refused (base-mismatch); a tampered one does not converge (digest-mismatch)", () => {
    const a = stateOf({ ...emptyShape, members: { [pool[0] as string]: List() } }, 10n);
    const b = stateOf(
      { ...emptyShape, members: { [pool[0] as string]: List(), [pool[1] as string]: List() } },
      11n,
    );
    const { decoded, applied } = roundTrip(a, b);
    expect(applied.ok).toBe(true);
    const other = describedState(stateOf(emptyShape, 10n));
    expect(applyDescriptionDelta(other, decoded, orgId)).toEqual({
      ok: false,
      reason: "base-mismatch",
    });
    const tampered = { ...decoded, members: {}, removedMembers: [] };
    expect(applyDescriptionDelta(describedState(a), tampered, orgId)).toEqual({
      ok: false,
      reason: "digest-mismatch",
    });
  });

  it("an admission into 1,000 members is one entry, a few hundred bytes; only header changes carry the header", () => {
    const members = Object.fromEntries(
      Array.from({ length: 1_000 }, (_, i) => [memberId(`n-${i}`), List<Role>()]),
    );
    const a = stateOf({ ...emptyShape, members }, 10n);
    const b = {
      ...a,
      clock: 11n,
      members: a.members.set(pool[0] as string, {
        id: pool[0] as string,
        roles: List<Role>(),
        joinedAt: 11n,
        displayName: "",
      }),
    };
    const { built, applied } = roundTrip(a, b);
    expect(built.entries).toBe(1);
    expect(built.delta.header).toBeUndefined();
    expect(encodeDescriptionDelta(built.delta).length).toBeLessThan(200);
    expect(applied.ok).toBe(true);
    const renamed = { ...b, clock: 12n, identity: { ...b.identity, displayName: "Renamed" } };
    const header = roundTrip(b, renamed);
    expect(header.built.entries).toBe(0);
    expect(header.built.delta.header?.identity?.displayName).toBe("Renamed");
    expect(header.applied.ok && header.applied.described.state.identity.displayName).toBe(
      "Renamed",
    );
  });

  it("a change over the entry limit is no delta (the owner publishes a full description)", () => {
    const members = Object.fromEntries(
      Array.from({ length: 1_501 }, (_, i) => [memberId(`n-${i}`), List<Role>()]),
    );
    const a = stateOf(emptyShape, 10n);
    const b = stateOf({ ...emptyShape, members }, 11n);
    expect(buildDescriptionDelta(describedState(a), b)).toBeUndefined();
  });
});

const emptyShape: Shape = {
  name: "Acme",
  tags: [],
  encrypted: false,
  members: {},
  banned: [],
  channels: {},
};
