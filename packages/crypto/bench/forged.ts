/**
 * Cost of refusing a forged group message (issue #13, row 8): a member of the epoch (it knows every
 * leaf's chain, as every member does) sends messages in another member's name claiming a generation
 * 999 ahead; each is refused by the signature check. Reported per message, for the first forgery on
 * a chain and for the repeated ones (fresh bytes each time, the same claim), together with the count
 * of HKDF-Expand calls each one makes before it is refused.
 */
import { decodeGroupMessage, type GroupMessage } from "@orgchat/wire";
import { EpochKeys } from "../src/group-message.js";
import { EpochSecrets, type GroupId, type Roster } from "../src/key-schedule.js";
import type { CryptoProvider } from "../src/provider.js";
import { type Figure, measure, progress, round } from "./harness.js";

/** How far ahead the forgeries claim to be. */
const claimedJump = 999;

/** Wraps `base`, counting `hkdfExpand` calls. */
function counting(base: CryptoProvider): { provider: CryptoProvider; count: () => number } {
  let calls = 0;
  const provider: CryptoProvider = Object.create(base);
  provider.hkdfExpand = (prk, info, length) => {
    calls++;
    return base.hkdfExpand(prk, info, length);
  };
  return { provider, count: () => calls };
}

/**
 * Measures the refusal of forged messages with `provider`; `scale` shrinks iteration counts;
 * `keysClass` is the implementation measured (another build of `EpochKeys`, to compare).
 */
export function benchForged(
  base: CryptoProvider,
  scale: number,
  keysClass: Pick<typeof EpochKeys, "create"> = EpochKeys,
  label = "",
): Figure[] {
  const { provider, count } = counting(base);
  const group: GroupId = { organizationId: new Uint8Array(32).fill(9), channelId: "" };
  const signing = Array.from({ length: 64 }, () => base.ed25519KeyPair());
  const roster: Roster = signing.map((pair) => ({
    identityKey: pair.publicKey,
    signingKey: pair.publicKey,
    prekey: base.x25519KeyPair().publicKey,
  }));
  const epochSecret = base.randomBytes(32);
  const keys = (p: CryptoProvider) =>
    keysClass.create({
      provider: p,
      group,
      secrets: EpochSecrets.derive(p, group, 1n, epochSecret.slice()),
      roster,
    });
  const attackerSigning = signing[1]?.secretKey;
  if (attackerSigning === undefined) throw new Error("setup");
  const content = base.randomBytes(64);
  /** A forgery in `victim`'s name at generation `claimedJump` of its chain, signed by leaf 1. */
  const forge = (victim: number): GroupMessage => {
    const attacker = keys(base);
    attacker.advanceSendChain(victim, claimedJump);
    return decodeGroupMessage(
      attacker.encrypt({
        senderLeaf: victim,
        signingSecretKey: attackerSigning,
        contentType: 1,
        content,
      }),
    );
  };
  const refuse = (receiver: EpochKeys, message: GroupMessage) => {
    try {
      receiver.decrypt(message);
    } catch (error) {
      return error;
    }
    throw new Error("a forged message was accepted");
  };

  const iterations = Math.max(10, Math.round(60 * scale));
  const rounds = 5;
  const total = iterations * (rounds + 1);
  progress(`${base.name}: forge ${total * 2} messages`);
  // First forgery on each chain: every message names another victim (the receiver has as many leaves).
  const firstMessages: GroupMessage[] = [];
  const firstReceivers: EpochKeys[] = [];
  for (let i = 0; i < total; i++) {
    firstMessages.push(forge(2 + (i % 62)));
    if (i % 62 === 0) firstReceivers.push(keys(provider));
  }
  let before = count();
  const first = measure(
    (i) =>
      refuse(firstReceivers[Math.floor(i / 62)] as EpochKeys, firstMessages[i] as GroupMessage),
    { iterations, rounds, warmup: 0 },
  );
  const firstCalls = (count() - before) / (iterations * rounds);
  // Repeated forgeries on one chain, fresh bytes each time.
  const repeatMessages = Array.from({ length: total + 1 }, () => forge(2));
  const receiver = keys(provider);
  refuse(receiver, repeatMessages[total] as GroupMessage);
  before = count();
  const repeated = measure((i) => refuse(receiver, repeatMessages[i] as GroupMessage), {
    iterations,
    rounds,
    warmup: 0,
  });
  const repeatedCalls = (count() - before) / (iterations * rounds);
  return [
    {
      name: `refuse a forged message claiming generation +${claimedJump} (first on its chain)${label}`,
      provider: base.name,
      value: round(first.microseconds),
      unit: "µs",
      note: `${round(firstCalls)} HKDF-Expand calls before the refusal`,
    },
    {
      name: `refuse a forged message claiming generation +${claimedJump} (repeated)${label}`,
      provider: base.name,
      value: round(repeated.microseconds),
      unit: "µs",
      note: `${round(repeatedCalls)} HKDF-Expand calls before the refusal`,
    },
  ];
}
