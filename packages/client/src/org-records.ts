import type { StoredDescription } from "./org.js";
import type { OrgRole } from "./types.js";

// Key layout (docs/CLIENT.md, "Persistence"): spaces and logs per organization.
export const orgSpace = (org: string) => `org/${org}`;
export const eventsLog = (org: string) => `events/${org}`;
export const messagesLog = (org: string, channel: string) => `messages/${org}/${channel}`;
export const outboxLog = (org: string) => `outbox/${org}`;
export const pendingLog = (org: string) => `pending/${org}`;
export const seenLog = (org: string) => `seen/${org}`;
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
