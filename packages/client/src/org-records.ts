import type { StoredDescription } from "./org.js";
import type { OrgRole } from "./types.js";

/**
 * How many names {@link orgSpace}, {@link eventsLog}, {@link messagesLog}, {@link outboxLog} and
 * {@link seenLog} keep, all together. Every commit names these: the same string object each time
 * lets the store's maps reuse its hash, where a new concatenation is flattened and hashed again per
 * op (about 1 % of a send's samples). A client holds a few organizations and channels; past the
 * bound each call concatenates, uncached.
 */
export const cachedNameLimit = 4096;
let cachedNames = 0;

/** `prefix + org`, the same string object for the same organization while the cache has room. */
function perOrg(prefix: string): (org: string) => string {
  const names = new Map<string, string>();
  return (org) => {
    let name = names.get(org);
    if (name === undefined) {
      name = `${prefix}${org}`;
      if (cachedNames < cachedNameLimit) {
        names.set(org, name);
        cachedNames++;
      }
    }
    return name;
  };
}

const channelNames = new Map<string, Map<string, string>>();

// Key layout (docs/CLIENT.md, "Persistence"): spaces and logs per organization.
export const orgSpace = perOrg("org/");
export const eventsLog = perOrg("events/");
export const messagesLog = (org: string, channel: string): string => {
  let names = channelNames.get(org);
  let name = names?.get(channel);
  if (name !== undefined) return name;
  name = `messages/${org}/${channel}`;
  if (cachedNames < cachedNameLimit) {
    if (names === undefined) {
      names = new Map();
      channelNames.set(org, names);
    }
    names.set(channel, name);
    cachedNames++;
  }
  return name;
};
export const outboxLog = perOrg("outbox/");
export const pendingLog = (org: string) => `pending/${org}`;
export const seenLog = perOrg("seen/");
export const provenLog = (org: string) => `proven/${org}`;
export const heldLog = (org: string) => `held/${org}`;
/** A member's stored description (`StoredDescription`), binary, written when it changes. */
export const descriptionKey = "description";

export interface OrgMeta {
  readonly v: 1;
  readonly role: OrgRole;
  readonly request?: { id: string; status: string; reason?: string };
  readonly lastSeen: number;
  readonly bundle?: unknown;
  /** Stores written before the `description` record kept it here (read, no longer written). */
  readonly description?: StoredDescription;
  readonly pendingRemovals: Record<string, string[]>;
  /** Informational: written with the next change of the rest of the record, not on its own. */
  readonly rekeyDueAt?: number;
  readonly discovered: boolean;
  /** Per topic, history read up to here by a complete sweep (see `Org.marks`). */
  readonly marks?: Record<string, number>;
}

export interface OrgSecrets {
  readonly orgSecret?: Uint8Array;
  readonly signingSecret: Uint8Array;
  readonly prekeySecret: Uint8Array;
}
