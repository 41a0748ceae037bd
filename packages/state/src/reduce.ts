import { Map as ImmutableMap, List } from "immutable";
import {
  grantKey,
  hasChannelAccess,
  levelOf,
  mayModerateContent,
  normalizeRoles,
  rankLevels,
  roleLevel,
} from "./authorization.js";
import { jumpsTooFar } from "./clock.js";
import type { EventType, MemberId, OrgEvent, Rejection, RejectionReason, Role } from "./events.js";
import { type Changes, dropMember, type Handler } from "./membership.js";
import {
  invitationIssued,
  invitationUsed,
  leaveRequested,
  leaveResolved,
  rejectPendingOf,
  requestAccepted,
  requestCancelled,
  requestRejected,
  requestSent,
  revokeInvitationsOf,
} from "./requests.js";
import { defaultReducerConfig, type OrgState, type ReducerConfig } from "./state.js";
import { isOrgEvent, rejectionId } from "./validate.js";

/** What applying one event gives: the next state, and why the event was refused if it was. */
export interface ReduceResult {
  /** The state after the event (the same object when the event was rejected). */
  readonly state: OrgState;
  /** Present when the event was refused; the state is then unchanged. */
  readonly rejected?: Rejection;
}

// -------------------------------------------------------------------------------------------------
// Owner-only rules: organization settings, channels, categories, grants, epochs, unban.

function byOwner<K extends EventType>(rule: Handler<K>): Handler<K> {
  return (state, event, config) =>
    event.author === state.organizationId ? rule(state, event, config) : "unauthorized";
}

const channelRemoved: Handler<"channel.removed"> = (state, event) => {
  const channelId = event.body.channelId;
  if (!state.channels.has(channelId)) return "unknown-target";
  // The channel's messages go with it (they are not kept as deleted): nothing can refer to them any
  // more, and a channel re-created with the same id starts empty.
  return {
    channels: state.channels.delete(channelId),
    messages: state.messages.filter((message) => message.channelId !== channelId),
    grants: state.grants.filter((grant) => grant.chatId !== channelId),
    epochs: state.epochs.delete(channelId),
  };
};

/**
 * The rank level of an event's author acting on `body.member`, or why it may not: it must be a
 * member, of at least `minimum`, and the member it acts on may not be the organization key.
 */
function moderatorLevel(
  state: OrgState,
  event: { readonly author: MemberId; readonly body: { readonly member: MemberId } },
  minimum: number,
): number | RejectionReason {
  if (!state.members.has(event.author)) return "unknown-member";
  const level = levelOf(state, event.author);
  if (level < minimum) return "unauthorized";
  if (event.body.member === state.organizationId) return "unauthorized";
  return level;
}

const memberBanned: Handler<"member.banned"> = (state, event) => {
  const actor = event.author;
  const level = moderatorLevel(state, event, rankLevels.manager);
  if (typeof level === "string") return level;
  const target = event.body.member;
  if (state.banned.has(target)) return "conflict";
  if (actor !== state.organizationId && levelOf(state, target) >= level) return "unauthorized";
  const changes: Changes = state.members.has(target) ? dropMember(state, target) : {};
  changes.banned = state.banned.set(target, {
    member: target,
    clock: event.clock,
    deleteMessages: event.body.deleteMessages,
  });
  changes.requests = rejectPendingOf(state, target, event);
  changes.invitations = revokeInvitationsOf(state, target, event.clock);
  if (event.body.deleteMessages) {
    changes.messages = state.messages.withMutations((messages) => {
      for (const message of state.messages.values()) {
        if (message.author === target && !message.deleted) {
          messages.set(message.id, { ...message, text: "", deleted: true, deletedBy: actor });
        }
      }
    });
  }
  return changes;
};

const memberRolesChanged: Handler<"member.roles.changed"> = (state, event) => {
  const actor = event.author;
  const level = moderatorLevel(state, event, rankLevels.admin);
  if (typeof level === "string") return level;
  const target = event.body.member;
  const record = state.members.get(target);
  if (record === undefined) return "unknown-target";
  if (actor !== state.organizationId) {
    if (levelOf(state, target) >= level) return "unauthorized";
    if (event.body.roles.some((role: Role) => roleLevel(role) >= level)) return "unauthorized";
  }
  return {
    members: state.members.set(target, { ...record, roles: normalizeRoles(event.body.roles) }),
  };
};

const memberRemoved: Handler<"member.removed"> = (state, event) => {
  const actor = event.author;
  const level = moderatorLevel(state, event, rankLevels.manager);
  if (typeof level === "string") return level;
  const target = event.body.member;
  if (!state.members.has(target)) return "unknown-target";
  if (actor !== state.organizationId && levelOf(state, target) >= level) return "unauthorized";
  return dropMember(state, target);
};

