/**
 * What a member turned attacker keeps: its identity keys and its group states, read back from its own
 * client's store (a store without a passphrase holds them as written). This follows the layout of
 * `@orgchat/client`'s persistence (docs/CLIENT.md): `identity/self` holds the identity secrets,
 * `org/<id>/group/<channel>` each group's state (`MemberGroup.serialize`). The attacker owns its
 * disk; reading it is not a privilege the harness grants, it is the threat.
 */

import { storedGroups } from "@orgchat/client/inspect";
import {
  type CryptoProvider,
  defaultProvider,
  type KeyPair,
  type MemberGroup,
  PairwiseSession,
} from "@orgchat/crypto";
import type { Store } from "@orgchat/store";
import { keyOf } from "./bytes.js";

/** The client's stored JSON: bigints as `{"$n":"…"}`, bytes as `{"$b":"hex"}`. */
function decodeStoredJson<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes), (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 1 && typeof record.$n === "string") return BigInt(record.$n);
      if (keys.length === 1 && typeof record.$b === "string") return keyOf(record.$b);
    }
    return value;
  }) as T;
}

/**
 * The identity key pairs a client stored (no passphrase).
 * @throws Error when the store holds no identity
 */
export async function keptIdentity(
  store: Store,
  provider: CryptoProvider = defaultProvider(),
): Promise<{ signing: KeyPair; dh: KeyPair }> {
  const bytes = await store.get("identity", "self");
  if (bytes === undefined) throw new Error("the store holds no identity");
  const record = decodeStoredJson<{ secrets: Uint8Array }>(bytes);
  const secrets = decodeStoredJson<{ identity: Uint8Array; dh: Uint8Array }>(record.secrets);
  return {
    signing: {
      secretKey: secrets.identity,
      publicKey: provider.ed25519PublicKey(secrets.identity),
    },
    dh: { secretKey: secrets.dh, publicKey: provider.x25519PublicKey(secrets.dh) },
  };
}

/**
 * Copies of every group state a member's client stored for an organization, by channel id (`""`
 * the organization's own group): what a member keeps when it is banned or removed.
 */
export async function keptGroups(
  store: Store,
  organizationId: string,
  provider: CryptoProvider = defaultProvider(),
): Promise<Map<string, MemberGroup>> {
  // Read back as the client restores it (group state in pieces, with the rosters it stored).
  return await storedGroups(store, organizationId, "member", provider);
}

/**
 * A copy of the pairwise session with the owner a member's client stored for an organization
 * (`org/<id>/pairwise/owner`), or undefined when it holds none.
 */
export async function keptOwnerSession(
  store: Store,
  organizationId: string,
  provider: CryptoProvider = defaultProvider(),
): Promise<PairwiseSession | undefined> {
  const bytes = await store.get(`org/${organizationId}`, "pairwise/owner");
  return bytes === undefined ? undefined : PairwiseSession.deserialize(provider, bytes);
}
