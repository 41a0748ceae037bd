/**
 * Description deltas (docs/PROTOCOL.md, "Description deltas"): what changed between two
 * descriptions, the digest that lets a receiver check it converged, and applying a delta to the
 * description it names.
 *
 * The digest is incremental: SHA-256 over a domain string, the SHA-256 of the header content (the
 * description without rosters, as a header page carries it) and the sum, modulo 2^256, of the
 * SHA-256 of every roster entry. A delta updates the sum by the entries it changes, so building or
 * applying one costs what it changes (plus the header), not the size of the organization.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "@orgchat/base";
import {
  type ChannelRosterChange,
  type DescriptionDelta,
  type encodeDescriptionDelta,
  encodeOrganizationDescription,
  type OrganizationMember,
  wireLimits,
} from "@orgchat/wire";
import { Map as ImmutableMap, List } from "immutable";
import { diffMap } from "../diff.js";
import type { MemberId, Role } from "../events.js";
import type { Channel, Member, OrgState } from "../state.js";
import type { MapView } from "../table-map.js";
import { rolesToWire } from "../wire/permissions.js";
import { headerInit, type MemberInit, memberEncoder, roleEncoder } from "./describe.js";
import { nameOf, roleDecoder, stateFromDescription } from "./to-state.js";

/** A `DescriptionDelta` as `encodeDescriptionDelta` accepts it. */
export type DescriptionDeltaInit = Parameters<typeof encodeDescriptionDelta>[0];

/**
 * A description as a state, with its digest and the running sum of its roster entries' hashes:
 * what {@link buildDescriptionDelta} and {@link applyDescriptionDelta} update incrementally.
 */
export interface DescribedState {
  readonly state: OrgState;
  /** Sum, modulo 2^256, of the SHA-256 of every roster entry (members, bans, channel rosters). */
  readonly rosterSum: bigint;
  /** The description's digest (32 bytes). */
  readonly digest: Uint8Array;
}

const modulus = 1n << 256n;
const domain = new TextEncoder().encode("orgchat/v1 description digest");
const encoder = new TextEncoder();

/** The sections of the rosters, in canonical order (the first byte of an entry's hashed bytes). */
const Section = { Member: 0, Ban: 1, ChannelMember: 2 } as const;
type Section = (typeof Section)[keyof typeof Section];

/**
 * The hash of one roster entry, as a number: SHA-256 of the section byte, the channel id (empty
 * outside channel rosters), 0x00, the member id, 0x00, and the wire role numbers joined by commas;
 * then, for a member with a display name, 0x00 and the name (UTF-8).
 */
function entryHash(
  section: Section,
  chatId: string,
  id: MemberId,
  roles: List<Role>,
  displayName = "",
): bigint {
  const named = displayName === "" ? "" : `\u0000${displayName}`;
  const text = `${chatId}\u0000${id}\u0000${rolesToWire(roles).join(",")}${named}`;
  const body = encoder.encode(text);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = section;
  bytes.set(body, 1);
  return BigInt(`0x${toHex(sha256(bytes))}`);
}

/** A `members` entry's hash. */
function memberHash(id: MemberId, member: Pick<Member, "roles" | "displayName">): bigint {
  return entryHash(Section.Member, "", id, member.roles, member.displayName);
}

const noRoles = List<Role>();
const noRoster = ImmutableMap<MemberId, List<Role>>();

