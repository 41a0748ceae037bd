/**
 * The share text of an organization: its key (the organization's id, which is all a newcomer needs to
 * find it, spec 55) and the service nodes where its messages are stored.
 *
 *   orgchat://org/<64 hex>?name=Acme&peer=/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…
 *
 * `join` also accepts the bare key.
 */
import { CliError, exitCodes } from "./errors.js";
import { isServiceAddress } from "./session.js";

/** What a link carries. */
export interface OrgLink {
  readonly organizationId: string;
  readonly name?: string;
  readonly peers: readonly string[];
}

const keyPattern = /^[0-9a-f]{64}$/;

/** Formats a link. Multiaddrs keep their slashes (legal in a URL query) so that they stay readable. */
export function formatLink(link: OrgLink): string {
  const query = [
    ...(link.name === undefined || link.name === ""
      ? []
      : [`name=${encodeURIComponent(link.name)}`]),
    ...link.peers.map((peer) => `peer=${encodeURI(peer)}`),
  ];
  return `orgchat://org/${link.organizationId}${query.length === 0 ? "" : `?${query.join("&")}`}`;
}

/**
 * Parses a link or a bare organization key.
 * @throws CliError (usage) when it is neither
 */
export function parseLink(text: string): OrgLink {
  const trimmed = text.trim();
  if (keyPattern.test(trimmed.toLowerCase())) {
    return { organizationId: trimmed.toLowerCase(), peers: [] };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch (error) {
    throw notALink(text, error);
  }
  const id = url.pathname.replace(/^\/+/, "").toLowerCase();
  if (url.protocol !== "orgchat:" || url.hostname !== "org" || !keyPattern.test(id)) {
    throw notALink(text);
  }
  const name = url.searchParams.get("name");
  const peers = url.searchParams.getAll("peer");
  const broken = peers.find((peer) => !isServiceAddress(peer));
  if (broken !== undefined) {
    throw new CliError(
      `the link's service node address ${JSON.stringify(broken)} is not a multiaddr such as /ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…: ask for a fresh link (\`orgchat org link\`), or join by key with --peer`,
      exitCodes.usage,
    );
  }
  return { organizationId: id, ...(name === null ? {} : { name }), peers };
}

function notALink(text: string, cause?: unknown): CliError {
  return new CliError(
    `${JSON.stringify(text)} is neither an organization link (orgchat://org/<key>?peer=…, from \`orgchat org link\`) nor a 64-hex organization key`,
    exitCodes.usage,
    cause === undefined ? {} : { cause },
  );
}
