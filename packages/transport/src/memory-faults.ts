/**
 * Seeded fault injection of the memory network: per delivery, whether it is lost, whether it arrives
 * twice, and how long each copy waits (latency and reordering). One PRNG, six draws per delivery.
 */
import type { MemoryLatency, MemoryNetworkInit } from "./memory-types.js";

/** What happens to one delivery. */
export interface DeliveryFate {
  readonly dropped: boolean;
  readonly duplicated: boolean;
  /** Delay of the first copy, ms. */
  readonly firstDelayMs: number;
  /** Delay of the second copy (when duplicated), ms. */
  readonly secondDelayMs: number;
}

/** mulberry32: small, fast, and good enough for fault decisions (not for anything secret). */
function seededRandom(seed: number): () => number {
  let state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function checkRate(name: string, value: number | undefined): number {
  const rate = value ?? 0;
  if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(`${name} must be a number from 0 to 1, got ${String(value)}`);
  }
  return rate;
}

function checkWholeMs(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `${name} must be a non-negative integer number of ms, got ${String(value)}`,
    );
  }
  return value;
}

/** The faults of one network, validated, and the PRNG that applies them. */
export class DeliveryFaults {
  /** Deliveries wait on the scheduler (latency or reordering configured). */
  readonly timed: boolean;
  /** Deliveries from one publisher land in publish order. */
  readonly ordered: boolean;
  readonly #random: () => number;
  readonly #latency: MemoryLatency | undefined;
  readonly #dropRate: number;
  readonly #duplicateRate: number;
  readonly #reorderWindowMs: number;

  /** @throws RangeError on an out-of-range option */
  constructor(init: MemoryNetworkInit) {
    const seed = init.seed ?? 0;
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`seed must be an integer, got ${String(init.seed)}`);
    this.#random = seededRandom(seed);
    if (init.latency !== undefined) {
      const minMs = checkWholeMs("latency.minMs", init.latency.minMs);
      const maxMs = checkWholeMs("latency.maxMs", init.latency.maxMs);
      if (maxMs < minMs)
        throw new RangeError(`latency.maxMs (${maxMs}) is below latency.minMs (${minMs})`);
      this.#latency = { minMs, maxMs };
    }
    this.#dropRate = checkRate("dropRate", init.dropRate);
    this.#duplicateRate = checkRate("duplicateRate", init.duplicateRate);
    this.#reorderWindowMs = checkWholeMs("reorderWindowMs", init.reorderWindowMs ?? 0);
    this.timed = this.#latency !== undefined || this.#reorderWindowMs > 0;
    // A fixed latency keeps order: equal delays land in scheduling order.
    this.ordered =
      (this.#latency === undefined || this.#latency.maxMs === this.#latency.minMs) &&
      this.#reorderWindowMs === 0;
  }

  /** Decides the fate of one delivery. */
  decide(): DeliveryFate {
    // Always six draws per delivery, whatever is configured, so that changing one fault's rate does
    // not reshuffle every other decision of a seeded run.
    const drop = this.#random();
    const duplicate = this.#random();
    const firstDelayMs = this.#delay(this.#random(), this.#random());
    const secondDelayMs = this.#delay(this.#random(), this.#random());
    return {
      dropped: drop < this.#dropRate,
      duplicated: duplicate < this.#duplicateRate,
      firstDelayMs,
      secondDelayMs,
    };
  }

  #delay(latencyDraw: number, reorderDraw: number): number {
    let delay = 0;
    if (this.#latency !== undefined) {
      const { minMs, maxMs } = this.#latency;
      delay += minMs + Math.floor(latencyDraw * (maxMs - minMs + 1));
    }
    return delay + Math.floor(reorderDraw * (this.#reorderWindowMs + 1));
  }
}
