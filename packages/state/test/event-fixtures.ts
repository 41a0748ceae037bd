/**
 * Test helpers: member keys, event builders, a reference fold (unguarded, so a defect throws
 * instead of turning into `malformed`) and a canonical serialization of states for equality checks.
 */
import { isList, isMap, isSet } from "immutable";
import type {
  EventBodies,
  EventType,
  Identity,
  MemberId,
  OrgEvent,
  OrgEventOf,
  Permissions,
  RejectionReason,
} from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import { compareEvents } from "../src/order.js";
import { applyWellFormed, resolveConfig } from "../src/reduce.js";
import { AppliedIds } from "../src/snapshot-applied.js";
import type { OrgState, ReducerConfig } from "../src/state.js";
import { TableMap } from "../src/table-map.js";
import { isOrgEvent } from "../src/validate.js";

/** A member id made of one repeated byte (ordered by that byte). */
export function key(byte: number): MemberId {
  return byte.toString(16).padStart(2, "0").repeat(32);
}

export const owner = key(0x01);
export const alice = key(0x02);
export const bob = key(0x03);
export const carol = key(0x04);
export const dave = key(0x05);
export const eve = key(0x06);

export const hour = 60 * 60 * 1000;
export const day = 24 * hour;

export function identity(displayName: string): Identity {
  return { displayName, description: "", ensName: "", images: {} };
}

export function permissions(
  access: Permissions["access"],
  extra: Partial<Omit<Permissions, "access">> = {},
): Permissions {
  return { access, ensOnly: false, private: false, ...extra };
}

/** Builds one event. */
export function event<K extends EventType>(
  type: K,
  init: { id: string; author: MemberId; clock: bigint | number; sentAt?: number },
  body: EventBodies[K],
): OrgEventOf<K> {
  return {
    id: init.id,
    type,
    author: init.author,
    clock: BigInt(init.clock),
    sentAt: init.sentAt ?? 0,
    body,
  } as OrgEventOf<K>;
}

/**
 * Writes events with increasing clocks and ids (`e1`, `e2`…), like a sequence of members who each
 * saw everything before; `at(ms)` sets the `sentAt` of the following events.
 */
export class Script {
  clock = 0n;
  sentAt = 0;
  #count = 0;
  readonly #prefix: string;

  /** @param prefix - the id prefix, so that two scripts never write the same id */
  constructor(prefix = "e") {
    this.#prefix = prefix;
  }

  at(sentAt: number): this {
    this.sentAt = sentAt;
    return this;
  }

  next<K extends EventType>(
    type: K,
    author: MemberId,
    body: EventBodies[K],
    options: { clock?: bigint; sentAt?: number; id?: string } = {},
  ): OrgEventOf<K> {
    this.#count++;
    const clock = options.clock ?? this.clock + 1n;
    if (clock > this.clock) this.clock = clock;
    return event(
      type,
      {
        id: options.id ?? `${this.#prefix}${this.#count}`,
        author,
        clock,
        sentAt: options.sentAt ?? this.sentAt,
      },
      body,
    );
  }

  /** `org.created` by the owner. */
  created(
    access: Permissions["access"] = "on-request",
    extra: Partial<EventBodies["org.created"]> = {},
  ): OrgEventOf<"org.created"> {
    return this.next("org.created", owner, {
      identity: identity("Acme"),
      permissions: permissions(access),
      pinMessageAllMembersEnabled: false,
      tags: [],
      encrypted: false,
      ...extra,
    });
  }

  channel(
    channelId: string,
    access: Permissions["access"] = "no-membership",
    extra: Partial<Omit<Permissions, "access">> = {},
    categoryId = "",
  ): OrgEventOf<"channel.created"> {
    return this.next("channel.created", owner, {
      channelId,
      identity: identity(channelId),
      permissions: permissions(access, extra),
      categoryId,
    });
  }
}

export interface Fold {
  readonly state: OrgState;
  /** Event id → reason, for the events refused in their place. */
  readonly rejections: Map<string, RejectionReason>;
}

/**
 * The reference fold: sorts the well-formed events canonically and applies them with the unguarded
 * reducer (a throw fails the test). `onStep` sees every transition.
 */
export function fold(
  events: readonly OrgEvent[],
  config?: Partial<ReducerConfig>,
  onStep?: (before: OrgState, event: OrgEvent, after: OrgState, rejected?: RejectionReason) => void,
): Fold {
  const resolved = resolveConfig(config);
  const seen = new Set<string>();
  const unique = events.filter((e) => {
    if (!isOrgEvent(e) || seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
  let state = initialState(owner);
  const rejections = new Map<string, RejectionReason>();
  for (const e of unique.sort(compareEvents)) {
    const result = applyWellFormed(state, e, resolved);
    if (result.rejected) rejections.set(e.id, result.rejected.reason);
    onStep?.(state, e, result.state, result.rejected?.reason);
    state = result.state;
  }
  return { state, rejections };
}

/** Applies `events` one after another, in the given order, with the unguarded reducer. */
export function applyAll(
  events: readonly OrgEvent[],
  config?: Partial<ReducerConfig>,
  start: OrgState = initialState(owner),
): Fold {
  const resolved = resolveConfig(config);
  let state = start;
  const rejections = new Map<string, RejectionReason>();
  for (const e of events) {
    const result = applyWellFormed(state, e, resolved);
    if (result.rejected) rejections.set(e.id, result.rejected.reason);
    state = result.state;
  }
  return { state, rejections };
}

function canon(value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) {
    return `0x${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  if (isMap(value) || value instanceof AppliedIds || value instanceof TableMap) {
    return [...value.entries()]
      .map(([k, v]) => [String(k), canon(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  if (isSet(value)) return [...value].map(canon).sort();
  if (isList(value)) return [...value].map(canon);
  if (Array.isArray(value)) return value.map(canon);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canon(v);
    }
    return out;
  }
  return value;
}

/**
 * A canonical serialization of a state: equal strings ⇔ equal states (maps compared by content).
 */
export function canonicalState(state: OrgState): string {
  return JSON.stringify(canon(state));
}

/** Rejections as sorted `[id, reason]` pairs. */
export function sortedRejections(
  rejections: ReadonlyMap<string, RejectionReason>,
): [string, string][] {
  return [...rejections.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
