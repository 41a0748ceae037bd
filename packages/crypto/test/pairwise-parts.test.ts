/**
 * A pairwise session stored as a base and a chains record (`PairwiseSession.serializeParts`, state
 * version 3): what is written when, that a restore from the stored pair continues the conversation,
 * that a record over another base is refused, and the committed vectors
 * (`test/vectors/pairwise-chains.json`).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { concatBytes } from "@orgchat/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PairwiseSession } from "../src/double-ratchet.js";
import type { OwnerPrekeys } from "../src/owner-prekeys.js";
import { nodeProvider } from "../src/providers/node.js";
import { x3dhInitiate } from "../src/x3dh.js";
import { errorNamed, hex, text, x3dhParties } from "./fixtures.js";
import { hmacSeeded } from "./seeded-provider.js";

const base = nodeProvider();
const h = (value: string) => Uint8Array.from(Buffer.from(value, "hex"));

/** A member ("alice") that sent one message, and the owner's session ("bob") that answered it. */
function connected(seed: number | string = 1) {
  const provider = hmacSeeded(base, `orgchat pairwise parts rng ${seed}`);
  const { organization, prekeys, member } = x3dhParties(provider, 0);
  const alice = PairwiseSession.initiate(
    provider,
    x3dhInitiate(provider, {
      ...member,
      bundle: prekeys.bundle(),
      organizationKey: organization.publicKey,
    }),
  );
  const { session: bob } = PairwiseSession.respond(provider, prekeys, alice.encrypt(text("keys")));
  return { provider, alice, bob, known: knownOf(bob, prekeys) };
}

function knownOf(bob: PairwiseSession, prekeys: OwnerPrekeys) {
  return {
    initiatorIdentityKey: bob.associatedData.slice(0, 32),
    ownerKeys: concatBytes(prekeys.identityKey, prekeys.identityDhKey),
  };
}

/** A store of one session as the owner keeps it: a base and, beside it, a chains record. */
class Stored {
  base: Uint8Array | undefined;
  chains: Uint8Array | undefined;
  writes: { base: number; chains: number } = { base: 0, chains: 0 };

  save(session: PairwiseSession): "base" | "chains" {
    const parts = session.serializeParts({ omitKnownKeys: true });
    if (parts.base !== undefined) {
      this.base = parts.base;
      this.chains = undefined;
      this.writes.base++;
    } else {
      this.chains = parts.chains;
      this.writes.chains++;
    }
    parts.stored();
    return parts.base !== undefined ? "base" : "chains";
  }
}

