import { inspect } from "node:util";
import { concatBytes } from "@orgchat/base";
import { decodeGroupMessage, encodeGroupMessage, type GroupMessage } from "@orgchat/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GroupLimits, groupLimits } from "../src/group-limits.js";
import { type DecryptedGroupMessage, EpochKeys } from "../src/group-message.js";
import { expandWithLabel, u32, u64 } from "../src/kdf.js";
import { EpochSecrets, type GroupId, groupContext, type Roster } from "../src/key-schedule.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { errorNamed, hex, text } from "./fixtures.js";

const encoder = new TextEncoder();
const epoch = 5n;
const epochSecret = Uint8Array.from({ length: 32 }, (_, i) => (i * 31 + 7) & 0xff);
const group: GroupId = { organizationId: new Uint8Array(32).fill(0x0a), channelId: "" };
/** Leaves 0, 1, 3, 4 are members; leaf 2 is empty (a removed member). */
const memberLeaves = [0, 1, 3, 4] as const;
const signingSeed = (leaf: number) => new Uint8Array(32).fill(leaf + 1);
const outsiderSeed = new Uint8Array(32).fill(0xee);

/** One provider's fixture: roster, secrets and helpers. */
function fixture(provider: CryptoProvider) {
  const roster: Roster = [0, 1, 2, 3, 4].map((leaf) =>
    leaf === 2
      ? undefined
      : {
          identityKey: new Uint8Array(32).fill(0x10 + leaf),
          signingKey: provider.ed25519PublicKey(signingSeed(leaf)),
          prekey: new Uint8Array(32).fill(0x20 + leaf),
        },
  );
  const secrets = () => EpochSecrets.derive(provider, group, epoch, epochSecret.slice());
  const keys = (limits?: Partial<GroupLimits>, randomBytes?: (n: number) => Uint8Array) =>
    EpochKeys.create({
      provider,
      group,
      secrets: secrets(),
      roster,
      ...(limits === undefined ? {} : { limits }),
      ...(randomBytes === undefined ? {} : { randomBytes }),
    });
  const send = (keys: EpochKeys, senderLeaf: number, content: Uint8Array, contentType = 1) =>
    keys.encrypt({ senderLeaf, signingSecretKey: signingSeed(senderLeaf), contentType, content });
  return { provider, roster, secrets, keys, send };
}

/** A copy of `bytes` with byte `at` (modulo the length) XORed with `mask`. */
function flipped(bytes: Uint8Array, at: number, mask: number): Uint8Array {
  const copy = bytes.slice();
  const i = at % copy.length;
  copy[i] = (copy[i] as number) ^ mask;
  return copy;
}

/**
 * docs/PROTOCOL.md "Group messages" steps 1-5 written out from the text, independently of
 * src/group-message.ts, with knobs to break one rule at a time using the real keys.
 */
