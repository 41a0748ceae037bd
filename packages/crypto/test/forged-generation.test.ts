/**
 * Issue #13, row 8: a forged group message claiming a far generation must be cheap to refuse. Any
 * member of an epoch knows every leaf's chain (the secret tree's root is shared), so a forgery in
 * another member's name opens under the real key and is refused by the Ed25519 signature inside the
 * ciphertext: the chain steps up to the claimed generation come first, whatever the order. What the
 * receiver controls: nothing is derived for the generations skipped over until the message is
 * authentic, and the chain secrets walked are kept (every `lookaheadStride`-th) so that the next
 * forgery on that stretch of the chain costs at most `lookaheadStride` steps. A counting provider
 * checks both: it fails if the skipped keys are derived before the signature check again, or if the
 * walk starts over for each forgery.
 */
import { decodeGroupMessage, type GroupMessage } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { EpochKeys } from "../src/group-message.js";
import { EpochSecrets, type GroupId, type Roster } from "../src/key-schedule.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { lookaheadStride, maxLookaheadChains } from "../src/sender-chain.js";
import { errorNamed, hex } from "./fixtures.js";

const group: GroupId = { organizationId: new Uint8Array(32).fill(0x3c), channelId: "" };
const epochSecret = Uint8Array.from({ length: 32 }, (_, i) => (i * 17 + 3) & 0xff);
const signingSeed = (leaf: number) => new Uint8Array(32).fill(0x40 + leaf);
const leaves = 16;
const attacker = 1;
/** HKDF-Expand calls of opening the sender data (key and nonce). */
const senderDataCalls = 2;
/** HKDF-Expand calls of the message key and nonce at the claimed generation. */
const messageKeyCalls = 2;

/** `base` with its `hkdfExpand` calls counted. */
function counting(base: CryptoProvider) {
  const counter = { calls: 0 };
  const provider: CryptoProvider = Object.create(base);
  provider.hkdfExpand = (prk, info, length) => {
    counter.calls++;
    return base.hkdfExpand(prk, info, length);
  };
  return { provider, counter };
}

/** The keys of epoch 2 of the test group with `roster`. */
const epochKeys = (provider: CryptoProvider, roster: Roster) =>
  EpochKeys.create({
    provider,
    group,
    secrets: EpochSecrets.derive(provider, group, 2n, epochSecret.slice()),
    roster,
  });

