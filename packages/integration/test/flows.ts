/**
 * Every flow of spec 55 through `@orgchat/client`, written once against a {@link World} and run on
 * each network by the `*.test.ts` files (memory, Waku relay on loopback). The client code is the
 * same on every network: only the world's transport factory differs.
 *
 * The scenarios follow `packages/client/test/flows.test.ts` (which runs them on memory with fake
 * timers); here time is real, so every step waits for the outcome it needs (`world.until`) instead
 * of settling a fake clock. Negative checks ("bob read nothing on the board") come after a later
 * positive one has arrived, and the ban check feeds the banned member's stored keys every
 * ciphertext from history, so they do not depend on timing.
 */
import { isChannelAccessError, isNotMemberError, isNotOwnerError } from "@orgchat/client";
import { storedGroups } from "@orgchat/client/inspect";
import { isUnknownEpochError, type MemberGroup } from "@orgchat/crypto";
import { channelTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWorld,
  discover,
  emitted,
  historyOf,
  names,
  orgWithMembers,
  type Peer,
  received,
  request,
  synced,
  viewOf,
  type World,
  type WorldKind,
} from "../src/world.js";

/** Every payload stored on a channel topic, from the network's history (oldest first). */
export async function channelHistory(
  peer: Peer,
  orgId: string,
  channelId: string,
): Promise<Uint8Array[]> {
  return await historyOf(peer.transport, channelTopic(Buffer.from(orgId, "hex"), channelId));
}

/**
 * Waits until history holds every message the peers published on the channel (the store node
 * ingests asynchronously), and returns what it holds.
 */
async function channelHistoryOf(
  world: World,
  peer: Peer,
  orgId: string,
  channelId: string,
): Promise<Uint8Array[]> {
  await world.stored(channelTopic(Buffer.from(orgId, "hex"), channelId));
  return await channelHistory(peer, orgId, channelId);
}

/** The member's own group state for a channel ("" = the organization), read back from its store. */
async function storedGroup(peer: Peer, orgId: string, channelId = ""): Promise<MemberGroup> {
  const group = (await storedGroups(peer.store, orgId, "member")).get(channelId);
  if (group === undefined) throw new Error(`no stored group "${channelId}"`);
  return group;
}

