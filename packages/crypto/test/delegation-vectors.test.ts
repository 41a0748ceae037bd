/**
 * Checks the library against vectors/crypto/delegation.json (made by scripts/delegation-vectors.ts):
 * a member's keys signature, a delegate's add step and its delegate-salted KeyUpdate, on both
 * providers, positive and negative.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromHex, toHex } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import {
  addStepEpochSecret,
  deriveKeyId,
  EpochSecrets,
  type GroupId,
  type Roster,
  rosterHash,
} from "../src/key-schedule.js";
import { type KeyUpdateChunk, keyUpdateVersion, openKeyUpdate } from "../src/key-update.js";
import { delegateSalt, deriveRekeySecret } from "../src/leaf-salts.js";
import { MemberGroup } from "../src/member-group.js";
import { memberKeysSigningInput, verifyMemberKeys } from "../src/member-keys.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";

type LeafJson = { identityKeyHex: string; signingKeyHex: string; prekeyHex: string } | null;
interface PersonJson {
  identitySecretHex: string;
  signingSecretHex: string;
  prekeySecretHex: string;
  leaf: NonNullable<LeafJson>;
}
interface DelegationFile {
  organizationIdHex: string;
  people: Record<"owner" | "bob" | "alice" | "carol", PersonJson>;
  keysSignature: { prekeyVersion: string; signingInputHex: string; keysSignatureHex: string };
  addStep: {
    parentEpoch: string;
    parentEpochSecretHex: string;
    parentRoster: LeafJson[];
    parentRosterHashHex: string;
    joinerLeaf: number;
    epoch: string;
    roster: LeafJson[];
    rosterHashHex: string;
    epochSecretHex: string;
    keyIdHex: string;
    welcomeLeafSecretHex: string;
  };
  keyUpdate: {
    removedLeaves: number[];
    epoch: string;
    rekeySecretHex: string;
    epochSecretHex: string;
    keyIdHex: string;
    previousKeyIdHex: string;
    rosterHashHex: string;
    ephemeralPublicKeyHex: string;
    entriesHex: string;
    recipients: Array<{ leaf: number; saltHex: string; entryHex: string }>;
  };
  negative: Array<{
    name: string;
    leafSaltHex?: string;
    entriesHex?: string;
    keysSignatureHex?: string;
    outcome: string;
  }>;
}

const vectors = JSON.parse(
  readFileSync(
    fileURLToPath(new URL("../../../vectors/crypto/delegation.json", import.meta.url)),
    "utf8",
  ),
) as DelegationFile;

const group: GroupId = { organizationId: fromHex(vectors.organizationIdHex), channelId: "" };
const roster = (leaves: LeafJson[]): Roster =>
  leaves.map((leaf) =>
    leaf === null
      ? undefined
      : {
          identityKey: fromHex(leaf.identityKeyHex),
          signingKey: fromHex(leaf.signingKeyHex),
          prekey: fromHex(leaf.prekeyHex),
        },
  );
const { carol } = vectors.people;
const carolKeys = {
  identityKey: fromHex(carol.leaf.identityKeyHex),
  signingKey: fromHex(carol.leaf.signingKeyHex),
  prekey: fromHex(carol.leaf.prekeyHex),
  prekeyVersion: BigInt(vectors.keysSignature.prekeyVersion),
  keysSignature: fromHex(vectors.keysSignature.keysSignatureHex),
};
const update = vectors.keyUpdate;
const chunk: KeyUpdateChunk = {
  version: keyUpdateVersion,
  channelId: "",
  epoch: BigInt(update.epoch),
  previousKeyId: fromHex(update.previousKeyIdHex),
  keyId: fromHex(update.keyIdHex),
  rosterHash: fromHex(update.rosterHashHex),
  ephemeralPublicKey: fromHex(update.ephemeralPublicKeyHex),
  chunkIndex: 0,
  chunkCount: 1,
  entries: fromHex(update.entriesHex),
};

describe.each([
  ["node", nodeProvider()],
  ["noble", nobleProvider()],
])("vectors/crypto/delegation.json with the %s provider", (_name, provider) => {
  it("keys signature: the signing input and an Ed25519 signature that verifies", () => {
    const input = memberKeysSigningInput(
      group,
      carolKeys.signingKey,
      carolKeys.prekey,
      carolKeys.prekeyVersion,
    );
    expect(toHex(input)).toBe(vectors.keysSignature.signingInputHex);
    const signed = provider.ed25519Sign(fromHex(carol.identitySecretHex), input);
    expect(toHex(signed)).toBe(vectors.keysSignature.keysSignatureHex);
    expect(() => verifyMemberKeys(provider, group, carolKeys, carolKeys.identityKey)).not.toThrow();
  });

  it("add step: the delegate derives the add epoch from init_secret and the new roster", () => {
    const step = vectors.addStep;
    expect(toHex(rosterHash(provider, roster(step.parentRoster)))).toBe(step.parentRosterHashHex);
    const hash = rosterHash(provider, roster(step.roster));
    expect(toHex(hash)).toBe(step.rosterHashHex);
    const parent = EpochSecrets.derive(
      provider,
      group,
      BigInt(step.parentEpoch),
      fromHex(step.parentEpochSecretHex),
    );
    const secret = addStepEpochSecret(
      provider,
      parent.initSecret as Uint8Array,
      hash,
      BigInt(step.epoch),
    );
    expect(toHex(secret)).toBe(step.epochSecretHex);
    expect(toHex(deriveKeyId(provider, group, BigInt(step.epoch), secret))).toBe(step.keyIdHex);
  });

  it("KeyUpdate: every recipient opens its entry with the delegate salt of rekey_secret", () => {
    const rekey = deriveRekeySecret(provider, fromHex(vectors.addStep.epochSecretHex));
    expect(toHex(rekey)).toBe(update.rekeySecretHex);
    const secrets = { 0: vectors.people.owner, 1: carol } as Record<number, PersonJson>;
    for (const recipient of update.recipients) {
      const salt = delegateSalt(provider, rekey, recipient.leaf);
      expect(toHex(salt)).toBe(recipient.saltHex);
      const opened = openKeyUpdate({
        provider,
        group,
        chunk,
        prekeySecret: fromHex((secrets[recipient.leaf] as PersonJson).prekeySecretHex),
        leafSecret: salt,
      });
      expect(toHex(opened ?? new Uint8Array())).toBe(update.epochSecretHex);
    }
  });

  it("KeyUpdate: carol, joined by the delegate's Welcome, applies it in the delegate salt mode", () => {
    const step = vectors.addStep;
    const member = MemberGroup.fromWelcome({
      provider,
      welcome: {
        version: 1,
        organizationId: group.organizationId,
        channelId: "",
        epoch: BigInt(step.epoch),
        epochSecret: fromHex(step.epochSecretHex),
        rosterHash: fromHex(step.rosterHashHex),
        keyId: fromHex(step.keyIdHex),
        leafIndex: step.joinerLeaf,
        leafSecret: fromHex(step.welcomeLeafSecretHex),
        history: [],
      },
      roster: roster(step.roster),
      signingSecretKey: fromHex(carol.signingSecretHex),
      prekeySecret: fromHex(carol.prekeySecretHex),
      now: 0,
    });
    const next = [...roster(step.roster)];
    for (const leaf of update.removedLeaves) next[leaf] = undefined;
    expect(member.holdsKeyUpdateEntry(chunk, { salt: "leaf" })).toBe(false);
    const outcome = member.applyKeyUpdate(chunk, 1, { roster: next, salt: "delegate" });
    expect(outcome).toMatchObject({ status: "applied" });
    expect(toHex(member.keyId)).toBe(update.keyIdHex);
  });

  it.each(vectors.negative.map((n) => [n.name, n] as const))("negative %s", (_n, entry) => {
    const run = (): unknown => {
      if (entry.keysSignatureHex !== undefined) {
        const keysSignature = fromHex(entry.keysSignatureHex);
        return verifyMemberKeys(provider, group, { ...carolKeys, keysSignature });
      }
      return openKeyUpdate({
        provider,
        group,
        chunk: { ...chunk, entries: fromHex(entry.entriesHex ?? update.entriesHex) },
        prekeySecret: fromHex(carol.prekeySecretHex),
        leafSecret: fromHex(entry.leafSaltHex as string),
      });
    };
    let outcome: string;
    try {
      outcome = run() === undefined ? "none" : "opened";
    } catch (error) {
      outcome = (error as { name?: string }).name ?? "Error";
    }
    expect(outcome).toBe(entry.outcome);
  });
});
