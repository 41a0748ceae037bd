/** Reducers never throw on remote input (docs/PROTOCOL.md, "Rejections"; STYLE.md, "Errors"). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventTypes } from "../src/event-types.js";
import { type OrgEvent, roles } from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import { OrgLog } from "../src/log.js";
import { applyWellFormed, reduce, resolveConfig } from "../src/reduce.js";
import { accessModes, type OrgState } from "../src/state.js";
import { isOrgEvent } from "../src/validate.js";
import { historyArb, propertyConfig } from "./event-arbitraries.js";
import { alice, bob, fold, identity, owner, permissions } from "./event-fixtures.js";

/** A populated organization to throw events at (so that rules run past their first checks). */
function populated(): OrgState {
  const [events] = fc.sample(historyArb(60), { numRuns: 1, seed: 7 });
  return fold(events ?? [], propertyConfig).state;
}

const fieldNames = [
  "identity",
  "permissions",
  "pinMessageAllMembersEnabled",
  "tags",
  "encrypted",
  "channelId",
  "categoryId",
  "members",
  "name",
  "chatId",
  "ensName",
  "displayName",
  "requestId",
  "reason",
  "invitee",
  "invitationId",
  "accepted",
  "member",
  "deleteMessages",
  "roles",
  "epoch",
  "keyId",
  "text",
  "messageId",
  "pinned",
];

/** Values that pass some checks and fail others, mixed with anything at all. */
const plausible = fc.oneof(
  fc.constantFrom(
    "",
    "general",
    "staff",
    "cat1",
    "x0",
    "missing",
    owner,
    alice,
    bob,
    "0011223344556677",
    "bad id",
    "\ud800",
    true,
    false,
    0,
    -1,
    1n,
    -1n,
    1n << 64n,
    null,
    undefined,
    [],
    {},
    new Uint8Array(3),
    identity("x"),
    permissions("on-request"),
    { [alice]: ["all"] },
    { [alice]: ["nope"] },
    [...roles],
    ["nope"],
    [...accessModes],
  ),
  fc.string(),
  fc.anything(),
);

const shapedEventArb = fc.record({
  id: fc.oneof(fc.constantFrom("a", "b", "x0", "x1"), fc.string(), fc.anything()),
  type: fc.oneof(fc.constantFrom(...eventTypes), fc.string()),
  author: fc.oneof(fc.constantFrom(owner, alice, bob), fc.string(), fc.anything()),
  clock: fc.oneof(fc.bigInt(-2n, 1n << 65n), fc.anything()),
  sentAt: fc.oneof(fc.nat(), fc.double(), fc.anything()),
  body: fc.oneof(fc.dictionary(fc.constantFrom(...fieldNames), plausible), fc.anything()),
});

describe("totality", () => {
  const state = populated();
  const config = resolveConfig(propertyConfig);

  it("reduce never throws, whatever it is given, and refuses what is not an event as malformed", () => {
    fc.assert(
      fc.property(fc.oneof(shapedEventArb, fc.anything()), (value) => {
        const event = value as OrgEvent;
        const result = reduce(state, event, propertyConfig);
        if (!isOrgEvent(value)) {
          expect(result.rejected?.reason).toBe("malformed");
          expect(result.state).toBe(state);
        } else {
          // The unguarded rules must not throw either: the safety net is not what saves us.
          expect(() => applyWellFormed(state, value, config)).not.toThrow();
        }
        expect(() => new OrgLog({ organizationId: owner }).add(event)).not.toThrow();
      }),
      { numRuns: 3000, seed: 0x70a1 },
    );
  });

  it("well-formed events with fields swapped between events never make the rules throw", () => {
    // Take real histories and move body fields across events: each result is well formed or not,
    // and either way no rule may throw.
    const arb = historyArb(40).chain((events) =>
      fc.tuple(
        fc.constant(events),
        fc.array(fc.tuple(fc.nat(), fc.nat(), plausible), { maxLength: 10 }),
      ),
    );
    fc.assert(
      fc.property(arb, ([events, edits]) => {
        const edited = events.map((e) => ({ ...e, body: { ...e.body } }) as OrgEvent);
        for (const [target, field, value] of edits) {
          const event = edited[target % edited.length] as { body: Record<string, unknown> };
          const name = fieldNames[field % fieldNames.length] as string;
          event.body[name] = value;
        }
        expect(() => fold(edited, propertyConfig)).not.toThrow();
      }),
      { numRuns: 300, seed: 0x70a2 },
    );
  });

  it("a throwing getter or a throwing ENS verifier refuses the event instead of throwing", () => {
    const s = initialState(owner);
    const created = {
      id: "c",
      type: "org.created",
      author: owner,
      clock: 1n,
      sentAt: 0,
      body: {
        identity: identity("x"),
        permissions: permissions("on-request", { ensOnly: true }),
        pinMessageAllMembersEnabled: false,
        tags: [],
        encrypted: false,
      },
    } as OrgEvent;
    const org = reduce(s, created).state;
    const hostile = {
      id: "h",
      type: "request.sent",
      author: alice,
      clock: 2n,
      sentAt: 0,
      get body(): never {
        throw new Error("boom");
      },
    } as unknown as OrgEvent;
    expect(reduce(org, hostile)).toEqual({
      state: org,
      rejected: { id: "h", reason: "malformed" },
    });
    const request = {
      id: "r",
      type: "request.sent",
      author: alice,
      clock: 2n,
      sentAt: 0,
      body: { chatId: "", ensName: "alice.eth", displayName: "A" },
    } as OrgEvent;
    const verifyEns = () => {
      throw new Error("resolver down");
    };
    expect(reduce(org, request, { verifyEns }).rejected?.reason).toBe("unauthorized");
    expect(reduce(org, request, "nonsense" as never).rejected?.reason).toBe("unauthorized");
  });

  it("initialState refuses a bad organization id (local misuse, not remote input)", () => {
    expect(() => initialState("nope")).toThrow(RangeError);
    expect(() => initialState(owner.toUpperCase().replace(/0/g, "A"))).toThrow(RangeError);
  });
});
