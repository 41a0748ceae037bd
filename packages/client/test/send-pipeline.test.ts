import { decodeChannelMessage, encodeChannelMessage } from "@orgchat/wire";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type ChannelBodyInit, sentChannelFields } from "../src/messages.js";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }),
);
const eventId = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString("hex"));
const body: fc.Arbitrary<ChannelBodyInit> = fc.oneof(
  fc.record({
    case: fc.constant("post" as const),
    value: fc.record(
      { text: anyText, replyTo: fc.oneof(fc.constant(""), eventId) },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    case: fc.constant("edit" as const),
    value: fc.record({ messageId: eventId, text: anyText }, { requiredKeys: ["messageId"] }),
  }),
  fc.record({ case: fc.constant("delete" as const), value: fc.record({ messageId: eventId }) }),
  fc.record({
    case: fc.constant("pin" as const),
    value: fc.record({ messageId: eventId, pinned: fc.boolean() }, { requiredKeys: ["messageId"] }),
  }),
);

/** The fields the event log reads, without protobuf's type names. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value, replacer));
function replacer(key: string, value: unknown): unknown {
  if (key === "$typeName") return undefined;
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  return value;
}

describe("a sent message is recorded from the fields it encoded", () => {
  it("the fields are what a receiver decodes from its bytes (or none when a text would not read back the same)", () => {
    fc.assert(
      fc.property(
        body,
        fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
        fc.nat(),
        (init, clock, sentAt) => {
          const message = {
            organizationId: new Uint8Array(32).fill(7),
            channelId: "general",
            author: new Uint8Array(32).fill(9),
            clock,
            sentAt: BigInt(sentAt),
            body: init,
          };
          const decoded = decodeChannelMessage(encodeChannelMessage(message));
          const fields = sentChannelFields(message);
          const texts = [
            init.case === "post" || init.case === "edit" ? (init.value.text ?? "") : "",
          ];
          const readsBack = texts.every(encodedSame);
          if (!readsBack) {
            expect(fields).toBeUndefined();
            return;
          }
          expect(fields).toBeDefined();
          const { organizationId: _, ...rest } = plain(decoded) as Record<string, unknown>;
          expect(plain(fields)).toEqual(rest);
        },
      ),
      { numRuns: 1000, seed: 14 },
    );
  });

  it("a restart on the same store shows the same history, and receivers see what the sender recorded", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    const texts = ["one", "héllo 👋", "", "lone \ud800 surrogate", "x".repeat(300)];
    const sent: string[] = [];
    for (const text of texts)
      sent.push((await owner.client.sendMessage(orgId, "general", text)).id);
    const reply = await alice.client.sendMessage(orgId, "general", "reply", {
      replyTo: sent[0] as string,
    });
    await world.settle();
    await owner.client.editMessage(orgId, sent[1] as string, "edited ✓");
    await owner.client.deleteMessage(orgId, sent[2] as string);
    await owner.client.pinMessage(orgId, sent[0] as string);
    await alice.client.editMessage(orgId, reply.id, "reply, edited");
    await world.settle();
    const view = (peer: Peer) =>
      peer.client
        .history(orgId, "general")
        .map(({ receivedAt: _, shownAt: __, own: ___, ...m }) => m);
    const before = view(owner);
    expect(before.map((m) => m.text)).toEqual([
      "one",
      "edited ✓",
      "",
      "lone \ufffd surrogate",
      "x".repeat(300),
      "reply, edited",
    ]);
    expect(before[0]?.pinned).toBe(true);
    expect(before[2]?.deleted).toBe(true);
    expect(before[5]?.replyTo).toBe(sent[0]);
    expect(view(alice)).toEqual(before);
    await world.restart(owner);
    expect(view(owner)).toEqual(before);
    await world.restart(alice);
    expect(view(alice)).toEqual(before);
  });
});

/** Whether `text` reads back the same from its UTF-8 (no lone surrogate). */
function encodedSame(text: string): boolean {
  return new TextDecoder().decode(new TextEncoder().encode(text)) === text;
}
