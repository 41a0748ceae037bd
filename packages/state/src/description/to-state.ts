/**
 * Description → state: the base state a newcomer (or a member catching up) starts from, read
 * totally from a (reassembled) description.
 *
 * @module
 */

import { isChatId, isMemberId, type OrganizationDescription, wireLimits } from "@orgchat/wire";
import { Map as ImmutableMap, List } from "immutable";
import type { Identity, MemberId, Permissions, Role } from "../events.js";
import { emptyIdentity, initialState } from "../initial-state.js";
import type { Ban, Category, Channel, Member, OrgState } from "../state.js";
import { TableMap } from "../table-map.js";
import { fitsUtf8, isRecord, isText, isUint64 } from "../wire/checks.js";
import { identityFromWire } from "../wire/identity.js";
import { permissionsFromWire, rolesFromWire, unknownAccessFallback } from "../wire/permissions.js";
import type { OrganizationDescriptionInit } from "./pages.js";

const fallbackPermissions: Permissions = Object.freeze({
  access: unknownAccessFallback,
  ensOnly: false,
  private: false,
});

function readPermissions(value: unknown): Permissions {
  const permissions = permissionsFromWire(value, { unknownEnums: "fallback" });
  return permissions.ok ? permissions.value : fallbackPermissions;
}

function readIdentity(value: unknown): Identity {
  const identity = identityFromWire(value);
  return identity.ok ? identity.value : emptyIdentity;
}

/**
 * A wire member's display name: "" when absent or not a name the wire allows (a description built
 * in memory is not checked by the codec).
 */
export function nameOf(member: unknown): string {
  const name = isRecord(member) ? member.displayName : undefined;
  return isText(name, wireLimits.maxNameBytes) ? name : "";
}

/** One shared `List` per distinct wire role list. */
export function roleDecoder(): (member: unknown) => List<Role> {
  const cache = new Map<string, List<Role>>();
  return (member) => {
    const wire = isRecord(member) ? member.roles : undefined;
    if (!Array.isArray(wire) || wire.length === 0) return List();
    const read = () => {
      const roles = rolesFromWire(wire, { unknownEnums: "fallback" });
      return List(roles.ok ? roles.value : []);
    };
    // Only lists of numbers are cached: `join` on arbitrary values could throw.
    if (!wire.every((value) => typeof value === "number")) return read();
    const key = wire.join(",");
    let roles = cache.get(key);
    if (roles === undefined) {
      roles = read();
      cache.set(key, roles);
    }
    return roles;
  };
}

/**
 * The base state of a description: what a newcomer (or a member catching up) starts from before
 * applying later events.
 *
 * Total on remote input: it never throws for any `description` value. Entries that break the rules
 * of docs/PROTOCOL.md (which `decodeOrganizationDescription` already refuses) are skipped; enum
 * values this version does not know take the documented fallbacks (unknown roles dropped, an
 * unknown access mode read as `invitation-only`); absent messages read as proto3 defaults.
 *
 * What the description does not carry is set as follows: members' `joinedAt` and bans' `clock` are
 * the description's clock, bans' `deleteMessages` is false; requests, invitations, grants, epochs,
 * messages and applied ids are empty. The organization key is always a member (added without roles
 * if the description omits it) and never banned; a key both listed and banned is banned only.
 *
 * @param description - a (reassembled) description, e.g. from {@link assembleDescription}
 * @param organizationId - the organization key as a member id
 * @returns a state with `created: true` and the description's clock
 * @throws {RangeError} when `organizationId` is not a member id (a caller's mistake, not remote
 *   input)
 * @example
 * ```ts
 * const assembled = assembleDescription({ header, pages });
 * if (assembled.ok) state = stateFromDescription(assembled.description, orgId);
 * ```
 */
export function stateFromDescription(
  description: OrganizationDescription | OrganizationDescriptionInit,
  organizationId: MemberId,
): OrgState {
  // Validates `organizationId` (the same RangeError) and supplies what a description does not carry.
  const empty = initialState(organizationId);
  const d: Record<string, unknown> = isRecord(description) ? description : {};
  const clock = isUint64(d.clock) ? d.clock : 0n;
  const decodeRoles = roleDecoder();

  const banned = ImmutableMap<MemberId, Ban>().withMutations((map) => {
    if (!Array.isArray(d.banList)) return;
    for (const member of d.banList) {
      if (typeof member !== "string" || !isMemberId(member) || member === organizationId) continue;
      map.set(member, { member, clock, deleteMessages: false });
    }
  });

  const table = new Map<MemberId, Member>();
  if (isRecord(d.members)) {
    for (const [id, member] of Object.entries(d.members)) {
      if (!isMemberId(id) || banned.has(id)) continue;
      table.set(id, {
        id,
        roles: decodeRoles(member),
        joinedAt: clock,
        displayName: nameOf(member),
      });
    }
  }
  if (!table.has(organizationId)) {
    table.set(organizationId, {
      id: organizationId,
      roles: List(),
      joinedAt: clock,
      displayName: "",
    });
  }
  const members = TableMap.fromTable(table);

  const channels = ImmutableMap<string, Channel>().withMutations((map) => {
    if (!isRecord(d.chats)) return;
    for (const [id, chat] of Object.entries(d.chats)) {
      if (!isChatId(id) || !isRecord(chat)) continue;
      const roster = ImmutableMap<MemberId, List<Role>>().withMutations((rosterMap) => {
        if (!isRecord(chat.members)) return;
        for (const [member, roles] of Object.entries(chat.members)) {
          if (isMemberId(member)) rosterMap.set(member, decodeRoles(roles));
        }
      });
      const categoryId = chat.categoryId;
      map.set(id, {
        id,
        identity: readIdentity(chat.identity),
        permissions: readPermissions(chat.permissions),
        categoryId: typeof categoryId === "string" && isChatId(categoryId) ? categoryId : "",
        members: roster,
      });
    }
  });

  const categories = ImmutableMap<string, Category>().withMutations((map) => {
    if (!isRecord(d.categories)) return;
    for (const [id, category] of Object.entries(d.categories)) {
      if (!isChatId(id) || !isRecord(category)) continue;
      const name = category.name;
      map.set(id, {
        id,
        name: typeof name === "string" && fitsUtf8(name, wireLimits.maxNameBytes) ? name : "",
      });
    }
  });

  const tags = Array.isArray(d.tags)
    ? d.tags
        .filter(
          (tag): tag is string => typeof tag === "string" && fitsUtf8(tag, wireLimits.maxTagBytes),
        )
        .slice(0, wireLimits.maxTags)
    : [];
  const adminSettings = d.adminSettings;

  return {
    ...empty,
    created: true,
    clock,
    identity: readIdentity(d.identity),
    permissions: readPermissions(d.permissions),
    pinMessageAllMembersEnabled:
      isRecord(adminSettings) && adminSettings.pinMessageAllMembersEnabled === true,
    tags: List(tags),
    encrypted: d.encrypted === true,
    members,
    banned,
    channels,
    categories,
  };
}
