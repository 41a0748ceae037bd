/**
 * The owner's book of strangers (owner-requests.ts): the keys outside the organization it holds a
 * pairwise session and keys for, with what lets a sweep look only at what changed (docs/SCALE.md,
 * "What still grows with N"): the handshakes in the order they began, and when each request
 * expires, in a queue.
 *
 * @module
 */
import type { OrgState, RequestAdmission } from "@orgchat/state";
import type { InvitationIndex } from "./owner-controller.js";

/**
 * A key outside the organization that the owner holds a pairwise session (and keys) for: between
 * its X3DH message and its request (a handshake, no `requestId`), then while its request is pending.
 */
export interface Stranger {
  readonly requestId?: string;
  /** When the handshake began (the owner's clock). */
  readonly since: number;
  /** Hex of the X3DH ephemeral key of its session (remembered when the handshake is dropped). */
  readonly ephemeralKey?: string;
  /** With a request: when it expires (its `sentAt` + the expiry), as queued. */
  readonly expiresAt?: number;
}

/** A request's expiry in the queue: when, and whose. */
interface Due {
  readonly at: number;
  readonly member: string;
}

/**
 * The strangers of one organization (memory only: rebuilt after a start). Every change goes
 * through {@link put} and {@link delete}, which keep the handshakes' order and the expiry queue.
 */
export class StrangerBook {
  /** In insertion order: the oldest handshake first. */
  readonly #strangers = new Map<string, Stranger>();
  /** The strangers without a request, in the order they began (the oldest first). */
  readonly #handshakes = new Set<string>();
  /** A binary min-heap by `at`: the strangers' requests by expiry (stale entries skipped). */
  #due: Due[] = [];
  readonly admission: RequestAdmission;
  /** Invitations by invitee: a request redeems one by a look-up. */
  readonly invitations: InvitationIndex;
  /** Whether the strangers stored before the last start were checked against the requests. */
  swept = false;
  /** Whether the records of members who departed the old way are swept (`departedRecordsStep`). */
  departedSwept = false;
  /** Dropped handshakes by ephemeral key (hex) → requester, at most `maxDroppedHandshakes`. */
  readonly dropped = new Map<string, string>();
  /** The state the last sweep looked at: the next one looks at what changed since. */
  seen: OrgState | undefined;

  /**
   * @param admission - the global rate of pushing out of a full queue
   * @param invitations - the invitations by invitee
   */
  constructor(admission: RequestAdmission, invitations: InvitationIndex) {
    this.admission = admission;
    this.invitations = invitations;
  }

  /** How many strangers. */
  get size(): number {
    return this.#strangers.size;
  }

  /** How many strangers hold no request (handshakes). */
  get handshakes(): number {
    return this.#handshakes.size;
  }

  /**
   * @param member - a key
   * @returns its entry
   */
  get(member: string): Stranger | undefined {
    return this.#strangers.get(member);
  }

  /**
   * @param member - a key
   * @returns whether it is a stranger of this book
   */
  has(member: string): boolean {
    return this.#strangers.has(member);
  }

  /** The strangers' keys, the oldest entry first. */
  keys(): IterableIterator<string> {
    return this.#strangers.keys();
  }

  /**
   * The oldest handshake.
   * @returns its key and entry, or undefined when there is none
   */
  oldestHandshake(): [string, Stranger] | undefined {
    for (const member of this.#handshakes) {
      const stranger = this.#strangers.get(member);
      if (stranger !== undefined) return [member, stranger];
    }
    return undefined;
  }

  /**
   * Sets `member`'s entry, last in the order (a handshake is the newest one); with a request, its
   * expiry is queued.
   * @param member - the key
   * @param stranger - its entry
   */
  put(member: string, stranger: Stranger): void {
    this.delete(member);
    this.#strangers.set(member, stranger);
    if (stranger.requestId === undefined) this.#handshakes.add(member);
    else if (stranger.expiresAt !== undefined) this.#queue({ at: stranger.expiresAt, member });
  }

  /**
   * A stranger's request is now `requestId` (a handshake's request arrived, or the state holds
   * another request of the key pending): its place in the order stays.
   * @param member - the key (in the book)
   * @param requestId - the request pending
   * @param expiresAt - when it expires
   */
  settleRequest(member: string, requestId: string, expiresAt: number): void {
    const stranger = this.#strangers.get(member);
    if (stranger === undefined) return;
    if (stranger.requestId === requestId && stranger.expiresAt === expiresAt) return;
    this.#strangers.set(member, { ...stranger, requestId, expiresAt });
    this.#handshakes.delete(member);
    this.#queue({ at: expiresAt, member });
  }

  /**
   * Forgets `member`.
   * @param member - the key
   */
  delete(member: string): void {
    this.#strangers.delete(member);
    this.#handshakes.delete(member);
  }

  /**
   * Takes out of the queue the strangers whose request expired at `now` (each still to be judged
   * by the caller against the state).
   * @param now - the owner's clock
   * @returns the keys, each once
   */
  expired(now: number): Set<string> {
    const found = new Set<string>();
    const heap = this.#due;
    while (heap.length > 0 && (heap[0] as Due).at <= now) {
      const { member, at } = heap[0] as Due;
      // Stale (its request changed, or it left the book) unless the entry is its expiry now.
      if (this.#strangers.get(member)?.expiresAt === at) found.add(member);
      const last = heap.pop() as Due;
      if (heap.length > 0) {
        heap[0] = last;
        this.#down(0);
      }
    }
    return found;
  }

  /** Queues `due`; past twice the strangers (stale entries), rebuilt from them: O(1) amortised. */
  #queue(due: Due): void {
    const heap = this.#due;
    heap.push(due);
    this.#up(heap.length - 1);
    if (heap.length <= 2 * this.#strangers.size + 64) return;
    this.#due = [];
    for (const [member, stranger] of this.#strangers) {
      if (stranger.requestId === undefined || stranger.expiresAt === undefined) continue;
      this.#due.push({ at: stranger.expiresAt, member });
      this.#up(this.#due.length - 1);
    }
  }

  #up(i: number): void {
    const heap = this.#due;
    const entry = heap[i] as Due;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Due).at <= entry.at) break;
      heap[i] = heap[parent] as Due;
      i = parent;
    }
    heap[i] = entry;
  }

  #down(i: number): void {
    const heap = this.#due;
    const entry = heap[i] as Due;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (heap[child + 1] as Due).at < (heap[child] as Due).at) child++;
      if ((heap[child] as Due).at >= entry.at) break;
      heap[i] = heap[child] as Due;
      i = child;
    }
    heap[i] = entry;
  }
}