// -------------------------------------------------------------------------------------------------
// Channel messages

const messagePosted: Handler<"message.posted"> = (state, event) => {
  if (!state.members.has(event.author)) return "unknown-member";
  const channel = state.channels.get(event.body.channelId);
  if (channel === undefined) return "unknown-target";
  if (!hasChannelAccess(state, event.author, channel)) return "unauthorized";
  return {
    messages: state.messages.set(event.id, {
      id: event.id,
      channelId: channel.id,
      author: event.author,
      clock: event.clock,
      text: event.body.text,
      deleted: false,
      pinned: false,
    }),
  };
};

const messageEdited: Handler<"message.edited"> = (state, event) => {
  if (!state.members.has(event.author)) return "unknown-member";
  const message = state.messages.get(event.body.messageId);
  if (message === undefined) return "unknown-target";
  if (message.author !== event.author) return "unauthorized";
  if (message.deleted) return "conflict";
  return {
    messages: state.messages.set(message.id, {
      ...message,
      text: event.body.text,
      editedAt: event.clock,
    }),
  };
};

const messageDeleted: Handler<"message.deleted"> = (state, event) => {
  const actor = event.author;
  if (!state.members.has(actor)) return "unknown-member";
  const message = state.messages.get(event.body.messageId);
  if (message === undefined) return "unknown-target";
  if (message.author !== actor) {
    if (!mayModerateContent(state, actor)) return "unauthorized";
    if (actor !== state.organizationId && levelOf(state, message.author) >= levelOf(state, actor)) {
      return "unauthorized";
    }
  }
  if (message.deleted) return "conflict";
  // The text goes: a deleted message keeps its place (id, author, clock), not its content.
  return {
    messages: state.messages.set(message.id, {
      ...message,
      text: "",
      deleted: true,
      deletedBy: actor,
    }),
  };
};

const messagePinned: Handler<"message.pinned"> = (state, event) => {
  const actor = event.author;
  if (!state.members.has(actor)) return "unknown-member";
  const message = state.messages.get(event.body.messageId);
  if (message === undefined) return "unknown-target";
  if (!mayModerateContent(state, actor)) {
    const channel = state.channels.get(message.channelId);
    const allowed =
      state.pinMessageAllMembersEnabled &&
      channel !== undefined &&
      hasChannelAccess(state, actor, channel);
    if (!allowed) return "unauthorized";
  }
  if (message.deleted) return "conflict";
  return { messages: state.messages.set(message.id, { ...message, pinned: event.body.pinned }) };
};

// -------------------------------------------------------------------------------------------------
// The matrix: one rule per event type (docs/PROTOCOL.md, "Authorization").

