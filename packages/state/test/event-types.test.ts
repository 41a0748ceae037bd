import { describe, expect, it } from "vitest";
import {
  descriptionCoveredTypes,
  eventTypes,
  isDescriptionCoveredType,
  isOwnerOnlyType,
} from "../src/event-types.js";

// The lists as they were written out before they were read from one table: the table must keep
// every membership and the order.
const organization = [
  "org.created",
  "org.identity.changed",
  "org.permissions.changed",
  "org.admin-settings.changed",
  "org.tags.changed",
  "org.encryption.changed",
  "channel.created",
  "channel.edited",
  "channel.removed",
  "channel.members.changed",
  "category.created",
  "category.edited",
  "category.removed",
];

describe("event types (one table)", () => {
  it("lists every event type once, in the stable order", () => {
    expect(eventTypes).toEqual([
      ...organization,
      "request.sent",
      "request.cancelled",
      "request.accepted",
      "request.rejected",
      "invitation.issued",
      "invitation.used",
      "leave.requested",
      "leave.resolved",
      "member.removed",
      "member.banned",
      "member.unbanned",
      "member.roles.changed",
      "grant.issued",
      "grant.revoked",
      "epoch.changed",
      "message.posted",
      "message.edited",
      "message.deleted",
      "message.pinned",
    ]);
    expect(Object.isFrozen(eventTypes)).toBe(true);
  });

  it("marks exactly the owner-only types", () => {
    expect(eventTypes.filter(isOwnerOnlyType)).toEqual([
      ...organization,
      "member.unbanned",
      "grant.issued",
      "grant.revoked",
      "epoch.changed",
    ]);
  });

  it("marks exactly the types a description covers", () => {
    const covered = [
      ...organization,
      "member.removed",
      "member.banned",
      "member.unbanned",
      "member.roles.changed",
    ];
    expect(descriptionCoveredTypes).toEqual(covered);
    expect(eventTypes.filter(isDescriptionCoveredType)).toEqual(covered);
  });

  it("answers false for strings that are not event types", () => {
    for (const type of ["", "__proto__", "constructor", "toString", "org.created "]) {
      expect(isOwnerOnlyType(type)).toBe(false);
      expect(isDescriptionCoveredType(type)).toBe(false);
    }
  });
});
