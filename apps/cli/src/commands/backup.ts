/**
 * `orgchat id backup FILE` and `orgchat id restore FILE` (docs/CLI.md, "Backup and restore";
 * docs/RESTORE.md): the profile's store and `config.json`, sealed with a passphrase
 * (`backup-file.ts`), and back into a data directory that holds no identity, marked as restored so
 * that the client re-keys before it sends.
 *
 * The store is locked by the process that has it open (one per data directory). When the profile's
 * daemon runs, `id backup` asks for the passphrase here and hands the daemon the copy
 * (`--passphrase-stdin`, the passphrase on the socket's stdin, never in argv): the daemon copies its
 * open store (`SqliteStore.backupTo`) and seals it.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import type { ReadStream } from "node:tty";
import { describeError } from "@orgchat/base";
import type {
  BackupFormatError,
  BackupHeader,
  BackupOrganization,
  BackupPassphraseError,
} from "../backup-file.js";
import type { CommandContext, CommandSpec } from "../command.js";
import { CliError, exitCodes, interruptedError, usageError } from "../errors.js";
import { short, shownName } from "../format.js";
import { dataDirOf } from "../session.js";

/** The environment variable a passphrase is taken from when no terminal can ask for it. */
export const backupPassphraseVariable = "ORGCHAT_BACKUP_PASSPHRASE";

/** Longest passphrase read (a line of stdin, or typed): 1,024 characters. */
const maxPassphraseChars = 1024;

const passphraseStdinOption = {
  type: "boolean",
  help: "read the passphrase from the first line of stdin (scripts; never give it on the command line)",
} as const;

/** `12.3 MiB` */
function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Reads what the user types on the terminal without showing it, until Enter. */
function promptHidden(context: CommandContext, prompt: string): Promise<string> {
  const stdin = process.stdin as ReadStream;
  const wasRaw = stdin.isRaw;
  // No echo from before the prompt shows: what is typed at once is not shown either.
  stdin.setRawMode(true);
  context.output.stderr(prompt);
  return new Promise((done, fail) => {
    let typed = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      context.signal.removeEventListener("abort", onAbort);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      context.output.stderr("\n");
      if (error === undefined) done(typed);
      else fail(error);
    };
    const onAbort = () => finish(interruptedError(undefined));
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") return finish();
        // Raw mode: Ctrl-C arrives as a byte, not as SIGINT.
        if (char === "\u0003") return finish(interruptedError(undefined));
        if (char === "\u007f" || char === "\b") typed = [...typed].slice(0, -1).join("");
        else if (char >= " ") typed += char;
        if (typed.length > maxPassphraseChars) {
          return finish(
            usageError(`the passphrase is longer than ${maxPassphraseChars} characters`),
          );
        }
      }
    };
    context.signal.addEventListener("abort", onAbort, { once: true });
    stdin.setEncoding("utf8");
    stdin.on("data", onData);
    stdin.resume();
  });
}

/** The first line of `stream` (without its line end), bounded. */
async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
    const end = text.search(/\r?\n/);
    if (end >= 0) return text.slice(0, end);
    if (text.length > maxPassphraseChars) break;
  }
  if (text.length > maxPassphraseChars) {
    throw usageError(`the passphrase on stdin is longer than ${maxPassphraseChars} characters`);
  }
  return text;
}

/**
 * The backup's passphrase: `--passphrase-stdin`, else asked on the terminal (twice when `confirm`),
 * else `$ORGCHAT_BACKUP_PASSPHRASE`; never from argv. Checked (not empty, at least 8 characters).
 * @throws CliError (usage) when there is none, it is too short, or the two typed differ
 */