function craft(
  provider: CryptoProvider,
  options: {
    leaf: number;
    generation: number;
    content: Uint8Array;
    contentType?: number;
    /** Leaf whose chain keys encrypt the message (default `leaf`). */
    chainLeaf?: number;
    signingSeed?: Uint8Array;
    /** Leaf named in the signed input (default `leaf`). */
    signedLeaf?: number;
    padding?: Uint8Array;
    lengthPrefix?: Uint8Array;
    guard?: Uint8Array;
  },
): GroupMessage {
  const secrets = EpochSecrets.derive(provider, group, epoch, epochSecret.slice());
  const t = options.contentType ?? 1;
  const m = options.content;
  const chainLeaf = options.chainLeaf ?? options.leaf;
  // Secret tree over 5 leaves = full tree of 8: halve the range from the root.
  let c = secrets.encryptionSecret;
  for (let size = 8, low = 0; size > 1; ) {
    size /= 2;
    const left = chainLeaf < low + size;
    c = expandWithLabel(provider, c, "tree", encoder.encode(left ? "left" : "right"), 32);
    if (!left) low += size;
  }
  for (let g = 0; g < options.generation; g++)
    c = expandWithLabel(provider, c, "secret", u32(g), 32);
  const key = expandWithLabel(provider, c, "key", u32(options.generation), 32);
  const nonce = expandWithLabel(provider, c, "nonce", u32(options.generation), 12);
  const context = groupContext(group);
  const signature = provider.ed25519Sign(
    options.signingSeed ?? signingSeed(options.leaf),
    concatBytes(
      encoder.encode("orgchat v1 group message"),
      context,
      u64(epoch),
      u32(options.signedLeaf ?? options.leaf),
      u32(options.generation),
      u32(t),
      secrets.keyId,
      u32(m.length),
      m,
    ),
  );
  const prefix = options.lengthPrefix ?? varint(m.length);
  const unpadded = prefix.length + m.length + 64;
  const padding = options.padding ?? new Uint8Array(Math.ceil(unpadded / 64) * 64 - unpadded);
  const plaintext = concatBytes(prefix, m, signature, padding);
  const guard = options.guard ?? new Uint8Array([1, 2, 3, 4]);
  const guarded = nonce.slice();
  for (let i = 0; i < 4; i++) guarded[i] = (guarded[i] as number) ^ (guard[i] as number);
  const aad = concatBytes(
    encoder.encode("orgchat v1 group aad"),
    u32(1),
    context,
    u64(epoch),
    u32(t),
    secrets.keyId,
  );
  const ciphertext = provider.aesGcmSeal(key, guarded, plaintext, aad);
  const sample = ciphertext.subarray(0, 16);
  const senderData = provider.aesGcmSeal(
    expandWithLabel(provider, secrets.senderDataSecret, "key", sample, 32),
    expandWithLabel(provider, secrets.senderDataSecret, "nonce", sample, 12),
    concatBytes(u32(options.leaf), u32(options.generation), guard),
    concatBytes(secrets.keyId, u32(t)),
  );
  return decodeGroupMessage(
    encodeGroupMessage({
      version: 1,
      keyId: secrets.keyId,
      contentType: t,
      senderData,
      ciphertext,
    }),
  );
}

/** Expects `run` to throw an error named `name` and the receiver's state to stay byte-identical. */
function expectRejected(receiver: EpochKeys, name: string, run: () => unknown) {
  const before = hex(receiver.serialize());
  expect(run).toThrowError(errorNamed(name));
  expect(hex(receiver.serialize())).toBe(before);
}

const providers = [nobleProvider(), nodeProvider()];

