import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expandWithLabel, u32 } from "../src/kdf.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { type ChainLimits, maxGeneration, SenderChain } from "../src/sender-chain.js";
import { errorNamed, hex } from "./fixtures.js";

const c0 = Uint8Array.from({ length: 32 }, (_, i) => 0x5a ^ (i * 7));
const defaults: ChainLimits = { maxForwardJump: 1000, maxSkippedPerChain: 256 };

/** docs/PROTOCOL.md "Sender chain", written out directly. */
function reference(provider: CryptoProvider, secret: Uint8Array, generation: number) {
  const c = chainSecret(provider, secret, generation);
  return {
    key: hex(expandWithLabel(provider, c, "key", u32(generation), 32)),
    nonce: hex(expandWithLabel(provider, c, "nonce", u32(generation), 12)),
  };
}

/** `c[generation]` of the chain that starts at `secret` (docs/PROTOCOL.md "Sender chain"). */
function chainSecret(provider: CryptoProvider, secret: Uint8Array, generation: number): Uint8Array {
  let c = secret;
  for (let g = 0; g < generation; g++) c = expandWithLabel(provider, c, "secret", u32(g), 32);
  return c;
}

/** `c[generation]` of the chain that starts at `c0`. */
const secretAt = (provider: CryptoProvider, generation: number) =>
  chainSecret(provider, c0, generation);

function state(chain: SenderChain) {
  return {
    next: chain.nextGeneration,
    secret: hex(chain.currentSecret() ?? new Uint8Array()),
    skipped: [...chain.skippedKeys()].map((k) => [k.generation, hex(k.key), hex(k.nonce)]),
  };
}