function pair(members: Peer[]): [Peer, Peer] {
  return [members[0] as Peer, members[1] as Peer];
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** Waits until `peer` received at least `count` messages from others, and returns their texts. */
async function receivedAtLeast(world: World, peer: Peer, count: number): Promise<string[]> {
  await world.until(
    () => received(peer).length >= count,
    `${peer.name} to receive ${count} message(s) (has ${JSON.stringify(received(peer))})`,
  );
  return received(peer);
}

/** Defines one `describe` block with every flow on a world of `kind`. */
export function describeFlows(kind: WorldKind, options: { readonly timeoutMs?: number } = {}) {
  let world: World | undefined;
  const open = async () => {
    world = await createWorld(kind);
    return world;
  };
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });
  // A safety net against a hang: a flow takes seconds; a busy machine only makes it slower.
  const timeout = options.timeoutMs ?? 180_000;

  describe(`spec 55 flows through @orgchat/client on ${kind}`, () => {
    it(
      "create: the owner's organization is found from its public key alone",
      async () => {
        const w = await open();
        const owner = await w.peer("owner");
        const orgId = await owner.client.createOrganization({
          name: "Acme",
          description: "widgets",
          tags: ["tools"],
        });
        await owner.client.createCategory(orgId, "main", "Main");
        await owner.client.createChannel(orgId, {
          id: "general",
          name: "General",
          categoryId: "main",
        });
        await owner.client.editIdentity(orgId, { description: "better widgets" });
        expect(owner.client.getOrganization(orgId).role).toBe("owner");
        const observer = await w.peer("observer");
        await discover(w, observer, orgId);
        await w.until(
          () => viewOf(observer, orgId)?.identity.description === "better widgets",
          "the observer to hold the newest description",
        );
        const view = observer.client.getOrganization(orgId);
        expect(view.role).toBe("observer");
        expect(view.tags).toEqual(["tools"]);
        expect(view.categories.get("main")).toBe("Main");
        expect(view.channels.map((c) => [c.id, c.categoryId])).toEqual([["general", "main"]]);
        expect(view.members.has(orgId)).toBe(true);
        expect(names(observer.events, ["org:discovered"])).toEqual(["org:discovered"]);
        if (w.serviceNode !== undefined) {
          // Over Waku the observer found it in the service node's store, not from a live publish.
          expect(observer.transport.capabilities.history).toBe(true);
          expect(w.serviceNode.stats().storedMessages).toBeGreaterThan(0);
        }
      },
      timeout,
    );

    it(
      "join by request, accepted: the member and the owner exchange encrypted messages",
      async () => {
        const w = await open();
        const owner = await w.peer("owner");
        const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
        await owner.client.createChannel(orgId, { id: "general", name: "General" });
        const alice = await w.peer("alice");
        const view = await discover(w, alice, orgId);
        expect(view.encrypted).toBe(true);
        const requestId = await request(w, owner, alice, orgId, "Alice");
        expect(owner.client.listRequests(orgId).map((r) => [r.id, r.status])).toEqual([
          [requestId, "pending"],
        ]);
        await owner.client.acceptRequest(orgId, requestId);
        await w.until(() => emitted(alice, "epoch:changed"), "alice's Welcome to open");
        expect(names(alice.events, ["request:accepted", "epoch:changed"])).toEqual([
          "request:accepted",
          "epoch:changed",
        ]);
        expect(alice.client.getOrganization(orgId).role).toBe("member");
        await alice.client.sendMessage(orgId, "general", "hello from alice");
        await owner.client.sendMessage(orgId, "general", "welcome alice");
        expect(await receivedAtLeast(w, owner, 1)).toEqual(["hello from alice"]);
        expect(await receivedAtLeast(w, alice, 1)).toEqual(["welcome alice"]);
        await w.until(
          () => alice.client.history(orgId, "general").length === 2,
          "alice's history to hold both messages",
        );
        expect(new Set(alice.client.history(orgId, "general").map((m) => m.text))).toEqual(
          new Set(["hello from alice", "welcome alice"]),
        );
      },
      timeout,
    );

    it(
      "join by request, rejected: the reason reaches the requester",
      async () => {
        const w = await open();
        const { owner, orgId } = await orgWithMembers(w, []);
        const mallory = await w.peer("mallory");
        await discover(w, mallory, orgId);
        const requestId = await request(w, owner, mallory, orgId, "Mallory");
        await owner.client.rejectRequest(orgId, requestId, "not today");
        await w.until(() => emitted(mallory, "request:rejected"), "mallory to hear the rejection");
        const rejected = mallory.events.find(([name]) => name === "request:rejected");
        expect(rejected?.[1]).toMatchObject({ requestId, reason: "not today" });
        const view = mallory.client.getOrganization(orgId);
        expect(view.role).toBe("observer");
        expect(view.request).toEqual({ id: requestId, status: "rejected", reason: "not today" });
        expect(owner.client.listRequests(orgId)[0]?.status).toBe("rejected");
        expect(owner.client.getOrganization(orgId).members.has(mallory.client.memberId)).toBe(
          false,
        );
      },
      timeout,
    );

    it(
      "cancel: a pending request is withdrawn and can no longer be accepted",
      async () => {
        const w = await open();
        const { owner, orgId } = await orgWithMembers(w, []);
        const alice = await w.peer("alice");
        await discover(w, alice, orgId);
        const requestId = await request(w, owner, alice, orgId);
        await alice.client.cancelRequest(orgId);
        await w.until(() => emitted(owner, "request:cancelled"), "the owner to see the cancel");
        expect(names(owner.events, ["request:received", "request:cancelled"])).toEqual([
          "request:received",
          "request:cancelled",
        ]);
        expect(owner.client.listRequests(orgId)[0]?.status).toBe("cancelled");
        await expect(owner.client.acceptRequest(orgId, requestId)).rejects.toMatchObject({
          name: "EventRejectedError",
          reason: "conflict",
        });
      },
      timeout,
    );

    it(
      "join by invitation: the invitee answers the owner-signed invitation and is in at once",
      async () => {
        const w = await open();
        const { owner, orgId } = await orgWithMembers(w, [], { access: "invitation-only" });
        const alice = await w.peer("alice");
        await owner.client.invite(orgId, alice.client.memberId);
        await w.until(() => emitted(alice, "invitation:received"), "alice's invitation");
        await alice.client.acceptInvitation(orgId, { displayName: "Alice" });
        await w.until(() => viewOf(alice, orgId)?.role === "member", "alice to be a member");
        await synced(w, owner, orgId, [alice]);
        expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(true);
        await owner.client.sendMessage(orgId, "general", "hello invitee");
        expect(await receivedAtLeast(w, alice, 1)).toEqual(["hello invitee"]);
      },
      timeout,
    );

    it(
      "leave: the member leaves, the owner re-keys without it",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice", "bob"]);
        const [alice, bob] = pair(members);
        await alice.client.leave(orgId);
        await w.until(() => emitted(owner, "member:left"), "the owner to see alice leave");
        await synced(w, owner, orgId, [bob]);
        expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
        expect(bob.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
        await owner.client.sendMessage(orgId, "general", "after alice left");
        expect(await receivedAtLeast(w, bob, 1)).toEqual(["after alice left"]);
        await w.idle();
        expect(received(alice)).toEqual([]);
        await expect(alice.client.sendMessage(orgId, "general", "x")).rejects.toSatisfy(
          isNotMemberError,
        );
      },
      timeout,
    );

    it(
      "remove: the removed member reads nothing sent after the re-key",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice", "bob"]);
        const [alice, bob] = pair(members);
        await owner.client.sendMessage(orgId, "general", "before");
        await receivedAtLeast(w, alice, 1);
        await receivedAtLeast(w, bob, 1);
        await owner.client.removeMember(orgId, alice.client.memberId);
        await synced(w, owner, orgId, [bob]);
        await owner.client.sendMessage(orgId, "general", "after");
        await bob.client.sendMessage(orgId, "general", "bob after");
        expect(await receivedAtLeast(w, bob, 2)).toEqual(["before", "after"]);
        expect(await receivedAtLeast(w, owner, 1)).toEqual(["bob after"]);
        await w.until(() => emitted(alice, "member:removed"), "alice to learn of her removal");
        await w.idle();
        expect(received(alice)).toEqual(["before"]);
        expect(alice.client.getOrganization(orgId).role).toBe("observer");
      },
      timeout,
    );

    it(
      "ban with re-key: the banned member's keys open nothing sent after it",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice", "bob"]);
        const [alice, bob] = pair(members);
        await alice.client.sendMessage(orgId, "general", "spam");
        await receivedAtLeast(w, bob, 1);
        const before = new Set((await channelHistoryOf(w, owner, orgId, "general")).map(hex));
        await owner.client.banMember(orgId, alice.client.memberId, { deleteMessages: true });
        await synced(w, owner, orgId, [bob]);
        await owner.client.sendMessage(orgId, "general", "secret 1");
        await bob.client.sendMessage(orgId, "general", "secret 2");
        expect(await receivedAtLeast(w, bob, 2)).toEqual(["spam", "secret 1"]);
        await receivedAtLeast(w, owner, 2);
        expect(bob.client.getOrganization(orgId).banned).toEqual([alice.client.memberId]);
        expect(owner.client.history(orgId, "general")[0]).toMatchObject({
          text: "",
          deleted: true,
        });
        // Feed the banned member's stored keys every ciphertext sent after the ban, from the store.
        const later = (await channelHistoryOf(w, owner, orgId, "general")).filter(
          (b) => !before.has(hex(b)),
        );
        expect(later).toHaveLength(2);
        await w.idle();
        const keys = await storedGroup(alice, orgId);
        for (const bytes of later) {
          let error: unknown;
          try {
            keys.decrypt(bytes, Date.now());
          } catch (caught) {
            error = caught;
          }
          expect(isUnknownEpochError(error)).toBe(true);
        }
        expect(received(alice)).toEqual([]);
      },
      timeout,
    );

    it(
      "unban: a banned key may request again and be accepted",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice"]);
        const [alice] = members as [Peer];
        await owner.client.banMember(orgId, alice.client.memberId);
        await w.until(() => emitted(alice, "member:banned"), "alice to learn of the ban");
        await owner.client.unbanMember(orgId, alice.client.memberId);
        await w.until(() => emitted(alice, "member:unbanned"), "alice to learn of the unban");
        expect(names(alice.events, ["member:banned", "member:unbanned"])).toEqual([
          "member:banned",
          "member:unbanned",
        ]);
        const requestId = await request(w, owner, alice, orgId, "Alice again");
        await owner.client.acceptRequest(orgId, requestId);
        await w.until(() => viewOf(alice, orgId)?.role === "member", "alice to be back");
        await synced(w, owner, orgId, [alice]);
        await owner.client.sendMessage(orgId, "general", "welcome back");
        expect(await receivedAtLeast(w, alice, 1)).toEqual(["welcome back"]);
      },
      timeout,
    );

    it(
      "channels with restricted access: only the roster and grant holders read them",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice", "bob"]);
        const [alice, bob] = pair(members);
        const boardEpochs = (peer: Peer) =>
          peer.events.filter(([n, e]) => n === "epoch:changed" && e.channelId === "board").length;
        await owner.client.createChannel(orgId, {
          id: "board",
          name: "Board",
          access: "on-request",
          private: true,
        });
        await owner.client.setChannelMembers(orgId, "board", { [alice.client.memberId]: [] });
        await w.until(
          () =>
            boardEpochs(alice) === 1 &&
            viewOf(alice, orgId)?.channels.find((c) => c.id === "board")?.canPost === true,
          "alice to enter the board's group and see the board",
        );
        expect(
          alice.client.getOrganization(orgId).channels.find((c) => c.id === "board"),
        ).toMatchObject({ restricted: true, canPost: true });
        await owner.client.sendMessage(orgId, "board", "board only");
        await alice.client.sendMessage(orgId, "board", "alice on board");
        expect(await receivedAtLeast(w, alice, 1)).toEqual(["board only"]);
        expect(await receivedAtLeast(w, owner, 1)).toEqual(["alice on board"]);
        await w.until(
          () => viewOf(bob, orgId)?.channels.some((c) => c.id === "board") === true,
          "bob to see the board",
        );
        await expect(bob.client.sendMessage(orgId, "board", "let me in")).rejects.toSatisfy(
          isChannelAccessError,
        );
        await owner.client.issueGrant(orgId, bob.client.memberId, "board");
        await w.until(() => boardEpochs(bob) === 1, "bob to enter the board's group");
        await w.until(() => boardEpochs(alice) === 2, "alice to follow bob's add");
        await owner.client.sendMessage(orgId, "board", "bob granted");
        expect(await receivedAtLeast(w, bob, 1)).toEqual(["bob granted"]);
        await owner.client.revokeGrant(orgId, bob.client.memberId, "board");
        await w.until(() => boardEpochs(alice) === 3, "alice to follow the board's re-key");
        await owner.client.sendMessage(orgId, "board", "bob revoked");
        expect(await receivedAtLeast(w, alice, 3)).toEqual([
          "board only",
          "bob granted",
          "bob revoked",
        ]);
        await w.idle();
        expect(received(bob)).toEqual(["bob granted"]);
      },
      timeout,
    );

    it(
      "roles: an admin holds requests (a plain member does not); an admin moderates content",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice", "bob"]);
        const [alice, bob] = pair(members);
        await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
        await w.until(
          () => viewOf(bob, orgId)?.members.get(alice.client.memberId)?.includes("all") === true,
          "bob to see alice's role",
        );
        await w.until(
          () => viewOf(alice, orgId)?.members.get(alice.client.memberId)?.includes("all") === true,
          "alice to see her role",
        );
        const carol = await w.peer("carol");
        await discover(w, carol, orgId);
        const requestId = await request(w, owner, carol, orgId);
        // Delegated management (issue #17): the request reaches the admin too; a plain member
        // holds no desk and still gets NotOwnerError.
        await w.until(
          () => alice.client.listRequests(orgId).some((r) => r.id === requestId),
          "alice to hold carol's request",
        );
        await expect(bob.client.acceptRequest(orgId, requestId)).rejects.toSatisfy(isNotOwnerError);
        const message = await bob.client.sendMessage(orgId, "general", "off topic");
        await receivedAtLeast(w, alice, 1);
        await alice.client.deleteMessage(orgId, message.id);
        await w.until(() => emitted(bob, "message:deleted"), "bob to see the deletion");
        await w.until(
          () => owner.client.history(orgId, "general")[0]?.deleted === true,
          "the owner to see the deletion",
        );
        expect(names(bob.events, ["message:deleted"])).toEqual(["message:deleted"]);
      },
      timeout,
    );

    it(
      "public organization: messages are signed in clear and readable by non-members",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice"], {
          encrypted: false,
          access: "no-membership",
        });
        const [alice] = members as [Peer];
        expect(alice.client.getOrganization(orgId).role).toBe("member");
        const reader = await w.peer("reader");
        await discover(w, reader, orgId);
        await alice.client.sendMessage(orgId, "general", "hello world");
        expect(await receivedAtLeast(w, owner, 1)).toEqual(["hello world"]);
        expect(await receivedAtLeast(w, reader, 1)).toEqual(["hello world"]);
        const wire = await channelHistoryOf(w, owner, orgId, "general");
        expect(Buffer.from(wire[0] as Uint8Array).includes("hello world")).toBe(true);
      },
      timeout,
    );

    it(
      "encrypted organization: nothing readable on the wire, non-members read nothing",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice"]);
        const [alice] = members as [Peer];
        const reader = await w.peer("reader");
        await discover(w, reader, orgId);
        await alice.client.sendMessage(orgId, "general", "top secret");
        expect(await receivedAtLeast(w, owner, 1)).toEqual(["top secret"]);
        const wire = await channelHistoryOf(w, owner, orgId, "general");
        expect(wire).toHaveLength(1);
        expect(Buffer.from(wire[0] as Uint8Array).includes("top secret")).toBe(false);
        await w.idle();
        expect(received(reader)).toEqual([]);
      },
      timeout,
    );

    it(
      "switch public → encrypted: every member is welcomed into the first epoch",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice", "bob"], {
          encrypted: false,
        });
        const [alice, bob] = pair(members);
        await alice.client.sendMessage(orgId, "general", "in clear");
        await receivedAtLeast(w, bob, 1);
        await owner.client.setEncrypted(orgId, true);
        await w.until(
          () =>
            emitted(alice, "epoch:changed") &&
            emitted(bob, "epoch:changed") &&
            viewOf(alice, orgId)?.encrypted === true &&
            viewOf(bob, orgId)?.encrypted === true,
          "alice and bob to enter the first epoch",
        );
        expect(bob.client.getOrganization(orgId).encrypted).toBe(true);
        await alice.client.sendMessage(orgId, "general", "now encrypted");
        expect(await receivedAtLeast(w, bob, 2)).toEqual(["in clear", "now encrypted"]);
        expect(await receivedAtLeast(w, owner, 2)).toEqual(["in clear", "now encrypted"]);
        const wire = await channelHistoryOf(w, owner, orgId, "general");
        expect(wire).toHaveLength(2);
        expect(wire.some((b) => Buffer.from(b).includes("in clear"))).toBe(true);
        expect(wire.some((b) => Buffer.from(b).includes("now encrypted"))).toBe(false);
      },
      timeout,
    );

    it(
      "edit and pin: authors edit their messages, members see pins",
      async () => {
        const w = await open();
        const { owner, members, orgId } = await orgWithMembers(w, ["alice"]);
        const [alice] = members as [Peer];
        const sent = await alice.client.sendMessage(orgId, "general", "typo");
        await receivedAtLeast(w, owner, 1);
        await alice.client.editMessage(orgId, sent.id, "fixed");
        await owner.client.pinMessage(orgId, sent.id);
        await w.until(
          () => emitted(owner, "message:edited") && emitted(alice, "message:pinned"),
          "the edit and the pin to arrive",
        );
        expect(owner.client.history(orgId, "general")[0]).toMatchObject({
          text: "fixed",
          edited: true,
          pinned: true,
        });
      },
      timeout,
    );
  });
}
