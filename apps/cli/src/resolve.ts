/**
 * Names people type → the ids the SDK wants: an organization by key, key prefix or name; a member by
 * id or prefix (or the display name of its request); a request by id prefix or requester name.
 */
import type { Client, OrganizationView, RequestView } from "@orgchat/client";
import { CliError, exitCodes } from "./errors.js";
import { shownName } from "./format.js";
import { isDelegateOf } from "./ranks.js";

/** Resolves `--org` (or the only organization this identity knows). */
export function resolveOrg(client: Client, ref: string | undefined): OrganizationView {
  const orgs = client.listOrganizations();
  if (ref === undefined) {
    if (orgs.length === 1 && orgs[0] !== undefined) return orgs[0];
    if (orgs.length === 0) {
      throw new CliError(
        "this identity knows no organization yet: create one (`orgchat org create NAME`) or join one (`orgchat join <link>`)",
      );
    }
    throw new CliError(
      `this identity knows ${orgs.length} organizations: say which with --org (key, key prefix or name; \`orgchat org show\` lists them)`,
      exitCodes.usage,
    );
  }
  const lower = ref.toLowerCase();
  const exact = orgs.find((org) => org.id === lower);
  if (exact !== undefined) return exact;
  const matches = orgs.filter(
    (org) =>
      (/^[0-9a-f]{4,}$/.test(lower) && org.id.startsWith(lower)) ||
      org.identity.displayName.toLowerCase() === lower,
  );
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length > 1) {
    throw new CliError(
      `--org ${shownName(ref)} matches ${matches.length} organizations: give more of the key`,
      exitCodes.usage,
    );
  }
  throw new CliError(
    `unknown organization ${shownName(ref)}: join it first (\`orgchat join <link or key>\`), or list the ones you know with \`orgchat org show\``,
  );
}

/** Resolves a member reference within an organization (members, banned keys, requesters). */
export function resolveMember(client: Client, org: OrganizationView, ref: string): string {
  const lower = ref.toLowerCase().replace(/^@/, "");
  if (/^[0-9a-f]{64}$/.test(lower)) return lower;
  const requests =
    org.role === "owner" || isDelegateOf(org, client.memberId) ? client.listRequests(org.id) : [];
  const candidates = new Set<string>([
    ...org.members.keys(),
    ...org.banned,
    ...requests.map((r) => r.requester),
  ]);
  let matches = [...candidates].filter(
    (id) => /^[0-9a-f]{4,}$/.test(lower) && id.startsWith(lower),
  );
  if (matches.length === 0) {
    // By display name: current members' (every identity has them), then the owner's requests.
    const byName = (name: string) => name.toLowerCase() === lower;
    matches = [...org.memberNames].filter(([, name]) => byName(name)).map(([id]) => id);
    if (matches.length === 0) {
      matches = [...new Set(requests.filter((r) => byName(r.displayName)).map((r) => r.requester))];
    }
  }
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length > 1) {
    throw new CliError(
      `${shownName(ref)} matches ${matches.length} members: give more of the id`,
      exitCodes.usage,
    );
  }
  throw new CliError(
    `no member ${shownName(ref)} in ${shownName(org.identity.displayName)}: give a member id (64 hex) or a prefix of one (\`orgchat org show\` lists members)`,
  );
}

/** Resolves a join request (owner) by id prefix, requester id prefix or display name. */
export function resolveRequest(client: Client, org: OrganizationView, ref: string): RequestView {
  const requests = client.listRequests(org.id);
  const lower = ref.toLowerCase();
  const byId = requests.filter((r) => /^[0-9a-f]{4,}$/.test(lower) && r.id.startsWith(lower));
  const pending = requests.filter((r) => r.status === "pending");
  const matches =
    byId.length > 0
      ? byId
      : pending.filter(
          (r) =>
            r.displayName.toLowerCase() === lower ||
            (/^[0-9a-f]{4,}$/.test(lower) && r.requester.startsWith(lower)),
        );
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length > 1) {
    throw new CliError(
      `${shownName(ref)} matches ${matches.length} requests: give more of the request id`,
      exitCodes.usage,
    );
  }
  throw new CliError(
    `no request ${shownName(ref)} in ${shownName(org.identity.displayName)}: list them with \`orgchat requests\` (the requester must have sent it to a service node you reach)`,
  );
}

/** `#general` or `general`. */
export function channelId(ref: string): string {
  return ref.replace(/^#/, "");
}
