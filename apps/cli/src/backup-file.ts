/**
 * The file of `orgchat id backup` (docs/CLI.md, "Backup and restore"; docs/RESTORE.md): a copy of a
 * profile's store and `config.json`, sealed with a passphrase.
 *
 * Layout (format version 1), every integer big-endian:
 *
 * | bytes | what |
 * | --- | --- |
 * | 8 | magic `89 4f 52 47 42 41 4b 0a` (`\x89ORGBAK\n`: a text transfer that mangles bytes breaks it) |
 * | 2 | format version (1) |
 * | 4 | header length H, 1 … {@link backupLimits}.maxHeaderBytes |
 * | H | header: UTF-8 JSON ({@link BackupHeader}), in the clear and authenticated |
 * | rest − 16 | AES-256-GCM ciphertext of the payload |
 * | 16 | GCM tag |
 *
 * The additional data of the GCM is every byte before the ciphertext (magic, version, length and
 * header), so none of them can be changed without the passphrase. The key is scrypt(passphrase in
 * NFC, salt, N, r, p) with the parameters and the 16-byte salt and 12-byte nonce of the header; a
 * file is sealed with a fresh salt and nonce (so a key and nonce never repeat). The payload is
 * `u32 length ‖ store copy ‖ u32 length ‖ config.json`.
 *
 * A file from anyone is hostile on read: the header's length is bounded before it is read, its
 * fields are checked by shape, only scrypt with N a power of two in 2^14 … 2^20, r = 8, p = 1 is
 * accepted (so that a file cannot make the reader allocate more than 1 GiB for the key), and lengths
 * are checked before anything is allocated.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { OrgchatError } from "@orgchat/base";

/** The first 8 bytes of every backup file. */
export const backupMagic: Uint8Array = Uint8Array.from([
  0x89, 0x4f, 0x52, 0x47, 0x42, 0x41, 0x4b, 0x0a,
]);

/** The format version this build writes and reads. */
export const backupFormatVersion = 1;

/** The KDF parameters this build writes: scrypt N = 2^17, r = 8, p = 1 (128 MiB, ~0.3–1 s). */
export const backupKdf = { name: "scrypt", N: 2 ** 17, r: 8, p: 1 } as const;

/** Bounds of a backup file (what a hostile file cannot exceed). */
export const backupLimits = {
  /** The clear header: 64 KiB (a profile's organizations beyond it are counted, not listed). */
  maxHeaderBytes: 64 * 1024,
  /** The payload (store copy and config): 1 GiB; a larger store is refused when sealing. */
  maxPayloadBytes: 1024 ** 3,
  /** scrypt's N accepted on read: 2^14 … 2^20 (the reader's memory: 128 · N · r bytes, ≤ 1 GiB). */
  minLogN: 14,
  maxLogN: 20,
  /** A passphrase's least number of characters. */
  minPassphraseChars: 8,
} as const;

const fixedBytes = 8 + 2 + 4;
const tagBytes = 16;
const saltBytes = 16;
const nonceBytes = 12;

/** An organization as the header lists it. */
export interface BackupOrganization {
  readonly id: string;
  readonly name: string;
  /** `owner`, `member`, `observer`, `pending`, … (the client's role). */
  readonly role: string;
}

/** The clear, authenticated header of a backup file. */
export interface BackupHeader {
  readonly format: "orgchat-backup";
  /** When the store was copied, ms since the epoch. */
  readonly createdAt: number;
  /** The identity's member id. */
  readonly memberId: string;
  /** The organizations listed (all of them unless the header would pass its bound). */
  readonly organizations: readonly BackupOrganization[];
  /** How many organizations the profile has (more than listed when the list was cut). */
  readonly organizationCount: number;
  /** Size of the store copy, bytes. */
  readonly storeBytes: number;
  /** Size of the payload (what the ciphertext decrypts to), bytes: a cut file is told apart. */
  readonly payloadBytes: number;
  readonly kdf: {
    readonly name: "scrypt";
    readonly N: number;
    readonly r: number;
    readonly p: number;
  };
  /** base64 of the 16-byte salt. */
  readonly salt: string;
  /** base64 of the 12-byte GCM nonce. */
  readonly nonce: string;
}

/** What a backup carries. */
export interface BackupPayload {
  /** The bytes of a store file (`SqliteStore.backupTo`). */
  readonly store: Uint8Array;
  /** The bytes of `config.json` (empty when the profile has none). */
  readonly config: Uint8Array;
}

