/**
 * X3DH of the owner ↔ member pairwise channel (docs/PROTOCOL.md, "Pairwise channel"): agreement,
 * bundle signatures, the replay defence, prekey rotation, identity binding, state round trips and
 * redaction. Every test runs on both providers with a seeded RNG, so each run uses the same keys.
 */
import { inspect } from "node:util";
import { concatBytes } from "@orgchat/base";
import {
  decodePairwiseMessage,
  decodePrekeyBundle,
  encodePairwiseMessage,
  encodePrekeyBundle,
} from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { PairwiseSession } from "../src/double-ratchet.js";
import { u32 } from "../src/kdf.js";
import { OwnerPrekeys } from "../src/owner-prekeys.js";
import {
  type PrekeyBundleFields,
  prekeyBundleSigningInput,
  prekeyBundleSigningLabel,
  verifyPrekeyBundle,
} from "../src/prekey-bundle.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { x3dhInitiate, x3dhInitiatorSigningInput } from "../src/x3dh.js";
import { errorNamed, hex, text, x3dhParties } from "./fixtures.js";
import { hmacSeeded } from "./seeded-provider.js";

const providers: ReadonlyArray<readonly [string, CryptoProvider]> = [
  ["noble", nobleProvider()],
  ["node", nodeProvider()],
];