async function passphraseFor(context: CommandContext, confirm: boolean): Promise<string> {
  const { passphraseProblem } = await import("../backup-file.js");
  let passphrase: string;
  if (context.values["passphrase-stdin"] === true) {
    passphrase = await firstLine(context.stdin ?? process.stdin);
  } else if (context.stdin !== undefined) {
    // Inside the profile's daemon (this orgchat handed it the command line): no terminal here.
    throw new CliError(
      "the profile's daemon got this command and cannot ask for a passphrase: run it with an orgchat that hands the backup to the daemon itself (this one does not), or stop the daemon (`orgchat daemon stop`), run the command, and start it again (`orgchat daemon start --background`)",
      exitCodes.usage,
    );
  } else if (process.stdin.isTTY === true && process.stderr.isTTY === true) {
    passphrase = await promptHidden(context, "passphrase of the backup: ");
    if (confirm && passphraseProblem(passphrase) === undefined) {
      const again = await promptHidden(context, "the same passphrase again: ");
      if (again !== passphrase) {
        throw new CliError("the two passphrases differ: run the command again", exitCodes.usage);
      }
    }
  } else {
    const fromEnvironment = process.env[backupPassphraseVariable];
    if (fromEnvironment === undefined || fromEnvironment === "") {
      throw new CliError(
        `no passphrase: run this in a terminal to be asked for one, or set ${backupPassphraseVariable} (or pass --passphrase-stdin and write it on stdin); it is never read from the command line`,
        exitCodes.usage,
      );
    }
    passphrase = fromEnvironment;
  }
  const problem = passphraseProblem(passphrase);
  if (problem !== undefined) {
    throw new CliError(
      `${problem}: choose a longer passphrase (${confirm ? "it protects the identity's keys" : "the one the backup was made with"})`,
      exitCodes.usage,
    );
  }
  return passphrase;
}

/** Writes `bytes` to `file` (0600) through a temporary name: never half a file, never over one unless `replace`. */
function writePrivateFile(file: string, bytes: Uint8Array, replace: boolean): void {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", 0o600);
  try {
    for (let offset = 0; offset < bytes.length; ) {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (replace) renameSync(temp, file);
    else linkSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    if ((error as { code?: unknown }).code === "EEXIST") throw fileExists(file);
    throw error;
  }
  if (!replace) rmSync(temp, { force: true });
  syncDirectory(dirname(file));
}

/** Syncs a file's bytes to the disk. */
function syncFile(file: string): void {
  const fd = openSync(file, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a directory's new entries durable (a rename or link survives a power cut). */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, "r");
    fsyncSync(fd);
  } catch {
    // Not every file system syncs a directory; the entry is written anyway.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const fileExists = (file: string) =>
  new CliError(`${file} exists: choose another file name, or pass --force to replace it`);

/** The lines that list a backup's organizations. */
function organizationLines(
  header: Pick<BackupHeader, "organizations" | "organizationCount">,
): string[] {
  if (header.organizationCount === 0) return ["organizations: none"];
  const more = header.organizationCount - header.organizations.length;
  return [
    "organizations:",
    ...header.organizations.map(
      (org) => `  ${shownName(short(org.id))}  ${shownName(org.name)}  (${org.role})`,
    ),
    ...(more > 0 ? [`  … and ${more} more`] : []),
  ];
}

/** What a backup holds, as JSON. */
function headerJson(header: BackupHeader): Record<string, unknown> {
  return {
    id: header.memberId,
    createdAt: new Date(header.createdAt).toISOString(),
    organizations: header.organizations,
    organizationCount: header.organizationCount,
    storeBytes: header.storeBytes,
  };
}

const keysWarning =
  "this file holds the identity's private keys (and the key of every organization it owns): anyone with the file and its passphrase can act as you. Keep it offline and the passphrase apart from it.";

/** Runs `id backup` in the profile's daemon, which holds the store open. */
async function backupThroughDaemon(
  context: CommandContext,
  socket: import("node:net").Socket,
  dataDir: string,
  file: string,
): Promise<Record<string, unknown>> {
  const passphrase = await passphraseFor(context, true);
  const { runThroughDaemon } = await import("../daemon/client.js");
  let stdout = "";
  let stderr = "";
  const argv = ["id", "backup", file, "--data", dataDir, "--passphrase-stdin", "--json"];
  if (context.values.force === true) argv.push("--force");
  context.progress.update("the profile's daemon is copying its store…");
  const code = await runThroughDaemon(socket, argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      // Progress lines become ours; the error comes in the JSON document.
      stderr += text;
      const lines = stderr.split("\n");
      stderr = lines.pop() ?? "";
      for (const line of lines) {
        if (line !== "" && !line.startsWith("orgchat:")) context.progress.update(line);
      }
    },
    stdin: Readable.from([`${passphrase}\n`]),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    signal: context.signal,
  });
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    throw new CliError(
      `the profile's daemon answered what this orgchat cannot read (exit ${code})`,
    );
  }
  if (code !== exitCodes.ok) {
    throw new CliError(String(document.error ?? "the daemon's backup failed"), code);
  }
  return document;
}

