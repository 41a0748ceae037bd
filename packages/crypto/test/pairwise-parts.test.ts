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
import {
  type KnownSessionKeys,
  type PairwiseChainRecords,
  PairwiseSession,
} from "../src/double-ratchet.js";
import type { OwnerPrekeys } from "../src/owner-prekeys.js";
import type { CryptoProvider } from "../src/provider.js";
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

/** A store of one session as the owner keeps it: a base and, beside it, two chain records. */
class Stored {
  base: Uint8Array | undefined;
  chains: { sending?: Uint8Array; receiving?: Uint8Array } = {};
  writes = { base: 0, sending: 0, receiving: 0 };

  /** @returns what was written */
  save(session: PairwiseSession): string {
    const parts = session.serializeParts({ omitKnownKeys: true });
    const wrote: string[] = [];
    if (parts.base !== undefined) {
      this.base = parts.base;
      this.chains = {};
      wrote.push("base");
    }
    if (parts.sending !== undefined) {
      this.chains.sending = parts.sending;
      wrote.push("sending");
    }
    if (parts.receiving !== undefined) {
      this.chains.receiving = parts.receiving;
      wrote.push("receiving");
    }
    for (const what of wrote) this.writes[what as keyof Stored["writes"]]++;
    parts.stored();
    return wrote.join("+");
  }

  restore(provider: CryptoProvider, known: KnownSessionKeys): PairwiseSession {
    return PairwiseSession.deserializeParts(provider, this.base as Uint8Array, this.chains, known);
  }
}

