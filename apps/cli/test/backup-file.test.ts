import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  BackupFormatError,
  BackupPassphraseError,
  backupLimits,
  openBackup,
  passphraseProblem,
  readBackupEnvelope,
  sealBackup,
} from "../src/backup-file.ts";
import {
  vectorInput,
  vectorOutcomes,
  vectorPassphrase,
  vectorSealOptions,
} from "./vectors/inputs.ts";

const vectors = join(dirname(fileURLToPath(import.meta.url)), "vectors");
const vector = (name: string) => new Uint8Array(readFileSync(join(vectors, name)));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/** A cheaper KDF (the least a reader accepts) for the tests that seal many files. */
const fast = { kdf: { name: "scrypt", N: 2 ** 14, r: 8, p: 1 } } as const;

/** The outcome name of opening `bytes` (`ok`, `BackupPassphraseError`, `BackupFormatError:<reason>`). */
async function outcome(bytes: Uint8Array, passphrase = vectorPassphrase): Promise<string> {
  try {
    await openBackup(bytes, passphrase);
    return "ok";
  } catch (error) {
    if (error instanceof BackupFormatError) return `BackupFormatError:${error.reason}`;
    if (error instanceof BackupPassphraseError) return "BackupPassphraseError";
    throw error;
  }
}

/** A file with `header` (any JSON text) in place of the real one, and `sealed` bytes after it. */
function withHeader(header: string, sealed = new Uint8Array(64)): Uint8Array {
  const json = new TextEncoder().encode(header);
  const bytes = new Uint8Array(14 + json.length + sealed.length);
  bytes.set(vector("backup-v1.bin").subarray(0, 8), 0);
  new DataView(bytes.buffer).setUint16(8, 1);
  new DataView(bytes.buffer).setUint32(10, json.length);
  bytes.set(json, 14);
  bytes.set(sealed, 14 + json.length);
  return bytes;
}

describe("backup file vectors", () => {
  it("sealing the fixed input reproduces backup-v1.bin byte for byte", async () => {
    const sealed = await sealBackup(vectorInput, vectorSealOptions);
    expect(Buffer.from(sealed).equals(Buffer.from(vector("backup-v1.bin")))).toBe(true);
  });

  it("backup-v1.bin opens to the input", async () => {
    const { header, payload } = await openBackup(vector("backup-v1.bin"), vectorPassphrase);
    expect(header.memberId).toBe(vectorInput.memberId);
    expect(header.organizations).toEqual(vectorInput.organizations);
    expect(header.createdAt).toBe(vectorInput.createdAt);
    expect(header.kdf).toEqual({ name: "scrypt", N: 2 ** 17, r: 8, p: 1 });
    expect(text(payload.store)).toBe(text(vectorInput.payload.store));
    expect(text(payload.config)).toBe(text(vectorInput.payload.config));
  });

  it.each(Object.entries(vectorOutcomes))("%s gives %s", async (name, expected) => {
    expect(await outcome(vector(name))).toBe(expected);
  });

  it("a wrong passphrase gives BackupPassphraseError", async () => {
    expect(await outcome(vector("backup-v1.bin"), "correct horse battery stapler")).toBe(
      "BackupPassphraseError",
    );
  });
});

