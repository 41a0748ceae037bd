/** The fixed input of the backup vectors (`make-vectors.ts` seals it; `backup-file.test.ts` checks). */
import type { SealInput, SealOptions } from "../../src/backup-file.ts";

const text = (value: string) => new TextEncoder().encode(value);

export const vectorPassphrase = "correct horse battery staple";

export const vectorInput: SealInput = {
  passphrase: vectorPassphrase,
  createdAt: 1_780_000_000_000,
  memberId: "02a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
  organizations: [
    {
      id: "03f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f",
      name: "Acme",
      role: "owner",
    },
  ],
  payload: {
    store: text("SQLite format 3\u0000 (a tiny stand-in)"),
    config: text('{"peers":[]}\n'),
  },
};

export const vectorSealOptions: SealOptions = {
  salt: Uint8Array.from({ length: 16 }, (_, i) => i),
  nonce: Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i),
};

/** What each vector file gives when opened with {@link vectorPassphrase}. */
export const vectorOutcomes: Readonly<Record<string, string>> = {
  "backup-v1.bin": "ok",
  "truncated-header.bin": "BackupFormatError:truncated",
  "truncated-body.bin": "BackupFormatError:truncated",
  "flipped-header.bin": "BackupPassphraseError",
  "flipped-ciphertext.bin": "BackupPassphraseError",
  "unknown-version.bin": "BackupFormatError:unsupported-version",
  "oversized-header.bin": "BackupFormatError:malformed-header",
};