/** Why a file is not a readable backup. */
export type BackupFormatReason =
  | "not-a-backup"
  | "truncated"
  | "unsupported-version"
  | "malformed-header"
  | "too-large";

/** The file is not a backup this build can read (its bytes say so before any passphrase is tried). */
export class BackupFormatError extends OrgchatError {
  static readonly errorName = "BackupFormatError";
  readonly reason: BackupFormatReason;
  /**
   * @param reason - what is wrong
   * @param message - the details
   */
  constructor(reason: BackupFormatReason, message: string) {
    super(BackupFormatError.errorName, message);
    this.reason = reason;
  }
}

/**
 * The passphrase does not open the file: it is wrong, or the file was altered (GCM cannot tell
 * which, and neither does this error).
 */
export class BackupPassphraseError extends OrgchatError {
  static readonly errorName = "BackupPassphraseError";
  constructor() {
    super(
      BackupPassphraseError.errorName,
      "the passphrase does not open this backup (a wrong passphrase, or a file altered since it was made)",
    );
  }
}

/**
 * Why `passphrase` cannot seal a backup.
 * @param passphrase - as typed
 * @returns the reason in words, or undefined when it is acceptable
 */
export function passphraseProblem(passphrase: string): string | undefined {
  const chars = [...passphrase.normalize("NFC")].length;
  if (chars === 0) return "the passphrase is empty";
  if (chars < backupLimits.minPassphraseChars) {
    return `the passphrase has ${chars} characters; use at least ${backupLimits.minPassphraseChars}`;
  }
  return undefined;
}

/** Where sealing and opening are: bytes processed of the total. */
export type BackupProgress = (done: number, total: number) => void;

/** The scrypt key of `passphrase` under `kdf` and `salt`. */
function deriveKey(
  passphrase: string,
  kdf: BackupHeader["kdf"],
  salt: Uint8Array,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(passphrase.normalize("NFC"), "utf8"),
      salt,
      32,
      // maxmem: scrypt needs 128 · N · r · p bytes; twice that leaves Node's own margin.
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r * kdf.p },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** Bytes handled per step of the cipher, between which progress is reported. */
const chunkBytes = 4 * 1024 * 1024;

/** Runs `bytes` through `cipher` in chunks, reporting progress and yielding to the event loop. */
async function pipeChunks(
  cipher: { update(data: Uint8Array): Buffer },
  parts: readonly Uint8Array[],
  onProgress: BackupProgress | undefined,
): Promise<Buffer[]> {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out: Buffer[] = [];
  let done = 0;
  for (const part of parts) {
    for (let offset = 0; offset < part.length; offset += chunkBytes) {
      const chunk = part.subarray(offset, Math.min(part.length, offset + chunkBytes));
      out.push(cipher.update(chunk));
      done += chunk.length;
      onProgress?.(done, total);
      if (done < total) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return out;
}

const u32 = (value: number): Uint8Array => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
};

/** What {@link sealBackup} seals. */
export interface SealInput {
  readonly passphrase: string;
  readonly createdAt: number;
  readonly memberId: string;
  readonly organizations: readonly BackupOrganization[];
  readonly payload: BackupPayload;
}

/** Options of {@link sealBackup} (the salt, nonce and KDF are fixed only to make test vectors). */
export interface SealOptions {
  readonly salt?: Uint8Array;
  readonly nonce?: Uint8Array;
  readonly kdf?: BackupHeader["kdf"];
  readonly onProgress?: BackupProgress;
}

/**
 * Seals a profile's store copy and config into the bytes of a backup file.
 * @param input - the passphrase (checked by {@link passphraseProblem}), the header's facts, the payload
 * @param options - progress; fixed salt, nonce or KDF for test vectors only
 * @returns the file's bytes
 * @throws RangeError (an unacceptable passphrase, a payload over 1 GiB, a bad salt or nonce length)
 */
export async function sealBackup(input: SealInput, options: SealOptions = {}): Promise<Uint8Array> {
  const problem = passphraseProblem(input.passphrase);
  if (problem !== undefined) throw new RangeError(problem);
  const { store, config } = input.payload;
  const payloadBytes = 8 + store.length + config.length;
  if (payloadBytes > backupLimits.maxPayloadBytes) {
    throw new RangeError(
      `the store is ${store.length} bytes; a backup holds at most ${backupLimits.maxPayloadBytes}`,
    );
  }
  const salt = options.salt ?? randomBytes(saltBytes);
  const nonce = options.nonce ?? randomBytes(nonceBytes);
  if (salt.length !== saltBytes || nonce.length !== nonceBytes) {
    throw new RangeError(`the salt must be ${saltBytes} bytes and the nonce ${nonceBytes}`);
  }
  const kdf = options.kdf ?? backupKdf;
  checkKdf(kdf);
  const encodeHeader = (listed: number) =>
    new TextEncoder().encode(
      JSON.stringify({
        format: "orgchat-backup",
        createdAt: input.createdAt,
        memberId: input.memberId,
        organizations: input.organizations.slice(0, listed),
        organizationCount: input.organizations.length,
        storeBytes: store.length,
        payloadBytes,
        kdf,
        salt: Buffer.from(salt).toString("base64"),
        nonce: Buffer.from(nonce).toString("base64"),
      } satisfies BackupHeader),
    );
  let listed = input.organizations.length;
  let header = encodeHeader(listed);
  while (header.length > backupLimits.maxHeaderBytes && listed > 0) {
    listed = Math.floor(listed / 2);
    header = encodeHeader(listed);
  }
  if (header.length > backupLimits.maxHeaderBytes) {
    throw new RangeError("the backup header is too large (the member id is too long)");
  }
  const prefix = new Uint8Array(fixedBytes + header.length);
  prefix.set(backupMagic, 0);
  const view = new DataView(prefix.buffer);
  view.setUint16(8, backupFormatVersion);
  view.setUint32(10, header.length);
  prefix.set(header, fixedBytes);

  const key = await deriveKey(input.passphrase, kdf, salt);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: tagBytes });
  cipher.setAAD(prefix);
  const body = await pipeChunks(
    cipher,
    [u32(store.length), store, u32(config.length), config],
    options.onProgress,
  );
  body.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat([prefix, ...body]);
}

