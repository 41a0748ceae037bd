/**
 * The node's libp2p identity, persisted in its data directory so that its multiaddrs (which end in
 * `/p2p/<peer id>`) survive restarts: light nodes and peers keep working with the address they were
 * given.
 */
import { constants } from "node:fs";
import { access, chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { DataDirectoryError } from "./errors.js";

/** File name of the private key inside the data directory (libp2p protobuf encoding, mode 0600). */
export const peerKeyFileName = "peer-key";

/**
 * Loads the private key from `<dataDir>/peer-key`, or creates an Ed25519 key and writes it there
 * (mode 0600, written to a temporary file and renamed so a crash never leaves half a key).
 * @throws DataDirectoryError when the directory cannot be created or written, or the key file is corrupt.
 */
export async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, peerKeyFileName);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await access(dataDir, constants.W_OK);
  } catch (cause) {
    throw new DataDirectoryError(dataDir, "cannot be created or is not writable", { cause });
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (cause) {
    if ((cause as { code?: unknown }).code !== "ENOENT") {
      throw new DataDirectoryError(dataDir, `cannot read ${peerKeyFileName}`, { cause });
    }
  }
  if (bytes !== undefined) {
    try {
      return asPrivateKey(privateKeyFromProtobuf(bytes));
    } catch (cause) {
      throw new DataDirectoryError(
        dataDir,
        `${peerKeyFileName} is not a libp2p private key (move it away to start with a new identity)`,
        { cause },
      );
    }
  }
  const key = await generateKeyPair("Ed25519");
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, privateKeyToProtobuf(key), { mode: 0o600, flag: "wx" });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (cause) {
    throw new DataDirectoryError(dataDir, `cannot write ${peerKeyFileName}`, { cause });
  }
  return asPrivateKey(key);
}

/**
 * `@libp2p/crypto` 5.1.23 types its keys against `@libp2p/interface` 3.x while libp2p 2.8.11 expects
 * 2.x; the objects are the same at runtime (libp2p 2.8.11 itself depends on this `@libp2p/crypto`).
 */
function asPrivateKey(key: unknown): PrivateKey {
  return key as PrivateKey;
}