const handlers: { readonly [K in EventType]: Handler<K> } = {
  // `org.created` is handled before dispatch (it is the only event allowed before creation).
  "org.created": () => "malformed",
  "org.identity.changed": byOwner((_, event) => ({ identity: event.body.identity })),
  "org.permissions.changed": byOwner((_, event) => ({ permissions: event.body.permissions })),
  "org.admin-settings.changed": byOwner((_, event) => ({
    pinMessageAllMembersEnabled: event.body.pinMessageAllMembersEnabled,
  })),
  "org.tags.changed": byOwner((_, event) => ({ tags: List(event.body.tags) })),
  "org.encryption.changed": byOwner((_, event) => ({ encrypted: event.body.encrypted })),

  "channel.created": byOwner((state, event) => {
    const { channelId, identity, permissions, categoryId } = event.body;
    if (state.channels.has(channelId)) return "conflict";
    if (categoryId !== "" && !state.categories.has(categoryId)) return "unknown-target";
    return {
      channels: state.channels.set(channelId, {
        id: channelId,
        identity,
        permissions,
        categoryId,
        members: ImmutableMap(),
      }),
    };
  }),
  "channel.edited": byOwner((state, event) => {
    const { channelId, identity, permissions, categoryId } = event.body;
    const channel = state.channels.get(channelId);
    if (channel === undefined) return "unknown-target";
    if (categoryId !== undefined && categoryId !== "" && !state.categories.has(categoryId)) {
      return "unknown-target";
    }
    return {
      channels: state.channels.set(channelId, {
        ...channel,
        ...(identity === undefined ? {} : { identity }),
        ...(permissions === undefined ? {} : { permissions }),
        ...(categoryId === undefined ? {} : { categoryId }),
      }),
    };
  }),
  "channel.removed": byOwner(channelRemoved),
  "channel.members.changed": byOwner((state, event) => {
    const channel = state.channels.get(event.body.channelId);
    if (channel === undefined) return "unknown-target";
    const listed = event.body.members;
    const members = ImmutableMap<MemberId, List<Role>>().withMutations((map) => {
      for (const member of Object.keys(listed)) {
        map.set(member, normalizeRoles(listed[member] ?? []));
      }
    });
    // Only current members can be given channel roles (a banned key is not a member).
    for (const member of members.keys()) {
      if (!state.members.has(member)) return "unknown-target";
    }
    return { channels: state.channels.set(channel.id, { ...channel, members }) };
  }),

  "category.created": byOwner((state, event) => {
    const { categoryId, name } = event.body;
    if (state.categories.has(categoryId)) return "conflict";
    return { categories: state.categories.set(categoryId, { id: categoryId, name }) };
  }),
  "category.edited": byOwner((state, event) => {
    const { categoryId, name } = event.body;
    if (!state.categories.has(categoryId)) return "unknown-target";
    return { categories: state.categories.set(categoryId, { id: categoryId, name }) };
  }),
  "category.removed": byOwner((state, event) => {
    const categoryId = event.body.categoryId;
    if (!state.categories.has(categoryId)) return "unknown-target";
    return {
      categories: state.categories.delete(categoryId),
      channels: state.channels.map((channel) =>
        channel.categoryId === categoryId ? { ...channel, categoryId: "" } : channel,
      ),
    };
  }),

  "request.sent": requestSent,
  "request.cancelled": requestCancelled,
  "request.accepted": requestAccepted,
  "request.rejected": requestRejected,
  "invitation.issued": invitationIssued,
  "invitation.used": invitationUsed,
  "leave.requested": leaveRequested,
  "leave.resolved": leaveResolved,

  "member.removed": memberRemoved,
  "member.banned": memberBanned,
  "member.unbanned": byOwner((state, event) => {
    if (!state.banned.has(event.body.member)) return "unknown-target";
    return { banned: state.banned.delete(event.body.member) };
  }),
  "member.roles.changed": memberRolesChanged,

  "grant.issued": byOwner((state, event) => {
    const { member, chatId } = event.body;
    if (state.banned.has(member)) return "banned";
    if (!state.members.has(member)) return "unknown-target";
    if (chatId !== "" && !state.channels.has(chatId)) return "unknown-target";
    const key = grantKey(member, chatId);
    if (state.grants.has(key)) return "conflict";
    return { grants: state.grants.set(key, { member, chatId, clock: event.clock }) };
  }),
  "grant.revoked": byOwner((state, event) => {
    const key = grantKey(event.body.member, event.body.chatId);
    if (!state.grants.has(key)) return "unknown-target";
    return { grants: state.grants.delete(key) };
  }),

  "epoch.changed": byOwner((state, event) => {
    const { channelId, epoch, keyId } = event.body;
    if (channelId !== "" && !state.channels.has(channelId)) return "unknown-target";
    const current = state.epochs.get(channelId);
    // Epochs only move forward: a replayed or stale epoch change is a conflict.
    if (current !== undefined && epoch <= current.epoch) return "conflict";
    return { epochs: state.epochs.set(channelId, { channelId, epoch, keyId }) };
  }),

  "message.posted": messagePosted,
  "message.edited": messageEdited,
  "message.deleted": messageDeleted,
  "message.pinned": messagePinned,
};

function rejectWith(state: OrgState, id: string, reason: RejectionReason): ReduceResult {
  return { state, rejected: { id, reason } };
}

/**
 * @internal `reduce` for an event already known to pass `isOrgEvent`, without the safety net: tests
 * call it directly so that a defect shows up as a throw instead of a `malformed`.
 */
