/**
 * The main proof (fast-check, fixed seeds): permutation convergence, duplicate idempotence,
 * authority, monotone clocks and the bounded number of pending requests.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mayModerateContent, rankLevels, rankOf } from "../src/authorization.js";
import type { MemberId, OrgEvent, RejectionReason } from "../src/events.js";
import { reduce } from "../src/reduce.js";
import { pendingRequests } from "../src/requests.js";
import type { OrgState } from "../src/state.js";
import { assertConvergence, logOf } from "./convergence.js";
import { historyArb, permutationArb, propertyConfig } from "./event-arbitraries.js";
import { canonicalState, event, fold, owner, sortedRejections } from "./event-fixtures.js";

const runs = (numRuns: number, seed: number) => ({ numRuns, seed });

describe("permutation convergence", () => {
  it("any arrival order of the same events gives the same state and the same rejections", () => {
    assertConvergence(historyArb(), runs(500, 0x5eed01));
  });

  it("histories exercise every kind of verdict (the generator is not trivially accepting)", () => {
    const seen = new Set<RejectionReason | "applied">();
    fc.assert(
      fc.property(historyArb(), (events) => {
        const { rejections } = fold(events, propertyConfig);
        for (const reason of rejections.values()) seen.add(reason);
        if (rejections.size < events.length) seen.add("applied");
      }),
      runs(300, 0x5eed02),
    );
    // `duplicate` and `malformed` cannot come out of a fold of unique, well-formed events except
    // "malformed" for events before creation / a second creation.
    expect([...seen].sort()).toEqual(
      [
        "applied",
        "banned",
        "conflict",
        "expired",
        "malformed",
        "rate-limited",
        "unauthorized",
        "unknown-member",
        "unknown-target",
      ].sort(),
    );
  });
});

describe("duplicate idempotence", () => {
  it("re-adding any events (in any order, interleaved) changes nothing", () => {
    const arb = historyArb().chain((events) =>
      fc.tuple(
        fc.constant(events),
        permutationArb(events),
        fc.shuffledSubarray(events),
        fc.integer({ min: 1, max: 8 }),
      ),
    );
    fc.assert(
      fc.property(arb, ([events, order, again, interval]) => {
        const log = logOf(order, interval);
        const state = log.state;
        const rejections = sortedRejections(log.rejections());
        for (const e of again) {
          expect(log.add(e)).toEqual({ state, rejected: { id: e.id, reason: "duplicate" } });
        }
        expect(log.state).toBe(state);
        expect(sortedRejections(log.rejections())).toEqual(rejections);
        // Interleaving duplicates with first arrivals converges to the same state too.
        const interleaved = logOf(
          [...order.slice(0, 5), ...again, ...order.slice(5), ...again],
          interval,
        );
        expect(canonicalState(interleaved.state)).toBe(canonicalState(state));
        // `reduce` refuses an applied event again, and returns the very same state.
        for (const e of events) {
          if (log.rejectionOf(e.id) !== undefined) continue;
          const result = reduce(state, e, propertyConfig);
          expect(result.state).toBe(state);
          expect(result.rejected?.reason).toBe("duplicate");
        }
      }),
      runs(150, 0x5eed03),
    );
  });
});

/**
 * The authorization oracle: checks one applied transition against docs/PROTOCOL.md, written
 * independently of the reducer's code paths (it looks only at what changed).
 */