/** Throws unless `kdf` is scrypt with the parameters a reader accepts. */
function checkKdf(kdf: unknown): asserts kdf is BackupHeader["kdf"] {
  const { name, N, r, p } = (kdf ?? {}) as Record<string, unknown>;
  const logN = typeof N === "number" ? Math.log2(N) : Number.NaN;
  if (
    name !== "scrypt" ||
    !Number.isInteger(logN) ||
    logN < backupLimits.minLogN ||
    logN > backupLimits.maxLogN ||
    r !== 8 ||
    p !== 1
  ) {
    throw new BackupFormatError(
      "malformed-header",
      `unsupported key derivation ${JSON.stringify(kdf)} (accepted: scrypt, N = 2^${backupLimits.minLogN} … 2^${backupLimits.maxLogN}, r = 8, p = 1)`,
    );
  }
}

/** Whether `value` is a string of 1 … `max` UTF-16 units. */
const shortString = (value: unknown, max: number): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= max;

/** `text` as base64 of exactly `length` bytes, or undefined. */
function base64Of(text: unknown, length: number): Uint8Array | undefined {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length > 64) {
    return undefined;
  }
  const bytes = Buffer.from(text, "base64");
  return bytes.length === length ? bytes : undefined;
}

/** Checks a parsed header's shape (a hostile file's JSON is anything). */
function checkHeader(value: unknown): BackupHeader {
  const bad = (what: string) =>
    new BackupFormatError("malformed-header", `the backup's header is malformed (${what})`);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw bad("not an object");
  const header = value as Record<string, unknown>;
  if (header.format !== "orgchat-backup") throw bad("format");
  for (const field of ["createdAt", "organizationCount", "storeBytes", "payloadBytes"] as const) {
    const number = header[field];
    if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) throw bad(field);
  }
  if (!shortString(header.memberId, 256)) throw bad("memberId");
  const organizations = header.organizations;
  if (
    !Array.isArray(organizations) ||
    !organizations.every(
      (org: unknown) =>
        typeof org === "object" &&
        org !== null &&
        shortString((org as BackupOrganization).id, 256) &&
        typeof (org as BackupOrganization).name === "string" &&
        (org as BackupOrganization).name.length <= 1024 &&
        shortString((org as BackupOrganization).role, 32),
    )
  ) {
    throw bad("organizations");
  }
  checkKdf(header.kdf);
  if (base64Of(header.salt, saltBytes) === undefined) throw bad("salt");
  if (base64Of(header.nonce, nonceBytes) === undefined) throw bad("nonce");
  return header as unknown as BackupHeader;
}

