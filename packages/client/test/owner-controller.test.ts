import type { Roster, RosterLeaf } from "@orgchat/crypto";
import { type OrgEvent, OrgLog, type OrgState } from "@orgchat/state";
import { emptyIdentity } from "@orgchat/state/wire";
import { describe, expect, it } from "vitest";
import { fromHex } from "../src/encoding.js";
import {
  InvitationIndex,
  memberChange,
  membershipChange,
  predatesDeparture,
  redeemedInvitation,
  rekeyTiming,
  removedLeaves,
  resyncAnswerAllowed,
  rosterMembers,
  snapshotAllowed,
  wantedGroups,
} from "../src/owner-controller.js";

const key = (byte: number) => byte.toString(16).padStart(2, "0").repeat(32);
const owner = key(1);
const alice = key(2);
const bob = key(3);
const carol = key(4);

const leaf = (member: string): RosterLeaf => ({
  identityKey: fromHex(member),
  signingKey: new Uint8Array(32),
  prekey: new Uint8Array(32),
});

/** An organization folded from events the owner authored, in order. */
class Org {
  readonly log = new OrgLog({ organizationId: owner });
  #clock = 0n;
  add(type: OrgEvent["type"], body: unknown, author = owner, id = `e${this.#clock + 1n}`): string {
    this.#clock++;
    const event = { id, type, author, clock: this.#clock, sentAt: 1_000, body } as OrgEvent;
    const result = this.log.add(event);
    expect(
      result.rejected,
      JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)),
    ).toBeUndefined();
    return id;
  }
  get state(): OrgState {
    return this.log.state;
  }
}

function acme(members: readonly string[]): Org {
  const org = new Org();
  org.add("org.created", {
    identity: { ...emptyIdentity, displayName: "Acme" },
    permissions: { access: "on-request", ensOnly: false, private: false },
    pinMessageAllMembersEnabled: false,
    tags: [],
    encrypted: true,
  });
  org.add("channel.created", {
    channelId: "general",
    identity: { ...emptyIdentity, displayName: "General" },
    permissions: { access: "no-membership", ensOnly: false, private: false },
    categoryId: "",
  });
  org.add("channel.created", {
    channelId: "board",
    identity: { ...emptyIdentity, displayName: "Board" },
    permissions: { access: "no-membership", ensOnly: false, private: true },
    categoryId: "",
  });
  for (const member of members) {
    const requestId = org.add("request.sent", { chatId: "", ensName: "", displayName: "" }, member);
    org.add("request.accepted", { requestId });
  }
  return org;
}

