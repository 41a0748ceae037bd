/**
 * Issue #13 rows 2 and 9: a banned, removed or departed member that kept a copy of its group state
 * posts in an epoch its former peers still retain for late messages — in any channel, backdated or
 * not, a day or more later. Nobody shows it (no `message:received`, not in history) nor stores it.
 * Honest members' in-flight posts across a re-key still arrive (convergence.test.ts "5", "6b").
 * And a post's claimed `sentAt` is shown only when it agrees with the time it arrived.
 */

import type { Diagnostic } from "@orgchat/base";
import { fromHex } from "@orgchat/base";
import { defaultProvider, ed25519EnvelopeSigner, type MemberGroup } from "@orgchat/crypto";
import type { Store } from "@orgchat/store";
import { channelTopic, encodeChannelMessage, MessageType, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { decodeJson } from "../src/encoding.js";
import type { MessageView } from "../src/index.js";
import { storedGroups } from "../src/inspect.js";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

const hour = 60 * 60_000;

/** What a member that turns hostile keeps: its group state for one scope and its identity key. */
interface KeptKeys {
  readonly group: MemberGroup;
  readonly identityKey: Uint8Array;
}

/** Copies a member's group state (unsealed store: no passphrase) as it is now. */
async function keepKeys(peer: Peer, orgId: string, groupId = ""): Promise<KeptKeys> {
  const group = (await storedGroups(peer.store, orgId, "member")).get(groupId);
  if (group === undefined) throw new Error(`${peer.name}: no group ${groupId} stored`);
  return {
    group,
    identityKey: fromHex(peer.client.memberId),
  };
}

/** A group message carrying a post, encrypted with kept keys (any clock and sentAt). */
function craftPost(
  keys: KeptKeys,
  orgId: string,
  channelId: string,
  text: string,
  claims: { clock: bigint; sentAt: number },
): Uint8Array {
  return keys.group.encrypt({
    contentType: MessageType.CHANNEL_MESSAGE,
    content: encodeChannelMessage({
      organizationId: fromHex(orgId),
      channelId,
      author: keys.identityKey,
      clock: claims.clock,
      sentAt: BigInt(claims.sentAt),
      body: { case: "post", value: { text, replyTo: "" } },
    }),
  });
}

/** Publishes bytes on a channel topic from a transport of its own (the hostile copy). */
async function publish(
  w: World,
  orgId: string,
  channelId: string,
  bytes: Uint8Array,
): Promise<void> {
  const transport = w.network.transport({ name: "hostile copy" });
  await transport.start();
  await transport.publish(channelTopic(fromHex(orgId), channelId), bytes);
  await transport.stop();
  await w.settle();
}

/** Every stored log entry and record value of a peer that mentions `text` (UTF-8). */
async function storedMentions(store: Store, orgId: string, text: string): Promise<string[]> {
  const needle = Buffer.from(text);
  const found: string[] = [];
  const logs = [
    `events/${orgId}`,
    `held/${orgId}`,
    `proven/${orgId}`,
    `pending/${orgId}`,
    `messages/${orgId}/general`,
    `messages/${orgId}/board`,
  ];
  for (const log of logs) {
    for (const entry of await store.range(log)) {
      if (Buffer.from(entry.value).includes(needle)) found.push(`${log}/${entry.id}`);
    }
  }
  return found;
}

function diagnostics(peer: Peer): Diagnostic[] {
  const seen: Diagnostic[] = [];
  peer.client.on("diagnostic", (d) => {
    seen.push(d);
  });
  return seen;
}

/** Asserts that none of `peers` shows or stores `text`. */
async function expectNowhere(peers: readonly Peer[], orgId: string, text: string): Promise<void> {
  for (const peer of peers) {
    expect(received(peer), peer.name).not.toContain(text);
    for (const channelId of ["general", "board"]) {
      const history = (() => {
        try {
          return peer.client.history(orgId, channelId);
        } catch {
          return [] as MessageView[];
        }
      })();
      expect(
        history.map((m) => m.text),
        `${peer.name} ${channelId}`,
      ).not.toContain(text);
    }
    expect(await storedMentions(peer.store, orgId, text), peer.name).toEqual([]);
  }
}

describe("row 2: posts of departed members", () => {
  const cases: Array<{
    name: string;
    depart: "ban" | "remove" | "leave";
    laterMs: number;
    backdated?: boolean;
  }> = [
    { name: "banned, at once", depart: "ban", laterMs: 0 },
    { name: "banned, backdated before the ban", depart: "ban", laterMs: 0, backdated: true },
    { name: "banned, 23 h later", depart: "ban", laterMs: 23 * hour },
    { name: "banned, 25 h later", depart: "ban", laterMs: 25 * hour },
    { name: "banned, 30 h later (before the 48 h refresh)", depart: "ban", laterMs: 30 * hour },
    {
      name: "removed, 23 h later, backdated",
      depart: "remove",
      laterMs: 23 * hour,
      backdated: true,
    },
    { name: "left, at once", depart: "leave", laterMs: 0 },
  ];
  for (const c of cases) {
    it(`a ${c.name}: neither shown nor stored by the owner and the members`, async () => {
      world = new World();
      const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
      const [alice, bob] = members as [Peer, Peer];
      await alice.client.sendMessage(orgId, "general", "before");
      await world.settle();
      const clockBefore = owner.client.getOrganization(orgId).clock;
      const kept = await keepKeys(alice, orgId);
      const ownerDrops = diagnostics(owner);
      const bobDrops = diagnostics(bob);
      if (c.depart === "ban") await owner.client.banMember(orgId, alice.client.memberId);
      else if (c.depart === "remove") await owner.client.removeMember(orgId, alice.client.memberId);
      else await alice.client.leave(orgId);
      await world.settle();
      expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
      await world.advance(c.laterMs);
      const now = world.time.now();
      const bytes = craftPost(kept, orgId, "general", "from the departed", {
        clock: c.backdated === true ? clockBefore : clockBefore + 100n,
        sentAt: c.backdated === true ? now - c.laterMs - 60_000 : now,
      });
      await publish(world, orgId, "general", bytes);
      await expectNowhere([owner, bob], orgId, "from the departed");
      // Kept: what they had before the departure.
      expect(owner.client.history(orgId, "general").map((m) => m.text)).toContain("before");
      expect(bob.client.history(orgId, "general").map((m) => m.text)).toContain("before");
      for (const drops of [ownerDrops, bobDrops]) {
        expect(drops.filter((d) => d.reason === "not-a-member")).toHaveLength(1);
      }
      // Still refused after a restart (nothing was stored to re-fold).
      await world.restart(bob);
      await world.restart(owner);
      await expectNowhere([owner, bob], orgId, "from the departed");
    });
  }

  it("a member taken off a restricted channel posts in the channel's retained epoch: dropped", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    await owner.client.createChannel(orgId, {
      id: "board",
      name: "Board",
      access: "on-request",
      private: true,
    });
    await owner.client.setChannelMembers(orgId, "board", {
      [alice.client.memberId]: [],
      [bob.client.memberId]: [],
    });
    await world.settle();
    await alice.client.sendMessage(orgId, "board", "board before");
    await world.settle();
    expect(received(bob)).toContain("board before");
    const clock = owner.client.getOrganization(orgId).clock;
    const kept = await keepKeys(alice, orgId, "board");
    await owner.client.setChannelMembers(orgId, "board", { [bob.client.memberId]: [] });
    await world.settle();
    await world.advance(23 * hour);
    const bytes = craftPost(kept, orgId, "board", "board after", {
      clock: clock + 1n,
      sentAt: world.time.now(),
    });
    await publish(world, orgId, "board", bytes);
    await expectNowhere([owner, bob], orgId, "board after");
    expect(bob.client.history(orgId, "board").map((m) => m.text)).toEqual(["board before"]);
  });

  it("after three more epochs (within the 24 h retention): nothing shown", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, [
      "alice",
      "bob",
      "carol",
      "dave",
    ]);
    const [alice, bob, carol, dave] = members as [Peer, Peer, Peer, Peer];
    const clock = owner.client.getOrganization(orgId).clock;
    const kept = await keepKeys(alice, orgId);
    await owner.client.banMember(orgId, alice.client.memberId);
    await world.settle();
    await owner.client.removeMember(orgId, carol.client.memberId);
    await world.settle();
    await owner.client.removeMember(orgId, dave.client.memberId);
    await world.settle();
    await world.advance(hour);
    const bytes = craftPost(kept, orgId, "general", "three epochs on", {
      clock: clock + 1n,
      sentAt: world.time.now(),
    });
    await publish(world, orgId, "general", bytes);
    await expectNowhere([owner, bob], orgId, "three epochs on");
  });

  it("a current member's post in the previous epoch, after someone else's removal, is read", async () => {
    // The late-message window stays for members that are still members (the control case).
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Peer, Peer, Peer];
    const clock = owner.client.getOrganization(orgId).clock;
    const kept = await keepKeys(alice, orgId);
    await owner.client.removeMember(orgId, carol.client.memberId);
    await world.settle();
    const bytes = craftPost(kept, orgId, "general", "in flight", {
      clock: clock + 1n,
      sentAt: world.time.now(),
    });
    await publish(world, orgId, "general", bytes);
    expect(received(owner)).toContain("in flight");
    expect(received(bob)).toContain("in flight");
  });
});

