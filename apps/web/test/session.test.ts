/**
 * The page's session over the memory transport (no browser, no network): unread counts, the
 * "sending…" list, and what a listener sees. Waits are for client events; no timer decides.
 */
import { memoryStore } from "@orgchat/store";
import { memoryNetwork } from "@orgchat/transport";
import { afterEach, expect, it } from "vitest";
import { type ChatSession, unreadSpace } from "../src/session.ts";
import { next, onNetwork } from "./memory-sessions.ts";

const sessions: ChatSession[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

/**
 * Acme (#general, #random), created by `owner`, with `member` admitted and holding the keys.
 * @returns the organization's id
 */
async function acmeWithMember(owner: ChatSession, member: ChatSession): Promise<string> {
  const org = await owner.client.createOrganization({ name: "Acme" });
  await owner.client.createChannel(org, { id: "general", name: "general" });
  await owner.client.createChannel(org, { id: "random", name: "random" });
  await member.client.discover(org);
  const requested = next(owner, "request:received");
  await member.client.requestToJoin(org, { displayName: "Bob" });
  const keys = next(member, "epoch:changed", (e) => e.channelId === "");
  await owner.client.acceptRequest(org, (await requested).requestId);
  await keys;
  return org;
}

it("counts unread posts of others outside the channel on screen, and lists sends until they resolve", async () => {
  const network = memoryNetwork();
  const owner = await onNetwork(network, memoryStore());
  const member = await onNetwork(network, memoryStore());
  sessions.push(owner, member);
  const org = await acmeWithMember(owner, member);

  member.markRead(org, "general");
  let changes = 0;
  const off = member.subscribe(() => changes++);
  const heard = next(member, "message:received", (e) => e.message.text === "in random");
  const sending = owner.send(org, "random", "in random");
  expect(owner.sending.map((s) => [s.channelId, s.text])).toEqual([["random", "in random"]]);
  await sending;
  expect(owner.sending).toEqual([]);
  await heard;
  expect(member.unread(org, "random")).toBe(1);
  expect(changes).toBeGreaterThan(0);
  off();

  const heardGeneral = next(member, "message:received", (e) => e.message.text === "in general");
  await owner.send(org, "general", "in general");
  await heardGeneral;
  expect(member.unread(org, "general")).toBe(0);
  member.markRead(org, "random");
  expect(member.unread(org, "random")).toBe(0);

  // Own posts are never unread.
  expect(owner.unread(org, "random")).toBe(0);
  const heardByOwner = next(owner, "message:received", (e) => e.message.text === "from Bob");
  await member.send(org, "general", "from Bob");
  await heardByOwner;
  expect(owner.unread(org, "general")).toBe(1);
});

it("refresh tells every listener to read the client again (after the page's own action)", async () => {
  const network = memoryNetwork();
  const session = await onNetwork(network, memoryStore());
  sessions.push(session);
  let calls = 0;
  const off = session.subscribe(() => calls++);
  session.refresh();
  expect(calls).toBe(1);
  off();
  session.refresh();
  expect(calls).toBe(1);
});

it("unread counts outlive the session: a new one on the same store shows them; hostile values are skipped", async () => {
  const network = memoryNetwork();
  const owner = await onNetwork(network, memoryStore());
  sessions.push(owner);
  // The member's store outlives its first session (close() of the session leaves it open).
  const kept = memoryStore();
  const lasting = new Proxy(kept, {
    get: (target, name) => {
      if (name === "close") return async () => undefined;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const member = await onNetwork(network, lasting);
  const org = await acmeWithMember(owner, member);
  member.markRead(org, "general");
  const heard = next(member, "message:received", (e) => e.message.text === "two");
  await owner.send(org, "random", "one");
  await owner.send(org, "random", "two");
  await heard;
  expect(member.unread(org, "random")).toBe(2);
  await member.close();
  await kept.put(unreadSpace, `${org}/bogus`, new TextEncoder().encode("-3"));
  await kept.put(unreadSpace, `${org}/huge`, new TextEncoder().encode("1e99"));

  const again = await onNetwork(network, lasting);
  sessions.push(again);
  expect(again.unread(org, "random")).toBe(2);
  expect(again.unread(org, "bogus")).toBe(0);
  expect(again.unread(org, "huge")).toBe(0);
  again.markRead(org, "random");
  await again.close();
  const third = await onNetwork(network, lasting);
  sessions.push(third);
  expect(third.unread(org, "random")).toBe(0);
  await kept.close();
});
