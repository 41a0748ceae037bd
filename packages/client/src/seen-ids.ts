/**
 * How many message ids the client remembers in memory as seen (about 150 bytes each: ~10 MB at
 * most). Beyond it the oldest are forgotten: a message whose id was forgotten costs one lookup in
 * the durable seen log when it comes again, and a dropped one (never stored) is judged again, which
 * ends the same way. Without a bound, a flood of distinct junk grows the set for as long as the
 * client runs (docs/SECURITY.md, row 5).
 */
export const maxSeenIds = 65_536;

/**
 * The ids of messages processed or published (hex SHA-256 of the payload), the newest `capacity`
 * of them: adding past it forgets the oldest. `has` does not refresh an id (a message is processed
 * once; re-deliveries come soon after).
 */
export class SeenIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  /**
   * @param capacity - how many ids to remember @default maxSeenIds
   * @throws {RangeError} when `capacity` is not a positive integer
   */
  constructor(capacity: number = maxSeenIds) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity: expected a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): this {
    if (this.#ids.has(id)) return this;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
    return this;
  }

  delete(id: string): boolean {
    return this.#ids.delete(id);
  }
}