describe("row 2 in a public organization", () => {
  /** A member's identity secret key, read back from its store (no passphrase: not sealed). */
  async function identitySecret(peer: Peer): Promise<Uint8Array> {
    const record = decodeJson<{ secrets: Uint8Array }>(
      await peer.store.getOrThrow("identity", "self"),
    );
    return decodeJson<{ identity: Uint8Array }>(record.secrets).identity;
  }

  it("a removed member's signed post, backdated: neither shown nor stored by the owner and members", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"], {
      encrypted: false,
    });
    const [alice, bob] = members as [Peer, Peer];
    const secret = await identitySecret(alice);
    const clock = owner.client.getOrganization(orgId).clock;
    await owner.client.removeMember(orgId, alice.client.memberId);
    await world.settle();
    await world.restart(bob);
    const organizationId = fromHex(orgId);
    const contentTopic = channelTopic(organizationId, "general");
    const message = {
      organizationId,
      channelId: "general",
      author: fromHex(alice.client.memberId),
      clock,
      sentAt: BigInt(world.time.now() - hour),
      body: { case: "post" as const, value: { text: "signed after removal", replyTo: "" } },
    };
    const bytes = await sealEnvelope(
      { type: "channel-message", organizationId, clock, contentTopic, message },
      ed25519EnvelopeSigner(defaultProvider(), secret),
    );
    await publish(world, orgId, "general", bytes);
    await expectNowhere([owner, bob], orgId, "signed after removal");
  });
});

