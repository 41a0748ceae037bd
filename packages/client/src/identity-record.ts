import type { CryptoProvider, KeyPair } from "@orgchat/crypto";
import type { Store } from "@orgchat/store";
import { decodeJson, encodeJson } from "./encoding.js";
import { StoreCorruptedError } from "./errors.js";
import { type KdfParams, Vault } from "./vault.js";

interface IdentityRecord {
  readonly v: 1;
  readonly kdf: KdfParams | null;
  readonly check: string | null;
  readonly secrets: Uint8Array;
}

/**
 * Opens (or creates) the identity record: the vault and this identity's two key pairs.
 * @throws {StoreCorruptedError} / {WrongPassphraseError} / {PassphraseRequiredError}
 */
export async function openIdentity(init: {
  provider: CryptoProvider;
  random: (length: number) => Uint8Array;
  store: Store;
  passphrase: string | undefined;
  scryptN: number;
}): Promise<{ vault: Vault; identity: KeyPair; identityDh: KeyPair }> {
  const { provider, store } = init;
  const storedBytes = await store.get("identity", "self");
  let stored: IdentityRecord | undefined;
  if (storedBytes !== undefined) {
    try {
      stored = decodeJson<IdentityRecord>(storedBytes);
    } catch (cause) {
      throw new StoreCorruptedError("identity/self", { cause });
    }
  }
  const { vault, record } = await Vault.open({
    provider,
    random: init.random,
    passphrase: init.passphrase,
    stored: stored === undefined ? undefined : { kdf: stored.kdf, check: stored.check },
    scryptN: init.scryptN,
  });
  if (stored === undefined) {
    const identity = provider.ed25519KeyPair();
    const identityDh = provider.x25519KeyPair();
    const secrets = vault.sealJson("identity", "self", {
      identity: identity.secretKey,
      dh: identityDh.secretKey,
    });
    await store.put(
      "identity",
      "self",
      encodeJson({ v: 1, kdf: record.kdf, check: record.check, secrets }),
    );
    return { vault, identity, identityDh };
  }
  const secrets = vault.openJson<{ identity: Uint8Array; dh: Uint8Array }>(
    "identity",
    "self",
    stored.secrets,
  );
  return {
    vault,
    identity: {
      secretKey: secrets.identity,
      publicKey: provider.ed25519PublicKey(secrets.identity),
    },
    identityDh: { secretKey: secrets.dh, publicKey: provider.x25519PublicKey(secrets.dh) },
  };
}