describe("owner controller (pure: state in, decisions out)", () => {
  it("an encrypted organization runs its own group and one per restricted channel", () => {
    expect([...wantedGroups(acme([]).state)].sort()).toEqual(["", "board"]);
  });

  it("joiners are the listed members whose keys and session are here, sorted; leavers are gone from the state", () => {
    const org = acme([carol, alice, bob]);
    const roster: Roster = [leaf(owner), leaf(bob), undefined, leaf(key(9))];
    const change = membershipChange({
      state: org.state,
      owner,
      channelId: "",
      roster,
      ready: (m) => m !== bob && m !== carol,
    });
    // bob is on the roster already; carol is not ready (no keys or session yet).
    expect(change.joiners).toEqual([alice]);
    expect(change.leavers).toEqual([key(9)]);
  });

  it("a restricted channel's group wants only the members on its roster", () => {
    const org = acme([alice, bob]);
    org.add("channel.members.changed", { channelId: "board", members: { [alice]: [] } });
    const change = membershipChange({
      state: org.state,
      owner,
      channelId: "board",
      roster: [leaf(owner), leaf(bob)],
      ready: () => true,
    });
    expect(change).toEqual({ joiners: [alice], leavers: [bob] });
  });

  it("the change of named members agrees with the whole diff, and looks at no one else", () => {
    const org = acme([alice, bob]);
    org.add("channel.members.changed", { channelId: "board", members: { [alice]: [] } });
    const roster: Roster = [leaf(owner), leaf(bob), leaf(key(9))];
    const onRoster = rosterMembers(roster);
    for (const channelId of ["", "board"]) {
      const whole = membershipChange({
        state: org.state,
        owner,
        channelId,
        roster,
        ready: () => true,
      });
      const asked: string[] = [];
      const named = memberChange({
        state: org.state,
        owner,
        channelId,
        members: [owner, alice, bob, key(9), alice],
        onRoster: (m) => {
          asked.push(m);
          return onRoster.has(m);
        },
        ready: () => true,
      });
      expect(named).toEqual(whole);
      // Each named member once (duplicates and the owner skipped): no scan of the roster.
      expect(asked).toEqual([alice, bob, key(9)]);
    }
    // Not ready: not a joiner; not named: not looked at.
    expect(
      memberChange({
        state: org.state,
        owner,
        channelId: "",
        members: [alice],
        onRoster: (m) => onRoster.has(m),
        ready: () => false,
      }),
    ).toEqual({ joiners: [], leavers: [] });
  });

  it("a batched re-key removes the leaves still on the roster, never the owner's", () => {
    const roster: Roster = [leaf(owner), leaf(alice), undefined, leaf(bob)];
    expect(removedLeaves(roster, [bob, carol, owner, alice], 0)).toEqual([3, 1]);
    expect(rosterMembers(roster)).toEqual(
      new Map([
        [owner, 0],
        [alice, 1],
        [bob, 3],
      ]),
    );
  });

  it("removals re-key at once without a window, else open one window and keep it", () => {
    expect(rekeyTiming({ windowMs: 0, dueAt: undefined, now: 10 })).toEqual({ action: "now" });
    expect(rekeyTiming({ windowMs: 2_000, dueAt: undefined, now: 10 })).toEqual({
      action: "arm",
      dueAt: 2_010,
    });
    expect(rekeyTiming({ windowMs: 2_000, dueAt: 500, now: 10 })).toEqual({ action: "keep" });
  });

  it("one resync answer per member per interval", () => {
    expect(resyncAnswerAllowed(undefined, 0, 60_000)).toBe(true);
    expect(resyncAnswerAllowed(1_000, 60_999, 60_000)).toBe(false);
    expect(resyncAnswerAllowed(1_000, 61_000, 60_000)).toBe(true);
  });

  it("resync answers share a recent snapshot of the same epoch; other snapshots always go", () => {
    const last = { keyId: "aa", at: 1_000 };
    const base = { last, keyIdHex: "aa", now: 2_000, intervalMs: 60_000 };
    expect(snapshotAllowed({ ...base, reason: "resync" })).toBe(false);
    expect(snapshotAllowed({ ...base, reason: "resync", keyIdHex: "bb" })).toBe(true);
    expect(snapshotAllowed({ ...base, reason: "resync", now: 61_000 })).toBe(true);
    expect(snapshotAllowed({ ...base, reason: "epoch" })).toBe(true);
    expect(snapshotAllowed({ ...base, reason: "periodic" })).toBe(true);
  });

  it("a request redeems an unused, unexpired invitation for its chat, not another's", () => {
    const org = acme([]);
    const invitationId = org.add("invitation.issued", { invitee: alice, chatId: "" });
    const find = (requester: string, now: number, chatId = "") =>
      redeemedInvitation({ state: org.state, requester, chatId, now, invitationExpiryMs: 10_000 });
    expect(find(alice, 5_000)?.id).toBe(invitationId);
    expect(find(alice, 11_000)).toBeUndefined();
    expect(find(alice, 5_000, "chat")).toBeUndefined();
    expect(find(bob, 5_000)).toBeUndefined();
  });

  it("the invitation index finds what the walk finds, kept current by note and rebuilt on unseen growth", () => {
    const org = acme([]);
    const index = new InvitationIndex();
    const query = (requester: string, chatId = "", now = 5_000) => ({
      state: org.state,
      requester,
      chatId,
      now,
      invitationExpiryMs: 10_000,
    });
    const first = org.add("invitation.issued", { invitee: alice, chatId: "" });
    expect(index.find(query(alice))?.id).toBe(first);
    // Issued by the owner and noted: found without a rebuild.
    const forBob = org.add("invitation.issued", { invitee: bob, chatId: "" });
    index.note(org.state, { id: forBob, invitee: bob });
    expect(index.find(query(bob))?.id).toBe(forBob);
    // Grown without a note (e.g. loaded): the count differs, the index is rebuilt.
    const forCarol = org.add("invitation.issued", { invitee: carol, chatId: "" });
    expect(index.find(query(carol))?.id).toBe(forCarol);
    // A note that does not follow the index's count invalidates it rather than guess.
    const second = org.add("invitation.issued", { invitee: alice, chatId: "general" });
    org.add("invitation.issued", { invitee: bob, chatId: "general" });
    index.note(org.state, { id: second, invitee: alice });
    for (const requester of [alice, bob, carol, key(9)]) {
      for (const chatId of ["", "general"]) {
        for (const now of [5_000, 11_000]) {
          expect(index.find(query(requester, chatId, now))).toEqual(
            redeemedInvitation(query(requester, chatId, now)),
          );
        }
      }
    }
  });

  it("a conflicting request predates a departure only when its requester is gone with no pending request", () => {
    const org = acme([alice]);
    expect(predatesDeparture(org.state, alice)).toBe(false);
    org.add("member.removed", { member: alice });
    expect(predatesDeparture(org.state, alice)).toBe(true);
    org.add("request.sent", { chatId: "", ensName: "", displayName: "" }, alice);
    expect(predatesDeparture(org.state, alice)).toBe(false);
    org.add("request.sent", { chatId: "", ensName: "", displayName: "" }, bob);
    org.add("member.banned", { member: bob, deleteMessages: false });
    expect(predatesDeparture(org.state, bob)).toBe(false);
  });
});
