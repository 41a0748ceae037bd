import { scryptAsync } from "@noble/hashes/scrypt.js";
import { fromHex, toHex } from "@orgchat/base";
import type { CryptoProvider } from "@orgchat/crypto";
import { decodeJson, encodeJson, encodeText } from "./encoding.js";
import { PassphraseRequiredError, WrongPassphraseError } from "./errors.js";

/** Parameters of the passphrase key, stored in clear beside the sealed records. */
export interface KdfParams {
  readonly salt: string;
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

const checkLabel = encodeText("orgchat/client/v1 passphrase check");

/**
 * Seals secret records (identity, organization keys, group and pairwise state) with AES-256-GCM
 * under a key derived from the passphrase with scrypt; without a passphrase it passes bytes through.
 * The associated data names the record (`space` and `key`), so a sealed value cannot be moved to
 * another record.
 */
export class Vault {
  readonly sealed: boolean;
  readonly #provider: CryptoProvider;
  readonly #random: (length: number) => Uint8Array;
  readonly #key: Uint8Array | undefined;

  private constructor(
    provider: CryptoProvider,
    random: (length: number) => Uint8Array,
    key: Uint8Array | undefined,
  ) {
    this.#provider = provider;
    this.#random = random;
    this.#key = key;
    this.sealed = key !== undefined;
  }

  /**
   * Opens the vault of a store: derives the key from `passphrase` with the stored parameters and
   * checks it, or creates new parameters when the store has none.
   *
   * @param stored - the KDF parameters and check value found in the store, if any
   * @returns the vault, and the parameters to store when they are new
   * @throws {@link WrongPassphraseError} when the passphrase does not open the check value
   * @throws {@link PassphraseRequiredError} when the store is sealed and no passphrase is given, or
   *   the reverse
   */
  static async open(init: {
    provider: CryptoProvider;
    random: (length: number) => Uint8Array;
    passphrase: string | undefined;
    stored: { kdf: KdfParams | null; check: string | null } | undefined;
    scryptN: number;
  }): Promise<{ vault: Vault; record: { kdf: KdfParams | null; check: string | null } }> {
    const { provider, random, passphrase, stored } = init;
    if (stored !== undefined && (stored.kdf === null) !== (passphrase === undefined)) {
      throw new PassphraseRequiredError(stored.kdf !== null);
    }
    if (passphrase === undefined) {
      return { vault: new Vault(provider, random, undefined), record: { kdf: null, check: null } };
    }
    const kdf: KdfParams = stored?.kdf ?? { salt: toHex(random(16)), n: init.scryptN, r: 8, p: 1 };
    const key = await scryptAsync(encodeText(passphrase.normalize("NFKC")), fromHex(kdf.salt), {
      N: kdf.n,
      r: kdf.r,
      p: kdf.p,
      dkLen: 32,
    });
    const vault = new Vault(provider, random, key);
    if (stored?.check != null) {
      try {
        vault.open("vault", "check", fromHex(stored.check));
      } catch (cause) {
        throw new WrongPassphraseError({ cause });
      }
      return { vault, record: stored };
    }
    return { vault, record: { kdf, check: toHex(vault.seal("vault", "check", checkLabel)) } };
  }

  /** Seals `plaintext` for record `(space, key)` (a copy when the vault is not sealed). */
  seal(space: string, key: string, plaintext: Uint8Array): Uint8Array {
    if (this.#key === undefined) return plaintext.slice();
    const nonce = this.#random(12);
    const sealed = this.#provider.aesGcmSeal(this.#key, nonce, plaintext, aad(space, key));
    const out = new Uint8Array(12 + sealed.length);
    out.set(nonce, 0);
    out.set(sealed, 12);
    return out;
  }

  /**
   * Opens a value sealed by {@link Vault.seal} for the same record.
   * @throws `DecryptionFailedError` of `@orgchat/crypto` when it was altered or sealed elsewhere
   */
  open(space: string, key: string, bytes: Uint8Array): Uint8Array {
    if (this.#key === undefined) return bytes.slice();
    return this.#provider.aesGcmOpen(
      this.#key,
      bytes.subarray(0, 12),
      bytes.subarray(12),
      aad(space, key),
    );
  }

  /**
   * {@link Vault.open} for a value the caller reads and lets go before it returns (it keeps no part
   * of the result and changes none): `bytes` itself when the vault is not sealed (no copy: a start
   * reads 10,000 member records of an owner).
   *
   * @param space - the record's space
   * @param key - the record's key
   * @param bytes - the stored value (the caller's own copy, e.g. from `Store.entries`)
   * @returns the plaintext (`bytes` itself when not sealed)
   * @throws `DecryptionFailedError` of `@orgchat/crypto` when it was altered or sealed elsewhere
   */
  read(space: string, key: string, bytes: Uint8Array): Uint8Array {
    return this.#key === undefined ? bytes : this.open(space, key, bytes);
  }

  /** Seals a JSON value (see `encodeJson`). */
  sealJson(space: string, key: string, value: unknown): Uint8Array {
    return this.seal(space, key, encodeJson(value));
  }

  /** Opens a JSON value sealed by {@link Vault.sealJson}. */
  openJson<T>(space: string, key: string, bytes: Uint8Array): T {
    return decodeJson<T>(this.open(space, key, bytes));
  }
}

function aad(space: string, key: string): Uint8Array {
  return encodeText(`orgchat/client/v1 record\u0000${space}\u0000${key}`);
}