describe("a hostile file", () => {
  it("is refused by its first bytes, its length fields and its header shape", () => {
    const format = (bytes: Uint8Array) => {
      try {
        readBackupEnvelope(bytes);
        return "ok";
      } catch (error) {
        return error instanceof BackupFormatError ? error.reason : String(error);
      }
    };
    expect(format(new TextEncoder().encode("SQLite format 3\0"))).toBe("not-a-backup");
    expect(format(new Uint8Array(0))).toBe("not-a-backup");
    expect(format(vector("backup-v1.bin").subarray(0, 10))).toBe("truncated");
    expect(format(withHeader("{not json"))).toBe("malformed-header");
    expect(format(withHeader("[]"))).toBe("malformed-header");
    const good = JSON.parse(text(readBackupEnvelope(vector("backup-v1.bin")).prefix.subarray(14)));
    const variant = (change: Record<string, unknown>) =>
      format(withHeader(JSON.stringify({ ...good, ...change, payloadBytes: 48 })));
    expect(variant({})).toBe("ok");
    // KDF parameters outside what is accepted: a file cannot make the reader spend 2 GiB or hours.
    expect(variant({ kdf: { name: "scrypt", N: 2 ** 21, r: 8, p: 1 } })).toBe("malformed-header");
    expect(variant({ kdf: { name: "scrypt", N: 2 ** 17, r: 64, p: 1 } })).toBe("malformed-header");
    expect(variant({ kdf: { name: "scrypt", N: 2 ** 17, r: 8, p: 16 } })).toBe("malformed-header");
    expect(variant({ kdf: { name: "scrypt", N: 100_000, r: 8, p: 1 } })).toBe("malformed-header");
    expect(variant({ kdf: { name: "pbkdf2", N: 2 ** 17, r: 8, p: 1 } })).toBe("malformed-header");
    expect(variant({ salt: "AAAA" })).toBe("malformed-header");
    expect(variant({ nonce: good.salt })).toBe("malformed-header");
    expect(variant({ memberId: "" })).toBe("malformed-header");
    expect(variant({ organizations: [{ id: "x", name: 5, role: "owner" }] })).toBe(
      "malformed-header",
    );
    expect(variant({ createdAt: -1 })).toBe("malformed-header");
    // The payload length in the header must match the file: bytes after the end are refused.
    expect(format(withHeader(JSON.stringify({ ...good, payloadBytes: 40 })))).toBe(
      "malformed-header",
    );
    expect(format(withHeader(JSON.stringify({ ...good, payloadBytes: 2 ** 31 })))).toBe(
      "truncated",
    );
  });

  it("a header length over the bound is refused without reading it", () => {
    const bytes = vector("backup-v1.bin").slice();
    new DataView(bytes.buffer).setUint32(10, backupLimits.maxHeaderBytes + 1);
    expect(() => readBackupEnvelope(bytes)).toThrow(/header length 65537/);
    new DataView(bytes.buffer).setUint32(10, 0xffffffff);
    expect(() => readBackupEnvelope(bytes)).toThrow(BackupFormatError);
  });
});

describe("sealing", () => {
  it("round-trips, with a fresh salt and nonce each time", async () => {
    const input = { ...vectorInput, passphrase: "another passphrase" };
    const first = await sealBackup(input, fast);
    const second = await sealBackup(input, fast);
    const a = readBackupEnvelope(first).header;
    const b = readBackupEnvelope(second).header;
    expect(a.salt).not.toBe(b.salt);
    expect(a.nonce).not.toBe(b.nonce);
    const { payload } = await openBackup(second, "another passphrase");
    expect(text(payload.config)).toBe(text(vectorInput.payload.config));
  });

  it("reports progress up to the whole payload", async () => {
    const store = new Uint8Array(9 * 1024 * 1024).fill(7);
    const seen: number[] = [];
    const bytes = await sealBackup(
      { ...vectorInput, payload: { store, config: new Uint8Array(0) } },
      { ...fast, onProgress: (done, total) => seen.push(total - done) },
    );
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.at(-1)).toBe(0);
    const { payload } = await openBackup(bytes, vectorPassphrase);
    expect(payload.store.length).toBe(store.length);
  });

  it("lists organizations while the header stays under 64 KiB, and counts them all", async () => {
    const organizations = Array.from({ length: 400 }, (_, i) => ({
      id: `${i}`.padStart(66, "0"),
      name: "n".repeat(200),
      role: "member",
    }));
    const bytes = await sealBackup({ ...vectorInput, organizations }, fast);
    const { header, prefix } = readBackupEnvelope(bytes);
    expect(prefix.length).toBeLessThanOrEqual(14 + backupLimits.maxHeaderBytes);
    expect(header.organizationCount).toBe(400);
    expect(header.organizations.length).toBeLessThan(400);
    expect(header.organizations.length).toBeGreaterThan(100);
  });

  it("refuses an empty or short passphrase", async () => {
    expect(passphraseProblem("")).toBe("the passphrase is empty");
    expect(passphraseProblem("1234567")).toMatch(/7 characters; use at least 8/);
    expect(passphraseProblem("12345678")).toBeUndefined();
    await expect(sealBackup({ ...vectorInput, passphrase: "short" }, fast)).rejects.toThrow(
      RangeError,
    );
  });
});