export const idBackup: CommandSpec = {
  name: "id backup",
  summary: "write this identity (its store and settings) into FILE, sealed with a passphrase",
  args: "FILE",
  minArgs: 1,
  maxArgs: 1,
  options: {
    force: { type: "boolean", help: "replace FILE if it exists" },
    "passphrase-stdin": passphraseStdinOption,
  },
  examples: [
    "orgchat id backup ~/alice.orgchat-backup",
    "ORGCHAT_BACKUP_PASSPHRASE=… orgchat id backup alice.orgchat-backup --profile alice",
  ],
  notes: `The passphrase is asked twice on the terminal (not shown), else read from $${backupPassphraseVariable} or, with --passphrase-stdin, from the first line of stdin; it has at least 8 characters. The file (mode 0600) holds the identity's private keys: keep it offline. Works while the profile's daemon runs (it makes the copy). Restore with \`orgchat id restore FILE\` into another data directory.`,
  async run(context) {
    const file = resolve(context.args[0] as string);
    const dataDir = dataDirOf(context.global);
    if (!existsSync(join(dataDir, "store.db"))) {
      throw new CliError(
        `no identity in ${dataDir}: nothing to back up (pass --profile or --data)`,
      );
    }
    if (existsSync(file) && context.values.force !== true) throw fileExists(file);
    if (context.stdin === undefined) {
      // A one-shot process: the daemon, when it runs, has the store open and makes the copy.
      const [{ connectDaemon }, { socketPathFor }] = await Promise.all([
        import("../daemon/client.js"),
        import("../daemon/rendezvous.js"),
      ]);
      const socket = await connectDaemon(socketPathFor(dataDir));
      if (socket !== undefined) {
        const document = await backupThroughDaemon(context, socket, dataDir, file);
        return backupResult(document);
      }
    }
    // The store first: a profile in use by another process is refused before the passphrase is typed.
    const session = await context.session({ network: "offline" });
    const passphrase = await passphraseFor(context, true);
    const store = session.store as Partial<import("@orgchat/store-sqlite").SqliteStore>;
    if (typeof store.backupTo !== "function") {
      throw new CliError("this data directory's store cannot be copied (not a SQLite store)");
    }
    context.progress.update("copying the store…");
    const copy = join(dataDir, `.backup-copy-${randomBytes(6).toString("hex")}.db`);
    let storeBytes: Uint8Array;
    const createdAt = Date.now();
    try {
      await store.backupTo(copy);
      // The device id stays with this device (docs/RESTORE.md): a restored copy draws its own.
      const [{ openSqliteStore }, { ownerDeviceIdKey }] = await Promise.all([
        import("@orgchat/store-sqlite"),
        import("@orgchat/client"),
      ]);
      const copied = await openSqliteStore({ path: copy });
      try {
        await copied.delete(ownerDeviceIdKey.space, ownerDeviceIdKey.key);
      } finally {
        // Closing checkpoints the write-ahead log into the file.
        await copied.close();
      }
      storeBytes = readFileSync(copy);
    } finally {
      for (const suffix of ["", "-wal", "-shm", "-journal"]) {
        rmSync(`${copy}${suffix}`, { force: true });
      }
    }
    const configPath = join(dataDir, "config.json");
    const config = existsSync(configPath) ? readFileSync(configPath) : new Uint8Array(0);
    const organizations: BackupOrganization[] = session.client.listOrganizations().map((org) => ({
      id: org.id,
      name: org.identity.displayName,
      role: org.role,
    }));
    const { sealBackup, readBackupEnvelope } = await import("../backup-file.js");
    context.progress.update("deriving the key from the passphrase…");
    const sealed = await sealBackup(
      {
        passphrase,
        createdAt,
        memberId: session.client.memberId,
        organizations,
        payload: { store: storeBytes, config },
      },
      {
        onProgress: (done, total) =>
          context.progress.update(`encrypting… ${Math.floor((done / total) * 100)}%`),
      },
    );
    context.progress.update("writing the file…");
    writePrivateFile(file, sealed, context.values.force === true);
    context.progress.done();
    return backupResult({
      file,
      bytes: sealed.length,
      ...headerJson(readBackupEnvelope(sealed).header),
      warning: keysWarning,
    });
  },
};

