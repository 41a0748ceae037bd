/**
 * Checks the library against vectors/crypto/leaf-secret-schedule.json (made by
 * scripts/leaf-schedule-vectors.ts): the leaf-secret schedule of docs/PROTOCOL.md, "Re-keying", on
 * both providers, positive and negative.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromHex, toHex } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { evolveLeafSecret, type GroupId } from "../src/key-schedule.js";
import { type KeyUpdateChunk, keyUpdateVersion, openKeyUpdate } from "../src/key-update.js";
import { keyUpdateSalts } from "../src/leaf-salts.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";

interface ChunkJson {
  epoch: string;
  previousKeyIdHex: string;
  keyIdHex: string;
  rosterHashHex: string;
  ephemeralPublicKeyHex: string;
  entriesHex: string;
}
interface ScheduleFile {
  organizationIdHex: string;
  memberPrekeySecretHex: string;
  joinEpoch: string;
  joinLeafSecretHex: string;
  epochs: Array<{ epoch: string; change: "add" | "rekey" }>;
  leafSecrets: Array<{ epoch: string; leafSecretHex: string }>;
  updates: Array<{ saltHex: string; chunk: ChunkJson; epochSecretHex: string }>;
  negative: Array<{ name: string; epoch: string; saltHex: string; outcome: string }>;
}

const vectors = JSON.parse(
  readFileSync(
    fileURLToPath(new URL("../../../vectors/crypto/leaf-secret-schedule.json", import.meta.url)),
    "utf8",
  ),
) as ScheduleFile;

function chunkOf(json: ChunkJson): KeyUpdateChunk {
  return {
    version: keyUpdateVersion,
    channelId: "",
    epoch: BigInt(json.epoch),
    previousKeyId: fromHex(json.previousKeyIdHex),
    keyId: fromHex(json.keyIdHex),
    rosterHash: fromHex(json.rosterHashHex),
    ephemeralPublicKey: fromHex(json.ephemeralPublicKeyHex),
    chunkIndex: 0,
    chunkCount: 1,
    entries: fromHex(json.entriesHex),
  };
}

describe.each([nodeProvider(), nobleProvider()])(
  "leaf-secret-schedule.json ($name)",
  (provider) => {
    const group: GroupId = { organizationId: fromHex(vectors.organizationIdHex), channelId: "" };
    const prekeySecret = fromHex(vectors.memberPrekeySecretHex);
    const prekey = provider.x25519PublicKey(prekeySecret);
    const chunks = new Map(vectors.updates.map((u) => [u.chunk.epoch, chunkOf(u.chunk)]));
    const open = (chunk: KeyUpdateChunk, leafSecret: Uint8Array) => {
      const opened = openKeyUpdate({ provider, group, chunk, prekeySecret, prekey, leafSecret });
      return opened === undefined ? "undefined" : toHex(opened);
    };

    it("the leaf secret moves one step at each KeyUpdate and none at an add step", () => {
      let leaf = fromHex(vectors.joinLeafSecretHex);
      const salts: string[] = [];
      for (const [i, { epoch, change }] of vectors.epochs.entries()) {
        if (change === "rekey") {
          salts.push(toHex(leaf));
          leaf = evolveLeafSecret(provider, leaf, BigInt(epoch));
        }
        expect(vectors.leafSecrets[i]).toEqual({ epoch, leafSecretHex: toHex(leaf) });
      }
      expect(salts).toEqual(vectors.updates.map((u) => u.saltHex));
      expect(salts).toHaveLength(2);
    });

    it("each KeyUpdate opens with its salt", () => {
      for (const update of vectors.updates) {
        expect(open(chunkOf(update.chunk), fromHex(update.saltHex))).toBe(update.epochSecretHex);
      }
    });

    it("a member that missed the first KeyUpdate opens the second, told or trying the unknown epochs", () => {
      const [first, second] = vectors.updates;
      if (first === undefined || second === undefined) throw new Error("two updates expected");
      const join = fromHex(vectors.joinLeafSecretHex);
      const joinEpoch = BigInt(vectors.joinEpoch);
      const epoch = BigInt(second.chunk.epoch);
      const [told] = keyUpdateSalts(provider, join, joinEpoch, epoch, {
        missedKeyUpdates: [BigInt(first.chunk.epoch)],
      });
      expect(toHex(told as Uint8Array)).toBe(second.saltHex);
      const unknown = vectors.epochs.map((e) => BigInt(e.epoch)).filter((e) => e < epoch);
      const tried = [
        ...keyUpdateSalts(provider, join, joinEpoch, epoch, { possibleKeyUpdates: unknown }),
      ];
      expect(tried).toHaveLength(16);
      expect(
        tried.filter(
          (salt) => open(chunks.get(second.chunk.epoch) as KeyUpdateChunk, salt) !== "undefined",
        ),
      ).toHaveLength(1);
    });

    it("negative: the salts of a wrong schedule find nothing", () => {
      expect(vectors.negative.length).toBeGreaterThanOrEqual(5);
      for (const vector of vectors.negative) {
        const chunk = chunks.get(vector.epoch);
        expect(chunk, vector.name).toBeDefined();
        expect(open(chunk as KeyUpdateChunk, fromHex(vector.saltHex)), vector.name).toBe(
          vector.outcome,
        );
        expect(vector.outcome).toBe("undefined");
      }
    });
  },
);
