/**
 * What the delegate's panel offers, against what the client (the state's rule) lets it do, over the
 * memory transport with real clients: an owner, two admins, two managers, a moderator and a member. The
 * page's rule (`ranks.ts`) must offer remove and ban exactly where the client accepts them, and say
 * a refusal in words that name who can; it offers "delete" on another's message exactly where the
 * state applies the deletion. Then a request sent with the owner offline reaches the
 * admin's list (`requests-list.tsx`) and its accept gives the newcomer the keys. Waits are for
 * client events and session changes; no timer decides.
 */
import type { OrganizationView } from "@orgchat/client";
import { memoryStore } from "@orgchat/store";
import { type MemoryNetwork, memoryNetwork } from "@orgchat/transport";
import { afterEach, expect, it } from "vitest";
import { actionRefusal, isDelegate, mayDeleteOf, rankIn, refusedActionText } from "../src/ranks.ts";
import { pendingRequests } from "../src/requests-list.tsx";
import type { ChatSession } from "../src/session.ts";
import { next, onNetwork } from "./memory-sessions.ts";

const sessions: ChatSession[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

/** Resolves once `holds` is true of the session's view of `org` (checked after every change). */
function until(
  session: ChatSession,
  org: string,
  holds: (view: OrganizationView) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const look = () => {
      if (!holds(session.client.getOrganization(org))) return false;
      off();
      resolve();
      return true;
    };
    const off = session.subscribe(look);
    look();
  });
}

/** A session on the memory network with its own store, closed after the test. */
async function tracked(network: MemoryNetwork): Promise<ChatSession> {
  const session = await onNetwork(network, memoryStore());
  sessions.push(session);
  return session;
}

/** `member` asks to join `org` as `name`; `decider` (owner or delegate) accepts; keys arrive. */
async function admit(decider: ChatSession, member: ChatSession, org: string, name: string) {
  await member.client.discover(org);
  const requested = next(decider, "request:received");
  await member.client.requestToJoin(org, { displayName: name });
  const keys = next(member, "epoch:changed", (e) => e.channelId === "");
  await decider.client.acceptRequest(org, (await requested).requestId);
  await keys;
}

/**
 * Acme: the owner, two admins (Alice, Ada), two managers (Mona, Max), a moderator (Dave) and a
 * member (Carl): every pair of ranks, equal ones included.
 */
async function acme() {
  const network = memoryNetwork();
  const owner = await tracked(network);
  const org = await owner.client.createOrganization({ name: "Acme" });
  await owner.client.createChannel(org, { id: "general", name: "general" });
  const people = {
    alice: await tracked(network),
    ada: await tracked(network),
    mona: await tracked(network),
    max: await tracked(network),
    dave: await tracked(network),
    carl: await tracked(network),
  };
  for (const [name, session] of Object.entries(people)) await admit(owner, session, org, name);
  const roles = {
    alice: ["all"],
    ada: ["all"],
    mona: ["manage-users"],
    max: ["manage-users"],
    dave: ["moderate-content"],
  } as const;
  for (const [name, given] of Object.entries(roles)) {
    await owner.client.setRoles(org, people[name as keyof typeof roles].client.memberId, given);
  }
  // Every member sees every role before the test looks.
  for (const session of Object.values(people)) {
    await until(session, org, (view) =>
      Object.entries(roles).every(
        ([name, given]) =>
          view.members.get(people[name as keyof typeof roles].client.memberId)?.[0] === given[0],
      ),
    );
  }
  return { network, owner, org, ...people };
}