/** The result of `id backup` from its JSON document (made here or by the daemon). */
function backupResult(document: Record<string, unknown>): {
  json: unknown;
  human: string;
} {
  const header = {
    organizations: (document.organizations ?? []) as BackupOrganization[],
    organizationCount: Number(document.organizationCount),
  };
  return {
    json: document,
    human: [
      `backup written: ${String(document.file)} (${size(Number(document.bytes))}, mode 0600)`,
      `id:    ${String(document.id)}`,
      `store: ${size(Number(document.storeBytes))}, copied ${String(document.createdAt)}`,
      ...organizationLines(header),
      `warning: ${keysWarning}`,
    ].join("\n"),
  };
}

/** Why a backup cannot be read, and what to do. */
function unreadable(file: string, error: unknown): CliError {
  const name = (error as { name?: unknown }).name;
  if (name === "BackupPassphraseError") {
    return new CliError(
      `the passphrase does not open ${file}: it is not the one the backup was made with, or the file was changed since (then use another copy of it)`,
      exitCodes.failed,
      { cause: error as BackupPassphraseError },
    );
  }
  if (name === "BackupFormatError") {
    const format = error as BackupFormatError;
    const advice =
      format.reason === "unsupported-version"
        ? "restore it with the newer orgchat that made it"
        : format.reason === "not-a-backup"
          ? "give the file `orgchat id backup` wrote"
          : "the file is damaged or cut short: use another copy of it";
    return new CliError(`${file}: ${format.message}: ${advice}`, exitCodes.failed, {
      cause: format,
    });
  }
  return new CliError(`cannot read ${file} (${describeError(error)})`, exitCodes.failed, {
    cause: error,
  });
}