describe("PairwiseSession.serializeParts", () => {
  it("writes the base once, then only the 46-byte record of each chain that moved", () => {
    const { provider, alice, bob, known } = connected();
    const stored = new Stored();
    expect(stored.save(bob)).toBe("base");
    expect(stored.save(bob)).toBe("");
    expect(stored.base?.[0]).toBe(2);
    // The request (same chain from the member), the response and the Welcome (the owner's chain).
    expect(bob.decrypt(alice.encrypt(text("request")))).toEqual(text("request"));
    expect(stored.save(bob)).toBe("receiving");
    const response = bob.encrypt(text("response"));
    expect(stored.save(bob)).toBe("sending");
    const welcome = bob.encrypt(text("welcome"));
    // Both chains moved between two writes: both records.
    expect(bob.decrypt(alice.encrypt(text("cancel")))).toEqual(text("cancel"));
    expect(stored.save(bob)).toBe("sending+receiving");
    expect(stored.chains.sending?.[0]).toBe(3);
    expect(stored.chains.sending?.length).toBe(46);
    expect(stored.chains.receiving?.length).toBe(46);
    expect(stored.writes).toEqual({ base: 1, sending: 2, receiving: 2 });

    const restored = stored.restore(provider, known);
    expect(hex(restored.serialize())).toBe(hex(bob.serialize()));
    expect(alice.decrypt(response)).toEqual(text("response"));
    expect(alice.decrypt(welcome)).toEqual(text("welcome"));
    // The member answers with a new ratchet key: a DH step changes the base.
    expect(restored.decrypt(alice.encrypt(text("after")))).toEqual(text("after"));
    expect(stored.save(restored)).toBe("base");
    expect(alice.decrypt(restored.encrypt(text("on")))).toEqual(text("on"));
    expect(stored.save(restored)).toBe("sending");
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
    bob.encrypt(text("w"));
    expect(stored.save(bob)).toBe("sending");
    // An older serialization stored late does not take the place of the newer one.
    next.stored();
    bob.encrypt(text("w"));
    expect(stored.save(bob)).toBe("sending");
    // A chain record whose batch failed is written again (with the chain as it is then).
    bob.encrypt(text("w"));
    expect(bob.serializeParts({ omitKnownKeys: true }).sending).toBeDefined();
    expect(stored.save(bob)).toBe("sending");
    expect(stored.save(bob)).toBe("");
    expect(bob.serializeParts().base?.[0]).toBe(1);
  });

  it("refuses a chain record over another base, altered, truncated, of the other chain or version", () => {
    const { provider, alice, bob, known } = connected();
    const stored = new Stored();
    stored.save(bob);
    const first = stored.base as Uint8Array;
    bob.decrypt(alice.encrypt(text("x")));
    const reply = bob.encrypt(text("y"));
    stored.save(bob);
    const { sending, receiving } = stored.chains as { sending: Uint8Array; receiving: Uint8Array };
    // Valid.
    PairwiseSession.deserializeParts(provider, first, { sending, receiving }, known);
    alice.decrypt(reply);
    bob.decrypt(alice.encrypt(text("z"))); // a DH step
    stored.save(bob);
    const second = stored.base as Uint8Array;
    const corrupt = (baseBytes: Uint8Array, chains: PairwiseChainRecords) => () =>
      PairwiseSession.deserializeParts(provider, baseBytes, chains, known);
    const flip = (bytes: Uint8Array, at: number) => {
      const copy = bytes.slice();
      copy[at] = (copy[at] ?? 0) ^ 1;
      return copy;
    };
    for (const run of [
      corrupt(second, { sending }), // stale: written over the first base
      corrupt(second, { receiving }),
      corrupt(first, { sending: receiving }), // the other chain's record
      corrupt(first, { receiving: sending }),
      corrupt(first, { sending: flip(sending, 0) }),
      corrupt(first, { sending: flip(sending, 20) }),
      corrupt(first, { sending: flip(sending, 36) }),
      corrupt(first, { receiving: flip(receiving, receiving.length - 1) }),
      corrupt(first, { sending: sending.subarray(0, sending.length - 1) }),
      corrupt(first, { sending: new Uint8Array(0) }),
      corrupt(first, { sending: concatBytes(sending, Uint8Array.of(0)) }),
      // A chain record is never a whole state, and a whole state never a chain record.
      () => PairwiseSession.deserialize(provider, sending, known),
      corrupt(first, { sending: first }),
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
              const restored = stored.restore(provider, known);
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

interface ChainVectors {
  readonly known: { readonly initiatorIdentityKey: string; readonly ownerKeys: string };
  readonly base: string;
  readonly sending: string;
  readonly receiving: string;
  /** The whole state (version 1) the base and both records restore. */
  readonly state: string;
  /** A message of the member's that the restored session decrypts, and its plaintext. */
  readonly message: string;
  readonly plaintext: string;
  /** Records to refuse over `base`, with the chain they are read as, and why. */
  readonly invalid: ReadonlyArray<{
    readonly chain: "sending" | "receiving";
    readonly record: string;
    readonly why: string;
  }>;
}

describe("vectors: test/vectors/pairwise-chains.json", () => {
  const path = fileURLToPath(new URL("./vectors/pairwise-chains.json", import.meta.url));
  const vectors = JSON.parse(readFileSync(path, "utf8")) as ChainVectors;
  const known = {
    initiatorIdentityKey: h(vectors.known.initiatorIdentityKey),
    ownerKeys: h(vectors.known.ownerKeys),
  };

  it("restores the committed base and chain records", () => {
    const chains = { sending: h(vectors.sending), receiving: h(vectors.receiving) };
    const session = PairwiseSession.deserializeParts(base, h(vectors.base), chains, known);
    expect(hex(session.serialize())).toBe(vectors.state);
    expect(hex(session.decrypt(h(vectors.message)))).toBe(vectors.plaintext);
    // The base alone (version 2) is still read as a whole state.
    expect(PairwiseSession.deserialize(base, h(vectors.base), known).role).toBe("responder");
  });

  it.each(vectors.invalid)("refuses a chain record: $why", ({ chain, record }) => {
    expect(() =>
      PairwiseSession.deserializeParts(base, h(vectors.base), { [chain]: h(record) }, known),
    ).toThrowError(errorNamed("StateCorruptedError"));
  });
});
