/**
 * Delegated management benchmarks (docs/DELEGATION.md): a delegate's removal
 * (`MemberGroup.commitRemove`: a FLAT KeyUpdate with delegate salts, then entering the epoch)
 * against its floor (per recipient: the delegate salt's HKDF-Expand, X25519, HKDF-Extract,
 * HKDF-Expand) and against the owner's removal of the same organization, measured back to back;
 * and a delegate's add step of one joiner (`commitAdd`, keys signature checked) against the
 * owner's. The owner's removal steps every `L_m` (one HKDF each) where the delegate derives a salt
 * (one HKDF each): the two should cost the same.
 */
import { performance } from "node:perf_hooks";
import { concatBytes } from "@orgchat/base";
import { labelInfo, u64 } from "../src/kdf.js";
import { type GroupId, groupContext } from "../src/key-schedule.js";
import { delegateSalt } from "../src/leaf-salts.js";
import { MemberGroup } from "../src/member-group.js";
import { signMemberKeys } from "../src/member-keys.js";
import { OwnerGroup } from "../src/owner-group.js";
import type { CryptoProvider } from "../src/provider.js";
import { type Figure, type Measurement, measure, progress, ratioFigure, round } from "./harness.js";

function organization(provider: CryptoProvider, n: number) {
  const org = provider.ed25519KeyPair();
  const group: GroupId = { organizationId: org.publicKey, channelId: "" };
  const signing = provider.ed25519KeyPair();
  const owner = OwnerGroup.create({
    provider,
    group,
    ownLeaf: {
      identityKey: org.publicKey,
      signingKey: signing.publicKey,
      prekey: provider.x25519KeyPair().publicKey,
    },
    signingSecretKey: signing.secretKey,
    now: 0,
  });
  progress(`${provider.name}: ${n} members`);
  const people = Array.from({ length: n }, () => {
    const signingPair = provider.ed25519KeyPair();
    const prekey = provider.x25519KeyPair();
    return {
      leaf: {
        identityKey: provider.ed25519KeyPair().publicKey,
        signingKey: signingPair.publicKey,
        prekey: prekey.publicKey,
      },
      signingSecretKey: signingPair.secretKey,
      prekeySecret: prekey.secretKey,
      leafSecret: provider.randomBytes(32),
    };
  });
  const add = owner.add(people, 0);
  const first = people[0];
  const welcome = add.welcomes[0]?.welcome;
  if (first === undefined || welcome === undefined) throw new Error("setup");
  const delegate = MemberGroup.fromWelcome({
    provider,
    welcome,
    roster: add.roster,
    signingSecretKey: first.signingSecretKey,
    prekeySecret: first.prekeySecret,
    now: 0,
  });
  return { group, owner, delegate, people };
}

/**
 * Times `a` and `b` alternately (`a`, `b`, `a`, `b`, … after one warm-up call each): the median µs
 * per call of each, so that the two compare under the same load.
 */
function alternate(a: () => unknown, b: () => unknown, rounds: number): [Measurement, Measurement] {
  const times: [number[], number[]] = [[], []];
  for (let round = 0; round <= rounds; round++) {
    for (const [side, run] of [a, b].entries()) {
      const start = performance.now();
      run();
      if (round > 0) times[side as 0 | 1].push((performance.now() - start) * 1000);
    }
  }
  const median = (values: number[]): Measurement => {
    values.sort((x, y) => x - y);
    const microseconds = values[Math.floor(values.length / 2)] ?? Number.NaN;
    return { microseconds, rounds, iterationsPerRound: 1 };
  };
  return [median(times[0]), median(times[1])];
}

export function benchDelegation(
  provider: CryptoProvider,
  options: { quick: boolean; noble: boolean },
): Figure[] {
  const sizes = options.quick ? [50] : options.noble ? [1000] : [1000, 10_000];
  const figures: Figure[] = [];
  for (const n of sizes) {
    const { group, owner, delegate, people } = organization(provider, n);
    const rounds = n >= 10_000 ? 5 : 15;
    // Each round removes another member (leaves 2, 3, …) on both sides, one after the other, so a
    // busy second core slows both alike.
    let next = 2;
    progress(`${provider.name}: delegate and owner removals, N = ${n} (${rounds} rounds)`);
    const [byDelegate, byOwner] = alternate(
      () => delegate.commitRemove([next], 1),
      () => owner.remove([next++], 1),
      rounds,
    );
    const rekey = provider.randomBytes(32);
    const ephemeral = provider.x25519KeyPair();
    const info = labelInfo(
      "key update",
      concatBytes(groupContext(group), u64(2n), new Uint8Array(64)),
      36,
    );
    const floor = measure(
      () => {
        provider.x25519KeyPair();
        for (const [leaf, person] of people.entries()) {
          const salt = delegateSalt(provider, rekey, leaf + 1);
          const shared = provider.x25519(ephemeral.secretKey, person.leaf.prekey);
          provider.hkdfExpand(provider.hkdfExtract(salt, shared), info, 36);
        }
        return info;
      },
      { iterations: 1, rounds, warmup: 1 },
    );
    const perMember = (m: Measurement) => ({ ...m, microseconds: m.microseconds / n });
    figures.push(
      ratioFigure({
        name: `KeyUpdate delegate per member, N = ${n}`,
        provider: provider.name,
        value: perMember(byDelegate),
        floor: perMember(floor),
        maxRatio: 1.3,
        note: `total ${round(byDelegate.microseconds / 1000)} ms; the owner's removal of the same organization ${round(byOwner.microseconds / 1000)} ms`,
      }),
      {
        name: `KeyUpdate delegate / owner, N = ${n}`,
        provider: provider.name,
        value: round(byDelegate.microseconds / byOwner.microseconds),
        unit: "×",
        note: "same organization, measured back to back",
      },
    );

    // One joiner, keys signed: the delegate checks the signature, places it, hashes the roster.
    const joiner = () => {
      const identity = provider.ed25519KeyPair();
      return signMemberKeys(provider, {
        group,
        identitySecretKey: identity.secretKey,
        signingKey: provider.ed25519KeyPair().publicKey,
        prekey: provider.x25519KeyPair().publicKey,
        prekeyVersion: 1n,
      });
    };
    const joiners = Array.from({ length: rounds + 1 }, joiner);
    let j = 0;
    const [addByDelegate, addByOwner] = alternate(
      () => delegate.commitAdd([joiners[j] as (typeof joiners)[number]], 2),
      () => owner.add([{ leaf: joiners[j++] as never, leafSecret: provider.randomBytes(32) }], 2),
      rounds,
    );
    figures.push({
      name: `Add step of 1 joiner by a delegate, N = ${n}`,
      provider: provider.name,
      value: round(addByDelegate.microseconds / 1000),
      unit: "ms",
      note: `the owner's: ${round(addByOwner.microseconds / 1000)} ms (no keys signature to check)`,
    });
  }
  return figures;
}
