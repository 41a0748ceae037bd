/**
 * Where a data directory's daemon listens, and the record it leaves for `daemon status`
 * (docs/CLI-DAEMON.md, "Rendezvous"). Only the user who owns the profile can reach the socket: it
 * lives in the 0700 data directory, or in a 0700 directory of that user under the system's temp dir
 * when the data directory's path is too long for a Unix socket.
 */
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Longest socket path used as is (Linux allows 107 bytes, macOS 103). */
export const maxSocketPathBytes = 100;

/** The socket file name inside a data directory. */
export const socketFileName = "daemon.sock";
/** The daemon's record inside a data directory. */
export const recordFileName = "daemon.json";

/** A directory that must be this user's alone and is not. */
export class UnsafeSocketDirError extends Error {
  override readonly name = "UnsafeSocketDirError";
}

function currentUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/**
 * The socket path of a data directory's daemon.
 * @param dataDir - the data directory (made absolute)
 * @param tempDir - the system's temp directory (injected for tests)
 */
export function socketPathFor(dataDir: string, tempDir: string = tmpdir()): string {
  const absolute = resolve(dataDir);
  const inside = join(absolute, socketFileName);
  if (Buffer.byteLength(inside) <= maxSocketPathBytes) return inside;
  const hash = createHash("sha256").update(absolute).digest("hex").slice(0, 32);
  return join(tempDir, `orgchat-${currentUid() ?? "user"}`, `${hash}.sock`);
}

/**
 * Makes sure the directory that holds `socketPath` exists, belongs to this user and is 0700.
 * @throws UnsafeSocketDirError when it is another user's, a symbolic link, or open to others
 */
export function prepareSocketDir(socketPath: string): void {
  const dir = resolve(socketPath, "..");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = currentUid();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0) {
    throw new UnsafeSocketDirError(
      `${dir} must be a directory of this user with mode 0700 (it is ${stat.isSymbolicLink() ? "a symbolic link" : `mode ${(stat.mode & 0o777).toString(8)}, owner ${stat.uid}`}): fix or remove it, then start the daemon again`,
    );
  }
}

/** What `daemon.json` records. */
export interface DaemonRecord {
  readonly pid: number;
  readonly socket: string;
  readonly version: string;
  /** ISO time the daemon started listening. */
  readonly startedAt: string;
  readonly peers: readonly string[];
}

/** Writes `daemon.json` atomically (0600). */
export function writeDaemonRecord(dataDir: string, record: DaemonRecord): void {
  const path = join(dataDir, recordFileName);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/**
 * Reads `daemon.json` when it exists and is well-formed (it is advice for `daemon status`: the
 * socket decides whether a daemon runs).
 */
export function readDaemonRecord(dataDir: string): DaemonRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(dataDir, recordFileName), "utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (
    !Number.isInteger(record.pid) ||
    typeof record.socket !== "string" ||
    typeof record.version !== "string" ||
    typeof record.startedAt !== "string" ||
    !Array.isArray(record.peers) ||
    !record.peers.every((peer) => typeof peer === "string")
  ) {
    return undefined;
  }
  return record as unknown as DaemonRecord;
}
