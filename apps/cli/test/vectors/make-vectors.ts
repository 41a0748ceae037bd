/**
 * Writes the backup file vectors of this directory (README.md): one backup sealed with a fixed
 * salt, nonce, passphrase and creation time over a tiny payload, and the negatives derived from it.
 * Run from apps/cli: `node --import tsx --conditions=@orgchat/source test/vectors/make-vectors.ts`.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sealBackup } from "../../src/backup-file.ts";
import { vectorInput, vectorSealOptions } from "./inputs.ts";

const dir = dirname(fileURLToPath(import.meta.url));
const good = Uint8Array.from(await sealBackup(vectorInput, vectorSealOptions));
const headerLength = new DataView(good.buffer, good.byteOffset).getUint32(10);
const memberIdAt = Buffer.from(good).indexOf(vectorInput.memberId) + 3;
const variants: Record<string, Uint8Array> = {
  "backup-v1.bin": good,
  "truncated-header.bin": good.slice(0, 14 + Math.floor(headerLength / 2)),
  "truncated-body.bin": good.slice(0, good.length - 5),
  "flipped-header.bin": flip(good, memberIdAt),
  "flipped-ciphertext.bin": flip(good, 14 + headerLength + 6),
  "unknown-version.bin": patched(good, (view) => view.setUint16(8, 2)),
  "oversized-header.bin": patched(good, (view) => view.setUint32(10, 64 * 1024 + 1)),
};
for (const [name, bytes] of Object.entries(variants)) writeFileSync(join(dir, name), bytes);

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

function patched(bytes: Uint8Array, change: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  change(new DataView(copy.buffer));
  return copy;
}
