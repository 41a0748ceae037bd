/**
 * `orgchat id backup` / `orgchat id restore` end to end (issue #15, docs/RESTORE.md items 1–2): an
 * owner's profile with an organization and messages backed up and restored into a fresh data
 * directory (same identity, same history, marked as restored before anything opened it), wrong
 * passphrases and altered files refused without writing anything, no restore over an identity, file
 * modes, and a backup while the profile's daemon holds the store.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ownerDeviceIdKey, readRestoreMarker } from "@orgchat/client";
import { openSqliteStore } from "@orgchat/store-sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { openBackup } from "../src/backup-file.ts";
import { readDaemonRecord } from "../src/daemon/rendezvous.ts";
import { acmeSteps } from "./acme.ts";
import {
  finish,
  orgchat,
  orgchatCommandLine,
  orgchatJson,
  sharedServiceNode,
  start,
  startProgram,
  tempDir,
  waitForOutput,
} from "./helpers.ts";

const servicePeer = sharedServiceNode();

const { profiles, createAcme, joinAccepted } = acmeSteps(servicePeer);

const passphrase = "a long enough passphrase";
const withPassphrase = { ORGCHAT_BACKUP_PASSPHRASE: passphrase };
const mode = (path: string) => statSync(path).mode & 0o777;

/** Daemons started by a test, killed if it ends without stopping them (`daemon.json` names them). */
const daemonDirs: string[] = [];
afterEach(() => {
  const pids = daemonDirs.splice(0).map((dir) => readDaemonRecord(dir)?.pid);
  for (const pid of pids.filter((pid) => pid !== undefined)) {
    // A record of a daemon that died already names no process: nothing to kill then.
    if (processExists(pid)) process.kill(pid, "SIGKILL");
  }
});

