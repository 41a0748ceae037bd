/**
 * The policies of `orgchat serve --owner` (docs/CLI.md, "An owner that is always on"): how requests to
 * join each owned organization are answered while nobody types. Remembered in the owner profile's
 * `owner-service.json` (0600), changed by `--admit` flags, printed at every start.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "@orgchat/base";
import { CliError, exitCodes, usageError } from "./errors.js";

/**
 * How requests to join are answered: `none` leaves them to a human (`orgchat requests`, `accept`),
 * `all` accepts each at once (after the client's own admission limits), `invited` admits only what an
 * invitation covers (the state does that by itself) and rejects every other request at once.
 */
export const admitModes = ["none", "all", "invited"] as const;
/** One of {@link admitModes}. */
export type AdmitMode = (typeof admitModes)[number];

/** The reason an `invited` policy gives the requesters it rejects. */
export const invitationOnlyReason = "this organization admits by invitation only";

/** The policies an owner service applies. */
export interface OwnerPolicy {
  /** For every owned organization without a mode of its own. */
  readonly admit: AdmitMode;
  /** By organization key (64 lowercase hex): overrides {@link OwnerPolicy.admit}. */
  readonly admitByOrg: Readonly<Record<string, AdmitMode>>;
}

/** Nothing is decided without a human. */
export const defaultOwnerPolicy: OwnerPolicy = { admit: "none", admitByOrg: {} };

/** The file in the owner's data directory that remembers the policies. */
export const policyFileName = "owner-service.json";

const isAdmitMode = (value: unknown): value is AdmitMode =>
  typeof value === "string" && (admitModes as readonly string[]).includes(value);

/**
 * The policies remembered in `dir` ({@link defaultOwnerPolicy} when there are none yet).
 * @param dir - the owner's data directory
 * @returns the policies
 * @throws CliError when the file exists but cannot be read or is not a policy document
 */
export function readOwnerPolicy(dir: string): OwnerPolicy {
  const file = join(dir, policyFileName);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return defaultOwnerPolicy;
    throw new CliError(`cannot read ${file} (${describeError(error)}): fix its permissions`);
  }
  const broken = () =>
    new CliError(
      `${file} is not an orgchat owner policy (expected {"admit": "none|all|invited", "admitByOrg": {"<org key>": "…"}}): fix it, or delete it and pass --admit again`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw broken();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw broken();
  const { admit, admitByOrg } = parsed as Record<string, unknown>;
  if (!isAdmitMode(admit)) throw broken();
  if (typeof admitByOrg !== "object" || admitByOrg === null || Array.isArray(admitByOrg)) {
    throw broken();
  }
  const byOrg: Record<string, AdmitMode> = {};
  for (const [key, mode] of Object.entries(admitByOrg)) {
    if (!/^[0-9a-f]{64}$/.test(key) || !isAdmitMode(mode)) throw broken();
    byOrg[key] = mode;
  }
  return { admit, admitByOrg: byOrg };
}

/**
 * Remembers `policy` in `dir` (0600, written whole then renamed).
 * @param dir - the owner's data directory
 * @param policy - the policies
 */
export function writeOwnerPolicy(dir: string, policy: OwnerPolicy): void {
  const file = join(dir, policyFileName);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(policy, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/** One `--admit` flag: a mode for every owned organization, or for one (`ORG=MODE`). */
export interface AdmitFlag {
  /** The organization as typed (name, key or key prefix); absent: every owned one. */
  readonly org?: string;
  readonly mode: AdmitMode;
}

/**
 * Reads `--admit` values: `MODE` or `ORG=MODE` (the last `=` splits, so a name may hold one).
 * @param values - the flag's values, in order
 * @returns the flags, in order
 * @throws CliError (usage, exit 2) naming the value that is not one of these
 */
export function parseAdmitFlags(values: readonly string[]): AdmitFlag[] {
  return values.map((value) => {
    const split = value.lastIndexOf("=");
    const mode = split < 0 ? value : value.slice(split + 1);
    const org = split < 0 ? undefined : value.slice(0, split);
    if (!isAdmitMode(mode) || org === "") {
      throw usageError(
        `--admit takes none, all or invited, or ORG=none|all|invited; got ${JSON.stringify(value)}`,
        "serve",
      );
    }
    return org === undefined ? { mode } : { org, mode };
  });
}

/**
 * The policies after `flags`: a flag without an organization sets the mode of every owned one (and
 * drops their own modes); `ORG=MODE` sets that organization's.
 * @param policy - the remembered policies
 * @param flags - from {@link parseAdmitFlags}
 * @param orgKey - turns what the user typed into an owned organization's key
 * @returns the new policies
 * @throws what `orgKey` throws (an unknown or not owned organization)
 */
export function applyAdmitFlags(
  policy: OwnerPolicy,
  flags: readonly AdmitFlag[],
  orgKey: (typed: string) => string,
): OwnerPolicy {
  let next = policy;
  for (const flag of flags) {
    next =
      flag.org === undefined
        ? { admit: flag.mode, admitByOrg: {} }
        : { ...next, admitByOrg: { ...next.admitByOrg, [orgKey(flag.org)]: flag.mode } };
  }
  return next;
}

/**
 * The mode that answers requests to join `organizationId`.
 * @param policy - the policies
 * @param organizationId - the organization key
 * @returns its own mode, else the one for every organization
 */
export function admitModeOf(policy: OwnerPolicy, organizationId: string): AdmitMode {
  return Object.hasOwn(policy.admitByOrg, organizationId)
    ? (policy.admitByOrg[organizationId] ?? policy.admit)
    : policy.admit;
}

/** What a mode does, in words (for the start-up lines). */
export function admitModeMeaning(mode: AdmitMode, access: string): string {
  if (access === "no-membership") return "open organization: everyone who asks is admitted at once";
  if (mode === "all") return "every request is accepted at once (within the admission limits)";
  if (mode === "invited") {
    return "invitations admit; every other request is rejected at once";
  }
  return "requests wait for you (`orgchat requests`, `orgchat accept`)";
}

/** Thrown by callers when a flag names an organization the profile does not own. */
export function notOwnedError(typed: string): CliError {
  return new CliError(
    `--admit ${JSON.stringify(typed)}: this profile does not own that organization (\`orgchat org show\` lists the ones it owns)`,
    exitCodes.usage,
  );
}