describe.each(providers)("EpochKeys ($name)", (provider) => {
  const f = fixture(provider);

  it("round trip: several senders, several receivers, every content size around the padding blocks", () => {
    const sender = f.keys();
    const receivers = memberLeaves.map(() => f.keys());
    const sizes = [0, 1, 59, 60, 61, 123, 124, 256, 1000];
    for (const [i, size] of sizes.entries()) {
      for (const leaf of memberLeaves) {
        const content = Uint8Array.from({ length: size }, (_, j) => (j + leaf + i) & 0xff);
        const bytes = f.send(sender, leaf, content, 7 + i);
        const message = decodeGroupMessage(bytes);
        const prefix = varint(size).length;
        expect(message.ciphertext.length).toBe(Math.ceil((prefix + size + 64) / 64) * 64 + 16);
        expect(message.senderData.length).toBe(28);
        expect(message.keyId).toEqual(sender.keyId);
        for (const receiver of receivers) {
          const opened = receiver.decrypt(message);
          expect(opened).toEqual({
            senderLeaf: leaf,
            generation: i,
            contentType: 7 + i,
            content,
            epoch,
            keyId: sender.keyId,
          } satisfies DecryptedGroupMessage);
        }
      }
    }
    expect(sender.nextGeneration(0)).toBe(sizes.length);
    expect(receivers[0]?.nextGeneration(3)).toBe(sizes.length);
  });

  it("is byte-identical to the protocol text written out independently", () => {
    const guard = new Uint8Array([9, 8, 7, 6]);
    const sender = f.keys({}, () => guard.slice());
    sender.advanceSendChain(3, 2);
    const content = text("hello, organization");
    const ours = f.send(sender, 3, content, 4);
    const theirs = craft(provider, { leaf: 3, generation: 2, content, contentType: 4, guard });
    expect(hex(ours)).toBe(hex(encodeGroupMessage(theirs)));
    expect(f.keys().decrypt(theirs)).toMatchObject({ senderLeaf: 3, generation: 2, content });
  });

  it("wire overhead of a 256-byte message", () => {
    const bytes = f.send(f.keys(), 0, new Uint8Array(256), 1);
    // version 2 + key_id 10 + content_type 2 + sender data 30 + ciphertext field 3 + 16 tag
    // + (4 length + 64 signature + 60 padding) = 191 bytes beyond the content.
    expect(bytes.length - 256).toBe(191);
  });

  it("interoperates with the other provider", () => {
    const other = providers.find((p) => p.name !== provider.name) as CryptoProvider;
    const g = fixture(other);
    const bytes = f.send(f.keys(), 1, text("cross"));
    expect(g.keys().decrypt(decodeGroupMessage(bytes)).content).toEqual(text("cross"));
    const back = g.send(g.keys(), 4, text("back"));
    expect(f.keys().decrypt(decodeGroupMessage(back)).content).toEqual(text("back"));
  });

  it("property: permuted, dropped and duplicated delivery decrypts each delivered message exactly once", () => {
    const message = fc.record({
      sender: fc.constantFrom(...memberLeaves),
      content: fc.uint8Array({ maxLength: 80 }),
      contentType: fc.integer({ min: 0, max: 5 }),
    });
    const scenario = fc
      .array(message, { minLength: 1, maxLength: provider.name === "node" ? 30 : 12 })
      .chain((sent) =>
        fc.record({
          sent: fc.constant(sent),
          delivered: fc.shuffledSubarray(
            sent.map((_, i) => i),
            { minLength: 0 },
          ),
          duplicates: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
          forgeries: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 3 }),
          restoreAt: fc.nat(),
        }),
      );
    const pristine = f.keys().serialize();
    fc.assert(
      fc.property(scenario, ({ sent, delivered, duplicates, forgeries, restoreAt }) => {
        const sender = f.keys();
        const wire = sent.map((m) => f.send(sender, m.sender, m.content, m.contentType));
        // Delivery plan: the permuted subset, duplicates of delivered ones and forged copies anywhere.
        type Step = { index: number; forged?: { at: number } };
        const plan: Step[] = delivered.map((index) => ({ index }));
        for (const [pick, at] of duplicates) {
          if (plan.length === 0) break;
          plan.splice(at % (plan.length + 1), 0, {
            index: (plan[pick % plan.length] as Step).index,
          });
        }
        for (const [pick, byte, at] of forgeries) {
          plan.splice(at % (plan.length + 1), 0, {
            index: pick % sent.length,
            forged: { at: byte },
          });
        }
        let receiver = EpochKeys.deserialize(provider, pristine);
        const opened = new Set<number>();
        plan.forEach((step, position) => {
          if (position === restoreAt % (plan.length + 1)) {
            receiver = EpochKeys.deserialize(provider, receiver.serialize());
          }
          const original = decodeGroupMessage(wire[step.index] as Uint8Array);
          if (step.forged) {
            const ciphertext = flipped(original.ciphertext, step.forged.at, 0x40);
            const forged = { ...original, ciphertext };
            // Never accepted. A forgery of an already consumed message may be refused as a duplicate
            // before it is opened (the sender data is intact); otherwise it fails to authenticate.
            const allowed = opened.has(step.index)
              ? ["DecryptionFailedError", "DuplicateMessageError"]
              : ["DecryptionFailedError"];
            let thrown: unknown;
            try {
              receiver.decrypt(forged);
            } catch (error) {
              thrown = error;
            }
            expect(allowed).toContain((thrown as Error | undefined)?.name);
            return;
          }
          if (opened.has(step.index)) {
            expect(() => receiver.decrypt(original)).toThrowError(
              errorNamed("DuplicateMessageError"),
            );
            return;
          }
          const result = receiver.decrypt(original);
          const m = sent[step.index] as (typeof sent)[number];
          expect(result.senderLeaf).toBe(m.sender);
          expect(result.contentType).toBe(m.contentType);
          expect(result.content).toEqual(m.content);
          opened.add(step.index);
        });
        expect([...opened].sort((a, b) => a - b)).toEqual(
          [...new Set(delivered)].sort((a, b) => a - b),
        );
      }),
      { seed: 0x6209, numRuns: provider.name === "node" ? 120 : 12 },
    );
  });

  describe("negative cases: each throws its error and leaves the state unchanged", () => {
    const content = text("a legitimate message");
    const setup = () => {
      const sender = f.keys();
      const receiver = f.keys();
      f.send(sender, 0, text("warm-up")); // generation 0 of leaf 0 consumed by nobody: receiver skips it
      const legit = decodeGroupMessage(f.send(sender, 0, content));
      return { sender, receiver, legit };
    };
    const stillWorks = (receiver: EpochKeys, legit: GroupMessage) =>
      expect(receiver.decrypt(legit)).toMatchObject({ senderLeaf: 0, generation: 1, content });

    it("key_id flipped: UnknownEpochError", () => {
      const { receiver, legit } = setup();
      for (let i = 0; i < 8; i++) {
        const keyId = flipped(legit.keyId, i, 1);
        expectRejected(receiver, "UnknownEpochError", () => receiver.decrypt({ ...legit, keyId }));
      }
      stillWorks(receiver, legit);
    });

    it("every byte of sender data flipped: DecryptionFailedError", () => {
      const { receiver, legit } = setup();
      for (let i = 0; i < legit.senderData.length; i++) {
        const senderData = flipped(legit.senderData, i, 0x80);
        expectRejected(receiver, "DecryptionFailedError", () =>
          receiver.decrypt({ ...legit, senderData }),
        );
      }
      stillWorks(receiver, legit);
    });

    it("ciphertext flipped (sample, body, tag) or truncated: DecryptionFailedError", () => {
      const { receiver, legit } = setup();
      const n = legit.ciphertext.length;
      for (const i of [0, 8, 15, 16, 17, 40, n - 17, n - 16, n - 1]) {
        const ciphertext = flipped(legit.ciphertext, i, 1);
        expectRejected(receiver, "DecryptionFailedError", () =>
          receiver.decrypt({ ...legit, ciphertext }),
        );
      }
      for (const length of [0, 15, 143, n - 1]) {
        const ciphertext = legit.ciphertext.slice(0, length);
        expectRejected(receiver, "DecryptionFailedError", () =>
          receiver.decrypt({ ...legit, ciphertext }),
        );
      }
      stillWorks(receiver, legit);
    });

    it("content type or version changed: DecryptionFailedError", () => {
      const { receiver, legit } = setup();
      for (const contentType of [0, 2, 0x8000_0001]) {
        expectRejected(receiver, "DecryptionFailedError", () =>
          receiver.decrypt({ ...legit, contentType }),
        );
      }
      for (const version of [0, 2]) {
        expectRejected(receiver, "DecryptionFailedError", () =>
          receiver.decrypt({ ...legit, version }),
        );
      }
      stillWorks(receiver, legit);
    });

    it("non-zero padding, or a length field past the plaintext, with the real keys: DecryptionFailedError", () => {
      const receiver = f.keys();
      const good = craft(provider, { leaf: 1, generation: 0, content });
      const unpadded = varint(content.length).length + content.length + 64;
      const padLength = Math.ceil(unpadded / 64) * 64 - unpadded;
      const padding = new Uint8Array(padLength);
      padding[padLength - 1] = 1;
      const badPadding = craft(provider, { leaf: 1, generation: 0, content, padding });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(badPadding));
      const longPadding = craft(provider, {
        leaf: 1,
        generation: 0,
        content,
        padding: new Uint8Array(padLength + 64),
      });
      expect(receiver.decrypt(longPadding).content).toEqual(content); // more zero blocks are fine
      const lying = craft(provider, {
        leaf: 1,
        generation: 1,
        content,
        lengthPrefix: varint(content.length + padLength + 1),
      });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(lying));
      const overlong = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]);
      const huge = craft(provider, { leaf: 1, generation: 1, content, lengthPrefix: overlong });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(huge));
      // The same length written non-minimally (a trailing 0x00 continuation) is refused too, so
      // every content has exactly one plaintext.
      const minimal = varint(content.length);
      const padded = Uint8Array.from([
        ...minimal.subarray(0, -1),
        (minimal.at(-1) as number) | 0x80,
        0,
      ]);
      const nonMinimal = craft(provider, { leaf: 1, generation: 1, content, lengthPrefix: padded });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(nonMinimal));
      expect(good.ciphertext.length).toBe(badPadding.ciphertext.length);
    });

    it("signature by a key not in the roster, or by another member: DecryptionFailedError", () => {
      const receiver = f.keys();
      const sender = f.keys();
      const outsider = decodeGroupMessage(
        sender.encrypt({ senderLeaf: 1, signingSecretKey: outsiderSeed, contentType: 1, content }),
      );
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(outsider));
      const impostor = craft(provider, {
        leaf: 1,
        generation: 1,
        content,
        signingSeed: signingSeed(0),
      });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(impostor));
      // Leaf 0's own valid signature, but the sender data claims leaf 1.
      const relabelled = craft(provider, {
        leaf: 1,
        generation: 2,
        content,
        signingSeed: signingSeed(0),
        signedLeaf: 0,
      });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(relabelled));
      expect(
        receiver.decrypt(craft(provider, { leaf: 1, generation: 1, content })).senderLeaf,
      ).toBe(1);
    });

    it("sender leaf empty or outside the roster: DecryptionFailedError", () => {
      const receiver = f.keys();
      // Empty leaf 2, with a signature made for it by a member's key and leaf 2's chain keys.
      const empty = craft(provider, {
        leaf: 2,
        generation: 0,
        content,
        signingSeed: signingSeed(0),
      });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(empty));
      for (const leaf of [5, 7, 1000, 0xffff_ffff]) {
        const outside = craft(provider, {
          leaf,
          chainLeaf: 0,
          generation: 0,
          content,
          signingSeed: signingSeed(0),
        });
        expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(outside));
      }
    });

    it("a message decrypted under another leaf's chain key: DecryptionFailedError", () => {
      const receiver = f.keys();
      const swapped = craft(provider, {
        leaf: 3,
        chainLeaf: 4,
        generation: 0,
        content,
        signingSeed: signingSeed(3),
      });
      expectRejected(receiver, "DecryptionFailedError", () => receiver.decrypt(swapped));
    });

    it("a jump over maxForwardJump: GenerationTooFarError (exactly the limit is accepted)", () => {
      const receiver = f.keys();
      const sender = f.keys();
      sender.advanceSendChain(3, groupLimits.maxForwardJump + 1);
      const far = decodeGroupMessage(f.send(sender, 3, content));
      expectRejected(receiver, "GenerationTooFarError", () => receiver.decrypt(far));
      const edge = f.keys();
      edge.advanceSendChain(3, groupLimits.maxForwardJump);
      expect(receiver.decrypt(decodeGroupMessage(f.send(edge, 3, content))).generation).toBe(1000);
      expect(receiver.skippedKeyCount).toBe(groupLimits.maxSkippedPerChain);
    });

    it("a duplicate, and one's own echoed message: DuplicateMessageError", () => {
      const { sender, receiver, legit } = setup();
      stillWorks(receiver, legit);
      expectRejected(receiver, "DuplicateMessageError", () => receiver.decrypt(legit));
      expectRejected(sender, "DuplicateMessageError", () => sender.decrypt(legit));
    });
  });

  it("keeps at most maxSkippedPerEpoch keys across chains, evicting the oldest", () => {
    const sender = f.keys();
    const receiver = f.keys({ maxSkippedPerChain: 5, maxSkippedPerEpoch: 8 });
    const sent = new Map<number, GroupMessage[]>();
    for (const leaf of [0, 1]) {
      sent.set(
        leaf,
        [0, 1, 2, 3, 4, 5].map((g) =>
          decodeGroupMessage(f.send(sender, leaf, text(`${leaf}/${g}`))),
        ),
      );
    }
    const at = (leaf: number, g: number) => sent.get(leaf)?.[g] as GroupMessage;
    receiver.decrypt(at(0, 5)); // keeps 0/0..0/4
    expect(receiver.skippedKeyCount).toBe(5);
    receiver.decrypt(at(1, 5)); // keeps 1/0..1/4; 0/0, 0/1 evicted
    expect(receiver.skippedKeyCount).toBe(8);
    expectRejected(receiver, "DuplicateMessageError", () => receiver.decrypt(at(0, 0)));
    expectRejected(receiver, "DuplicateMessageError", () => receiver.decrypt(at(0, 1)));
    for (const [leaf, g] of [
      [0, 2],
      [1, 0],
      [0, 4],
    ] as const) {
      expect(receiver.decrypt(at(leaf, g)).content).toEqual(text(`${leaf}/${g}`));
    }
    expect(receiver.skippedKeyCount).toBe(5);
  });

  it("serialize / deserialize mid-stream keeps sending and receiving as before", () => {
    let sender = f.keys();
    let receiver = f.keys();
    const wire = [0, 1, 2, 3, 4].map((g) => decodeGroupMessage(f.send(sender, 4, text(`m${g}`))));
    receiver.decrypt(wire[3] as GroupMessage);
    const saved = receiver.serialize();
    expect(saved[0]).toBe(1);
    receiver = EpochKeys.deserialize(provider, saved);
    expect(hex(receiver.serialize())).toBe(hex(saved));
    expect(receiver.keyId).toEqual(sender.keyId);
    expect(receiver.epoch).toBe(epoch);
    expect(receiver.group.organizationId).toEqual(group.organizationId);
    expect(receiver.roster[3]?.signingKey).toEqual(f.roster[3]?.signingKey);
    expect(receiver.decrypt(wire[1] as GroupMessage).content).toEqual(text("m1"));
    expect(() => receiver.decrypt(wire[3] as GroupMessage)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );

    sender = EpochKeys.deserialize(provider, sender.serialize());
    expect(sender.nextGeneration(4)).toBe(5);
    const after = decodeGroupMessage(f.send(sender, 4, text("after restore")));
    expect(receiver.decrypt(after)).toMatchObject({
      generation: 5,
      content: text("after restore"),
    });
    for (const g of [0, 2, 4])
      expect(receiver.decrypt(wire[g] as GroupMessage).content).toEqual(text(`m${g}`));
    const restrictedGroup: GroupId = {
      organizationId: group.organizationId,
      channelId: "ops-team",
    };
    const channel = EpochKeys.create({
      provider,
      group: restrictedGroup,
      secrets: EpochSecrets.derive(provider, restrictedGroup, 9n, epochSecret.slice()),
      roster: f.roster,
      limits: { paddingBlock: 128 },
    });
    const copy = EpochKeys.deserialize(provider, channel.serialize());
    expect(copy.group.channelId).toBe("ops-team");
    expect(copy.limits.paddingBlock).toBe(128);
    expect(copy.decrypt(decodeGroupMessage(f.send(channel, 0, text("x")))).content).toEqual(
      text("x"),
    );
  });

  it("a 10,000-leaf roster: nothing derived up front, sampled senders, state round trip", () => {
    const signingKey = provider.ed25519PublicKey(signingSeed(0));
    const roster: Roster = Array.from({ length: 10_000 }, (_, i) =>
      i % 97 === 50
        ? undefined
        : {
            identityKey: new Uint8Array(32).fill(i & 0xff),
            signingKey,
            prekey: new Uint8Array(32),
          },
    );
    const create = () =>
      EpochKeys.create({
        provider,
        group,
        secrets: EpochSecrets.derive(provider, group, epoch, epochSecret.slice()),
        roster,
      });
    const sender = create();
    let receiver = create();
    const leaves = [0, 1, 4095, 4096, 8191, 8192, 9998, 9999, 1234, 7777];
    for (const leaf of leaves) {
      const bytes = sender.encrypt({
        senderLeaf: leaf,
        signingSecretKey: signingSeed(0),
        contentType: 1,
        content: u32(leaf),
      });
      expect(receiver.decrypt(decodeGroupMessage(bytes))).toMatchObject({
        senderLeaf: leaf,
        content: u32(leaf),
      });
    }
    expect(() =>
      sender.encrypt({
        senderLeaf: 50,
        signingSecretKey: signingSeed(0),
        contentType: 1,
        content: u32(0),
      }),
    ).toThrowError(RangeError);
    const saved = receiver.serialize();
    receiver = EpochKeys.deserialize(provider, saved);
    expect(hex(receiver.serialize())).toBe(hex(saved));
    const bytes = sender.encrypt({
      senderLeaf: 9999,
      signingSecretKey: signingSeed(0),
      contentType: 1,
      content: u32(1),
    });
    expect(receiver.decrypt(decodeGroupMessage(bytes))).toMatchObject({
      senderLeaf: 9999,
      generation: 1,
    });
  });

  it("deserialize refuses bad bytes with StateCorruptedError, whatever the bytes", () => {
    const keys = f.keys();
    f.send(keys, 0, text("x"));
    const receiver = f.keys();
    receiver.decrypt(decodeGroupMessage(f.send(keys, 1, text("y"), 1)));
    keys.advanceSendChain(1, 3);
    receiver.decrypt(decodeGroupMessage(f.send(keys, 1, text("z"))));
    const saved = receiver.serialize();
    const corrupt = (bytes: Uint8Array) =>
      expect(() => EpochKeys.deserialize(provider, bytes)).toThrowError(
        errorNamed("StateCorruptedError"),
      );
    corrupt(new Uint8Array());
    corrupt(concatBytes(new Uint8Array([2]), saved.subarray(1)));
    corrupt(concatBytes(saved, new Uint8Array([0])));
    for (let length = 0; length < saved.length; length += 7) corrupt(saved.subarray(0, length));
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bytes = flipped(saved, at, xor);
        try {
          EpochKeys.deserialize(provider, bytes); // a changed secret byte is still a well-formed state
        } catch (error) {
          expect(error).toMatchObject({ name: "StateCorruptedError" });
        }
      }),
      { seed: 0xde5e, numRuns: 300 },
    );
  });

  it("encrypt refuses bad arguments before consuming a generation", () => {
    const keys = f.keys();
    const ok = { signingSecretKey: signingSeed(0), contentType: 1, content: text("x") };
    expect(() => keys.encrypt({ ...ok, senderLeaf: 2 })).toThrowError(RangeError);
    expect(() => keys.encrypt({ ...ok, senderLeaf: 5 })).toThrowError(RangeError);
    expect(() => keys.encrypt({ ...ok, senderLeaf: 0, contentType: -1 })).toThrowError(RangeError);
    expect(() =>
      keys.encrypt({ ...ok, senderLeaf: 0, content: new Uint8Array(150 * 1024) }),
    ).toThrowError(RangeError);
    expect(keys.nextGeneration(0)).toBe(0);
    // The largest content that fits the 150 KiB message limit.
    // budget for the plaintext: the limit minus the protobuf fields and the GCM tag; a content this
    // large has a 3-byte length prefix.
    const budget = 150 * 1024 - (2 + 10 + 2 + 30 + 1 + 3 + 16);
    const largest = Math.floor(budget / 64) * 64 - 3 - 64;
    expect(f.send(keys, 0, new Uint8Array(largest)).length).toBeLessThanOrEqual(150 * 1024);
    expect(() => f.send(keys, 0, new Uint8Array(largest + 1))).toThrowError(RangeError);
    expect(keys.nextGeneration(0)).toBe(1);
  });

  it("create validates the roster and the limits", () => {
    const base = { provider, group, secrets: f.secrets(), roster: f.roster };
    expect(() => EpochKeys.create({ ...base, roster: [] })).toThrowError(RangeError);
    expect(() =>
      EpochKeys.create({
        ...base,
        roster: [
          {
            identityKey: new Uint8Array(32),
            signingKey: new Uint8Array(31),
            prekey: new Uint8Array(32),
          },
        ],
      }),
    ).toThrowError(RangeError);
    for (const limits of [
      { paddingBlock: 100 },
      { paddingBlock: 0 },
      { maxForwardJump: -1 },
      { maxSkippedPerChain: 1.5 },
    ]) {
      expect(() => EpochKeys.create({ ...base, limits })).toThrowError(RangeError);
    }
    const keys = EpochKeys.create({ ...base, limits: { maxForwardJump: 5 } });
    expect(keys.limits).toEqual({ ...groupLimits, maxForwardJump: 5 });
  });

  it("wipeInput wipes the epoch secrets it copied; destroy wipes everything", () => {
    const secrets = f.secrets();
    const keys = EpochKeys.create({ provider, group, secrets, roster: f.roster, wipeInput: true });
    expect(secrets.encryptionSecret.every((b) => b === 0)).toBe(true);
    expect(secrets.senderDataSecret.every((b) => b === 0)).toBe(true);
    const message = decodeGroupMessage(f.send(keys, 0, text("before")));
    expect(f.keys().decrypt(message).content).toEqual(text("before"));
    keys.destroy();
    expect(() => keys.decrypt(message)).toThrowError(errorNamed("UnknownEpochError"));
    expect(() => f.send(keys, 0, text("after"))).toThrowError(errorNamed("UnknownEpochError"));
    expect(() => keys.serialize()).toThrowError(errorNamed("UnknownEpochError"));
  });

  it("never prints a secret (String, JSON, util.inspect)", () => {
    const secrets = f.secrets();
    const keys = EpochKeys.create({ provider, group, secrets, roster: f.roster });
    const sender = f.keys();
    for (let g = 0; g < 3; g++) f.send(sender, 1, text(`${g}`));
    keys.decrypt(decodeGroupMessage(f.send(sender, 1, text("3")))); // keeps skipped keys 0-2
    f.send(keys, 0, text("own"));
    // The epoch's secrets, and each leaf's chain secret and generation-0 key, derived the long way.
    const known = [hex(secrets.encryptionSecret), hex(secrets.senderDataSecret), hex(epochSecret)];
    for (const leaf of [0, 1, 3, 4]) {
      let c = secrets.encryptionSecret;
      for (let size = 8, low = 0; size > 1; ) {
        size /= 2;
        const left = leaf < low + size;
        c = expandWithLabel(provider, c, "tree", encoder.encode(left ? "left" : "right"), 32);
        if (!left) low += size;
      }
      known.push(hex(c), hex(expandWithLabel(provider, c, "key", u32(0), 32)));
    }
    const outputs = [
      String(keys),
      `${keys}`,
      JSON.stringify(keys),
      JSON.stringify({ keys }),
      inspect(keys, { showHidden: true, depth: 10 }),
      inspect({ nested: keys }, { depth: 10 }),
    ];
    for (const output of outputs) {
      expect(output).toContain("[redacted secret]");
      for (const secret of known) expect(output).not.toContain(secret);
    }
  });
});

/** Minimal LEB128, as PROTOCOL.md writes the plaintext's length prefix. */
function varint(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return Uint8Array.from(out);
}