describe("row 9: a post's claimed time", () => {
  const year = 365 * 24 * hour;

  function viewOf(peer: Peer, orgId: string, text: string): MessageView | undefined {
    return peer.client.history(orgId, "general").find((m) => m.text === text);
  }

  for (const [name, offset] of [
    ["backdated a year", -year],
    ["dated a day ahead", 24 * hour],
  ] as const) {
    it(`a member's post ${name}: views keep the claim and show the time received`, async () => {
      world = new World();
      const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
      const [alice, bob] = members as [Peer, Peer];
      const kept = await keepKeys(alice, orgId);
      const now = world.time.now();
      const clock = owner.client.getOrganization(orgId).clock + 1n;
      await publish(
        world,
        orgId,
        "general",
        craftPost(kept, orgId, "general", "odd time", { clock, sentAt: now + offset }),
      );
      for (const peer of [owner, bob]) {
        expect(viewOf(peer, orgId, "odd time"), peer.name).toMatchObject({
          sentAt: now + offset,
          receivedAt: now,
          shownAt: now,
        });
      }
    });
  }

  it("a member's post clocked before it joined: the owner, who knows when it joined, never shows it", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    const kept = await keepKeys(alice, orgId);
    await publish(
      world,
      orgId,
      "general",
      craftPost(kept, orgId, "general", "first in history", {
        clock: 1n,
        sentAt: world.time.now(),
      }),
    );
    expect(received(owner)).toEqual([]);
    expect(owner.client.history(orgId, "general")).toEqual([]);
    await alice.client.sendMessage(orgId, "general", "honest");
    await world.settle();
    expect(received(owner)).toEqual(["honest"]);
  });

  it("an honest post read from history days later shows its own time", async () => {
    world = new World();
    const { members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    await world.stop(bob);
    const sentAt = world.time.now();
    await alice.client.sendMessage(orgId, "general", "while you were away");
    await world.settle();
    await world.advance(2 * 24 * hour);
    await world.resume(bob);
    const view = viewOf(bob, orgId, "while you were away");
    expect(view).toMatchObject({ sentAt, receivedAt: sentAt, shownAt: sentAt });
    // Own posts: sent and received at once.
    expect(viewOf(alice, orgId, "while you were away")).toMatchObject({ sentAt, shownAt: sentAt });
  });

  it("a post 90 s off (within the skew) shows its claim", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    const kept = await keepKeys(alice, orgId);
    const now = world.time.now();
    const clock = owner.client.getOrganization(orgId).clock + 1n;
    await publish(
      world,
      orgId,
      "general",
      craftPost(kept, orgId, "general", "a bit early", { clock, sentAt: now - 90_000 }),
    );
    expect(viewOf(owner, orgId, "a bit early")).toMatchObject({
      sentAt: now - 90_000,
      receivedAt: now,
      shownAt: now - 90_000,
    });
  });
});

describe("row 9: a post that waited for its key", () => {
  it("shows its own time, not when its key came", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    await owner.client.createChannel(orgId, {
      id: "board",
      name: "Board",
      access: "on-request",
      private: true,
    });
    await world.settle();
    // Bob misses being put on the board, then hears its first post: kept, waiting.
    world.network.partition([[bob.transport]]);
    await owner.client.setChannelMembers(orgId, "board", {
      [alice.client.memberId]: [],
      [bob.client.memberId]: [],
    });
    await world.settle();
    world.network.heal();
    const sentAt = world.time.now();
    await owner.client.sendMessage(orgId, "board", "worth the wait");
    await world.settle();
    expect(bob.client.history(orgId, "board")).toEqual([]);
    await world.advance(10 * 60_000);
    await owner.client.setTags(orgId, ["republished"]);
    await bob.client.resync(orgId);
    await world.settle();
    const view = bob.client.history(orgId, "board").find((m) => m.text === "worth the wait");
    expect(view).toMatchObject({ sentAt, receivedAt: sentAt, shownAt: sentAt });
  });
});
