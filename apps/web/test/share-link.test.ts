import { describe, expect, it } from "vitest";
import {
  formatShareLink,
  isDialableAddress,
  pageUrlFor,
  parseShareLink,
  readPageRequest,
} from "../src/share-link.ts";

const key = "5f2c".padEnd(64, "0");
const peer = "/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";

describe("share links", () => {
  it("reads the CLI's link form and writes it back", () => {
    const text = `orgchat://org/${key}?name=Acme%20%26%20Co&peer=${peer}`;
    const link = parseShareLink(text);
    expect(link).toEqual({ organizationId: key, name: "Acme & Co", peers: [peer] });
    expect(formatShareLink(link)).toBe(text);
    expect(parseShareLink(key.toUpperCase())).toEqual({ organizationId: key, peers: [] });
  });

  it("refuses what is not a link, with a typed error", () => {
    for (const bad of [
      "",
      "hello",
      `https://org/${key}`,
      `orgchat://org/${key.slice(1)}`,
      "orgchat://org/zz",
    ]) {
      expect(() => parseShareLink(bad), bad).toThrow(
        expect.objectContaining({ name: "InvalidShareLinkError" }),
      );
    }
  });

  it("keeps only WebSocket service nodes a page can dial", () => {
    expect(isDialableAddress(peer)).toBe(true);
    expect(isDialableAddress("/ip4/127.0.0.1/tcp/60001")).toBe(false);
    expect(isDialableAddress("javascript:alert(1)")).toBe(false);
    const link = parseShareLink(`orgchat://org/${key}?peer=/ip4/1.2.3.4/tcp/1&peer=${peer}`);
    expect(link.peers).toEqual([peer]);
  });

  it("reads ?peer= and #join= from the page's URL, and makes the URL that opens a link", () => {
    const link = { organizationId: key, name: "Acme", peers: [peer] };
    const url = new URL(pageUrlFor("http://127.0.0.1:4173/?x=1#old", link));
    const request = readPageRequest({ search: url.search, hash: url.hash });
    expect(request).toEqual({ peers: [peer], join: link });
    expect(readPageRequest({ search: "", hash: "#join=broken" })).toEqual({ peers: [] });
  });
});
