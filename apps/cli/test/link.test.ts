import { describe, expect, it } from "vitest";
import { formatLink, parseLink } from "../src/link.ts";

const key = "ab".repeat(32);
const peer = "/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooWKuCsL4rTLUAyRSA3F6wsQ5Nz2jjHStdSmJv9izcyksC8";

describe("organization links", () => {
  it("round-trips key, name and service nodes; takes a bare key", () => {
    const link = {
      organizationId: key,
      name: "Acme & co",
      peers: [peer, "/ip4/10.0.0.1/tcp/60001"],
    };
    expect(parseLink(formatLink(link))).toEqual(link);
    expect(parseLink(` ${key.toUpperCase()} `)).toEqual({ organizationId: key, peers: [] });
  });

  it("refuses a link whose service node address is broken, saying what to do (not dropped silently)", () => {
    for (const bad of [
      "/ip4/127.0.0.1/tcp/notaport/ws",
      "localhost:60000",
      "/ip4/127.0.0.1/udp/1",
    ]) {
      const text = `orgchat://org/${key}?peer=${encodeURI(peer)}&peer=${encodeURIComponent(bad)}`;
      expect(() => parseLink(text)).toThrow(
        /the link's service node address .* is not a multiaddr .*ask for a fresh link/,
      );
    }
  });

  it("refuses what is neither a link nor a key", () => {
    for (const text of ["", "orgchat://org/abc", `https://org/${key}`, `orgchat://chat/${key}`]) {
      expect(() => parseLink(text)).toThrow(
        /is neither an organization link .* nor a 64-hex organization key/,
      );
    }
  });
});