it("the page offers remove and ban exactly where the client accepts them, and says a refusal in words", async () => {
  const { owner, org, alice, ada, mona, max, dave, carl } = await acme();
  const people = { alice, ada, mona, max, dave, carl };
  const nameOf = new Map(Object.entries(people).map(([name, s]) => [s.client.memberId, name]));
  nameOf.set(org, "owner");
  const offered: string[] = [];
  for (const [name, session] of Object.entries(people)) {
    const self = session.client.memberId;
    const view = session.client.getOrganization(org);
    expect(isDelegate(view, self)).toBe(["alice", "ada", "mona", "max"].includes(name));
    for (const target of view.members.keys()) {
      const refusal = actionRefusal(view, self, target);
      if (refusal === undefined) {
        offered.push(`${name}→${nameOf.get(target)}`);
        continue;
      }
      // No button: and the client refuses it too, for the reason the page gives.
      const error = await session.client.removeMember(org, target).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${name} removing ${nameOf.get(target)}`).toBeInstanceOf(Error);
      expect((error as Error).name).toMatch(/^(EventRejectedError|NotOwnerError)$/);
      const text = refusedActionText(error, view, self, { what: "removing them", target });
      expect(text).toMatch(
        target === org
          ? /nobody removes or bans the owner/
          : target === self
            ? /you: to go, leave/
            : /only the owner/,
      );
      if (name === "mona" && nameOf.get(target) === "alice") {
        expect(text).toBe(
          "removing them was refused: an admin, like or above you (a manager): only the owner can remove or ban an admin",
        );
      }
      if (name === "mona" && nameOf.get(target) === "max") {
        expect(text).toBe(
          "removing them was refused: a manager, like or above you (a manager): only the owner or an admin can remove or ban them",
        );
      }
    }
  }
  // The state's rule: an admin acts on managers, moderators and members; a manager on moderators
  // and members; nobody else on anyone; nobody on the owner or itself.
  const below = { alice: ["mona", "max", "dave", "carl"], ada: ["mona", "max", "dave", "carl"] };
  const expected = [
    ...Object.entries(below).flatMap(([name, targets]) => targets.map((t) => `${name}→${t}`)),
    ...["mona", "max"].flatMap((name) => ["dave", "carl"].map((t) => `${name}→${t}`)),
  ];
  expect(offered.sort()).toEqual(expected.sort());
  // The owner's page acts on everyone but itself.
  const ownerView = owner.client.getOrganization(org);
  expect(
    [...ownerView.members.keys()].filter(
      (id) => actionRefusal(ownerView, owner.client.memberId, id) !== undefined,
    ),
  ).toEqual([org]);

  // One offered action, done: the manager bans the member; the admin's page sees it.
  await mona.client.banMember(org, carl.client.memberId);
  await until(alice, org, (view) => view.banned.includes(carl.client.memberId));
  const after = alice.client.getOrganization(org);
  expect(rankIn(after, carl.client.memberId)).toBe("none");
  expect(actionRefusal(after, alice.client.memberId, carl.client.memberId)).toBeUndefined();
});

it("the page offers delete on another's message exactly where the state lets it apply", async () => {
  const { owner, org, alice, ada, mona, max, dave, carl } = await acme();
  const everyone = Object.entries({ owner, alice, ada, mona, max, dave, carl });
  // Each author posts one message for each other member to try: a deletion that applies changes
  // nothing for the next one. Every session holds all 42 before the test looks.
  for (const [author, session] of everyone) {
    for (const [actor] of everyone) {
      if (actor !== author) await session.send(org, "general", `${author} for ${actor}`);
    }
  }
  const total = everyone.length * (everyone.length - 1);
  for (const [, session] of everyone) {
    await until(session, org, () => session.client.history(org, "general").length === total);
  }
  const offered: string[] = [];
  const applied: string[] = [];
  for (const [actor, session] of everyone) {
    const view = session.client.getOrganization(org);
    const mine = session.client
      .history(org, "general")
      .filter((m) => m.text.endsWith(` for ${actor}`));
    for (const message of mine) {
      const author = message.text.split(" ")[0] ?? "";
      if (mayDeleteOf(view, session.client.memberId, message.author)) {
        offered.push(`${actor}→${author}`);
      }
      // The client publishes a delete whatever the rule; the state applies it or refuses it.
      await session.client.deleteMessage(org, message.id);
      const after = session.client.history(org, "general").find((m) => m.id === message.id);
      if (after?.deleted === true) applied.push(`${actor}→${author}`);
    }
  }
  // The page offers "delete" exactly where the state applies it: the owner on anyone's; an admin
  // (it moderates) on a lower rank's; a moderator on a member's; a manager (it does not) on none.
  expect(offered.sort()).toEqual(applied.sort());
  const below = ["mona", "max", "dave", "carl"];
  expect(applied.sort()).toEqual(
    [
      ...["alice", "ada", "mona", "max", "dave", "carl"].map((t) => `owner→${t}`),
      ...below.map((t) => `alice→${t}`),
      ...below.map((t) => `ada→${t}`),
      "dave→carl",
    ].sort(),
  );
});

it("with the owner offline, a request reaches the admin's list as it arrives; the admin's accept gives the keys", async () => {
  const { network, owner, org, alice, carl } = await acme();
  await owner.close();
  sessions.splice(sessions.indexOf(owner), 1);
  // A plain member holds no requests: the page shows no panel (and the list is undefined).
  expect(pendingRequests(carl.client, carl.client.getOrganization(org))).toBeUndefined();
  expect(pendingRequests(alice.client, alice.client.getOrganization(org))).toEqual([]);

  const bob = await tracked(network);
  await bob.client.discover(org);
  const listed = until(
    alice,
    org,
    () => (pendingRequests(alice.client, alice.client.getOrganization(org)) ?? []).length > 0,
  );
  await bob.client.requestToJoin(org, { displayName: "Bob <b>" });
  await listed;
  const [request] = pendingRequests(alice.client, alice.client.getOrganization(org)) ?? [];
  expect(request?.displayName).toBe("Bob <b>");
  expect(request?.requester).toBe(bob.client.memberId);

  const keys = next(bob, "epoch:changed", (e) => e.channelId === "");
  await alice.client.acceptRequest(org, request?.id ?? "");
  await keys;
  expect(pendingRequests(alice.client, alice.client.getOrganization(org))).toEqual([]);
  const heard = next(bob, "message:received", (e) => e.message.text === "welcome, Bob");
  await alice.send(org, "general", "welcome, Bob");
  await heard;

  // A second decision on it is refused, in words.
  const again = await alice.client.rejectRequest(org, request?.id ?? "", "no").then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(
    refusedActionText(again, alice.client.getOrganization(org), alice.client.memberId, {
      what: "rejecting Bob",
    }),
  ).toBe("rejecting Bob: already decided (by the owner or another admin or manager)");
});
