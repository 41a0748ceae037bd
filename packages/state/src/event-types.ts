/**
 * Every event type once, with what the rules need to know about it: who may author it and whether
 * an organization description carries its whole effect. `eventTypes`, the owner-only set of the
 * buffer and `descriptionCoveredTypes` of the log are all read from this one table.
 *
 * @module
 */

import type { EventType } from "./events.js";

interface EventTypeTraits {
  /** Only the organization key may author it (`byOwner` in the reducer, and creation). */
  readonly ownerOnly: boolean;
  /** A description with a clock ≥ the event's carries its whole effect (see `OrgLog.rebase`). */
  readonly described: boolean;
}

const owner = { ownerOnly: true, described: true } as const;
const ownerUndescribed = { ownerOnly: true, described: false } as const;
const anyone = { ownerOnly: false, described: false } as const;
const anyoneDescribed = { ownerOnly: false, described: true } as const;

/** The table, in the stable order `eventTypes` lists (the `satisfies` makes it exhaustive). */
const eventTypeTable = {
  "org.created": owner,
  "org.identity.changed": owner,
  "org.permissions.changed": owner,
  "org.admin-settings.changed": owner,
  "org.tags.changed": owner,
  "org.encryption.changed": owner,
  "channel.created": owner,
  "channel.edited": owner,
  "channel.removed": owner,
  "channel.members.changed": owner,
  "category.created": owner,
  "category.edited": owner,
  "category.removed": owner,
  "request.sent": anyone,
  "request.cancelled": anyone,
  "request.accepted": anyone,
  "request.rejected": anyone,
  "invitation.issued": anyone,
  "invitation.used": anyone,
  "leave.requested": anyone,
  "leave.resolved": anyone,
  "member.removed": anyoneDescribed,
  "member.banned": anyoneDescribed,
  "member.unbanned": owner,
  "member.roles.changed": anyoneDescribed,
  "grant.issued": ownerUndescribed,
  "grant.revoked": ownerUndescribed,
  "epoch.changed": ownerUndescribed,
  "message.posted": anyone,
  "message.edited": anyone,
  "message.deleted": anyone,
  "message.pinned": anyone,
} as const satisfies { readonly [K in EventType]: EventTypeTraits };

type Table = typeof eventTypeTable;

/** The event types a description covers, as a type. */
export type DescriptionCoveredType = {
  [K in EventType]: Table[K]["described"] extends true ? K : never;
}[EventType];

const allTypes = Object.keys(eventTypeTable) as EventType[];

/**
 * Every event type, in a stable order (for tests and exhaustive tables).
 *
 * @example
 * ```ts
 * for (const type of eventTypes) console.log(type); // "org.created", "org.identity.changed", …
 * ```
 */
export const eventTypes: readonly EventType[] = Object.freeze(allTypes);

/**
 * Event types whose whole effect an organization description carries (identity, permissions,
 * admin settings, tags, the encrypted flag, members and their roles, the ban list, channels with
 * their rosters, categories). A description with clock C covers every event of these types with a
 * clock ≤ C, whoever authored it: `OrgLog.rebase` drops them, and the log refuses them
 * (`conflict`) afterwards. Requests, invitations, leave requests, grants, epochs and messages are
 * not in a description: their events are kept and re-applied on the description's state.
 */
export const descriptionCoveredTypes: readonly DescriptionCoveredType[] = Object.freeze(
  allTypes.filter((type): type is DescriptionCoveredType => eventTypeTable[type].described),
);

const ownerOnlyTypes: ReadonlySet<string> = new Set(
  allTypes.filter((type) => eventTypeTable[type].ownerOnly),
);
const coveredTypes: ReadonlySet<string> = new Set(descriptionCoveredTypes);

/**
 * Whether only the organization key may author events of `type` (false for any other string: the
 * check runs on events that may be malformed).
 */
export function isOwnerOnlyType(type: string): boolean {
  return ownerOnlyTypes.has(type);
}

/** Whether a description carries the whole effect of events of `type` (false for any other string). */
export function isDescriptionCoveredType(type: string): boolean {
  return coveredTypes.has(type);
}
