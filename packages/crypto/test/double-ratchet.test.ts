/**
 * The pairwise Double Ratchet (docs/PROTOCOL.md, "Pairwise channel"): round trips with ratchet
 * turns, a fast-check delivery property (permutation, drop, duplication, restarts), the skip limits,
 * tamper resistance with unchanged state, state round trips and redaction. Both providers, seeded
 * RNG, fixed fast-check seeds, no retries.
 */
import { inspect } from "node:util";
import { concatBytes } from "@orgchat/base";
import { decodePairwiseMessage, encodePairwiseMessage, type PairwiseMessage } from "@orgchat/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PairwiseSession } from "../src/double-ratchet.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { pairwiseLimits } from "../src/ratchet-state.js";
import { x3dhInitiate } from "../src/x3dh.js";
import { errorNamed, hex, text, x3dhParties } from "./fixtures.js";
import { hmacSeeded } from "./seeded-provider.js";

const SEED = 0x5e55;

function errorName(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? error.name : typeof error;
  }
  return "no error";
}

/** Decodes, changes and re-encodes a message (the wire rules still hold). */
function tamper(bytes: Uint8Array, change: (message: PairwiseMessage) => void): Uint8Array {
  const message = decodePairwiseMessage(bytes);
  change(message);
  return encodePairwiseMessage(message);
}

const providers: ReadonlyArray<readonly [string, CryptoProvider, number]> = [
  // [name, provider, property runs]: noble X25519 is ~1 ms per operation.
  ["noble", nobleProvider(), 60],
  ["node", nodeProvider(), 150],
];