function checkAuthority(before: OrgState, e: OrgEvent, after: OrgState): void {
  const actor = e.author;
  const byOwner = actor === owner;
  const level = (m: MemberId) => rankLevels[rankOf(before, m)];
  const actsOn = (target: MemberId) =>
    target !== owner && (byOwner || level(target) < level(actor));

  // The owner is untouchable: always a member once created, never banned, never given roles.
  if (after.created) {
    expect(after.members.has(owner)).toBe(true);
    expect(rankOf(after, owner)).toBe("owner");
    expect(after.banned.has(owner)).toBe(false);
    expect(after.members.get(owner)?.roles.size).toBe(0);
  }

  const added = [...after.members.keys()].filter((m) => !before.members.has(m));
  const removed = [...before.members.keys()].filter((m) => !after.members.has(m));
  if (added.length > 0 || removed.length > 0) {
    switch (e.type) {
      case "org.created":
        expect([byOwner, added, removed]).toEqual([true, [owner], []]);
        break;
      case "request.sent":
        expect([added, removed]).toEqual([[actor], []]);
        expect(before.permissions.access).toBe("no-membership");
        break;
      case "request.accepted": {
        const request = before.requests.get(e.body.requestId);
        expect([added, removed]).toEqual([[request?.requester], []]);
        expect(level(actor)).toBeGreaterThanOrEqual(rankLevels.manager);
        if (request?.chatId !== "") expect(byOwner).toBe(true);
        break;
      }
      case "invitation.used":
        expect([added, removed]).toEqual([[actor], []]);
        expect(before.invitations.get(e.body.invitationId)?.invitee).toBe(actor);
        break;
      case "leave.resolved": {
        const request = before.leaveRequests.get(e.body.requestId);
        expect([added, removed, e.body.accepted]).toEqual([[], [request?.member], true]);
        expect(level(actor)).toBeGreaterThanOrEqual(rankLevels.manager);
        expect(actsOn(request?.member ?? owner)).toBe(true);
        break;
      }
      case "member.removed":
      case "member.banned":
        expect([added, removed]).toEqual([[], [e.body.member]]);
        expect(level(actor)).toBeGreaterThanOrEqual(rankLevels.manager);
        expect(actsOn(e.body.member)).toBe(true);
        break;
      default:
        throw new Error(`membership changed by ${e.type}`);
    }
  }

  if (after.banned !== before.banned) {
    if (e.type === "member.banned") {
      expect(level(actor)).toBeGreaterThanOrEqual(rankLevels.manager);
      expect(actsOn(e.body.member)).toBe(true);
    } else {
      expect([e.type, byOwner]).toEqual(["member.unbanned", true]);
    }
  }

  for (const [id, member] of after.members) {
    const previous = before.members.get(id);
    if (previous === undefined || previous.roles.equals(member.roles)) continue;
    expect(e.type).toBe("member.roles.changed");
    if (e.type !== "member.roles.changed") return;
    expect(e.body.member).toBe(id);
    if (!byOwner) {
      expect(rankOf(before, actor)).toBe("admin");
      expect(actsOn(id)).toBe(true);
      expect(member.roles.includes("all")).toBe(false);
    }
  }

  // Channel and category structure, settings, epochs: the owner's alone.
  const structure = (state: OrgState) =>
    JSON.stringify(
      [...state.channels.values()]
        .map((c) => [c.id, c.identity.displayName, c.permissions, c.categoryId])
        .sort(),
    );
  if (
    structure(before) !== structure(after) ||
    before.categories !== after.categories ||
    before.epochs !== after.epochs ||
    before.identity !== after.identity ||
    before.permissions !== after.permissions ||
    before.encrypted !== after.encrypted ||
    before.pinMessageAllMembersEnabled !== after.pinMessageAllMembersEnabled ||
    before.tags !== after.tags
  ) {
    expect(byOwner).toBe(true);
  }
  for (const channel of after.channels.values()) {
    const previous = before.channels.get(channel.id);
    if (previous === undefined || previous.members === channel.members) continue;
    // Channel rosters change by the owner, or shrink when a member leaves the organization.
    if (!byOwner) expect(removed.length).toBeGreaterThan(0);
  }

  // Grants appear only by the owner's hand (directly, or through its accept or invitation).
  const newGrants = [...after.grants.keys()].filter((k) => !before.grants.has(k));
  if (newGrants.length > 0 && !byOwner) {
    expect(e.type).toBe("invitation.used");
    if (e.type === "invitation.used") {
      expect(before.invitations.get(e.body.invitationId)?.issuedBy).toBe(owner);
    }
  }

  // Messages: deleted by their author, a moderator above them, or with the author's ban.
  for (const [id, message] of after.messages) {
    const previous = before.messages.get(id);
    if (previous === undefined || previous.deleted || !message.deleted) continue;
    if (e.type === "member.banned") {
      expect([e.body.deleteMessages, e.body.member]).toEqual([true, message.author]);
    } else {
      expect(e.type).toBe("message.deleted");
      if (message.author !== actor) {
        expect(mayModerateContent(before, actor)).toBe(true);
        expect(actsOn(message.author)).toBe(true);
      }
    }
  }
}

describe("authority", () => {
  it("only allowed authors change membership, bans, roles, channels, grants and messages", () => {
    fc.assert(
      fc.property(historyArb(60), (events) => {
        fold(events, propertyConfig, (before, e, after, rejected) => {
          if (rejected !== undefined) {
            expect(after).toBe(before);
            return;
          }
          checkAuthority(before, e, after);
        });
      }),
      runs(600, 0x5eed04),
    );
  });

  it("whatever the arrival order, the owner stays an untouchable member", () => {
    const arb = historyArb(60).chain((events) => permutationArb(events));
    fc.assert(
      fc.property(arb, (order) => {
        const log = logOf(order, 4);
        const state = log.state;
        if (!state.created) return;
        expect(rankOf(state, owner)).toBe("owner");
        expect(state.banned.has(owner)).toBe(false);
        for (const message of state.messages.values()) {
          if (message.author === owner && message.deleted) expect(message.deletedBy).toBe(owner);
        }
      }),
      runs(200, 0x5eed05),
    );
  });
});

