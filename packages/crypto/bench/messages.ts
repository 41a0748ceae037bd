/**
 * Group message benchmarks: send and receive one 256-byte message, each against its floor (the same
 * primitive calls, made directly), plus the bytes a message adds on the wire.
 */
import { decodeGroupMessage } from "@orgchat/wire";
import { EpochKeys } from "../src/group-message.js";
import { expandWithLabel, u32 } from "../src/kdf.js";
import { EpochSecrets, type GroupId, type Roster } from "../src/key-schedule.js";
import type { CryptoProvider } from "../src/provider.js";
import { type Figure, measure, progress, ratioFigure } from "./harness.js";

const contentBytes = 256;

function setup(provider: CryptoProvider, leaves: number) {
  const group: GroupId = { organizationId: new Uint8Array(32).fill(7), channelId: "" };
  const signing = Array.from({ length: leaves }, () => provider.ed25519KeyPair());
  const roster: Roster = signing.map((pair) => ({
    identityKey: pair.publicKey,
    signingKey: pair.publicKey,
    prekey: provider.x25519KeyPair().publicKey,
  }));
  const epochSecret = provider.randomBytes(32);
  const keys = () =>
    EpochKeys.create({
      provider,
      group,
      secrets: EpochSecrets.derive(provider, group, 1n, epochSecret.slice()),
      roster,
    });
  return { group, signing, roster, keys };
}

/** Measures send and receive of a 256-byte message with `provider`; `scale` shrinks iteration counts. */
export function benchMessages(provider: CryptoProvider, scale: number): Figure[] {
  const iterations = Math.max(20, Math.round(400 * scale));
  const rounds = 7;
  const total = iterations * (rounds + 1);
  const { signing, keys } = setup(provider, 8);
  const content = provider.randomBytes(contentBytes);
  const signer = signing[3];
  if (!signer) throw new Error("setup");

  // ---- send
  progress(`${provider.name}: send ${total} messages`);
  const sender = keys();
  const send = measure(
    () =>
      sender.encrypt({
        senderLeaf: 3,
        signingSecretKey: signer.secretKey,
        contentType: 1,
        content,
      }),
    { iterations, rounds },
  );

  // The floor: exactly the primitive calls a send makes, with precomputed inputs of the same sizes.
  const chain = provider.randomBytes(32);
  const sdSecret = provider.randomBytes(32);
  const signInput = provider.randomBytes(130 + contentBytes);
  const plaintext = new Uint8Array(384);
  const aad = provider.randomBytes(100);
  const sdAad = provider.randomBytes(12);
  const sdPlain = provider.randomBytes(12);
  const floorSend = measure(
    (i) => {
      const g = u32(i);
      const key = expandWithLabel(provider, chain, "key", g, 32);
      const nonce = expandWithLabel(provider, chain, "nonce", g, 12);
      expandWithLabel(provider, chain, "secret", g, 32);
      const signature = provider.ed25519Sign(signer.secretKey, signInput);
      plaintext.set(signature, 260);
      provider.randomBytes(4);
      const ciphertext = provider.aesGcmSeal(key, nonce, plaintext, aad);
      const sample = ciphertext.subarray(0, 16);
      const sdKey = expandWithLabel(provider, sdSecret, "key", sample, 32);
      const sdNonce = expandWithLabel(provider, sdSecret, "nonce", sample, 12);
      return provider.aesGcmSeal(sdKey, sdNonce, sdPlain, sdAad);
    },
    { iterations, rounds },
  );

  // ---- receive + verify: decode and decrypt fresh messages, in order.
  const author = keys();
  const wire: Uint8Array[] = [];
  for (let i = 0; i < total * 2 + iterations; i++) {
    wire.push(
      author.encrypt({
        senderLeaf: 3,
        signingSecretKey: signer.secretKey,
        contentType: 1,
        content,
      }),
    );
  }
  progress(`${provider.name}: receive ${total} messages`);
  const receiver = keys();
  let next = 0;
  const receive = measure(
    () => {
      const bytes = wire[next++];
      if (bytes === undefined) throw new Error("ran out of messages");
      return receiver.decrypt(decodeGroupMessage(bytes));
    },
    { iterations, rounds },
  );
  // The floor opens real ciphertexts: its inputs are fixed, so the keys it derives are the same each
  // time and the ciphertexts are sealed once, up front, under those keys.
  const verifyKey = signer.publicKey;
  const signature = provider.ed25519Sign(signer.secretKey, signInput);
  const g0 = u32(0);
  const fixedKey = expandWithLabel(provider, chain, "key", g0, 32);
  const fixedNonce = expandWithLabel(provider, chain, "nonce", g0, 12);
  const sealedContent = provider.aesGcmSeal(fixedKey, fixedNonce, plaintext, aad);
  const fixedSample = sealedContent.subarray(0, 16);
  const sealedSender = provider.aesGcmSeal(
    expandWithLabel(provider, sdSecret, "key", fixedSample, 32),
    expandWithLabel(provider, sdSecret, "nonce", fixedSample, 12),
    sdPlain,
    sdAad,
  );
  const floorReceive = measure(
    () => {
      const sdKey = expandWithLabel(provider, sdSecret, "key", fixedSample, 32);
      const sdNonce = expandWithLabel(provider, sdSecret, "nonce", fixedSample, 12);
      provider.aesGcmOpen(sdKey, sdNonce, sealedSender, sdAad);
      const key = expandWithLabel(provider, chain, "key", g0, 32);
      const nonce = expandWithLabel(provider, chain, "nonce", g0, 12);
      expandWithLabel(provider, chain, "secret", g0, 32);
      provider.aesGcmOpen(key, nonce, sealedContent, aad);
      return provider.ed25519Verify(verifyKey, signInput, signature);
    },
    { iterations, rounds },
  );

  const sample = author.encrypt({
    senderLeaf: 3,
    signingSecretKey: signer.secretKey,
    contentType: 1,
    content,
  });
  const padded = Math.ceil((2 + contentBytes + 64) / 64) * 64;
  const padding = padded - (2 + contentBytes + 64);
  return [
    ratioFigure({
      name: "send one 256 B message",
      provider: provider.name,
      value: send,
      floor: floorSend,
      maxRatio: 1.3,
    }),
    ratioFigure({
      name: "receive + verify one 256 B message",
      provider: provider.name,
      value: receive,
      floor: floorReceive,
      maxRatio: 1.3,
      note: "includes protobuf decode",
    }),
    {
      name: "message overhead on the wire (256 B content)",
      provider: provider.name,
      value: sample.length - contentBytes - padding,
      unit: "B",
      goal: "≤ 130 B + padding",
      met: sample.length - contentBytes - padding <= 130,
      note: `+ ${padding} B padding = ${sample.length} B total`,
    },
  ];
}