describe.each(providers)("Double Ratchet with the %s provider", (_name, base, runs) => {
  /** An organization, its prekeys and a member whose session has not sent anything yet. */
  function setup(seed = 1) {
    const provider = hmacSeeded(base, `orgchat ratchet test rng ${seed}`);
    const { organization, prekeys, member } = x3dhParties(provider, 0);
    const initiation = x3dhInitiate(provider, {
      ...member,
      bundle: prekeys.bundle(),
      organizationKey: organization.publicKey,
    });
    const sharedKey = initiation.sharedKey.slice();
    const alice = PairwiseSession.initiate(provider, initiation);
    return { provider, prekeys, alice, sharedKey, member, organization };
  }

  /** Alice has sent one message and the owner ("bob") has answered the X3DH. */
  function connected(seed = 1) {
    const context = setup(seed);
    const { session: bob, plaintext } = PairwiseSession.respond(
      context.provider,
      context.prekeys,
      context.alice.encrypt(text("a0")),
    );
    expect(plaintext).toEqual(text("a0"));
    return { ...context, bob };
  }

  it("round-trips both ways across several ratchet turns", () => {
    const { provider, alice, sharedKey, bob } = connected();
    expect(hex(sharedKey)).toHaveLength(64);
    expect(alice.role).toBe("initiator");
    expect(bob.role).toBe("responder");
    expect(alice.awaitingReply).toBe(true);
    const ratchetKeys = { alice: new Set<string>(), bob: new Set<string>() };
    for (let turn = 0; turn < 6; turn++) {
      const fromBob = [0, 1, 2].map((i) => bob.encrypt(text(`b${turn}.${i}`)));
      for (const [i, bytes] of fromBob.entries()) {
        const message = decodePairwiseMessage(bytes);
        expect(message.x3dh).toBeUndefined();
        expect(message.messageNumber).toBe(i);
        ratchetKeys.bob.add(hex(message.ratchetKey));
        expect(alice.decrypt(bytes)).toEqual(text(`b${turn}.${i}`));
      }
      expect(alice.awaitingReply).toBe(false);
      const fromAlice = [0, 1].map((i) => alice.encrypt(text(`a${turn}.${i}`)));
      for (const [i, bytes] of fromAlice.entries()) {
        const message = decodePairwiseMessage(bytes);
        expect(message.x3dh).toBeUndefined();
        expect(message.messageNumber).toBe(i);
        expect(message.previousChainLength).toBe(turn === 0 ? 1 : 2);
        ratchetKeys.alice.add(hex(message.ratchetKey));
        expect(bob.decrypt(bytes)).toEqual(text(`a${turn}.${i}`));
      }
    }
    // A new ratchet key on every turn, on both sides.
    expect(ratchetKeys.alice.size).toBe(6);
    expect(ratchetKeys.bob.size).toBe(6);
    expect(alice.skippedKeyCount).toBe(0);
    expect(bob.skippedKeyCount).toBe(0);
    // Empty and large plaintexts.
    expect(bob.decrypt(alice.encrypt(new Uint8Array(0)))).toEqual(new Uint8Array(0));
    const large = provider.randomBytes(100_000);
    expect(alice.decrypt(bob.encrypt(large))).toEqual(large);
  });

  it("attaches the X3DH header to every message until the owner replies", () => {
    const { provider, prekeys, alice } = setup();
    const early = [0, 1, 2].map((i) => alice.encrypt(text(`early ${i}`)));
    for (const bytes of early) expect(decodePairwiseMessage(bytes).x3dh).toBeDefined();
    // The owner may first see any of them; the others go to the session.
    const { session: bob, plaintext } = PairwiseSession.respond(
      provider,
      prekeys,
      early[2] as Uint8Array,
    );
    expect(plaintext).toEqual(text("early 2"));
    expect(hex(bob.initialEphemeralKey)).toBe(hex(alice.initialEphemeralKey));
    expect(bob.decrypt(early[0] as Uint8Array)).toEqual(text("early 0"));
    const reply = bob.encrypt(text("welcome"));
    expect(alice.decrypt(reply)).toEqual(text("welcome"));
    const after = alice.encrypt(text("after"));
    expect(decodePairwiseMessage(after).x3dh).toBeUndefined();
    expect(bob.decrypt(after)).toEqual(text("after"));
    expect(bob.decrypt(early[1] as Uint8Array)).toEqual(text("early 1"));
  });

  it("delivers every message exactly once under any reordering, loss and duplication", () => {
    type Side = "alice" | "bob";
    // One round: Alice sends, the network acts on what is in flight to Bob (any message, not just
    // this round's), Bob sends, the network acts towards Alice, and maybe one side restarts from
    // its serialized state. Rounds make ratchet turns frequent; the picks make the order arbitrary.
    const action = fc.record({
      kind: fc.constantFrom("deliver", "deliver", "deliver", "drop", "duplicate"),
      pick: fc.nat(),
    });
    const round = fc.record({
      aliceSends: fc.integer({ min: 0, max: 3 }),
      toBob: fc.array(action, { maxLength: 4 }),
      bobSends: fc.integer({ min: 0, max: 3 }),
      toAlice: fc.array(action, { maxLength: 4 }),
      restart: fc.constantFrom<Side | undefined>(undefined, undefined, undefined, "alice", "bob"),
    });
    interface Sent {
      readonly bytes: Uint8Array;
      readonly plaintext: Uint8Array;
    }
    let seed = 0;
    let mostChains = 0;
    let duplicatesRefused = 0;
    fc.assert(
      fc.property(fc.array(round, { minLength: 1, maxLength: 12 }), (rounds) => {
        const { provider, prekeys, alice } = setup(++seed);
        const sessions: { alice: PairwiseSession; bob: PairwiseSession | undefined } = {
          alice,
          bob: undefined,
        };
        const inFlight: Record<Side, Sent[]> = { alice: [], bob: [] };
        const delivered: Record<Side, Sent[]> = { alice: [], bob: [] };
        let counter = 0;
        const receive = (to: Side, message: Sent): Uint8Array => {
          const session = sessions[to];
          if (session !== undefined) return session.decrypt(message.bytes);
          const response = PairwiseSession.respond(provider, prekeys, message.bytes);
          sessions.bob = response.session;
          return response.plaintext;
        };
        const send = (from: Side, count: number) => {
          const session = sessions[from];
          if (session === undefined) return;
          const to: Side = from === "alice" ? "bob" : "alice";
          for (let i = 0; i < count; i++) {
            const plaintext = text(`${from} ${counter++}`);
            inFlight[to].push({ bytes: session.encrypt(plaintext), plaintext });
          }
        };
        const deliver = (to: Side, index: number) => {
          const [message] = inFlight[to].splice(index, 1);
          if (message === undefined) return;
          expect(receive(to, message)).toEqual(message.plaintext);
          delivered[to].push(message);
        };
        const refuseDuplicate = (to: Side, message: Sent) => {
          expect(errorName(() => receive(to, message))).toBe("DuplicateMessageError");
          if (to === "bob" && decodePairwiseMessage(message.bytes).x3dh !== undefined) {
            // Replayed as a new session, the initial message is refused too.
            expect(errorName(() => PairwiseSession.respond(provider, prekeys, message.bytes))).toBe(
              "DuplicateMessageError",
            );
          }
          duplicatesRefused++;
        };
        const network = (to: Side, actions: ReadonlyArray<{ kind: string; pick: number }>) => {
          for (const { kind, pick } of actions) {
            const queue = kind === "duplicate" ? delivered[to] : inFlight[to];
            if (queue.length === 0) continue;
            const index = pick % queue.length;
            if (kind === "deliver") deliver(to, index);
            else if (kind === "drop") queue.splice(index, 1);
            else refuseDuplicate(to, queue[index] as Sent);
          }
        };
        for (const step of rounds) {
          send("alice", step.aliceSends);
          network("bob", step.toBob);
          send("bob", step.bobSends);
          network("alice", step.toAlice);
          const restarting = step.restart === undefined ? undefined : sessions[step.restart];
          if (step.restart !== undefined && restarting !== undefined) {
            sessions[step.restart] = PairwiseSession.deserialize(provider, restarting.serialize());
          }
        }
        // Whatever is still in flight arrives at last, in order: nothing was lost to reordering.
        for (const to of ["bob", "alice"] as const) {
          while (inFlight[to].length > 0) deliver(to, 0);
        }
        // Every delivered message is now a duplicate, wherever its chain is.
        for (const to of ["bob", "alice"] as const) {
          for (const message of delivered[to]) refuseDuplicate(to, message);
        }
        const chains = new Set(
          delivered.bob.map((message) => hex(decodePairwiseMessage(message.bytes).ratchetKey)),
        );
        mostChains = Math.max(mostChains, chains.size);
      }),
      { seed: SEED, numRuns: runs },
    );
    // The generator really exercises ratchet turns and duplicates (a vacuous property would pass).
    expect(mostChains).toBeGreaterThanOrEqual(5);
    expect(duplicatesRefused).toBeGreaterThan(runs);
  });

  it("refuses a jump of more than 1,000 messages in one chain", () => {
    const { provider, prekeys, alice } = setup();
    const messages = Array.from({ length: 1003 }, (_, i) => alice.encrypt(text(`m${i}`)));
    const at = (i: number) => messages[i] as Uint8Array;
    // A brand-new session: Nr = 0, so message 1,001 would skip 1,001 keys.
    expect(() => PairwiseSession.respond(provider, prekeys, at(1001))).toThrowError(
      errorNamed("GenerationTooFarError"),
    );
    const { session: bob } = PairwiseSession.respond(provider, prekeys, at(0));
    // Nr = 1 now: message 1,002 skips 1,001 (refused), message 1,001 skips exactly 1,000.
    const before = bob.serialize();
    expect(() => bob.decrypt(at(1002))).toThrowError(errorNamed("GenerationTooFarError"));
    expect(bob.serialize()).toEqual(before);
    expect(bob.decrypt(at(1001))).toEqual(text("m1001"));
    expect(bob.skippedKeyCount).toBe(pairwiseLimits.maxSkip);
    expect(bob.decrypt(at(1002))).toEqual(text("m1002"));
    expect(bob.decrypt(at(500))).toEqual(text("m500"));
    expect(bob.skippedKeyCount).toBe(999);
    expect(() => bob.decrypt(at(500))).toThrowError(errorNamed("DuplicateMessageError"));

    // A new chain may not open more than 1,000 messages in either.
    const fresh = connected(2);
    const reply = fresh.bob.encrypt(text("reply"));
    fresh.alice.decrypt(reply);
    const chain = Array.from({ length: 1002 }, (_, i) => fresh.alice.encrypt(text(`c${i}`)));
    expect(() => fresh.bob.decrypt(chain[1001] as Uint8Array)).toThrowError(
      errorNamed("GenerationTooFarError"),
    );
    expect(fresh.bob.decrypt(chain[1000] as Uint8Array)).toEqual(text("c1000"));
  });

  it("keeps at most 2,000 skipped keys, evicting the oldest", () => {
    const { alice, bob } = connected();
    // Three chains of Alice's, each delivered only by its last message: 1,000 keys skipped per chain.
    const chains: Uint8Array[][] = [];
    for (let c = 0; c < 3; c++) {
      const chain = Array.from({ length: 1001 }, (_, i) => alice.encrypt(text(`${c}:${i}`)));
      chains.push(chain);
      expect(bob.decrypt(chain[1000] as Uint8Array)).toEqual(text(`${c}:1000`));
      expect(alice.decrypt(bob.encrypt(text(`turn ${c}`)))).toEqual(text(`turn ${c}`));
      expect(bob.skippedKeyCount).toBe(Math.min(2000, 1000 * (c + 1)));
    }
    const [first, second, third] = chains as [Uint8Array[], Uint8Array[], Uint8Array[]];
    // The first chain's keys were evicted: its messages can no longer be opened (an evicted key
    // and a used one cannot be told apart).
    expect(() => bob.decrypt(first[0] as Uint8Array)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );
    expect(bob.decrypt(second[0] as Uint8Array)).toEqual(text("1:0"));
    expect(bob.decrypt(third[999] as Uint8Array)).toEqual(text("2:999"));
    expect(bob.skippedKeyCount).toBe(1998);
  });

  it("rejects tampered messages with DecryptionFailedError and leaves the state unchanged", () => {
    const { provider, alice, bob } = connected();
    alice.decrypt(bob.encrypt(text("turn")));
    const stranger = provider.x25519KeyPair();
    // An early message of another member that still carries x3dh, for the "x3dh added" mutation.
    const firstMessage = connected(3).alice.encrypt(text("x"));
    const mutations: Array<[string, (bytes: Uint8Array) => Uint8Array]> = [
      [
        "ciphertext bit",
        (b) =>
          tamper(b, (m) => {
            m.ciphertext = m.ciphertext.slice();
            m.ciphertext[3] = (m.ciphertext[3] ?? 0) ^ 0x10;
          }),
      ],
      [
        "tag bit",
        (b) =>
          tamper(b, (m) => {
            m.ciphertext = m.ciphertext.slice();
            const last = m.ciphertext.length - 1;
            m.ciphertext[last] = (m.ciphertext[last] ?? 0) ^ 0x80;
          }),
      ],
      [
        "truncated",
        (b) =>
          tamper(b, (m) => {
            m.ciphertext = m.ciphertext.subarray(0, m.ciphertext.length - 1);
          }),
      ],
      [
        "message number",
        (b) =>
          tamper(b, (m) => {
            m.messageNumber += 1;
          }),
      ],
      [
        "previous chain length",
        (b) =>
          tamper(b, (m) => {
            m.previousChainLength += 1;
          }),
      ],
      [
        "ratchet key",
        (b) =>
          tamper(b, (m) => {
            m.ratchetKey = stranger.publicKey;
          }),
      ],
      [
        "small-order ratchet key",
        (b) =>
          tamper(b, (m) => {
            m.ratchetKey = new Uint8Array(32);
          }),
      ],
      [
        "version",
        (b) =>
          tamper(b, (m) => {
            m.version = 2;
          }),
      ],
      [
        "x3dh added",
        (b) =>
          tamper(b, (m) => {
            m.x3dh = decodePairwiseMessage(firstMessage).x3dh;
          }),
      ],
      ["not protobuf", () => Uint8Array.of(0xff, 0xff, 0xff)],
      ["empty", () => new Uint8Array(0)],
    ];
    for (const [receiverName, sender, receiver] of [
      ["bob", alice, bob],
      ["alice", bob, alice],
    ] as const) {
      for (const [label, mutate] of mutations) {
        const genuine = sender.encrypt(text(`${label} to ${receiverName}`));
        const before = receiver.serialize();
        expect(
          errorName(() => receiver.decrypt(mutate(genuine))),
          label,
        ).toBe("DecryptionFailedError");
        expect(receiver.serialize(), label).toEqual(before);
        expect(receiver.decrypt(genuine)).toEqual(text(`${label} to ${receiverName}`));
      }
    }
    // Header fields of an initial message are authenticated too.
    const context = setup(4);
    const initial = context.alice.encrypt(text("first"));
    const { session: owner } = PairwiseSession.respond(context.provider, context.prekeys, initial);
    const second = context.alice.encrypt(text("second"));
    for (const change of [
      (m: PairwiseMessage) => {
        if (m.x3dh) m.x3dh.signedPrekeyId += 1;
      },
      (m: PairwiseMessage) => {
        m.x3dh = undefined;
      },
    ]) {
      const before = owner.serialize();
      expect(errorName(() => owner.decrypt(tamper(second, change)))).toBe("DecryptionFailedError");
      expect(owner.serialize()).toEqual(before);
    }
    expect(owner.decrypt(second)).toEqual(text("second"));
  });

  it("leaves the state unchanged after any bit flip (property)", () => {
    const { alice, bob } = connected();
    alice.decrypt(bob.encrypt(text("turn")));
    /** The message's fields in canonical encoding: what the AEAD authenticates. */
    const canonical = (bytes: Uint8Array) =>
      hex(encodePairwiseMessage(decodePairwiseMessage(bytes)));
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        // Switching direction makes the next sender start a new chain (it has just received).
        fc.boolean(),
        (position, bit, ownerSends) => {
          const [sender, receiver] = ownerSends ? [bob, alice] : [alice, bob];
          const genuine = sender.encrypt(text("flip me"));
          const flipped = genuine.slice();
          const index = position % flipped.length;
          flipped[index] = (flipped[index] ?? 0) ^ (1 << bit);
          const before = receiver.serialize();
          let opened: Uint8Array | undefined;
          const outcome = errorName(() => {
            opened = receiver.decrypt(flipped);
          });
          if (outcome === "no error") {
            // Only a non-canonical encoding of the very same fields may open (protobuf parsers
            // accept some of those): same message, same plaintext, and the original is then a
            // duplicate. Nothing the AEAD covers was changed.
            expect(canonical(flipped)).toBe(canonical(genuine));
            expect(opened).toEqual(text("flip me"));
            expect(errorName(() => receiver.decrypt(genuine))).toBe("DuplicateMessageError");
            return;
          }
          expect([
            "DecryptionFailedError",
            "GenerationTooFarError",
            "DuplicateMessageError",
          ]).toContain(outcome);
          expect(receiver.serialize()).toEqual(before);
          expect(receiver.decrypt(genuine)).toEqual(text("flip me"));
        },
      ),
      { seed: SEED, numRuns: runs * 3 },
    );
  });

  it("continues after serialize/deserialize mid-conversation, and refuses corrupt state", () => {
    const { provider, alice, bob } = connected();
    const pendingToBob = [0, 1, 2, 3].map((i) => alice.encrypt(text(`pending ${i}`)));
    bob.decrypt(pendingToBob[3] as Uint8Array); // skips 0..2 (well: 1..2 after "a0")
    const pendingToAlice = [0, 1, 2].map((i) => bob.encrypt(text(`reply ${i}`)));
    alice.decrypt(pendingToAlice[2] as Uint8Array);

    const aliceBytes = alice.serialize();
    const bobBytes = bob.serialize();
    expect(aliceBytes[0]).toBe(1);
    const alice2 = PairwiseSession.deserialize(provider, aliceBytes);
    const bob2 = PairwiseSession.deserialize(provider, bobBytes);
    expect(alice2.serialize()).toEqual(aliceBytes);
    expect(bob2.serialize()).toEqual(bobBytes);
    expect(alice2.role).toBe("initiator");
    expect(bob2.role).toBe("responder");
    expect(alice2.skippedKeyCount).toBe(alice.skippedKeyCount);
    expect(alice2.associatedData).toEqual(alice.associatedData);

    expect(bob2.decrypt(pendingToBob[1] as Uint8Array)).toEqual(text("pending 1"));
    expect(alice2.decrypt(pendingToAlice[0] as Uint8Array)).toEqual(text("reply 0"));
    for (let turn = 0; turn < 3; turn++) {
      expect(bob2.decrypt(alice2.encrypt(text(`a${turn}`)))).toEqual(text(`a${turn}`));
      expect(alice2.decrypt(bob2.encrypt(text(`b${turn}`)))).toEqual(text(`b${turn}`));
    }
    expect(bob2.decrypt(pendingToBob[2] as Uint8Array)).toEqual(text("pending 2"));
    expect(alice2.decrypt(pendingToAlice[1] as Uint8Array)).toEqual(text("reply 1"));
    // The restored copy and the original are two sessions now: the original's keys still match.
    expect(() => bob2.decrypt(pendingToBob[3] as Uint8Array)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );

    // An initiator still awaiting a reply keeps attaching x3dh after a restore.
    const waiting = setup(5);
    waiting.alice.encrypt(text("one"));
    const restored = PairwiseSession.deserialize(waiting.provider, waiting.alice.serialize());
    expect(restored.awaitingReply).toBe(true);
    expect(decodePairwiseMessage(restored.encrypt(text("two"))).x3dh).toBeDefined();

    const corrupt = (change: (copy: Uint8Array) => Uint8Array) => () =>
      PairwiseSession.deserialize(provider, change(bobBytes.slice()));
    const flipAt = (index: number) => (copy: Uint8Array) => {
      copy[index] = (copy[index] ?? 0) ^ 1;
      return copy;
    };
    for (const run of [
      corrupt((copy) => copy.subarray(0, copy.length - 1)),
      corrupt((copy) => copy.subarray(0, 10)),
      corrupt(flipAt(1)),
      corrupt(flipAt(200)),
      corrupt(flipAt(bobBytes.length - 1)),
      corrupt((copy) => {
        copy[0] = 2;
        return copy;
      }),
      corrupt(() => new Uint8Array(0)),
      corrupt((copy) => concatBytes(copy, Uint8Array.of(0))),
      // A structurally wrong body with a valid checksum.
      corrupt((copy) => {
        const body = copy.slice(0, copy.length - 32);
        body[2] = 0xff; // unknown flags
        return concatBytes(body, provider.sha256(body));
      }),
      corrupt((copy) => {
        const body = copy.slice(0, copy.length - 32);
        body[1] = 7; // unknown role
        return concatBytes(body, provider.sha256(body));
      }),
    ]) {
      expect(run).toThrowError(errorNamed("StateCorruptedError"));
    }
  });

  it("version 2 state leaves out IK_M and the owner's keys, which the reader supplies", () => {
    const { provider, alice, bob, prekeys } = connected();
    const ownerKeys = concatBytes(prekeys.identityKey, prekeys.identityDhKey);
    const initiatorIdentityKey = bob.associatedData.slice(0, 32);
    const known = { initiatorIdentityKey, ownerKeys };
    expect(bob.associatedData.subarray(64)).toEqual(ownerKeys);
    const v1 = bob.serialize();
    const v2 = bob.serialize({ omitKnownKeys: true });
    expect(v2[0]).toBe(2);
    expect(v2.length).toBe(v1.length - 96);
    const restored = PairwiseSession.deserialize(provider, v2, known);
    expect(restored.serialize()).toEqual(v1);
    expect(restored.serialize({ omitKnownKeys: true })).toEqual(v2);
    expect(restored.decrypt(alice.encrypt(text("after")))).toEqual(text("after"));
    // Version 1 is still read, with or without the known keys.
    expect(PairwiseSession.deserialize(provider, v1, known).serialize()).toEqual(v1);
    // Version 2 without them, or with keys of the wrong size, is refused.
    expect(() => PairwiseSession.deserialize(provider, v2)).toThrowError(
      errorNamed("StateCorruptedError"),
    );
    expect(() =>
      PairwiseSession.deserialize(provider, v2, { ...known, ownerKeys: ownerKeys.subarray(1) }),
    ).toThrowError(TypeError);
    expect(() =>
      PairwiseSession.deserialize(provider, v2, { ...known, initiatorIdentityKey: ownerKeys }),
    ).toThrowError(TypeError);
    // Wrong keys restore a session whose AD differs: its peer's messages fail to decrypt.
    for (const wrongKnown of [
      { ...known, ownerKeys: new Uint8Array(64) },
      { ...known, initiatorIdentityKey: new Uint8Array(32) },
    ]) {
      const wrong = PairwiseSession.deserialize(provider, v2, wrongKnown);
      expect(() => wrong.decrypt(alice.encrypt(text("x")))).toThrowError(
        errorNamed("DecryptionFailedError"),
      );
    }
    const body = v2.slice(0, v2.length - 32);
    body[1] = 7;
    expect(() =>
      PairwiseSession.deserialize(provider, concatBytes(body, provider.sha256(body)), known),
    ).toThrowError(errorNamed("StateCorruptedError"));
  });

  it("never prints key material (String, JSON, util.inspect)", () => {
    const { alice, bob, sharedKey } = connected();
    alice.decrypt(bob.encrypt(text("turn")));
    alice.encrypt(text("skipped, so a skipped key is held"));
    bob.decrypt(alice.encrypt(text("next")));
    expect(bob.skippedKeyCount).toBe(1);
    for (const session of [alice, bob]) {
      const state = session.serialize();
      // Known secrets: the X3DH SK, and from the state layout RK, DHs and every 32-byte key after.
      const secrets = [
        hex(sharedKey),
        hex(state.subarray(163, 195)), // RK
        hex(state.subarray(195, 227)), // DHs secret key
        hex(state.subarray(227 + 32, 227 + 64)), // CKs (after DHr)
        hex(state.subarray(227 + 64, 227 + 96)), // CKr
        hex(state.subarray(state.length - 64, state.length - 32)), // the last skipped key / chain key
      ];
      const decimal = (h: string) => Array.from(Buffer.from(h, "hex")).slice(0, 8).join(", ");
      const outputs = [
        String(session),
        `${session}`,
        JSON.stringify(session),
        JSON.stringify({ session }),
        JSON.stringify({ ...session }),
        inspect(session),
        inspect(session, { showHidden: true, depth: null, getters: true }),
        inspect({ session }, { depth: null }),
      ];
      for (const output of outputs) {
        for (const secret of secrets) {
          expect(output).not.toContain(secret);
          expect(output).not.toContain(decimal(secret));
        }
      }
      expect(String(session)).toBe("PairwiseSession [redacted secret]");
      expect(inspect(session)).toBe("PairwiseSession [redacted secret]");
    }
  });
});