function processExists(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

interface BackupJson {
  file: string;
  bytes: number;
  id: string;
  organizations: Array<{ id: string; name: string; role: string }>;
  warning: string;
}

describe("orgchat id backup / id restore", () => {
  it("round trip: same identity, same history, the store marked before first use, private modes", async () => {
    const dir = profiles();
    const { organization, link } = await createAcme(dir);
    await joinAccepted(dir, link, "alice", "Alice");
    await orgchatJson(["send", "general", "welcome, Alice", ...dir("owner")]);
    await orgchatJson(["read", "general", ...dir("alice")]);
    await orgchatJson(["send", "general", "before the backup", ...dir("alice")]);
    const alice = await orgchatJson<{ id: string }>(["id", "show", ...dir("alice")]);
    const file = join(tempDir(), "alice.backup");

    const backup = await orgchat(["id", "backup", file, "--json", ...dir("alice")], withPassphrase);
    expect(backup.code, backup.stderr).toBe(0);
    const made = JSON.parse(backup.stdout) as BackupJson;
    expect(made).toMatchObject({ file, id: alice.id, bytes: statSync(file).size });
    expect(made.organizations).toEqual([{ id: organization.id, name: "Acme", role: "member" }]);
    expect(made.warning).toContain("private keys");
    expect(mode(file)).toBe(0o600);
    // The passphrase is in no output, and the messages are not readable in the file.
    expect(backup.stdout + backup.stderr).not.toContain(passphrase);
    expect(readFileSync(file).includes(Buffer.from("before the backup"))).toBe(false);
    // The store inside holds no owner device id (it stays with the device: docs/RESTORE.md).
    const { payload } = await openBackup(readFileSync(file), passphrase);
    const inside = join(tempDir(), "inside.db");
    writeFileSync(inside, payload.store);
    const copied = await openSqliteStore({ path: inside });
    try {
      expect(await copied.get(ownerDeviceIdKey.space, ownerDeviceIdKey.key)).toBeUndefined();
    } finally {
      await copied.close();
    }

    // An existing file is kept unless --force.
    const again = await orgchat(["id", "backup", file, ...dir("alice")], withPassphrase);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("exists: choose another file name, or pass --force");
    const forced = await orgchat(
      ["id", "backup", file, "--force", ...dir("alice")],
      withPassphrase,
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain("warning: this file holds the identity's private keys");

    const restored = await orgchat(["id", "restore", file, ...dir("laptop")], withPassphrase);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`restored identity ${alice.id}`);
    expect(restored.stdout).toContain("re-keyed: sends wait for fresh keys from the owner");
    const laptop = dir("laptop")[1] ?? "";
    expect(mode(laptop)).toBe(0o700);
    expect(mode(join(laptop, "store.db"))).toBe(0o600);
    expect(mode(join(laptop, "config.json"))).toBe(0o600);
    // Marked before any command opened it.
    const store = await openSqliteStore({ path: join(laptop, "store.db") });
    try {
      const marker = await readRestoreMarker(store);
      expect(marker?.backupCreatedAt).toBeGreaterThan(0);
      expect(marker?.restoredAt).toBeGreaterThanOrEqual(marker?.backupCreatedAt ?? 0);
    } finally {
      await store.close();
    }

    const shown = await orgchatJson<{ id: string; peers: string[] }>([
      "id",
      "show",
      ...dir("laptop"),
    ]);
    expect(shown.id).toBe(alice.id);
    expect(shown.peers).toEqual([servicePeer()]);
    const history = await orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      "--offline",
      ...dir("laptop"),
    ]);
    expect(history.messages.map((message) => message.text)).toEqual(
      expect.arrayContaining(["welcome, Alice", "before the backup"]),
    );

    // Never over an identity: alice's own directory, and the restored one now.
    for (const target of ["alice", "laptop"]) {
      const over = await orgchat(["id", "restore", file, ...dir(target)], withPassphrase);
      expect(over.code).toBe(1);
      expect(over.stderr).toContain("already holds an identity (store.db)");
      expect(over.stderr).toContain("--profile restored");
    }
  });

  it("refuses wrong passphrases, altered files and missing or short passphrases, writing nothing", async () => {
    const dir = profiles();
    await orgchat(["id", "create", ...dir("alice")]);
    const file = join(tempDir(), "alice.backup");
    // No terminal and no environment variable: nothing to ask with.
    const none = await orgchat(["id", "backup", file, ...dir("alice")]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no passphrase: run this in a terminal");
    const short = await orgchat(["id", "backup", file, ...dir("alice")], {
      ORGCHAT_BACKUP_PASSPHRASE: "seven77",
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("7 characters; use at least 8");
    expect(existsSync(file)).toBe(false);
    // From stdin (a script's way), not from argv.
    const piped = start(["id", "backup", file, "--passphrase-stdin", ...dir("alice")]);
    piped.child.stdin?.end(`${passphrase}\n`);
    const pipedDone = await finish(piped);
    expect(pipedDone.code, pipedDone.stderr).toBe(0);

    const wrong = await orgchat(["id", "restore", file, ...dir("wrong")], {
      ORGCHAT_BACKUP_PASSPHRASE: "not the passphrase",
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the passphrase does not open");
    expect(existsSync(join(dir("wrong")[1] ?? "", "store.db"))).toBe(false);

    const bytes = readFileSync(file);
    const altered = join(tempDir(), "altered.backup");
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 40] = (flipped[bytes.length - 40] as number) ^ 0x01;
    writeFileSync(altered, flipped);
    const tampered = await orgchat(["id", "restore", altered, ...dir("tampered")], withPassphrase);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain("or the file was changed since");
    expect(existsSync(join(dir("tampered")[1] ?? "", "store.db"))).toBe(false);

    writeFileSync(altered, bytes.subarray(0, bytes.length - 100));
    const cut = await orgchat(["id", "restore", altered, ...dir("cut")], withPassphrase);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain("truncated");
    expect(cut.stderr).toContain("use another copy of it");
    writeFileSync(altered, "not a backup at all");
    const other = await orgchat(["id", "restore", altered, ...dir("cut")], withPassphrase);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("not an orgchat backup");

    const good = await orgchatJson<{ id: string }>(["id", "show", ...dir("alice")]);
    const restored = start(["id", "restore", file, "--passphrase-stdin", "--json", ...dir("back")]);
    restored.child.stdin?.end(`${passphrase}\n`);
    const restoredDone = await finish(restored);
    expect(restoredDone.code, restoredDone.stderr).toBe(0);
    expect(JSON.parse(restoredDone.stdout)).toMatchObject({ id: good.id, restored: true });
  });

  it("asks the passphrase on a terminal without echo, twice for a backup", async () => {
    const dir = profiles();
    await orgchat(["id", "create", ...dir("alice")]);
    const file = join(tempDir(), "tty.backup");
    const run = startProgram("script", [
      "-qfec",
      orgchatCommandLine(["id", "backup", file, ...dir("alice")]),
      "/dev/null",
    ]);
    await waitForOutput(run, "stdout", "passphrase of the backup: ");
    run.child.stdin?.write(`${passphrase}\r`);
    await waitForOutput(run, "stdout", "the same passphrase again: ");
    run.child.stdin?.write(`${passphrase}\r`);
    const done = await finish(run);
    expect(done.code, done.stdout).toBe(0);
    expect(done.stdout).toContain("backup written:");
    expect(done.stdout).not.toContain(passphrase);
    const restored = await orgchat(["id", "restore", file, ...dir("back")], withPassphrase);
    expect(restored.code, restored.stderr).toBe(0);
  });

  it("backs up while the profile's daemon holds the store; an owner's restore says its organizations wait", async () => {
    const dir = profiles();
    const { organization } = await createAcme(dir);
    const ownerDir = dir("owner")[1] ?? "";
    daemonDirs.push(ownerDir);
    const started = await orgchat(["daemon", "start", "--background", ...dir("owner")]);
    expect(started.code, started.stderr).toBe(0);
    await orgchatJson(["send", "general", "while the daemon runs", ...dir("owner")]);
    const file = join(tempDir(), "daemon.backup");
    const backup = await orgchat(["id", "backup", file, "--json", ...dir("owner")], withPassphrase);
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({
      file,
      organizations: [{ id: organization.id, name: "Acme", role: "owner" }],
    });
    expect(mode(file)).toBe(0o600);
    // The daemon still serves the profile.
    await orgchatJson(["send", "general", "after the backup", ...dir("owner")]);
    expect((await orgchat(["daemon", "stop", ...dir("owner")])).code).toBe(0);

    const restored = await orgchat(["id", "restore", file, ...dir("copy")], withPassphrase);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(
      "The organizations this identity owns (Acme) are kept but inactive",
    );
    expect(restored.stdout).toContain("nothing is lost");
    const overview = await orgchatJson<{ organizations: unknown[]; inactive: unknown[] }>([
      "orgs",
      "--offline",
      ...dir("copy"),
    ]);
    expect(overview).toEqual({
      organizations: [],
      inactive: [{ id: organization.id, inactive: "owner-restored" }],
    });
    const listed = await orgchat(["orgs", "--offline", ...dir("copy")]);
    expect(listed.stdout).toContain("owner, inactive: this data directory was restored");
    const owner = await orgchatJson<{ id: string }>(["id", "show", ...dir("owner")]);
    expect((await orgchatJson<{ id: string }>(["id", "show", ...dir("copy")])).id).toBe(owner.id);
  });
});
