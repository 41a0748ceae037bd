import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { EpochSecrets } from "../src/key-schedule.js";
import { nodeProvider } from "../src/providers/node.js";
import { SecretTree } from "../src/secret-tree.js";
import { SenderChain } from "../src/sender-chain.js";
import { hex } from "./fixtures.js";

const provider = nodeProvider();

/** Every printed form of `value` that a log line or an error report could contain. */
function printed(value: object): string {
  return [
    String(value),
    JSON.stringify(value),
    inspect(value, { depth: 10, showHidden: true }),
  ].join("\n");
}

describe("secrets never print (key-schedule internals)", () => {
  it("EpochSecrets, SecretTree and SenderChain show [redacted secret] and no key bytes", () => {
    const group = { organizationId: new Uint8Array(32).fill(1), channelId: "" };
    const epochSecret = provider.randomBytes(32);
    const secrets = EpochSecrets.derive(provider, group, 3n, epochSecret.slice(), false);
    const root = provider.randomBytes(32);
    const tree = SecretTree.create(provider, root.slice(), 4);
    const leaf = tree.peekLeafSecret(2);
    const chain = SenderChain.create(provider, 2, leaf.slice(), {
      maxForwardJump: 1000,
      maxSkippedPerChain: 256,
    });
    const known = [
      epochSecret,
      secrets.encryptionSecret,
      secrets.senderDataSecret,
      secrets.descriptionKey,
      secrets.initSecret as Uint8Array,
      root,
      leaf,
    ].map(hex);
    for (const [value, label] of [
      [secrets, "EpochSecrets"],
      [tree, "SecretTree"],
      [chain, "SenderChain"],
    ] as const) {
      const text = printed(value);
      expect(text).toContain(`${label} [redacted secret]`);
      for (const secret of known) expect(text).not.toContain(secret);
    }
  });
});
