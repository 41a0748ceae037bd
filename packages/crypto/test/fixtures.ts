/**
 * Fixtures shared by the crypto tests: byte and error matchers, and the people, owners and members
 * of the group tests. Randomness comes from the provider passed in (see `seeded-provider.ts`), so
 * every run is the same. Tests only.
 */
import { decodeWelcome, encodeWelcome } from "@orgchat/wire";
import { expect } from "vitest";
import type { GroupId, Roster, RosterLeaf } from "../src/key-schedule.js";
import type { KeyUpdateChunk } from "../src/key-update.js";
import type { ApplyKeyUpdateOptions } from "../src/leaf-salts.js";
import { MemberGroup, type MemberGroupInit } from "../src/member-group.js";
import { type SignedMemberKeys, signMemberKeys } from "../src/member-keys.js";
import { type Joiner, OwnerGroup, type OwnerGroupInit } from "../src/owner-group.js";
import { OwnerPrekeys } from "../src/owner-prekeys.js";
import type { CryptoProvider, KeyPair } from "../src/provider.js";
import type { WelcomeInit } from "../src/welcome.js";

/** Lower-case hex of `bytes`: comparable with `toEqual` and readable in a failure. */
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** The UTF-8 bytes of `value`. */
export const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/**
 * Matches an error by its `name`, the way callers branch on errors (never `instanceof`, never the
 * message), e.g. `expect(run).toThrowError(errorNamed("StateCorruptedError"))`.
 */
export const errorNamed = (name: string) => expect.objectContaining({ name });

/** Someone who joins a group: its roster leaf, the secrets behind it, and its leaf secret `L_m`. */
export interface Person {
  leaf: RosterLeaf;
  signingSecretKey: Uint8Array;
  prekeySecret: Uint8Array;
  leafSecret: Uint8Array;
}

/**
 * A new person: identity, signing and prekey pairs from `provider`, in that order, then the leaf
 * secret.
 *
 * @param provider - where the key pairs come from
 * @param leafSecret - where the leaf secret comes from. @default the provider's next 32 random bytes
 */
export function person(
  provider: CryptoProvider,
  leafSecret: () => Uint8Array = () => provider.randomBytes(32),
): Person {
  const identity = provider.ed25519KeyPair();
  const signing = provider.ed25519KeyPair();
  const prekey = provider.x25519KeyPair();
  return {
    leaf: {
      identityKey: identity.publicKey,
      signingKey: signing.publicKey,
      prekey: prekey.publicKey,
    },
    signingSecretKey: signing.secretKey,
    prekeySecret: prekey.secretKey,
    leafSecret: leafSecret(),
  };
}

/**
 * A person whose keys are signed for `group` with `identity` (what a requester sends in
 * `MemberKeys`): signing and prekey pairs from `provider`, then the leaf secret.
 */
export function signedJoiner(
  provider: CryptoProvider,
  group: GroupId,
  identity: KeyPair = provider.ed25519KeyPair(),
): { person: Person; keys: SignedMemberKeys } {
  const signing = provider.ed25519KeyPair();
  const prekey = provider.x25519KeyPair();
  const keys = signMemberKeys(provider, {
    group,
    identitySecretKey: identity.secretKey,
    signingKey: signing.publicKey,
    prekey: prekey.publicKey,
    prekeyVersion: 1n,
  });
  const person: Person = {
    leaf: { identityKey: keys.identityKey, signingKey: keys.signingKey, prekey: keys.prekey },
    signingSecretKey: signing.secretKey,
    prekeySecret: prekey.secretKey,
    leafSecret: provider.randomBytes(32),
  };
  return { person, keys };
}

/**
 * Applies a KeyUpdate's chunks in order until one applies or concludes.
 *
 * @returns the last status (`"none"` for no chunk)
 */
export function applyChunks(
  member: MemberGroup,
  chunks: readonly KeyUpdateChunk[],
  now: number,
  options: ApplyKeyUpdateOptions,
): string {
  let status = "none";
  for (const chunk of chunks) {
    status = member.applyKeyUpdate(chunk, now, options).status;
    if (status !== "not-in-chunk") break;
  }
  return status;
}

/** `p` as the owner's `add` takes it. */
export function joiner(p: Person): Joiner {
  return { leaf: p.leaf, leafSecret: p.leafSecret };
}

/** A new group whose owner (leaf 0) is `me`. */
export function createOwner(
  me: Person,
  init: Omit<OwnerGroupInit, "ownLeaf" | "signingSecretKey">,
): OwnerGroup {
  return OwnerGroup.create({ ...init, ownLeaf: me.leaf, signingSecretKey: me.signingSecretKey });
}

/**
 * The member state `init.person` makes from its Welcome, encoded and decoded on the way as over the
 * pairwise channel.
 */
export function joinFromWelcome(init: {
  provider: CryptoProvider;
  person: Person;
  welcome: WelcomeInit;
  roster: Roster;
  now: number;
  historyRoster?: MemberGroupInit["historyRoster"];
}): MemberGroup {
  return MemberGroup.fromWelcome({
    provider: init.provider,
    welcome: decodeWelcome(encodeWelcome(init.welcome)),
    roster: init.roster,
    signingSecretKey: init.person.signingSecretKey,
    prekeySecret: init.person.prekeySecret,
    now: init.now,
    ...(init.historyRoster === undefined ? {} : { historyRoster: init.historyRoster }),
  });
}

/** A member's X3DH keys, as `x3dhInitiate` takes them. */
export interface X3dhMemberKeys {
  identityKeyPair: KeyPair;
  identityDhKeyPair: KeyPair;
}

/**
 * The two parties of the pairwise channel: the organization key, the owner's prekeys made at `now`,
 * and a member's keys, drawn from `provider` in that order.
 *
 * @returns also `newMember`, which draws another member's keys
 */
export function x3dhParties(provider: CryptoProvider, now: number) {
  const organization = provider.ed25519KeyPair();
  const prekeys = OwnerPrekeys.create(provider, { identitySecretKey: organization.secretKey, now });
  const newMember = (): X3dhMemberKeys => ({
    identityKeyPair: provider.ed25519KeyPair(),
    identityDhKeyPair: provider.x25519KeyPair(),
  });
  const member = newMember();
  return { organization, prekeys, member, newMember };
}
