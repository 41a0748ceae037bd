/**
 * A member's signature over its group keys (docs/DELEGATION.md): the signing input's layout, and
 * the check a delegate and every receiver run before trusting keys a delegate writes.
 */
import { concatBytes } from "@orgchat/base";
import { decodeMemberKeys, encodeMemberKeys } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { u64 } from "../src/kdf.js";
import { groupContext } from "../src/key-schedule.js";
import {
  memberKeysSigningInput,
  memberKeysSigningLabel,
  signMemberKeys,
  verifyMemberKeys,
} from "../src/member-keys.js";
import { nodeProvider } from "../src/providers/node.js";
import { errorNamed, hex, text } from "./fixtures.js";
import { hmacSeeded } from "./seeded-provider.js";

const provider = hmacSeeded(nodeProvider(), "orgchat member keys test rng");
const organizationId = provider.ed25519KeyPair().publicKey;
const group = { organizationId, channelId: "" };

function member() {
  const identity = provider.ed25519KeyPair();
  const keys = signMemberKeys(provider, {
    group,
    identitySecretKey: identity.secretKey,
    signingKey: provider.ed25519KeyPair().publicKey,
    prekey: provider.x25519KeyPair().publicKey,
    prekeyVersion: 3n,
  });
  return { identity, keys };
}

describe("member keys signature", () => {
  it('signs "orgchat v1 member keys" ‖ groupContext ‖ S_m ‖ P_m ‖ u64 prekey_version', () => {
    const { keys } = member();
    const input = memberKeysSigningInput(group, keys.signingKey, keys.prekey, 3n);
    expect(memberKeysSigningLabel).toBe("orgchat v1 member keys");
    expect(hex(input)).toBe(
      hex(
        concatBytes(
          text("orgchat v1 member keys"),
          groupContext(group),
          keys.signingKey,
          keys.prekey,
          u64(3n),
        ),
      ),
    );
    expect(provider.ed25519Verify(keys.identityKey, input, keys.keysSignature)).toBe(true);
  });

  it("verifies keys that went through MemberKeys on the wire, for the member named", () => {
    const { identity, keys } = member();
    const decoded = decodeMemberKeys(encodeMemberKeys(keys));
    expect(() => verifyMemberKeys(provider, group, decoded, identity.publicKey)).not.toThrow();
  });

  it("refuses keys changed after signing, another group, another member, no signature", () => {
    const { identity, keys } = member();
    const refused = (run: () => void) =>
      expect(run).toThrowError(errorNamed("InvalidPublicKeyError"));
    const other = provider.x25519KeyPair().publicKey;
    refused(() => verifyMemberKeys(provider, group, { ...keys, prekey: other }));
    refused(() => verifyMemberKeys(provider, group, { ...keys, signingKey: other }));
    refused(() => verifyMemberKeys(provider, group, { ...keys, prekeyVersion: 4n }));
    refused(() => verifyMemberKeys(provider, { organizationId, channelId: "core" }, keys));
    refused(() =>
      verifyMemberKeys(
        provider,
        { organizationId: other, channelId: "" },
        keys,
        identity.publicKey,
      ),
    );
    refused(() => verifyMemberKeys(provider, group, keys, other));
    refused(() => verifyMemberKeys(provider, group, { ...keys, identityKey: other }));
    refused(() => verifyMemberKeys(provider, group, { ...keys, keysSignature: new Uint8Array() }));
    refused(() => verifyMemberKeys(provider, group, { ...keys, prekeyVersion: -1n }));
    const flipped = keys.keysSignature.slice();
    flipped[5] = (flipped[5] ?? 0) ^ 1;
    refused(() => verifyMemberKeys(provider, group, { ...keys, keysSignature: flipped }));
  });

  it("names the argument of a malformed signing input", () => {
    const { keys } = member();
    expect(() => memberKeysSigningInput(group, new Uint8Array(31), keys.prekey, 1n)).toThrowError(
      /signingKey/,
    );
    expect(() =>
      memberKeysSigningInput(group, keys.signingKey, keys.prekey, 1n << 64n),
    ).toThrowError(/prekeyVersion/);
  });
});