/** A backup's header and where its ciphertext starts (read without the passphrase). */
export interface BackupEnvelope {
  readonly header: BackupHeader;
  /** Magic, version, length and header: the GCM's additional data. */
  readonly prefix: Uint8Array;
  /** Ciphertext and tag. */
  readonly sealed: Uint8Array;
}

/**
 * Reads a backup's clear header (nothing is decrypted: what it says is authenticated only by
 * {@link openBackup}).
 * @param bytes - the whole file
 * @returns the header and the parts of the file
 * @throws BackupFormatError (not a backup, truncated, a newer format version, a malformed or
 *   oversized header, a file over the size bound, bytes after the end)
 */
export function readBackupEnvelope(bytes: Uint8Array): BackupEnvelope {
  if (bytes.length < backupMagic.length || !backupMagic.every((byte, i) => bytes[i] === byte)) {
    throw new BackupFormatError("not-a-backup", "not an orgchat backup (its first bytes differ)");
  }
  if (bytes.length < fixedBytes) {
    throw new BackupFormatError("truncated", "the backup is truncated (it ends inside its header)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8);
  if (version !== backupFormatVersion) {
    throw new BackupFormatError(
      "unsupported-version",
      `the backup is format version ${version}; this orgchat reads version ${backupFormatVersion} (a newer orgchat made it?)`,
    );
  }
  const headerLength = view.getUint32(10);
  if (headerLength === 0 || headerLength > backupLimits.maxHeaderBytes) {
    throw new BackupFormatError(
      "malformed-header",
      `the backup's header length ${headerLength} is outside 1 … ${backupLimits.maxHeaderBytes}`,
    );
  }
  if (bytes.length < fixedBytes + headerLength + 8 + tagBytes) {
    throw new BackupFormatError("truncated", "the backup is truncated");
  }
  if (bytes.length - fixedBytes - headerLength - tagBytes > backupLimits.maxPayloadBytes) {
    throw new BackupFormatError("too-large", "the backup is larger than any orgchat writes");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(
        bytes.subarray(fixedBytes, fixedBytes + headerLength),
      ),
    );
  } catch {
    throw new BackupFormatError("malformed-header", "the backup's header is not UTF-8 JSON");
  }
  const header = checkHeader(parsed);
  const sealedLength = bytes.length - fixedBytes - headerLength;
  if (sealedLength < header.payloadBytes + tagBytes) {
    throw new BackupFormatError("truncated", "the backup is truncated (its encrypted part is cut)");
  }
  if (sealedLength > header.payloadBytes + tagBytes) {
    throw new BackupFormatError("malformed-header", "the backup has bytes after its end");
  }
  return {
    header,
    prefix: bytes.subarray(0, fixedBytes + headerLength),
    sealed: bytes.subarray(fixedBytes + headerLength),
  };
}

/**
 * Opens a backup file with its passphrase.
 * @param bytes - the whole file
 * @param passphrase - as typed
 * @param options - progress while decrypting
 * @returns the header and the payload
 * @throws BackupFormatError (see {@link readBackupEnvelope}; a payload whose lengths disagree),
 *   BackupPassphraseError (wrong passphrase or altered file)
 */
export async function openBackup(
  bytes: Uint8Array,
  passphrase: string,
  options: { readonly onProgress?: BackupProgress } = {},
): Promise<{ header: BackupHeader; payload: BackupPayload }> {
  const { header, prefix, sealed } = readBackupEnvelope(bytes);
  const salt = Buffer.from(header.salt, "base64");
  const nonce = Buffer.from(header.nonce, "base64");
  const key = await deriveKey(passphrase, header.kdf, salt);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: tagBytes });
  decipher.setAAD(prefix);
  decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
  const parts = await pipeChunks(
    decipher,
    [sealed.subarray(0, sealed.length - tagBytes)],
    options.onProgress,
  );
  try {
    parts.push(decipher.final());
  } catch {
    throw new BackupPassphraseError();
  }
  const plain = Buffer.concat(parts);
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const storeLength = view.getUint32(0);
  const configAt = 4 + storeLength;
  if (configAt + 4 > plain.length || configAt + 4 + view.getUint32(configAt) !== plain.length) {
    throw new BackupFormatError("malformed-header", "the backup's payload lengths disagree");
  }
  return {
    header,
    payload: { store: plain.subarray(4, configAt), config: plain.subarray(configAt + 4) },
  };
}
