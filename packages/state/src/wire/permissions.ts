/**
 * Roles, access modes and permissions ↔ their spec 55 wire values (`OrganizationMember.Roles`,
 * `OrganizationPermissions`). Enums are open on the wire: unknown values are refused, or read with
 * the documented fallbacks in `"fallback"` mode (see `./index.ts`).
 *
 * @module
 */

import {
  OrganizationMember_Roles,
  OrganizationPermissions_Access,
  wireLimits,
} from "@orgchat/wire";
import type { AccessMode, Permissions, Role } from "../events.js";
import {
  type FromWireInit,
  isRecord,
  malformed,
  ok,
  type WireMappingResult,
  type WireMessageInit,
} from "./checks.js";

const roleWire: Readonly<Record<Role, OrganizationMember_Roles>> = {
  all: OrganizationMember_Roles.ROLE_ALL,
  "manage-users": OrganizationMember_Roles.ROLE_MANAGE_USERS,
  "moderate-content": OrganizationMember_Roles.ROLE_MODERATE_CONTENT,
};

const roleByWire: ReadonlyMap<unknown, Role> = new Map(
  (Object.entries(roleWire) as [Role, number][]).map(([role, wire]) => [wire, role]),
);

/**
 * The wire value of a role (`OrganizationMember.Roles`).
 *
 * @example
 * ```ts
 * roleToWire("manage-users"); // OrganizationMember_Roles.ROLE_MANAGE_USERS (2)
 * ```
 */
export function roleToWire(role: Role): OrganizationMember_Roles {
  return roleWire[role];
}

/**
 * The role of a wire value. `UNKNOWN_ROLE` and values this version does not know are `malformed`.
 *
 * @param value - an `OrganizationMember.Roles` value (any value at run time)
 * @returns the role, or `malformed`; never throws
 */
export function roleFromWire(value: unknown): WireMappingResult<Role> {
  const role = roleByWire.get(value);
  return role === undefined ? malformed("role") : ok(role);
}

/** The wire values of a list of roles, in order. */
export function rolesToWire(roles: Iterable<Role>): OrganizationMember_Roles[] {
  const out: OrganizationMember_Roles[] = [];
  for (const role of roles) out.push(roleWire[role]);
  return out;
}

/**
 * The roles of a wire `roles` list, in order. In `"fallback"` mode an unknown value is dropped (a
 * role this version does not understand grants nothing); in `"refuse"` mode it is `malformed`.
 *
 * @param values - a repeated `OrganizationMember.Roles` (any value at run time)
 * @param init - how to read unknown values
 * @returns the roles, or `malformed`; never throws
 */
export function rolesFromWire(values: unknown, init?: FromWireInit): WireMappingResult<Role[]> {
  if (!Array.isArray(values) || values.length > wireLimits.maxRoles) return malformed("roles");
  const fallback = init?.unknownEnums === "fallback";
  const roles: Role[] = [];
  for (const value of values) {
    const role = roleByWire.get(value);
    if (role !== undefined) roles.push(role);
    else if (!fallback) return malformed("roles");
  }
  return ok(roles);
}

const accessWire: Readonly<Record<AccessMode, OrganizationPermissions_Access>> = {
  "no-membership": OrganizationPermissions_Access.NO_MEMBERSHIP,
  "invitation-only": OrganizationPermissions_Access.INVITATION_ONLY,
  "on-request": OrganizationPermissions_Access.ON_REQUEST,
};

const accessByWire: ReadonlyMap<unknown, AccessMode> = new Map(
  (Object.entries(accessWire) as [AccessMode, number][]).map(([access, wire]) => [wire, access]),
);

/**
 * What an access mode this version does not know reads as in `"fallback"` mode: the most
 * restrictive one, so that nobody joins by a rule we cannot check.
 */
export const unknownAccessFallback: AccessMode = "invitation-only";

/** The wire value of an access mode (`OrganizationPermissions.Access`). */
export function accessToWire(access: AccessMode): OrganizationPermissions_Access {
  return accessWire[access];
}

/**
 * The access mode of a wire value. `UNKNOWN_ACCESS` and unknown values are `malformed`, or
 * {@link unknownAccessFallback} in `"fallback"` mode.
 *
 * @returns the access mode, or `malformed`; never throws
 */
export function accessFromWire(value: unknown, init?: FromWireInit): WireMappingResult<AccessMode> {
  const access = accessByWire.get(value);
  if (access !== undefined) return ok(access);
  return init?.unknownEnums === "fallback" ? ok(unknownAccessFallback) : malformed("access");
}

/** Permissions as an `OrganizationPermissions` init. */
export function permissionsToWire(
  permissions: Permissions,
): WireMessageInit<"OrganizationPermissions"> {
  return {
    ensOnly: permissions.ensOnly,
    private: permissions.private,
    access: accessWire[permissions.access],
  };
}

/**
 * The permissions of a wire `OrganizationPermissions`. An absent message (proto3: all defaults)
 * reads as `UNKNOWN_ACCESS`, so it is `malformed`, or {@link unknownAccessFallback} with
 * `"fallback"`.
 *
 * @returns the permissions, or `malformed`; never throws
 */
export function permissionsFromWire(
  value: unknown,
  init?: FromWireInit,
): WireMappingResult<Permissions> {
  const message = value === undefined ? {} : value;
  if (!isRecord(message)) return malformed("permissions");
  const ensOnly = message.ensOnly ?? false;
  const isPrivate = message.private ?? false;
  if (typeof ensOnly !== "boolean") return malformed("permissions.ensOnly");
  if (typeof isPrivate !== "boolean") return malformed("permissions.private");
  const access = accessFromWire(message.access ?? 0, init);
  if (!access.ok) return malformed("permissions.access");
  return ok({ access: access.value, ensOnly, private: isPrivate });
}
