/**
 * A fast-check property over random sequences of owner and delegate commits (docs/DELEGATION.md):
 * adds and removals by the owner and by a delegate, and owner refreshes, each followed by every
 * member and by the owner. After every step every current member and the owner are in the same
 * epoch and read one another, and no removed member reads anything sent after its removal. The
 * leaf secrets stay in step across the mix: an owner KeyUpdate after delegate commits still
 * reaches every member.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { GroupId } from "../src/key-schedule.js";
import type { MemberGroup } from "../src/member-group.js";
import type { OwnerGroup } from "../src/owner-group.js";
import { nodeProvider } from "../src/providers/node.js";
import { applyChunks, createOwner, joinFromWelcome, signedJoiner } from "./fixtures.js";
import { hmacSeeded } from "./seeded-provider.js";

const provider = hmacSeeded(nodeProvider(), "orgchat delegation property rng");

type Step =
  | { readonly kind: "owner-add" }
  | { readonly kind: "delegate-add" }
  | { readonly kind: "owner-refresh" }
  | { readonly kind: "owner-remove" | "delegate-remove"; readonly pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom<Step>({ kind: "owner-add" }, { kind: "delegate-add" }, { kind: "owner-refresh" }),
  fc.record({
    kind: fc.constantFrom("owner-remove" as const, "delegate-remove" as const),
    pick: fc.nat({ max: 100 }),
  }),
);

function newcomer(group: GroupId) {
  return signedJoiner(provider, group);
}

function run(steps: readonly Step[]): void {
  const org = provider.ed25519KeyPair();
  const group: GroupId = { organizationId: org.publicKey, channelId: "" };
  const me = newcomer(group).person;
  const owner: OwnerGroup = createOwner(
    { ...me, leaf: { ...me.leaf, identityKey: org.publicKey } },
    { provider, group, now: 0 },
  );
  const ownerPrekeySecret = me.prekeySecret;
  const members = new Map<number, MemberGroup>();
  const removed: MemberGroup[] = [];
  let now = 1;
  const first = [newcomer(group), newcomer(group)];
  const start = owner.add(
    first.map(({ person }) => ({ leaf: person.leaf, leafSecret: person.leafSecret })),
    now,
  );
  for (const [index, { leaf, welcome }] of start.welcomes.entries()) {
    const person = (first[index] as (typeof first)[number]).person;
    members.set(leaf, joinFromWelcome({ provider, person, welcome, roster: start.roster, now }));
  }
  const delegate = members.get(1) as MemberGroup;
  const others = () => [...members.entries()].filter(([leaf]) => leaf !== 1);
  for (const s of steps) {
    now += 1;
    if (s.kind === "owner-add" || s.kind === "delegate-add") {
      const { person, keys } = newcomer(group);
      let joinedAt: number;
      let welcome: Parameters<typeof joinFromWelcome>[0]["welcome"];
      if (s.kind === "owner-add") {
        const add = owner.add([{ leaf: person.leaf, leafSecret: person.leafSecret }], now);
        for (const member of members.values()) {
          expect(member.applyAdd({ roster: add.roster, now, keyId: add.keyId }).status).toBe(
            "applied",
          );
        }
        joinedAt = add.welcomes[0]?.leaf as number;
        welcome = add.welcomes[0]?.welcome as typeof welcome;
      } else {
        const add = delegate.commitAdd([keys], now);
        const announced = { roster: add.roster, epoch: add.epoch, keyId: add.keyId };
        for (const [, member] of others()) {
          expect(member.applyAdd({ ...announced, now }).status).toBe("applied");
        }
        const followed = owner.followAdd({ ...announced, previousKeyId: add.previousKeyId }, now);
        expect(followed.status).toBe("applied");
        const joiner = add.joiners[0];
        if (joiner === undefined) throw new Error("no joiner");
        owner.recordLeafSecret({
          leaf: joiner.leaf,
          member: keys.identityKey,
          epoch: add.epoch,
          leafSecret: joiner.leafSecret,
        });
        joinedAt = joiner.leaf;
        welcome = joiner.welcome;
      }
      members.set(
        joinedAt,
        joinFromWelcome({ provider, person, welcome, roster: owner.roster, now }),
      );
    } else if (s.kind === "owner-refresh") {
      const update = owner.refresh(now);
      for (const member of members.values()) {
        expect(applyChunks(member, update.chunks, now, {})).toBe("applied");
      }
    } else {
      const candidates = others();
      if (candidates.length === 0) continue;
      const [leaf, gone] = candidates[s.pick % candidates.length] as [number, MemberGroup];
      members.delete(leaf);
      removed.push(gone);
      if (s.kind === "owner-remove") {
        const update = owner.remove([leaf], now);
        const options = { roster: update.roster };
        for (const member of members.values()) {
          expect(applyChunks(member, update.chunks, now, options)).toBe("applied");
        }
      } else {
        const update = delegate.commitRemove([leaf], now);
        const options = { roster: update.roster, salt: "delegate" } as const;
        for (const [, member] of others()) {
          expect(applyChunks(member, update.chunks, now, options)).toBe("applied");
        }
        let followed = "none";
        for (const chunk of update.chunks) {
          const init = { roster: update.roster, prekeySecret: ownerPrekeySecret };
          followed = owner.followKeyUpdate(chunk, init, now).status;
          if (followed !== "not-in-chunk") break;
        }
        expect(followed).toBe("applied");
      }
    }
    // Everyone in the same epoch, reading one another; the removed read nothing new.
    for (const member of members.values()) expect(member.keyId).toEqual(owner.keyId);
    const text = new TextEncoder().encode(`step ${now}`);
    const sent = owner.encrypt({ contentType: 1, content: text });
    for (const member of members.values()) {
      expect(member.decrypt(sent, now).content).toEqual(text);
    }
    const fromDelegate = delegate.encrypt({ contentType: 1, content: text });
    expect(owner.decrypt(fromDelegate, now).content).toEqual(text);
    for (const gone of removed) expect(() => gone.decrypt(sent, now)).toThrow();
  }
}

describe("owner and delegate commits in any order", () => {
  it("keep every member and the owner in one epoch, and the removed out", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        run(steps);
      }),
      { seed: 0xde1e, numRuns: 40 },
    );
  });
});