describe.each([nobleProvider(), nodeProvider()])("SenderChain ($name)", (provider) => {
  const chain = (limits: ChainLimits = defaults) =>
    SenderChain.create(provider, 4, c0.slice(), limits);
  const receive = (ch: SenderChain, generation: number) => {
    const candidate = ch.candidate(generation);
    const keys = { key: hex(candidate.key), nonce: hex(candidate.nonce) };
    ch.commit(candidate);
    return keys;
  };

  it("send: generations 0, 1, 2… with the protocol's keys, each secret wiped after its step", () => {
    const secret = c0.slice();
    const ch = SenderChain.create(provider, 4, secret, defaults);
    for (let g = 0; g < 5; g++) {
      expect(ch.nextGeneration).toBe(g);
      const keys = ch.nextSendKeys();
      expect(keys.generation).toBe(g);
      expect({ key: hex(keys.key), nonce: hex(keys.nonce) }).toEqual(reference(provider, c0, g));
      if (g === 0) expect(secret.every((byte) => byte === 0)).toBe(true);
    }
    expect(ch.nextGeneration).toBe(5);
  });

  it("send with a reservation: the protocol's keys, each chain step derived once", () => {
    let derived = 0;
    const counting: CryptoProvider = {
      ...provider,
      hkdfExpand: (prk, info, length) => {
        derived++;
        return provider.hkdfExpand(prk, info, length);
      },
    };
    const ch = SenderChain.create(counting, 4, c0.slice(), defaults);
    let sends = 0;
    for (let g = 0; g < 23; g++) {
      // An advance into a reservation (a restore's margin) leaves the rest of it usable.
      if (g === 17) {
        ch.advanceTo(19);
        g = 19;
      }
      const keys = ch.nextSendKeys();
      sends++;
      expect(keys.generation).toBe(g);
      expect({ key: hex(keys.key), nonce: hex(keys.nonce) }).toEqual(reference(provider, c0, g));
      expect(hex(ch.currentSecret() as Uint8Array)).toBe(hex(secretAt(provider, g + 1)));
      ch.reserve(5);
      const position = ch.savedPosition();
      expect(position.nextGeneration).toBe(5 * Math.ceil((g + 1) / 5));
      expect(hex(position.secret as Uint8Array)).toBe(
        hex(secretAt(provider, position.nextGeneration)),
      );
    }
    // A key and a nonce per send; each chain secret c[1]…c[25] (the last bound) derived once,
    // by a send or a reservation, but c[18] and c[19] again by the advance (it steps on its own).
    expect(sends).toBe(21);
    expect(derived).toBe(2 * sends + 25 + 2);
  });

  it("receive: a candidate changes nothing until it is committed", () => {
    const ch = chain();
    const before = state(ch);
    const candidate = ch.candidate(3);
    expect({ key: hex(candidate.key), nonce: hex(candidate.nonce) }).toEqual(
      reference(provider, c0, 3),
    );
    expect(state(ch)).toEqual(before);
    ch.discard(candidate);
    expect(candidate.key.every((byte) => byte === 0)).toBe(true);
    expect(state(ch)).toEqual(before);
    expect(receive(ch, 3)).toEqual(reference(provider, c0, 3));
    expect(ch.nextGeneration).toBe(4);
    expect([...ch.skippedKeys()].map((k) => k.generation)).toEqual([0, 1, 2]);
  });

  it("receive out of order: skipped keys are used once, then the generation is a duplicate", () => {
    const ch = chain();
    expect(receive(ch, 3)).toEqual(reference(provider, c0, 3));
    const skipped = ch.candidate(1);
    ch.discard(skipped); // a failed message must not delete the kept key
    expect(ch.hasSkipped(1)).toBe(true);
    expect(receive(ch, 1)).toEqual(reference(provider, c0, 1));
    expect(ch.hasSkipped(1)).toBe(false);
    expect(() => ch.candidate(1)).toThrowError(errorNamed("DuplicateMessageError"));
    expect(() => ch.candidate(3)).toThrowError(errorNamed("DuplicateMessageError"));
    expect(receive(ch, 0)).toEqual(reference(provider, c0, 0));
    expect(receive(ch, 2)).toEqual(reference(provider, c0, 2));
    expect(receive(ch, 4)).toEqual(reference(provider, c0, 4));
    expect(ch.skippedCount).toBe(0);
  });

  it("refuses a jump beyond maxForwardJump, counted from the next expected generation", () => {
    const ch = chain({ maxForwardJump: 10, maxSkippedPerChain: 256 });
    expect(() => ch.candidate(11)).toThrowError(errorNamed("GenerationTooFarError"));
    receive(ch, 5);
    expect(() => ch.candidate(17)).toThrowError(errorNamed("GenerationTooFarError"));
    expect(receive(ch, 16)).toEqual(reference(provider, c0, 16));
    const full = chain();
    expect(() => full.candidate(1001)).toThrowError(errorNamed("GenerationTooFarError"));
    expect(receive(full, 1000)).toEqual(reference(provider, c0, 1000));
  });

  it("keeps at most maxSkippedPerChain keys, evicting (and wiping) the oldest", () => {
    const ch = chain({ maxForwardJump: 100, maxSkippedPerChain: 3 });
    receive(ch, 5);
    expect([...ch.skippedKeys()].map((k) => k.generation)).toEqual([2, 3, 4]);
    expect(() => ch.candidate(0)).toThrowError(errorNamed("DuplicateMessageError"));
    const kept = [...ch.skippedKeys()];
    const candidate = ch.candidate(9);
    const { kept: added, evicted } = ch.commit(candidate);
    expect(evicted.map((k) => k.generation)).toEqual([2, 3, 4]);
    expect(added.map((k) => k.generation)).toEqual([6, 7, 8]);
    for (const entry of kept) expect(entry.key.every((byte) => byte === 0)).toBe(true);
    expect([...ch.skippedKeys()].map((k) => k.generation)).toEqual([6, 7, 8]);
    expect(receive(ch, 7)).toEqual(reference(provider, c0, 7));
    const none = chain({ maxForwardJump: 100, maxSkippedPerChain: 0 });
    receive(none, 3);
    expect(none.skippedCount).toBe(0);
  });

  it("refuses a stale candidate and a generation that is not a u32", () => {
    const ch = chain();
    const stale = ch.candidate(2);
    receive(ch, 0);
    expect(() => ch.commit(stale)).toThrowError(/stale/);
    expect(() => ch.candidate(-1)).toThrowError(RangeError);
    expect(() => ch.candidate(2 ** 32)).toThrowError(RangeError);
  });

  it("advanceTo skips generations for sending without keeping keys", () => {
    const ch = chain();
    ch.nextSendKeys();
    ch.advanceTo(50);
    expect(ch.skippedCount).toBe(0);
    const keys = ch.nextSendKeys();
    expect(keys.generation).toBe(50);
    expect({ key: hex(keys.key), nonce: hex(keys.nonce) }).toEqual(reference(provider, c0, 50));
    expect(() => ch.advanceTo(10)).toThrowError(RangeError);
  });

  it("ends at generation 2³² − 1", () => {
    const secret = new Uint8Array(32).fill(3);
    const sending = SenderChain.restore(provider, {
      leaf: 0,
      limits: defaults,
      nextGeneration: maxGeneration,
      secret: secret.slice(),
      skipped: [],
    });
    expect(sending.nextSendKeys().generation).toBe(maxGeneration);
    expect(sending.currentSecret()).toBeUndefined();
    expect(() => sending.nextSendKeys()).toThrowError(RangeError);
    const receiving = SenderChain.restore(provider, {
      leaf: 0,
      limits: defaults,
      nextGeneration: maxGeneration - 1,
      secret: secret.slice(),
      skipped: [],
    });
    receive(receiving, maxGeneration);
    expect(receiving.nextGeneration).toBe(maxGeneration + 1);
    expect(receiving.currentSecret()).toBeUndefined();
    expect(receiving.hasSkipped(maxGeneration - 1)).toBe(true);
  });

  it("restore checks consistency", () => {
    const key = { leaf: 0, key: new Uint8Array(32), nonce: new Uint8Array(12) };
    const base = { leaf: 0, limits: defaults, nextGeneration: 5, secret: new Uint8Array(32) };
    expect(() =>
      SenderChain.restore(provider, { ...base, skipped: [{ ...key, generation: 5 }] }),
    ).toThrowError(RangeError);
    expect(() =>
      SenderChain.restore(provider, {
        ...base,
        skipped: [
          { ...key, generation: 3 },
          { ...key, generation: 2 },
        ],
      }),
    ).toThrowError(RangeError);
    expect(() =>
      SenderChain.restore(provider, { ...base, secret: undefined, skipped: [] }),
    ).toThrowError(RangeError);
    expect(() =>
      SenderChain.restore(provider, { ...base, skipped: [{ ...key, leaf: 1, generation: 1 }] }),
    ).toThrowError(RangeError);
    expect(() =>
      SenderChain.create(provider, 0, c0.slice(), { maxForwardJump: -1, maxSkippedPerChain: 1 }),
    ).toThrowError(RangeError);
  });

  it("property: any order with duplicates consumes each generation exactly once", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 0, max: 8 }),
        (arrivals, cap) => {
          const ch = chain({ maxForwardJump: 1000, maxSkippedPerChain: cap });
          const consumed = new Set<number>();
          let next = 0;
          const kept = new Set<number>();
          for (const g of arrivals) {
            // Model: a generation decrypts iff it is ahead of the chain or still kept as skipped.
            const expectOk = g >= next || kept.has(g);
            if (!expectOk) {
              expect(() => ch.candidate(g)).toThrowError(errorNamed("DuplicateMessageError"));
              continue;
            }
            expect(receive(ch, g)).toEqual(reference(provider, c0, g));
            expect(consumed.has(g)).toBe(false);
            consumed.add(g);
            if (g >= next) {
              for (let s = next; s < g; s++) kept.add(s);
              next = g + 1;
              const sorted = [...kept].sort((a, b) => a - b);
              for (const old of sorted.slice(0, Math.max(0, sorted.length - cap))) kept.delete(old);
            } else {
              kept.delete(g);
            }
            expect([...ch.skippedKeys()].map((k) => k.generation)).toEqual(
              [...kept].sort((a, b) => a - b),
            );
          }
        },
      ),
      { seed: 0x0c4a1, numRuns: provider.name === "node" ? 100 : 30 },
    );
  });

  it("never prints its secrets", () => {
    const ch = chain();
    receive(ch, 2);
    const candidate = ch.candidate(1); // a kept skipped key
    const derived = ch.candidate(3); // derived from the chain
    const secrets = [hex(c0), reference(provider, c0, 1).key, reference(provider, c0, 0).key];
    secrets.push(reference(provider, c0, 3).key, reference(provider, c0, 3).nonce);
    for (const value of [ch, candidate, derived]) {
      for (const text of [
        String(value),
        JSON.stringify(value),
        JSON.stringify({ value }),
        inspect(value, { showHidden: true, depth: 8 }),
        inspect({ value }, { depth: 8 }),
      ]) {
        expect(text).toContain("[redacted secret]");
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
    }
  });
});