describe("PairwiseSession.serializeParts", () => {
  it("writes the base once, then only 90-byte chains records while the chains move", () => {
    const { provider, alice, bob, known } = connected();
    const stored = new Stored();
    expect(stored.save(bob)).toBe("base");
    expect(stored.base?.[0]).toBe(2);
    // The request (same chain from the member), the response and the Welcome (the owner's chain).
    expect(bob.decrypt(alice.encrypt(text("request")))).toEqual(text("request"));
    expect(stored.save(bob)).toBe("chains");
    expect(alice.decrypt(bob.encrypt(text("response")))).toEqual(text("response"));
    expect(stored.save(bob)).toBe("chains");
    const welcome = bob.encrypt(text("welcome"));
    expect(stored.save(bob)).toBe("chains");
    expect(stored.chains?.[0]).toBe(3);
    expect(stored.chains?.length).toBe(90);
    expect(stored.writes).toEqual({ base: 1, chains: 3 });

    const restored = PairwiseSession.deserializeParts(
      provider,
      stored.base as Uint8Array,
      stored.chains,
      known,
    );
    expect(hex(restored.serialize())).toBe(hex(bob.serialize()));
    expect(alice.decrypt(welcome)).toEqual(text("welcome"));
    // The member answers with a new ratchet key: a DH step changes the base.
    expect(restored.decrypt(alice.encrypt(text("after")))).toEqual(text("after"));
    expect(stored.save(restored)).toBe("base");
    expect(stored.save(restored)).toBe("chains");
  });

  it("writes a base again when the last one was not known stored, or with the other AD form", () => {
    const { alice, bob } = connected();
    const stored = new Stored();
    stored.save(bob);
    bob.decrypt(alice.encrypt(text("x")));
    alice.decrypt(bob.encrypt(text("y")));
    bob.decrypt(alice.encrypt(text("z")));
    // A DH step: a base whose batch fails (stored never called) ...
    expect(bob.serializeParts({ omitKnownKeys: true }).base).toBeDefined();
    // ... so the next write is a base too, and a chains record only after that one is stored.
    const next = bob.serializeParts({ omitKnownKeys: true });
    expect(next.base).toBeDefined();
    expect(bob.serializeParts({ omitKnownKeys: true }).base).toBeDefined();
    next.stored();
    // A later base is pending (serialized after `next`): still a base.
    expect(bob.serializeParts({ omitKnownKeys: true }).base).toBeDefined();
    expect(stored.save(bob)).toBe("base");
    expect(stored.save(bob)).toBe("chains");
    // An older serialization stored late does not take the place of the newer one.
    next.stored();
    expect(stored.save(bob)).toBe("chains");
    expect(bob.serializeParts().base?.[0]).toBe(1);
  });

  it("refuses a chains record over another base, altered, truncated or of another version", () => {
    const { provider, alice, bob, known } = connected();
    const stored = new Stored();
    stored.save(bob);
    const first = stored.base as Uint8Array;
    bob.decrypt(alice.encrypt(text("x")));
    stored.save(bob);
    const chains = stored.chains as Uint8Array;
    // Valid.
    PairwiseSession.deserializeParts(provider, first, chains, known);
    alice.decrypt(bob.encrypt(text("y")));
    bob.decrypt(alice.encrypt(text("z"))); // a DH step
    stored.save(bob);
    const second = stored.base as Uint8Array;
    const corrupt = (baseBytes: Uint8Array, chainsBytes: Uint8Array) => () =>
      PairwiseSession.deserializeParts(provider, baseBytes, chainsBytes, known);
    const flip = (bytes: Uint8Array, at: number) => {
      const copy = bytes.slice();
      copy[at] = (copy[at] ?? 0) ^ 1;
      return copy;
    };
    for (const run of [
      corrupt(second, chains), // stale: written over the first base
      corrupt(first, flip(chains, 0)),
      corrupt(first, flip(chains, 40)),
      corrupt(first, flip(chains, chains.length - 1)),
      corrupt(first, chains.subarray(0, chains.length - 1)),
      corrupt(first, chains.subarray(0, 16)),
      corrupt(first, new Uint8Array(0)),
      corrupt(first, concatBytes(chains, Uint8Array.of(0))),
      // A chains record is never a whole state, and a whole state never a chains record.
      () => PairwiseSession.deserialize(provider, chains, known),
      corrupt(first, first),
    ]) {
      expect(run).toThrowError(errorNamed("StateCorruptedError"));
    }
  });

  it("a conversation stored after every step and restored at random points goes on (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("toBob", "toAlice", "restart", "toBobLate"), { maxLength: 24 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (steps, seed) => {
          const { provider, alice, bob: first, known } = connected(`p${seed}`);
          let bob = first;
          const stored = new Stored();
          stored.save(bob);
          const late: Uint8Array[] = [];
          let n = 0;
          for (const step of steps) {
            n++;
            if (step === "toBob") {
              expect(bob.decrypt(alice.encrypt(text(`a${n}`)))).toEqual(text(`a${n}`));
              stored.save(bob);
            } else if (step === "toBobLate") {
              late.push(alice.encrypt(text(`late${n}`)));
              if (late.length > 1) {
                bob.decrypt(late.pop() as Uint8Array); // skips the earlier ones
                stored.save(bob);
              }
            } else if (step === "toAlice") {
              expect(alice.decrypt(bob.encrypt(text(`b${n}`)))).toEqual(text(`b${n}`));
              stored.save(bob);
            } else {
              const restored = PairwiseSession.deserializeParts(
                provider,
                stored.base as Uint8Array,
                stored.chains,
                known,
              );
              expect(hex(restored.serialize())).toBe(hex(bob.serialize()));
              bob = restored;
            }
          }
          for (const message of late) bob.decrypt(message);
          expect(bob.decrypt(alice.encrypt(text("end")))).toEqual(text("end"));
          expect(alice.decrypt(bob.encrypt(text("end")))).toEqual(text("end"));
        },
      ),
      { seed: 0x14c, numRuns: 40 },
    );
  });
});

interface ChainsVectors {
  readonly known: { readonly initiatorIdentityKey: string; readonly ownerKeys: string };
  readonly base: string;
  readonly chains: string;
  /** The whole state (version 1) the pair restores. */
  readonly state: string;
  /** A message of the member's that the restored session decrypts, and its plaintext. */
  readonly message: string;
  readonly plaintext: string;
  /** Chains records to refuse over `base`, with why. */
  readonly invalid: ReadonlyArray<{ readonly chains: string; readonly why: string }>;
}

describe("vectors: test/vectors/pairwise-chains.json", () => {
  const path = fileURLToPath(new URL("./vectors/pairwise-chains.json", import.meta.url));
  const vectors = JSON.parse(readFileSync(path, "utf8")) as ChainsVectors;
  const known = {
    initiatorIdentityKey: h(vectors.known.initiatorIdentityKey),
    ownerKeys: h(vectors.known.ownerKeys),
  };

  it("restores the committed base and chains record", () => {
    const session = PairwiseSession.deserializeParts(
      base,
      h(vectors.base),
      h(vectors.chains),
      known,
    );
    expect(hex(session.serialize())).toBe(vectors.state);
    expect(hex(session.decrypt(h(vectors.message)))).toBe(vectors.plaintext);
    // The base alone (version 2) is still read as a whole state.
    expect(PairwiseSession.deserialize(base, h(vectors.base), known).role).toBe("responder");
  });

  it.each(vectors.invalid)("refuses a chains record: $why", ({ chains }) => {
    expect(() =>
      PairwiseSession.deserializeParts(base, h(vectors.base), h(chains), known),
    ).toThrowError(errorNamed("StateCorruptedError"));
  });
});
