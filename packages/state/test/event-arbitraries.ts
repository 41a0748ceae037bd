/**
 * fast-check generators of organization histories: a small world (the owner, five keys, three
 * channels, two categories) where random authors send random events with random clocks (many ties)
 * and `sentAt` values that straddle the expiry and cool-down of {@link propertyConfig}, and where
 * references (request, invitation, leave, message ids) mostly point at generated events.
 */
import fc from "fast-check";
import { eventTypes } from "../src/event-types.js";
import {
  type EventBodies,
  type EventType,
  type MemberId,
  type OrgEvent,
  type Role,
  roles,
} from "../src/events.js";
import { accessModes, type ReducerConfig } from "../src/state.js";
import {
  alice,
  bob,
  carol,
  dave,
  eve,
  event,
  identity,
  key,
  owner,
  permissions,
} from "./event-fixtures.js";

/** Short periods and a small cap, so that random histories hit every time rule. */
export const propertyConfig: Partial<ReducerConfig> = {
  requestExpiryMs: 1000,
  invitationExpiryMs: 1000,
  reRequestCooldownMs: 300,
  maxPendingRequests: 2,
  verifyEns: (name, member) => name === `${member.slice(0, 4)}.eth`,
};

export const world = {
  /** Authors, the owner twice as likely. */
  actors: [owner, owner, alice, bob, carol, dave, eve] as const,
  targets: [owner, alice, bob, carol, dave, eve] as const,
  /** Who sends requests to join: mostly keys that are not members yet. */
  requesters: [dave, eve, key(0x07), key(0x08), alice] as const,
  channels: ["general", "staff", "news"] as const,
  categories: ["cat1", "cat2"] as const,
};

/** How many times each event type is drawn per one of the others (1 when not listed). */
const weights: Partial<Record<EventType, number>> = {
  "request.sent": 5,
  "request.cancelled": 2,
  "request.accepted": 4,
  "request.rejected": 2,
  "invitation.issued": 2,
  "invitation.used": 2,
  "member.removed": 2,
  "member.banned": 2,
  "member.roles.changed": 3,
  "message.posted": 4,
  "message.edited": 2,
  "message.deleted": 2,
  "message.pinned": 2,
};

/** Event types, weighted by repetition, in the order of `eventTypes`. */
const kinds: EventType[] = eventTypes.flatMap((type) =>
  Array<EventType>(weights[type] ?? 1).fill(type),
);

interface Raw {
  readonly kind: EventType;
  readonly author: number;
  readonly target: number;
  readonly clock: bigint;
  readonly sentAt: number;
  readonly pick: number;
  readonly flag: boolean;
  readonly roles: Role[];
}

const rawArb: fc.Arbitrary<Raw> = fc.record({
  kind: fc.constantFrom(...kinds),
  author: fc.nat(world.actors.length - 1),
  target: fc.nat(world.targets.length - 1),
  clock: fc.bigInt(0n, 30n),
  sentAt: fc.nat(2500),
  pick: fc.nat(999),
  flag: fc.boolean(),
  roles: fc.subarray([...roles]),
});

const joinArb = fc.record({
  invited: fc.bigInt(2n, 4n),
  used: fc.bigInt(1n, 3n),
  roles: fc.subarray([...roles]),
  rolesAt: fc.bigInt(1n, 3n),
});

const baseArb = fc.record({
  created: fc.bigInt(0n, 1n),
  access: fc.nat(2),
  ensOnly: fc.nat(3).map((n) => n === 0),
  general: fc.bigInt(0n, 6n),
  staff: fc.bigInt(0n, 6n),
  category: fc.bigInt(0n, 6n),
  /** alice, bob and carol join by the owner's invitation early on, and get random roles. */
  joins: fc.tuple(joinArb, joinArb, joinArb),
});

type Join = typeof joinArb extends fc.Arbitrary<infer T> ? T : never;
type Base = typeof baseArb extends fc.Arbitrary<infer T> ? T : never;

/** Kinds whose author is the owner half of the time (decisions, moderation, roles). */
const decisions: ReadonlySet<EventType> = new Set<EventType>([
  "request.accepted",
  "request.rejected",
  "invitation.issued",
  "leave.resolved",
  "member.removed",
  "member.banned",
  "member.roles.changed",
  "message.deleted",
  "message.pinned",
]);

function at<T>(list: readonly T[], index: number): T {
  return list[index % list.length] as T;
}

