/**
 * The `orgchat://` share link the CLI prints (`orgchat org link`), read and written by the page:
 *
 *   orgchat://org/<64 hex>?name=Acme&peer=/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…
 *
 * and where the page finds one: `#join=<link>` in its own URL. A link is text from anyone: it is only
 * parsed, never trusted (the organization is verified by its description, signed by its key).
 */

/** What a share link carries. */
export interface ShareLink {
  /** The organization's key, 64 lowercase hex characters. */
  readonly organizationId: string;
  /** The name the link claims (not verified: the description is). */
  readonly name?: string;
  /** Service node multiaddrs. */
  readonly peers: readonly string[];
}

/** Thrown for text that is neither a share link nor a bare organization key. */
export class InvalidShareLinkError extends Error {
  override readonly name = "InvalidShareLinkError";
  /**
   * @param text - what was given
   * @param options - `cause`
   */
  constructor(text: string, options?: { cause?: unknown }) {
    super(
      `${JSON.stringify(text.slice(0, 120))} is not an organization link (orgchat://org/<key>?peer=…, from \`orgchat org link\` or the page's share box) nor a 64-hex key`,
      options,
    );
  }
}

const hexKey = /^[0-9a-f]{64}$/;
/** A WebSocket multiaddr as `orgchat serve` prints it (the only kind a page can dial). */
const wsAddress =
  /^\/(ip4|ip6|dns4|dns6|dns)\/[^/\s]+\/tcp\/\d{1,5}\/(ws|wss|tls\/ws)(\/p2p\/[1-9A-HJ-NP-Za-km-z]+)?$/;

/**
 * Whether text is a service node address the page can dial (ws or wss).
 * @param address - a multiaddr
 * @returns true for `/ip4/…/tcp/…/ws[/p2p/…]` and the like
 */
export function isDialableAddress(address: string): boolean {
  return address.length <= 512 && wsAddress.test(address);
}

/**
 * Reads a share link or a bare organization key.
 * @param text - the link
 * @returns its organization id, claimed name and the dialable service node addresses
 * @throws InvalidShareLinkError when it is neither a link nor a key
 */
export function parseShareLink(text: string): ShareLink {
  const trimmed = text.trim();
  if (hexKey.test(trimmed.toLowerCase()))
    return { organizationId: trimmed.toLowerCase(), peers: [] };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch (error) {
    throw new InvalidShareLinkError(text, { cause: error });
  }
  const key = url.pathname.replace(/^\/+/, "").toLowerCase();
  if (url.protocol !== "orgchat:" || url.hostname !== "org" || !hexKey.test(key)) {
    throw new InvalidShareLinkError(text);
  }
  const name = url.searchParams.get("name");
  const peers = url.searchParams.getAll("peer").filter(isDialableAddress);
  return name === null ? { organizationId: key, peers } : { organizationId: key, name, peers };
}

/**
 * Writes a share link (the same form as the CLI's, so either reads the other's).
 * @param link - organization id, name, peers
 * @returns `orgchat://org/<key>?name=…&peer=…`
 */
export function formatShareLink(link: ShareLink): string {
  const params: string[] = [];
  if (link.name) params.push(`name=${encodeURIComponent(link.name)}`);
  for (const peer of link.peers) params.push(`peer=${encodeURI(peer)}`);
  return `orgchat://org/${link.organizationId}${params.length > 0 ? `?${params.join("&")}` : ""}`;
}

/** What the page's own URL asks for: service nodes (`?peer=`, repeatable) and a link (`#join=`). */
export interface PageRequest {
  readonly peers: readonly string[];
  readonly join?: ShareLink;
}

/**
 * Reads the page's URL.
 * @param location - `window.location` (its `search` and `hash`)
 * @returns the peers and the link it carries; a broken link is left out
 */
export function readPageRequest(location: {
  readonly search: string;
  readonly hash: string;
}): PageRequest {
  const peers = new URLSearchParams(location.search).getAll("peer").filter(isDialableAddress);
  const hash = location.hash.startsWith("#") ? location.hash.slice(1) : location.hash;
  const joinText = new URLSearchParams(hash).get("join");
  if (joinText === null) return { peers };
  try {
    return { peers, join: parseShareLink(joinText) };
  } catch {
    return { peers };
  }
}

/**
 * The page URL that opens an organization (what the QR code holds).
 * @param pageUrl - the page's address without hash
 * @param link - the share link
 * @returns `<page>?peer=…#join=<link>`
 */
export function pageUrlFor(pageUrl: string, link: ShareLink): string {
  const url = new URL(pageUrl);
  url.hash = "";
  url.search = "";
  for (const peer of link.peers) url.searchParams.append("peer", peer);
  return `${url.toString()}#join=${encodeURIComponent(formatShareLink(link))}`;
}