describe.each(providers)("X3DH with the %s provider", (_name, base) => {
  function setup(seed = 1) {
    const provider = hmacSeeded(base, `orgchat x3dh test rng ${seed}`);
    const parties = x3dhParties(provider, 1_000);
    /** `member`'s session on the current bundle (X3DH done, nothing sent yet). */
    const initiate = () =>
      PairwiseSession.initiate(
        provider,
        x3dhInitiate(provider, {
          ...parties.member,
          bundle: parties.prekeys.bundle(),
          organizationKey: parties.organization.publicKey,
        }),
      );
    return { provider, ...parties, initiate };
  }

  it("gives both sides the same SK, with AD = IK_M ‖ IKdh_M ‖ IK_O ‖ IKdh_O", () => {
    const { provider, organization, prekeys, member } = setup();
    const initiation = x3dhInitiate(provider, {
      ...member,
      bundle: prekeys.bundle(),
      organizationKey: organization.publicKey,
    });
    expect(initiation.header.signedPrekeyId).toBe(prekeys.signedPrekeyId);
    expect(initiation.associatedData).toEqual(
      concatBytes(
        member.identityKeyPair.publicKey,
        member.identityDhKeyPair.publicKey,
        organization.publicKey,
        prekeys.identityDhKey,
      ),
    );
    const agreement = prekeys.agree(initiation.header);
    expect(agreement.sharedKey).toHaveLength(32);
    expect(hex(agreement.sharedKey)).toBe(hex(initiation.sharedKey));
    expect(agreement.associatedData).toEqual(initiation.associatedData);
    // A second initiation uses a fresh EK and so a different SK.
    const again = x3dhInitiate(provider, {
      ...member,
      bundle: prekeys.bundle(),
      organizationKey: organization.publicKey,
    });
    expect(hex(again.header.ephemeralKey)).not.toBe(hex(initiation.header.ephemeralKey));
    expect(hex(again.sharedKey)).not.toBe(hex(initiation.sharedKey));
  });

  it("signs the bundle over the protocol's signing input and survives the wire", () => {
    const { provider, organization, prekeys } = setup();
    const bundle = decodePrekeyBundle(encodePrekeyBundle(prekeys.bundle()));
    expect(bundle.identityKey).toEqual(organization.publicKey);
    const input = concatBytes(
      text("orgchat v1 prekey bundle"),
      bundle.identityDhKey,
      bundle.signedPrekey,
      u32(bundle.signedPrekeyId),
    );
    expect(prekeyBundleSigningLabel).toBe("orgchat v1 prekey bundle");
    expect(
      prekeyBundleSigningInput(bundle.identityDhKey, bundle.signedPrekey, bundle.signedPrekeyId),
    ).toEqual(input);
    expect(provider.ed25519Verify(organization.publicKey, input, bundle.signature)).toBe(true);
    expect(() => verifyPrekeyBundle(provider, bundle, organization.publicKey)).not.toThrow();
  });

  it("rejects a tampered or foreign bundle with InvalidPublicKeyError", () => {
    const { provider, organization, prekeys, member } = setup();
    const good = prekeys.bundle();
    const flip = (bytes: Uint8Array, index = 0) => {
      const out = bytes.slice();
      out[index] = (out[index] ?? 0) ^ 0x01;
      return out;
    };
    const stranger = provider.ed25519KeyPair();
    const tampered: PrekeyBundleFields[] = [
      { ...good, identityDhKey: flip(good.identityDhKey) },
      { ...good, signedPrekey: flip(good.signedPrekey, 31) },
      { ...good, signedPrekeyId: good.signedPrekeyId + 1 },
      { ...good, signature: flip(good.signature, 63) },
      { ...good, signature: flip(good.signature, 0) },
      { ...good, signedPrekey: good.signedPrekey.subarray(1) },
      // Re-signed by someone else: the identity key is not the organization's.
      {
        ...good,
        identityKey: stranger.publicKey,
        signature: provider.ed25519Sign(
          stranger.secretKey,
          prekeyBundleSigningInput(good.identityDhKey, good.signedPrekey, good.signedPrekeyId),
        ),
      },
    ];
    for (const bundle of tampered) {
      expect(() => verifyPrekeyBundle(provider, bundle, organization.publicKey)).toThrowError(
        errorNamed("InvalidPublicKeyError"),
      );
      expect(() =>
        x3dhInitiate(provider, { ...member, bundle, organizationKey: organization.publicKey }),
      ).toThrowError(errorNamed("InvalidPublicKeyError"));
    }
    // The genuine bundle, checked against another organization key.
    expect(() => verifyPrekeyBundle(provider, good, stranger.publicKey)).toThrowError(
      errorNamed("InvalidPublicKeyError"),
    );
    expect(() => verifyPrekeyBundle(provider, good, new Uint8Array(31))).toThrowError(RangeError);
  });

  it("refuses a replayed initial message, but only once the genuine one authenticated", () => {
    const { provider, prekeys, initiate } = setup();
    const alice = initiate();
    const first = alice.encrypt(text("request to join"));

    // A forgery carrying the genuine EK but a broken ciphertext must not burn that EK.
    const forged = decodePairwiseMessage(first);
    forged.ciphertext = forged.ciphertext.slice();
    forged.ciphertext[0] = (forged.ciphertext[0] ?? 0) ^ 0xff;
    expect(() => PairwiseSession.respond(provider, prekeys, encodePairwiseMessage(forged))).toThrow(
      errorNamed("DecryptionFailedError"),
    );
    expect(prekeys.acceptedEphemeralKeyCount(prekeys.signedPrekeyId)).toBe(0);

    const { plaintext } = PairwiseSession.respond(provider, prekeys, first);
    expect(plaintext).toEqual(text("request to join"));
    expect(prekeys.acceptedEphemeralKeyCount(prekeys.signedPrekeyId)).toBe(1);

    // The same bytes again, or a later message carrying the same X3DH header, is a replay.
    expect(() => PairwiseSession.respond(provider, prekeys, first)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );
    const second = alice.encrypt(text("second"));
    expect(() => PairwiseSession.respond(provider, prekeys, second)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );
    const header = decodePairwiseMessage(first).x3dh;
    if (header === undefined) throw new Error("the first message carries x3dh");
    expect(() => prekeys.agree(header)).toThrowError(errorNamed("DuplicateMessageError"));
    expect(() => prekeys.acceptEphemeralKey(header)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );
  });

  it("keeps exactly one old signed prekey across rotations", () => {
    const { provider, organization, prekeys, newMember } = setup();
    const initiateWith = (bundle: PrekeyBundleFields) =>
      PairwiseSession.initiate(
        provider,
        x3dhInitiate(provider, { ...newMember(), bundle, organizationKey: organization.publicKey }),
      );
    const bundle1 = prekeys.bundle();
    const toFirst = initiateWith(bundle1).encrypt(text("to the first prekey"));
    const replayToFirst = initiateWith(bundle1).encrypt(text("accepted, then replayed"));
    PairwiseSession.respond(provider, prekeys, replayToFirst);

    const bundle2 = prekeys.rotate(2_000);
    expect(bundle2.signedPrekeyId).toBe(bundle1.signedPrekeyId + 1);
    expect(hex(bundle2.signedPrekey)).not.toBe(hex(bundle1.signedPrekey));
    expect(() => verifyPrekeyBundle(provider, bundle2, organization.publicKey)).not.toThrow();
    expect(prekeys.bundle()).toEqual(bundle2);
    expect(prekeys.signedPrekeyIds).toEqual([bundle2.signedPrekeyId, bundle1.signedPrekeyId]);
    expect(prekeys.signedPrekeyCreatedAt).toBe(2_000);
    const toSecond = initiateWith(bundle2).encrypt(text("to the second prekey"));

    // One rotation later the previous prekey still works, and its replay cache still holds.
    expect(PairwiseSession.respond(provider, prekeys, toFirst).plaintext).toEqual(
      text("to the first prekey"),
    );
    expect(() => PairwiseSession.respond(provider, prekeys, replayToFirst)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );

    prekeys.rotate(3_000);
    expect(prekeys.signedPrekeyIds).toEqual([bundle2.signedPrekeyId + 1, bundle2.signedPrekeyId]);
    expect(prekeys.acceptedEphemeralKeyCount(bundle1.signedPrekeyId)).toBe(0);
    // Two rotations later the first prekey is gone: nothing under it opens any more.
    const late = initiateWith(bundle1).encrypt(text("too late"));
    expect(() => PairwiseSession.respond(provider, prekeys, late)).toThrowError(
      errorNamed("DecryptionFailedError"),
    );
    expect(PairwiseSession.respond(provider, prekeys, toSecond).plaintext).toEqual(
      text("to the second prekey"),
    );
  });

  it("binds both identities: a changed identity in the header or a wrong owner fails", () => {
    const { provider, organization, prekeys, member, newMember, initiate } = setup();
    const alice = initiate();
    const first = alice.encrypt(text("hello"));
    const someoneElse = newMember();
    const mutations: Array<(m: ReturnType<typeof decodePairwiseMessage>) => void> = [
      (m) => {
        if (m.x3dh) m.x3dh.initiatorIdentityKey = someoneElse.identityKeyPair.publicKey;
      },
      (m) => {
        if (m.x3dh) m.x3dh.initiatorIdentityDhKey = someoneElse.identityDhKeyPair.publicKey;
      },
    ];
    for (const mutate of mutations) {
      const message = decodePairwiseMessage(first);
      mutate(message);
      expect(() =>
        PairwiseSession.respond(provider, prekeys, encodePairwiseMessage(message)),
      ).toThrowError(errorNamed("DecryptionFailedError"));
    }
    // Claiming another identity is refused by the initiator signature before any DH is done, even
    // when the claimant signs with its own key: only IK_M's holder can sign for IK_M.
    const header = decodePairwiseMessage(first).x3dh;
    if (header === undefined) throw new Error("the first message carries x3dh");
    expect(prekeys.agree(header).sharedKey).toHaveLength(32);
    const claimed = { ...header, initiatorIdentityKey: someoneElse.identityKeyPair.publicKey };
    expect(() => prekeys.agree(claimed)).toThrowError(errorNamed("DecryptionFailedError"));
    const resigned = {
      ...claimed,
      initiatorSignature: provider.ed25519Sign(
        member.identityKeyPair.secretKey,
        x3dhInitiatorSigningInput(claimed, prekeys.identityKey, prekeys.identityDhKey),
      ),
    };
    expect(() => prekeys.agree(resigned)).toThrowError(errorNamed("DecryptionFailedError"));
    expect(() => prekeys.agree({ ...header, initiatorSignature: new Uint8Array(64) })).toThrowError(
      errorNamed("DecryptionFailedError"),
    );

    // Another owner with the same organization key but another identity DH key cannot answer.
    const impostor = OwnerPrekeys.create(provider, {
      identitySecretKey: organization.secretKey,
      now: 1_000,
    });
    expect(() => PairwiseSession.respond(provider, impostor, first)).toThrowError(
      errorNamed("DecryptionFailedError"),
    );
    // Nothing was burnt by the failures: the genuine message still opens.
    const { session } = PairwiseSession.respond(provider, prekeys, first);
    expect(hex(session.remoteIdentityKey)).toBe(hex(member.identityKeyPair.publicKey));
    expect(hex(alice.remoteIdentityKey)).toBe(hex(organization.publicKey));
  });

  it("refuses all-zero DH outputs and unknown signed prekey ids", () => {
    const { provider, organization, prekeys, member } = setup();
    const initiation = x3dhInitiate(provider, {
      ...member,
      bundle: prekeys.bundle(),
      organizationKey: organization.publicKey,
    });
    const zero = new Uint8Array(32);
    // A member that signs a header with a small-order key (so the signature check passes).
    const resigned = (header: typeof initiation.header) => ({
      ...header,
      initiatorSignature: provider.ed25519Sign(
        member.identityKeyPair.secretKey,
        x3dhInitiatorSigningInput(header, prekeys.identityKey, prekeys.identityDhKey),
      ),
    });
    expect(() =>
      prekeys.agree(resigned({ ...initiation.header, ephemeralKey: zero })),
    ).toThrowError(errorNamed("InvalidPublicKeyError"));
    expect(() =>
      prekeys.agree(resigned({ ...initiation.header, initiatorIdentityDhKey: zero })),
    ).toThrowError(errorNamed("InvalidPublicKeyError"));
    expect(() =>
      prekeys.agree({ ...initiation.header, signedPrekeyId: initiation.header.signedPrekeyId + 7 }),
    ).toThrowError(errorNamed("DecryptionFailedError"));

    // A bundle whose (correctly signed) prekey is a small-order point.
    const bundle = prekeys.bundle();
    const poisoned: PrekeyBundleFields = {
      ...bundle,
      signedPrekey: zero,
      signature: provider.ed25519Sign(
        organization.secretKey,
        prekeyBundleSigningInput(bundle.identityDhKey, zero, bundle.signedPrekeyId),
      ),
    };
    expect(() => verifyPrekeyBundle(provider, poisoned, organization.publicKey)).not.toThrow();
    expect(() =>
      x3dhInitiate(provider, {
        ...member,
        bundle: poisoned,
        organizationKey: organization.publicKey,
      }),
    ).toThrowError(errorNamed("InvalidPublicKeyError"));
  });

  it("keeps accepted ephemeral keys in the caller's log: keys-only state of a fixed size", () => {
    const { provider, prekeys, initiate } = setup();
    const empty = prekeys.serializeKeys();
    expect(empty[0]).toBe(2);
    const firsts = [initiate(), initiate(), initiate()].map((s) => s.encrypt(text("hello")));
    for (const first of firsts) PairwiseSession.respond(provider, prekeys, first);
    const id = prekeys.signedPrekeyId;
    const unstored = prekeys.unstoredEphemeralKeys();
    expect(unstored.map((k) => k.signedPrekeyId)).toEqual([id, id, id]);
    const headers = firsts.map((first) => decodePairwiseMessage(first).x3dh);
    expect(unstored.map((k) => hex(k.ephemeralKey))).toEqual(
      headers.map((h) => hex(h?.ephemeralKey ?? new Uint8Array())),
    );

    // The keys-only bytes do not grow with what was accepted; the count survives a round trip.
    const bytes = prekeys.serializeKeys();
    expect(bytes.length).toBe(empty.length);
    const restored = OwnerPrekeys.deserialize(provider, bytes);
    expect(restored.acceptedEphemeralKeyCount(id)).toBe(3);
    expect(restored.unstoredEphemeralKeys()).toEqual([]);
    expect(restored.bundle()).toEqual(prekeys.bundle());

    // Marked stored: no longer held (the caller's log refuses them from now on), still counted.
    prekeys.markEphemeralKeysStored(unstored.slice(0, 2));
    expect(prekeys.unstoredEphemeralKeys()).toEqual(unstored.slice(2));
    expect(prekeys.acceptedEphemeralKeyCount(id)).toBe(3);
    expect(() => PairwiseSession.respond(provider, prekeys, firsts[2] ?? empty)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );
    // A version 1 state read back holds its keys again, as unstored.
    const legacy = OwnerPrekeys.deserialize(provider, prekeys.serialize());
    expect(legacy.unstoredEphemeralKeys()).toEqual(unstored.slice(2));
    expect(legacy.acceptedEphemeralKeyCount(id)).toBe(1);
  });

  it("a reserving keys record is due only when a count passes its reservation, and reads back as the reservation", () => {
    const { provider, prekeys, initiate } = setup();
    const id = prekeys.signedPrekeyId;
    // Never stored: due.
    expect(prekeys.keysRecordDue()).toBe(true);
    expect(() => prekeys.serializeKeysReserving(-1)).toThrowError(RangeError);
    const first = prekeys.serializeKeysReserving(2);
    expect(first.bytes.length).toBe(prekeys.serializeKeys().length);
    // Not due before the commit marks it stored.
    expect(prekeys.keysRecordDue()).toBe(true);
    first.stored();
    expect(prekeys.keysRecordDue()).toBe(false);
    const accept = () => PairwiseSession.respond(provider, prekeys, initiate().encrypt(text("hi")));
    accept();
    accept();
    expect(prekeys.keysRecordDue()).toBe(false);
    // Read back: the reservation (an upper bound), not the real count.
    expect(OwnerPrekeys.deserialize(provider, first.bytes).acceptedEphemeralKeyCount(id)).toBe(2);
    accept();
    expect(prekeys.keysRecordDue()).toBe(true);
    const second = prekeys.serializeKeysReserving(2);
    second.stored();
    const restored = OwnerPrekeys.deserialize(provider, second.bytes);
    expect(restored.acceptedEphemeralKeyCount(id)).toBe(5);
    expect(restored.keysRecordDue()).toBe(false);
    // A rotation makes a prekey no stored record holds: due.
    restored.rotate(2_000);
    expect(restored.keysRecordDue()).toBe(true);
  });

  it("restores OwnerPrekeys with its prekeys and replay cache, and refuses corrupt state", () => {
    const { provider, prekeys, initiate } = setup();
    const alice = initiate();
    const first = alice.encrypt(text("before the restart"));
    PairwiseSession.respond(provider, prekeys, first);
    prekeys.rotate(5_000);

    const bytes = prekeys.serialize();
    expect(bytes[0]).toBe(1);
    const restored = OwnerPrekeys.deserialize(provider, bytes);
    expect(restored.serialize()).toEqual(bytes);
    expect(restored.bundle()).toEqual(prekeys.bundle());
    expect(restored.signedPrekeyIds).toEqual(prekeys.signedPrekeyIds);
    expect(restored.identityDhKey).toEqual(prekeys.identityDhKey);
    expect(() => PairwiseSession.respond(provider, restored, first)).toThrowError(
      errorNamed("DuplicateMessageError"),
    );

    const corrupt = (change: (copy: Uint8Array) => Uint8Array) => () =>
      OwnerPrekeys.deserialize(provider, change(bytes.slice()));
    const cases = [
      corrupt((copy) => copy.subarray(0, copy.length - 1)),
      corrupt((copy) => {
        copy[40] = (copy[40] ?? 0) ^ 1;
        return copy;
      }),
      corrupt((copy) => {
        copy[0] = 2;
        return copy;
      }),
      corrupt(() => new Uint8Array(0)),
      corrupt((copy) => concatBytes(copy, Uint8Array.of(0))),
    ];
    for (const run of cases) expect(run).toThrowError(errorNamed("StateCorruptedError"));
  });

  it("never prints secrets (OwnerPrekeys, X3dhInitiation, X3dhAgreement)", () => {
    const { provider, organization, prekeys, member } = setup();
    const initiation = x3dhInitiate(provider, {
      ...member,
      bundle: prekeys.bundle(),
      organizationKey: organization.publicKey,
    });
    const agreement = prekeys.agree(initiation.header);
    const secrets = [
      hex(organization.secretKey),
      hex(initiation.sharedKey),
      hex(agreement.signedPrekeyPair.secretKey),
      // the identity DH secret is in the serialized state after the organization key
      hex(prekeys.serialize().subarray(33, 65)),
    ];
    for (const [label, value] of [
      ["OwnerPrekeys", prekeys],
      ["X3dhInitiation", initiation],
      ["X3dhAgreement", agreement],
    ] as const) {
      const outputs = [
        String(value),
        `${value}`,
        JSON.stringify(value),
        JSON.stringify({ nested: value }),
        inspect(value, { showHidden: true, depth: null }),
      ];
      for (const output of outputs) {
        expect(output).toContain(label);
        expect(output).toContain("[redacted secret]");
        for (const secret of secrets) expect(output).not.toContain(secret);
      }
    }
  });
});
