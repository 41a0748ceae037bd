import type { OrgEvent } from "@orgchat/state";

/**
 * The quota of events an organization's state refuses in their place for now (held: e.g. a post of
 * an author no description lists yet), per organization, in memory and in the `held/<id>` log. What
 * a non-member sends costs at most this much: beyond it the oldest held events are forgotten
 * (docs/SECURITY.md, row 5). An honest post held that long (its author's admission not heard of
 * yet) is rare; one evicted by a flood is dropped, with the `held-evicted` diagnostic.
 */
export const heldEventLimits = {
  /** At most this many events held per organization. */
  maxEvents: 128,
  /** At most this many bytes of held events (their stored form) per organization: 1 MiB. */
  maxBytes: 1024 * 1024,
} as const;

/** What a held post keeps besides its event: the times and the reply link (`Org.messageMeta`). */
export interface MessageMeta {
  readonly sentAt: number;
  /** When the network delivered it (see `Sync.arrivalOf`); absent in records older than it. */
  readonly receivedAt?: number;
  readonly replyTo?: string;
}

/** One held event: the event, its post's meta, and its stored size. */
export interface HeldEvent {
  readonly event: OrgEvent;
  readonly meta?: MessageMeta;
  readonly bytes: number;
}

/**
 * Events refused in their place, kept (bounded by count and bytes, oldest evicted first) so that a
 * later event or description can explain them. Insertion order is arrival order.
 */
export class HeldEvents {
  readonly #entries = new Map<string, HeldEvent>();
  readonly #limits: { readonly maxEvents: number; readonly maxBytes: number };
  #bytes = 0;

  /** @param limits - the quota @default heldEventLimits */
  constructor(limits: { readonly maxEvents: number; readonly maxBytes: number } = heldEventLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The stored bytes of the events held. */
  get bytes(): number {
    return this.#bytes;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  get(id: string): HeldEvent | undefined {
    return this.#entries.get(id);
  }

  /** The events held, oldest first. */
  events(): OrgEvent[] {
    return [...this.#entries.values()].map((entry) => entry.event);
  }

  /**
   * Holds one event (replacing an entry with its id), then evicts the oldest until the quota holds.
   * @returns the ids evicted, oldest first (the new one itself when it alone exceeds `maxBytes`)
   */
  add(entry: HeldEvent): string[] {
    this.delete(entry.event.id);
    this.#entries.set(entry.event.id, entry);
    this.#bytes += entry.bytes;
    const evicted: string[] = [];
    for (const [id, held] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxEvents && this.#bytes <= this.#limits.maxBytes) {
        break;
      }
      this.#entries.delete(id);
      this.#bytes -= held.bytes;
      evicted.push(id);
    }
    return evicted;
  }

  delete(id: string): HeldEvent | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
    return entry;
  }
}