describe("monotone clocks", () => {
  // Issue #13 (R1): strangers' events (a pending request, a cancel) are applied but do not count.
  it("state.clock never decreases and is the highest clock applied by a member", () => {
    const arb = historyArb().chain((events) =>
      fc.tuple(fc.constant(events), permutationArb(events)),
    );
    fc.assert(
      fc.property(arb, ([events, order]) => {
        let highest = 0n;
        const { state } = fold(events, propertyConfig, (before, e, after, rejected) => {
          expect(after.clock >= before.clock).toBe(true);
          const counted = rejected === undefined && after.members.has(e.author);
          if (counted && e.clock > highest) highest = e.clock;
          expect(after.clock).toBe(highest);
        });
        const log = logOf(order, 3);
        expect(log.state.clock).toBe(state.clock);
        const applied = log.events().filter((e) => log.rejectionOf(e.id) === undefined);
        const clocks = applied.map((e) => e.clock).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(log.state.clock <= (clocks[clocks.length - 1] ?? 0n)).toBe(true);
        expect(log.nextClock()).toBe(state.clock + 1n);
      }),
      runs(200, 0x5eed06),
    );
  });
});

describe("bounded pending requests", () => {
  /** Many keys requesting at scattered times, with decisions and cancels. */
  const requestStormArb = fc
    .array(
      fc.record({
        requester: fc.integer({ min: 0x10, max: 0x30 }),
        clock: fc.bigInt(1n, 60n),
        sentAt: fc.nat(4000),
        decision: fc.constantFrom("none", "none", "accept", "reject", "cancel"),
        decisionDelay: fc.nat(1500),
        decisionClock: fc.bigInt(1n, 60n),
      }),
      { maxLength: 40 },
    )
    .map((raws) => {
      const events: OrgEvent[] = [
        event(
          "org.created",
          { id: "org", author: owner, clock: 0 },
          {
            identity: { displayName: "a", description: "", ensName: "", images: {} },
            permissions: { access: "on-request", ensOnly: false, private: false },
            pinMessageAllMembersEnabled: false,
            tags: [],
            encrypted: false,
          },
        ),
      ];
      raws.forEach((raw, i) => {
        const requester = raw.requester.toString(16).repeat(32);
        const id = `r${i}`;
        events.push(
          event(
            "request.sent",
            { id, author: requester, clock: raw.clock, sentAt: raw.sentAt },
            { chatId: "", ensName: "", displayName: "x" },
          ),
        );
        const decided = { clock: raw.decisionClock, sentAt: raw.sentAt + raw.decisionDelay };
        if (raw.decision === "accept") {
          events.push(
            event(
              "request.accepted",
              { id: `d${i}`, author: owner, ...decided },
              { requestId: id },
            ),
          );
        } else if (raw.decision === "reject") {
          events.push(
            event(
              "request.rejected",
              { id: `d${i}`, author: owner, ...decided },
              { requestId: id, reason: "" },
            ),
          );
        } else if (raw.decision === "cancel") {
          events.push(
            event(
              "request.cancelled",
              { id: `d${i}`, author: requester, ...decided },
              { requestId: id },
            ),
          );
        }
      });
      return events;
    });

  it("at no time are more requests pending (and unexpired) than the cap", () => {
    const cap = propertyConfig.maxPendingRequests ?? 0;
    const expiry = propertyConfig.requestExpiryMs ?? 0;
    let capReached = 0;
    fc.assert(
      fc.property(requestStormArb, (events) => {
        fold(events, propertyConfig, (_, __, after) => {
          const pending = [...after.requests.values()].filter((r) => r.status === "pending");
          // The live window of a request is [sentAt, sentAt + expiry): check every start point.
          for (const t of pending.map((r) => r.sentAt)) {
            const live = pending.filter((r) => r.sentAt <= t && t < r.sentAt + expiry).length;
            expect(live).toBeLessThanOrEqual(cap);
            if (live === cap) capReached++;
          }
          for (const r of pending) {
            const listed = pendingRequests(after, r.sentAt, propertyConfig);
            expect(listed.filter((q) => q.sentAt <= r.sentAt).length).toBeLessThanOrEqual(cap);
          }
        });
      }),
      runs(300, 0x5eed07),
    );
    expect(capReached).toBeGreaterThan(0);
  });
});