describe.each([nodeProvider(), nobleProvider()])("forged far generations ($name)", (base) => {
  const roster: Roster = Array.from({ length: leaves }, (_, leaf) => ({
    identityKey: new Uint8Array(32).fill(leaf),
    signingKey: base.ed25519PublicKey(signingSeed(leaf)),
    prekey: new Uint8Array(32).fill(0x80 + leaf),
  }));
  const keys = (provider: CryptoProvider) => epochKeys(provider, roster);
  /** A message in `leaf`'s name at `generation`, signed by `signer` (the attacker unless honest). */
  const message = (leaf: number, generation: number, signer = attacker, content = "x") => {
    const sender = keys(base);
    if (generation > 0) sender.advanceSendChain(leaf, generation);
    return decodeGroupMessage(
      sender.encrypt({
        senderLeaf: leaf,
        signingSecretKey: signingSeed(signer),
        contentType: 1,
        content: new TextEncoder().encode(content),
      }),
    );
  };
  /** HKDF-Expand calls `receiver` makes refusing `forged`. */
  const refusalCost = (
    receiver: EpochKeys,
    counter: { calls: number },
    forged: GroupMessage,
  ): number => {
    const before = counter.calls;
    expect(() => receiver.decrypt(forged)).toThrowError(errorNamed("DecryptionFailedError"));
    return counter.calls - before;
  };

  it("a forgery 999 ahead on a chain in use walks it once, without deriving the skipped keys; the next ones cost ≤ the stride", () => {
    const { provider, counter } = counting(base);
    const receiver = keys(provider);
    const victim = 5;
    receiver.decrypt(message(victim, 0, victim)); // the victim's chain is registered, at generation 1
    const clean = keys(base);
    clean.decrypt(message(victim, 0, victim));

    const first = refusalCost(receiver, counter, message(victim, 1000, attacker, "first"));
    // 999 chain steps from generation 1; deriving the 256 kept skipped keys too would add 512.
    expect(first).toBeLessThanOrEqual(senderDataCalls + 999 + messageKeyCalls);
    for (const [generation, content] of [
      [1000, "again"],
      [999, "below"],
      [968, "further below"],
      [500, "half way"],
    ] as const) {
      const cost = refusalCost(receiver, counter, message(victim, generation, attacker, content));
      expect(cost).toBeLessThanOrEqual(senderDataCalls + lookaheadStride + messageKeyCalls);
    }
    // Nothing of it is state: the receiver saves exactly what one that saw no forgery saves.
    expect(hex(receiver.serialize())).toBe(hex(clean.serialize()));

    // The genuine messages still decrypt, the far one and one it skipped over.
    for (const k of [receiver, clean]) {
      expect(k.decrypt(message(victim, 1000, victim, "real")).senderLeaf).toBe(victim);
      expect(k.decrypt(message(victim, 990, victim, "late")).generation).toBe(990);
    }
    expect(hex(receiver.serialize())).toBe(hex(clean.serialize()));
  });

  it("a forgery in the name of a leaf that never sent keeps its walk too (no state, no new tree derivation)", () => {
    const { provider, counter } = counting(base);
    const receiver = keys(provider);
    const clean = keys(base);
    const victim = 9;
    const first = refusalCost(receiver, counter, message(victim, 999, attacker, "first"));
    // The leaf secret (a few tree steps) and 999 chain steps.
    expect(first).toBeLessThanOrEqual(
      senderDataCalls + 2 * Math.log2(leaves) + 999 + messageKeyCalls,
    );
    for (let i = 0; i < 5; i++) {
      const cost = refusalCost(
        receiver,
        counter,
        message(victim, 999 - i * 7, attacker, `again ${i}`),
      );
      expect(cost).toBeLessThanOrEqual(senderDataCalls + lookaheadStride + messageKeyCalls);
    }
    expect(hex(receiver.serialize())).toBe(hex(clean.serialize()));
    for (const k of [receiver, clean]) {
      expect(k.decrypt(message(victim, 999, victim, "real")).generation).toBe(999);
      expect(k.decrypt(message(victim, 800, victim, "late")).generation).toBe(800);
    }
    expect(hex(receiver.serialize())).toBe(hex(clean.serialize()));
  });

  it("a chain's lookahead does not outlive its sending: our own leaf forged, then we send", () => {
    const { provider, counter } = counting(base);
    const own = 4;
    const receiver = keys(provider);
    refusalCost(receiver, counter, message(own, 900, attacker, "in our name"));
    const sent = receiver.encrypt({
      senderLeaf: own,
      signingSecretKey: signingSeed(own),
      contentType: 1,
      content: new Uint8Array(3),
    });
    const peer = keys(base);
    expect(peer.decrypt(decodeGroupMessage(sent)).generation).toBe(0);
    expect(receiver.nextGeneration(own)).toBe(1);
  });
});

describe("forged far generations: memory stays bounded", () => {
  it(`keeps the lookahead of the ${maxLookaheadChains} most recently walked chains only`, () => {
    const base = nodeProvider();
    const size = maxLookaheadChains + 2;
    // Every leaf with leaf 0's signing key (cheap to build): the attacker's signature is never it.
    const signingKey = base.ed25519PublicKey(signingSeed(0));
    const roster: Roster = Array.from({ length: size }, (_, leaf) => ({
      identityKey: new Uint8Array(32).fill(leaf & 0xff),
      signingKey,
      prekey: new Uint8Array(32).fill(0x80),
    }));
    const make = (provider: CryptoProvider) => epochKeys(provider, roster);
    const forger = make(base);
    for (let leaf = 0; leaf < size; leaf++) forger.advanceSendChain(leaf, 500);
    const forge = (leaf: number) =>
      decodeGroupMessage(
        forger.encrypt({
          senderLeaf: leaf,
          signingSecretKey: signingSeed(attacker),
          contentType: 1,
          content: new Uint8Array(1),
        }),
      );
    const { provider, counter } = counting(base);
    const receiver = make(provider);
    const cost = (leaf: number) => {
      const before = counter.calls;
      expect(() => receiver.decrypt(forge(leaf))).toThrowError(errorNamed("DecryptionFailedError"));
      return counter.calls - before;
    };
    // Every leaf walked once (500 steps): two more than the cap.
    for (let leaf = 0; leaf < size; leaf++) cost(leaf);
    // The most recent ones are still cheap; the first one walked lost its lookahead.
    expect(cost(size - 1)).toBeLessThanOrEqual(senderDataCalls + lookaheadStride + messageKeyCalls);
    expect(cost(0)).toBeGreaterThan(400);
  });
});