export const idRestore: CommandSpec = {
  name: "id restore",
  summary: "restore an identity from FILE (`id backup`) into a data directory with none",
  args: "FILE",
  minArgs: 1,
  maxArgs: 1,
  options: { "passphrase-stdin": passphraseStdinOption },
  examples: [
    "orgchat id restore ~/alice.orgchat-backup --profile alice2",
    "orgchat id restore alice.orgchat-backup --data ~/.orgchat/alice-laptop",
  ],
  notes: `The data directory must hold no identity (no store.db): a restore never replaces one. The passphrase is asked on the terminal, else read from $${backupPassphraseVariable} or, with --passphrase-stdin, from stdin. The restored store is marked as restored: before this device sends, each organization it is a member of is re-keyed (sends wait for fresh keys from the owner), and the organizations it owns are kept but inactive here (not run; listed only by "orgchat orgs") until owner continuity lands (issue #17); their keys are in the backup, nothing is lost. Do not run the original data directory and the restored one side by side.`,
  async run(context) {
    const file = resolve(context.args[0] as string);
    const dataDir = dataDirOf(context.global);
    if (existsSync(join(dataDir, "store.db"))) {
      throw new CliError(
        `${dataDir} already holds an identity (store.db), and a restore never replaces one: restore into another profile, e.g. \`orgchat id restore ${file} --profile restored\` (or --data NEW_DIR)`,
      );
    }
    const backupFile = await import("../backup-file.js");
    let bytes: Uint8Array;
    try {
      const { size: fileBytes } = statSync(file);
      // Bounded before it is read: a backup is at most its payload bound plus the header.
      if (fileBytes > backupFile.backupLimits.maxPayloadBytes + 2 * 1024 * 1024) {
        throw new backupFile.BackupFormatError(
          "too-large",
          "larger than any backup orgchat writes",
        );
      }
      bytes = readFileSync(file);
      // The format is checked before the passphrase is asked for.
      backupFile.readBackupEnvelope(bytes);
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") {
        throw new CliError(`${file} does not exist: give the file \`orgchat id backup\` wrote`);
      }
      throw unreadable(file, error);
    }
    const passphrase = await passphraseFor(context, false);
    context.progress.update("deriving the key from the passphrase…");
    let opened: Awaited<ReturnType<typeof backupFile.openBackup>>;
    try {
      opened = await backupFile.openBackup(bytes, passphrase, {
        onProgress: (done, total) =>
          context.progress.update(`decrypting… ${Math.floor((done / total) * 100)}%`),
      });
    } catch (error) {
      throw unreadable(file, error);
    }
    const { header, payload } = opened;
    context.progress.update("writing the store…");
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // What an interrupted restore left (never marked, never named store.db): dropped.
    for (const entry of readdirSync(dataDir)) {
      if (entry.startsWith(".restoring-")) rmSync(join(dataDir, entry), { force: true });
    }
    const temp = join(dataDir, `.restoring-${randomBytes(6).toString("hex")}.db`);
    const storePath = join(dataDir, "store.db");
    try {
      writePrivateFile(temp, payload.store, false);
      // Marked before it has its name: no client can open an unmarked restored store.
      const [{ openSqliteStore }, { markRestored }] = await Promise.all([
        import("@orgchat/store-sqlite"),
        import("@orgchat/client"),
      ]);
      const store = await openSqliteStore({ path: temp });
      try {
        await markRestored(store, { backupCreatedAt: header.createdAt, restoredAt: Date.now() });
      } finally {
        // Closing checkpoints the write-ahead log into the file.
        await store.close();
      }
      syncFile(temp);
      if (payload.config.length > 0) {
        writePrivateFile(join(dataDir, "config.json"), payload.config, true);
      }
      try {
        // A link, not a rename: a store.db made meanwhile is never replaced.
        linkSync(temp, storePath);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "EEXIST") throw error;
        throw new CliError(
          `${storePath} appeared while restoring (another orgchat used ${dataDir}): nothing was replaced; restore into another profile`,
        );
      }
      syncDirectory(dataDir);
    } finally {
      for (const suffix of ["", "-wal", "-shm", "-journal"]) {
        rmSync(`${temp}${suffix}`, { force: true });
      }
    }
    context.progress.done();
    const owned = header.organizations.filter((org) => org.role === "owner");
    return {
      json: { ...headerJson(header), dataDir, restored: true },
      human: [
        `restored identity ${header.memberId}`,
        `  data:  ${dataDir}`,
        `  from:  a backup made ${new Date(header.createdAt).toISOString()}`,
        ...organizationLines(header),
        "Before this device sends, the organizations it is a member of are re-keyed: sends wait for fresh keys from the owner.",
        ...(owned.length === 0
          ? []
          : [
              `The organizations this identity owns (${owned.map((org) => shownName(org.name)).join(", ")}) are kept but inactive on this device ("orgchat orgs" lists them) until owner continuity (issue #17) lands: running them from a copy could fork them; their keys are in the backup, nothing is lost.`,
            ]),
        "Do not keep using the original data directory beside this one.",
      ].join("\n"),
    };
  },
};