function digestOf(state: OrgState, rosterSum: bigint): Uint8Array {
  const header = sha256(encodeOrganizationDescription(headerInit(state)));
  const sum = new Uint8Array(32);
  let rest = rosterSum;
  for (let i = 31; i >= 0; i--) {
    sum[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  const input = new Uint8Array(domain.length + 64);
  input.set(domain, 0);
  input.set(header, domain.length);
  input.set(sum, domain.length + 32);
  return sha256(input);
}

function channelSum(channel: Channel): bigint {
  let sum = 0n;
  for (const [id, roles] of channel.members) {
    sum += entryHash(Section.ChannelMember, channel.id, id, roles);
  }
  return sum;
}

/**
 * A state with its digest: sums every roster entry's hash, so O(members + bans + channel rosters);
 * once per description a receiver reads whole, or per start.
 *
 * @param state - the description's state (an owner's state, or one from `stateFromDescription`)
 * @returns the state, its roster sum and its digest
 */
export function describedState(state: OrgState): DescribedState {
  let sum = 0n;
  for (const [id, member] of state.members) sum += memberHash(id, member);
  for (const id of state.banned.keys()) sum += entryHash(Section.Ban, "", id, noRoles);
  for (const channel of state.channels.values()) sum += channelSum(channel);
  const rosterSum = ((sum % modulus) + modulus) % modulus;
  return { state, rosterSum, digest: digestOf(state, rosterSum) };
}

/**
 * Calls `onSet` for every entry of `next` absent from or different in `from`, and `onDelete` for
 * every key of `from` absent from `next`: `diffMap` (../diff.ts), which skips the parts of the two
 * persistent maps they share, so a delta after an add flush costs what the flush changed, not a walk
 * of every member (~6 ms at 10,000 members per publication before). Entries whose values are
 * different objects but `same` are not reported.
 */
function diffMaps<V>(
  from: ImmutableMap<string, V> | MapView<V>,
  next: ImmutableMap<string, V> | MapView<V>,
  same: (a: V, b: V) => boolean,
  onSet: (key: string, value: V, old: V | undefined) => void,
  onDelete: (key: string, old: V) => void,
): void {
  diffMap(from, next, {
    added: (key, value) => onSet(key, value, undefined),
    removed: (key, old) => onDelete(key, old),
    changed: (key, old, value) => {
      if (!same(old, value)) onSet(key, value, old);
    },
  });
}

function sameRoles(a: List<Role>, b: List<Role>): boolean {
  return a === b || a.equals(b);
}

function headerBytesWithoutClock(state: OrgState): Uint8Array {
  return encodeOrganizationDescription(headerInit({ ...state, clock: 0n }));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What {@link buildDescriptionDelta} returns. */
export interface BuiltDescriptionDelta {
  /** The delta, for `encodeDescriptionDelta` (to be sealed at `next.clock`). */
  readonly delta: DescriptionDeltaInit;
  /** Entries it carries (members, bans, unbans, channel roster entries). */
  readonly entries: number;
  /** The resulting description, the base of the next delta. */
  readonly described: DescribedState;
}

/**
 * The delta from one description to the next. Compares the rosters by reference first (the
 * states' persistent maps share what did not change), so its cost is a walk of the members map
 * plus what changed; the header content is compared as encoded bytes.
 *
 * @param base - the description the delta applies to
 * @param next - the resulting state; its clock must be above the base's
 * @returns the delta, its entry count, and `next` with its digest; `undefined` when it would carry
 *   more than `wireLimits.maxDescriptionDeltaEntries` entries (publish a full description instead)
 * @throws {RangeError} when `next.clock` is not above `base.state.clock`
 */
export function buildDescriptionDelta(
  base: DescribedState,
  next: OrgState,
): BuiltDescriptionDelta | undefined {
  const from = base.state;
  if (next.clock <= from.clock) {
    throw new RangeError(
      `next.clock: must be above the base clock ${from.clock}, got ${next.clock}`,
    );
  }
  const encodeRoles = roleEncoder();
  const encodeMember = memberEncoder();
  let sum = base.rosterSum;
  let entries = 0;
  const members: Record<string, MemberInit> = {};
  const removedMembers: string[] = [];
  const banned: string[] = [];
  const unbanned: string[] = [];
  const chats: { chatId: string; members: Record<string, MemberInit>; removed: string[] }[] = [];

  diffMaps(
    from.banned,
    next.banned,
    () => true,
    (id, _ban, old) => {
      if (old !== undefined) return;
      banned.push(id);
      sum += entryHash(Section.Ban, "", id, noRoles);
    },
    (id) => {
      unbanned.push(id);
      sum -= entryHash(Section.Ban, "", id, noRoles);
    },
  );
  diffMaps(
    from.members,
    next.members,
    (a, b) => sameRoles(a.roles, b.roles) && a.displayName === b.displayName,
    (id, member, old) => {
      members[id] = encodeMember(member);
      if (old !== undefined) sum -= memberHash(id, old);
      sum += memberHash(id, member);
    },
    (id, old) => {
      removedMembers.push(id);
      sum -= memberHash(id, old);
    },
  );
  if (from.channels !== next.channels) {
    for (const [chatId, channel] of next.channels) {
      const old = from.channels.get(chatId);
      if (old === channel || old?.members === channel.members) continue;
      const change = { chatId, members: {} as Record<string, MemberInit>, removed: [] as string[] };
      diffMaps(
        old?.members ?? noRoster,
        channel.members,
        sameRoles,
        (id, roles, had) => {
          change.members[id] = encodeRoles(roles);
          if (had !== undefined) sum -= entryHash(Section.ChannelMember, chatId, id, had);
          sum += entryHash(Section.ChannelMember, chatId, id, roles);
        },
        (id, had) => {
          change.removed.push(id);
          sum -= entryHash(Section.ChannelMember, chatId, id, had);
        },
      );
      const size = Object.keys(change.members).length + change.removed.length;
      if (size > 0) chats.push(change);
      entries += size;
    }
    // A channel gone from the header takes its roster with it.
    for (const [chatId, old] of from.channels) {
      if (!next.channels.has(chatId)) sum -= channelSum(old);
    }
  }
  entries += Object.keys(members).length + removedMembers.length + banned.length + unbanned.length;
  if (entries > wireLimits.maxDescriptionDeltaEntries) return undefined;
  const headerChanged = !equalBytes(headerBytesWithoutClock(from), headerBytesWithoutClock(next));
  const rosterSum = ((sum % modulus) + modulus) % modulus;
  const described: DescribedState = { state: next, rosterSum, digest: digestOf(next, rosterSum) };
  const delta: DescriptionDeltaInit = {
    clock: next.clock,
    baseClock: from.clock,
    baseDigest: base.digest,
    digest: described.digest,
    ...(headerChanged ? { header: headerInit(next) } : {}),
    members,
    removedMembers,
    banned,
    unbanned,
    chats,
  };
  return { delta, entries, described };
}

/** Why a delta did not apply. */
export type ApplyDescriptionDeltaFailure =
  /** It names another description than `base` (clock or digest): read back to a full one. */
  | "base-mismatch"
  /** Applied, the result's digest is not the one it announces: read back to a full one. */
  | "digest-mismatch";

/** The outcome of {@link applyDescriptionDelta}; never a throw on a decoded delta. */
export type ApplyDescriptionDeltaResult =
  | { readonly ok: true; readonly described: DescribedState }
  | { readonly ok: false; readonly reason: ApplyDescriptionDeltaFailure };

/**
 * Applies a (decoded, signature-checked) delta to the description it names: the header first
 * (channels absent from it lose their rosters; new ones start empty), then unbans, bans (only the
 * ban list: a banned member's removals are listed as removals), members set and removed, channel
 * rosters. Removing an entry that is absent changes nothing; the digest decides.
 *
 * Members it adds join at the delta's clock, and bans it adds are of the delta's clock (as
 * `stateFromDescription` does for a whole description).
 *
 * @param base - the description the receiver holds
 * @param delta - a delta from `decodeDescriptionDelta` (or an opened envelope)
 * @param organizationId - the organization key as a member id
 * @returns the resulting description, or why not (`base-mismatch`, `digest-mismatch`)
 */
export function applyDescriptionDelta(
  base: DescribedState,
  delta: DescriptionDelta,
  organizationId: MemberId,
): ApplyDescriptionDeltaResult {
  const from = base.state;
  if (delta.baseClock !== from.clock || !equalBytes(delta.baseDigest, base.digest)) {
    return { ok: false, reason: "base-mismatch" };
  }
  const clock = delta.clock;
  const decodeRoles = roleDecoder();
  let sum = base.rosterSum;
  let channels = from.channels;
  let header: Partial<OrgState> = {};
  if (delta.header !== undefined) {
    const read = stateFromDescription(delta.header, organizationId);
    header = {
      identity: read.identity,
      permissions: read.permissions,
      pinMessageAllMembersEnabled: read.pinMessageAllMembersEnabled,
      tags: read.tags,
      encrypted: read.encrypted,
      categories: read.categories,
    };
    channels = read.channels.map((channel, id) => {
      const old = from.channels.get(id);
      return old === undefined ? channel : { ...channel, members: old.members };
    });
    for (const [id, old] of from.channels) if (!channels.has(id)) sum -= channelSum(old);
  }
  let members = from.members;
  let banned = from.banned;
  const removeMember = (id: MemberId) => {
    const old = members.get(id);
    if (old === undefined) return;
    sum -= memberHash(id, old);
    members = members.delete(id);
  };
  for (const id of delta.unbanned) {
    if (!banned.has(id)) continue;
    sum -= entryHash(Section.Ban, "", id, noRoles);
    banned = banned.delete(id);
  }
  for (const id of delta.banned) {
    if (!banned.has(id)) {
      sum += entryHash(Section.Ban, "", id, noRoles);
      banned = banned.set(id, { member: id, clock, deleteMessages: false });
    }
  }
  for (const [id, wire] of Object.entries(delta.members) as [MemberId, OrganizationMember][]) {
    const member = { id, roles: decodeRoles(wire), displayName: nameOf(wire) };
    const old = members.get(id);
    if (old !== undefined) sum -= memberHash(id, old);
    sum += memberHash(id, member);
    members = members.set(id, { ...member, joinedAt: old?.joinedAt ?? clock });
  }
  for (const id of delta.removedMembers) removeMember(id);
  for (const change of delta.chats as ChannelRosterChange[]) {
    const channel = channels.get(change.chatId);
    if (channel === undefined) return { ok: false, reason: "digest-mismatch" };
    let roster = channel.members;
    for (const [id, wire] of Object.entries(change.members)) {
      const roles = decodeRoles(wire);
      const had = roster.get(id);
      if (had !== undefined) sum -= entryHash(Section.ChannelMember, change.chatId, id, had);
      sum += entryHash(Section.ChannelMember, change.chatId, id, roles);
      roster = roster.set(id, roles);
    }
    for (const id of change.removed) {
      const had = roster.get(id);
      if (had === undefined) continue;
      sum -= entryHash(Section.ChannelMember, change.chatId, id, had);
      roster = roster.delete(id);
    }
    channels = channels.set(change.chatId, { ...channel, members: roster });
  }
  const state: OrgState = { ...from, ...header, clock, members, banned, channels };
  const rosterSum = ((sum % modulus) + modulus) % modulus;
  const digest = digestOf(state, rosterSum);
  if (!equalBytes(digest, delta.digest)) return { ok: false, reason: "digest-mismatch" };
  return { ok: true, described: { state, rosterSum, digest } };
}