function build(base: Base, raws: readonly Raw[]): OrgEvent[] {
  const events: OrgEvent[] = [
    event(
      "org.created",
      { id: "base-org", author: owner, clock: base.created },
      {
        identity: identity("Acme"),
        permissions: permissions(at(accessModes, base.access + 1), { ensOnly: base.ensOnly }),
        pinMessageAllMembersEnabled: false,
        tags: [],
        encrypted: false,
      },
    ),
    event(
      "channel.created",
      { id: "base-general", author: owner, clock: base.general },
      {
        channelId: "general",
        identity: identity("general"),
        permissions: permissions("no-membership"),
        categoryId: "",
      },
    ),
    event(
      "channel.created",
      { id: "base-staff", author: owner, clock: base.staff },
      {
        channelId: "staff",
        identity: identity("staff"),
        permissions: permissions("invitation-only", { private: true }),
        categoryId: "",
      },
    ),
    event(
      "category.created",
      { id: "base-cat", author: owner, clock: base.category },
      { categoryId: "cat1", name: "One" },
    ),
  ];
  [alice, bob, carol].forEach((member, i) => {
    const join = base.joins[i] as Join;
    events.push(
      event(
        "invitation.issued",
        { id: `base-inv${i}`, author: owner, clock: join.invited },
        { invitee: member, chatId: "" },
      ),
      event(
        "invitation.used",
        { id: `base-use${i}`, author: member, clock: join.invited + join.used },
        {
          invitationId: `base-inv${i}`,
        },
      ),
      event(
        "member.roles.changed",
        {
          id: `base-roles${i}`,
          author: owner,
          clock: join.invited + join.used + join.rolesAt,
        },
        {
          member,
          roles: join.roles,
        },
      ),
    );
  });
  const idOf = (i: number) => `x${i}`;
  const indexesOf = (kind: EventType) => raws.flatMap((raw, i) => (raw.kind === kind ? [i] : []));
  /** What each referring kind refers to. */
  const referred: Partial<Record<EventType, number[]>> = {
    "request.cancelled": indexesOf("request.sent"),
    "request.accepted": indexesOf("request.sent"),
    "request.rejected": indexesOf("request.sent"),
    "invitation.used": indexesOf("invitation.issued"),
    "leave.resolved": indexesOf("leave.requested"),
    "message.edited": indexesOf("message.posted"),
    "message.deleted": indexesOf("message.posted"),
    "message.pinned": indexesOf("message.posted"),
  };
  /** The index a referring event points at (`undefined`: an id that names nothing). */
  const targetOf = (raw: Raw): number | undefined => {
    const candidates = referred[raw.kind];
    if (candidates === undefined || candidates.length === 0 || raw.pick % 8 === 7) return undefined;
    return at(candidates, raw.pick);
  };

  raws.forEach((raw, i) => {
    let author: MemberId = at(world.actors, raw.author);
    if (decisions.has(raw.kind) && raw.pick % 2 === 0) author = owner;
    // Requests come mostly from keys that are not members yet.
    if (raw.kind === "request.sent") author = at(world.requesters, raw.author);
    const target = at(world.targets, raw.target);
    const channelId = at(world.channels, raw.pick);
    const chatOrOrg = raw.pick % 3 === 0 ? "" : channelId;
    // A referring event mostly follows what it refers to (clock -1..+5, sentAt +0..1499), so that
    // decisions race with each other and with expiry rather than miss their target.
    const referent = targetOf(raw);
    const referentRaw = referent === undefined ? undefined : (raws[referent] as Raw);
    const reference = referent === undefined ? "missing" : idOf(referent);
    let clock = raw.clock;
    let sentAt = raw.sentAt;
    if (referentRaw !== undefined) {
      const moved = referentRaw.clock + (raw.clock % 7n) - 1n;
      clock = moved < 0n ? 0n : moved;
      sentAt = referentRaw.sentAt + (raw.sentAt % 1500);
    }
    const make = <K extends EventType>(type: K, body: EventBodies[K]) =>
      events.push(event(type, { id: idOf(i), author, clock, sentAt }, body));
    switch (raw.kind) {
      case "org.created":
        make("org.created", {
          identity: identity("again"),
          permissions: permissions("no-membership"),
          pinMessageAllMembersEnabled: raw.flag,
          tags: [],
          encrypted: raw.flag,
        });
        break;
      case "org.identity.changed":
        make("org.identity.changed", { identity: identity(`n${raw.pick}`) });
        break;
      case "org.permissions.changed":
        make("org.permissions.changed", {
          permissions: permissions(at(accessModes, raw.pick), {
            ensOnly: raw.flag && raw.pick % 3 === 0,
          }),
        });
        break;
      case "org.admin-settings.changed":
        make("org.admin-settings.changed", { pinMessageAllMembersEnabled: raw.flag });
        break;
      case "org.tags.changed":
        make("org.tags.changed", { tags: [`t${raw.pick % 3}`] });
        break;
      case "org.encryption.changed":
        make("org.encryption.changed", { encrypted: raw.flag });
        break;
      case "channel.created":
        make("channel.created", {
          channelId,
          identity: identity(channelId),
          permissions: permissions(at(accessModes, raw.pick >> 2), { private: raw.flag }),
          categoryId: raw.pick % 2 === 0 ? "" : at(world.categories, raw.pick >> 1),
        });
        break;
      case "channel.edited":
        make("channel.edited", {
          channelId,
          permissions: permissions(at(accessModes, raw.pick >> 2), { private: raw.flag }),
          ...(raw.pick % 2 === 0 ? {} : { categoryId: at(world.categories, raw.pick >> 1) }),
        });
        break;
      case "channel.removed":
        make("channel.removed", { channelId });
        break;
      case "channel.members.changed":
        make("channel.members.changed", { channelId, members: { [target]: raw.roles } });
        break;
      case "category.created":
        make("category.created", { categoryId: at(world.categories, raw.pick), name: "c" });
        break;
      case "category.edited":
        make("category.edited", { categoryId: at(world.categories, raw.pick), name: "c2" });
        break;
      case "category.removed":
        make("category.removed", { categoryId: at(world.categories, raw.pick) });
        break;
      case "request.sent":
        make("request.sent", {
          chatId: raw.pick % 5 === 0 ? "staff" : "",
          ensName: raw.flag ? `${author.slice(0, 4)}.eth` : "",
          displayName: "r",
        });
        break;
      case "request.cancelled":
        // Mostly the requester itself, so that cancels race with decisions.
        if (raw.flag && referentRaw !== undefined)
          author = at(world.requesters, referentRaw.author);
        make("request.cancelled", { requestId: reference });
        break;
      case "request.accepted":
        make("request.accepted", { requestId: reference });
        break;
      case "request.rejected":
        make("request.rejected", { requestId: reference, reason: "no" });
        break;
      case "invitation.issued":
        make("invitation.issued", { invitee: target, chatId: raw.pick % 4 === 0 ? "staff" : "" });
        break;
      case "invitation.used":
        if (raw.flag && referentRaw !== undefined) author = at(world.targets, referentRaw.target);
        make("invitation.used", { invitationId: reference });
        break;
      case "leave.requested":
        make("leave.requested", {});
        break;
      case "leave.resolved":
        make("leave.resolved", { requestId: reference, accepted: raw.flag });
        break;
      case "member.removed":
        make("member.removed", { member: target });
        break;
      case "member.banned":
        make("member.banned", { member: target, deleteMessages: raw.flag });
        break;
      case "member.unbanned":
        make("member.unbanned", { member: target });
        break;
      case "member.roles.changed":
        make("member.roles.changed", { member: target, roles: raw.roles });
        break;
      case "grant.issued":
        make("grant.issued", { member: target, chatId: chatOrOrg });
        break;
      case "grant.revoked":
        make("grant.revoked", { member: target, chatId: chatOrOrg });
        break;
      case "epoch.changed":
        make("epoch.changed", {
          channelId: chatOrOrg,
          epoch: BigInt(raw.pick % 4),
          keyId: raw.pick.toString(16).padStart(16, "0"),
        });
        break;
      case "message.posted":
        make("message.posted", { channelId, text: `t${raw.pick}` });
        break;
      case "message.edited":
        make("message.edited", { messageId: reference, text: `e${raw.pick}` });
        break;
      case "message.deleted":
        make("message.deleted", { messageId: reference });
        break;
      case "message.pinned":
        make("message.pinned", { messageId: reference, pinned: raw.flag });
        break;
    }
  });
  return events;
}

/**
 * A random history of up to `maxLength` events after the base events (creation, two channels, a
 * category).
 */
export function historyArb(maxLength = 45): fc.Arbitrary<OrgEvent[]> {
  return fc
    .tuple(baseArb, fc.array(rawArb, { maxLength, size: "max" }))
    .map(([base, raws]) => build(base, raws));
}

/** A permutation of `events`. */
export function permutationArb<T>(events: readonly T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray([...events], { minLength: events.length, maxLength: events.length });
}