export function applyWellFormed(
  state: OrgState,
  event: OrgEvent,
  config: ReducerConfig,
): ReduceResult {
  if (state.applied.has(event.id)) return rejectWith(state, event.id, "duplicate");
  let outcome: Changes | RejectionReason;
  if (event.type === "org.created") {
    if (event.author !== state.organizationId) outcome = "unauthorized";
    else if (state.created) outcome = "malformed";
    else {
      const body = event.body;
      const owner = state.organizationId;
      outcome = {
        created: true,
        identity: body.identity,
        permissions: body.permissions,
        pinMessageAllMembersEnabled: body.pinMessageAllMembersEnabled,
        tags: List(body.tags),
        encrypted: body.encrypted,
        members: state.members.set(owner, {
          id: owner,
          roles: List(),
          joinedAt: event.clock,
          displayName: "",
        }),
      };
    }
  } else if (!state.created) {
    outcome = "malformed";
  } else if (state.banned.has(event.author)) {
    outcome = "banned";
  } else {
    outcome = (handlers[event.type] as Handler<EventType>)(state, event, config);
  }
  if (typeof outcome === "string") return rejectWith(state, event.id, outcome);
  // The bounded step (docs/PROTOCOL.md, "Clocks"): judged last, so that an event refused for what
  // it does keeps that verdict, and against the clocks before it in canonical order, so that every
  // member decides the same. Owner events are authoritative.
  if (event.author !== state.organizationId && jumpsTooFar(event.clock, state.clock)) {
    return rejectWith(state, event.id, "clock-jump");
  }
  // Strangers do not move clocks: an event that leaves its author outside the organization (a
  // pending request, a cancel) is applied but not counted, so the clock a member stamps next and
  // the bound of the next step stay where the members put them. A request that makes its author a
  // member (open organization, invitation) counts: it is a member's event from then on.
  const members = outcome.members ?? state.members;
  let clock = state.clock;
  // Clocks are bigints (Math.max does not take them).
  if (event.clock > clock && members.has(event.author)) clock = event.clock;
  return {
    state: {
      ...state,
      ...outcome,
      clock,
      applied: state.applied.set(event.id, event.clock),
    },
  };
}

/**
 * @internal {@link applyWellFormed} with the safety net: anything thrown while judging an event (a
 * defect, a hostile object with a throwing getter) refuses it as `malformed` instead of crashing
 * the member. Deterministic: the same input throws the same way on every member.
 */
export function applyGuarded(
  state: OrgState,
  event: OrgEvent,
  config: ReducerConfig,
): ReduceResult {
  try {
    return applyWellFormed(state, event, config);
  } catch {
    // Not a drop: the caller gets `rejected: { id, reason: "malformed" }` (see above).
    return rejectWith(state, event.id, "malformed");
  }
}

const resolvedConfigs = new WeakMap<Partial<ReducerConfig>, ReducerConfig>();

/**
 * @internal The full rules from a partial override (the defaults fill the rest), memoised per
 * object.
 */
export function resolveConfig(config: Partial<ReducerConfig> | undefined): ReducerConfig {
  if (typeof config !== "object" || config === null) return defaultReducerConfig;
  const known = resolvedConfigs.get(config);
  if (known !== undefined) return known;
  const resolved: { -readonly [K in keyof ReducerConfig]: ReducerConfig[K] } = {
    ...defaultReducerConfig,
  };
  // Field by field, so that an explicit `undefined` (from plain JavaScript) keeps the default.
  const {
    requestExpiryMs,
    maxPendingRequests,
    reRequestCooldownMs,
    invitationExpiryMs,
    verifyEns,
  } = config;
  if (requestExpiryMs !== undefined) resolved.requestExpiryMs = requestExpiryMs;
  if (maxPendingRequests !== undefined) resolved.maxPendingRequests = maxPendingRequests;
  if (reRequestCooldownMs !== undefined) resolved.reRequestCooldownMs = reRequestCooldownMs;
  if (invitationExpiryMs !== undefined) resolved.invitationExpiryMs = invitationExpiryMs;
  if (verifyEns !== undefined) resolved.verifyEns = verifyEns;
  resolvedConfigs.set(config, resolved);
  return resolved;
}

/**
 * Applies one event to an organization's state: the reducer every member runs (docs/PROTOCOL.md,
 * "State"). Pure and total: no I/O, no clock, no randomness, and no throw for any input; an event
 * that is malformed, unauthorized or refers to something it may not is refused, the state is
 * returned unchanged, and `rejected` says why.
 *
 * Events must be applied in canonical order (`compareEvents`) for members to agree; `OrgLog` keeps
 * that order for events that arrive out of it. An event whose id was applied before is refused as
 * `duplicate`; a refused event leaves no trace, so it may be applied if offered again later (the
 * log re-folds instead). Time rules (request and invitation expiry, re-request cool-down) use the
 * events' own signed `sentAt`, never the receiver's clock.
 *
 * @param state - the state so far (`initialState(organizationId)` at first)
 * @param event - the event to apply; anything else is refused as `malformed`
 * @param config - the organization's rules, overriding {@link defaultReducerConfig} field by field;
 *   every member must use the same values @default defaultReducerConfig
 * @returns the next state, and the rejection when the event was refused
 * @example
 * ```ts
 * const { state: next, rejected } = reduce(state, event);
 * if (rejected) log.debug(`event ${rejected.id} refused: ${rejected.reason}`);
 * ```
 */
export function reduce(
  state: OrgState,
  event: OrgEvent,
  config?: Partial<ReducerConfig>,
): ReduceResult {
  if (!isOrgEvent(event)) return rejectWith(state, rejectionId(event), "malformed");
  return applyGuarded(state, event, resolveConfig(config));
}
