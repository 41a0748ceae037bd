/**
 * Fixtures of the delegated-management tests (`delegation.test.ts`, `forks.test.ts`): an
 * organization with an admin and members, and one seeded provider per test file.
 */
import { toHex } from "@orgchat/base";
import { expect } from "vitest";
import type { GroupId, Roster } from "../src/key-schedule.js";
import type { MemberGroup } from "../src/member-group.js";
import type { OwnerGroup } from "../src/owner-group.js";
import { nodeProvider } from "../src/providers/node.js";
import {
  applyChunks,
  createOwner,
  joiner,
  joinFromWelcome,
  type Person,
  signedJoiner,
} from "./fixtures.js";
import { hmacSeeded } from "./seeded-provider.js";

export const provider = hmacSeeded(nodeProvider(), "orgchat delegation test rng");
const utf8 = new TextDecoder();

/** A person whose keys are signed for `group` (what a requester sends in `MemberKeys`). */
export function signedPerson(group: GroupId, identity = provider.ed25519KeyPair()) {
  return signedJoiner(provider, group, identity);
}

/**
 * An organization: the owner (its leaf's identity is the organization key), an admin `alice`
 * (leaf 1), `bob` (leaf 2), `dan` (leaf 3) and `erin` (leaf 4); dan was removed, so leaf 3 is
 * empty.
 */
export function organization() {
  const organization = provider.ed25519KeyPair();
  const group: GroupId = { organizationId: organization.publicKey, channelId: "" };
  const me = signedPerson(group, organization).person;
  const owner = createOwner(me, { provider, group, now: 0 });
  const rosters = new Map<string, Roster>();
  const keep = (keyId: Uint8Array, roster: Roster) => rosters.set(toHex(keyId), roster);
  keep(owner.keyId, owner.roster);
  const [alice, bob, dan, erin] = [1, 2, 3, 4].map(() => signedPerson(group)) as [
    ReturnType<typeof signedPerson>,
    ReturnType<typeof signedPerson>,
    ReturnType<typeof signedPerson>,
    ReturnType<typeof signedPerson>,
  ];
  const add = owner.add(
    [alice, bob, dan, erin].map((p) => joiner(p.person)),
    1,
  );
  keep(add.keyId, add.roster);
  const join = (p: Person, leaf: number) =>
    joinFromWelcome({
      provider,
      person: p,
      welcome: add.welcomes.find((w) => w.leaf === leaf)?.welcome as never,
      roster: add.roster,
      now: 1,
    });
  const members = {
    alice: join(alice.person, 1),
    bob: join(bob.person, 2),
    erin: join(erin.person, 4),
  };
  const removal = owner.remove([3], 2);
  keep(removal.keyId, removal.roster);
  for (const member of Object.values(members)) {
    const outcome = applyChunks(member, removal.chunks, 2, { roster: removal.roster });
    expect(outcome).toBe("applied");
  }
  return { organization, group, me, owner, members, rosters, keep, bob };
}

export function say(sender: MemberGroup | OwnerGroup, text: string): Uint8Array {
  return sender.encrypt({ contentType: 1, content: new TextEncoder().encode(text) });
}

export function read(receiver: MemberGroup | OwnerGroup, bytes: Uint8Array, now: number): string {
  return utf8.decode(receiver.decrypt(bytes, now).content);
}
