/**
 * Assembly: a paged description back into one `OrganizationDescription`, from its header and its
 * roster pages received in any order, checked against the header's hashes and the canonical order.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "@orgchat/base";
import {
  type DescriptionPage,
  decodeDescriptionPage,
  type OrganizationDescription,
} from "@orgchat/wire";
import { isRecord, setOwn } from "../wire/checks.js";
import { compareIds, type DescriptionHeader } from "./pages.js";

/** What {@link assembleDescription} reassembles: a header and the pages received, in any order. */
export interface DescriptionPieces {
  /** The header page's bytes (a signed envelope's payload, exactly as signed). */
  readonly header: Uint8Array;
  /** Roster pages' bytes in any order; duplicates are ignored. */
  readonly pages: readonly Uint8Array[];
}

/**
 * Why pages could not be reassembled.
 *
 * - `malformed`: the header or a page is not what it claims (not a `DescriptionPage`, a header
 *   without `index`, repeated hashes, a listed page that does not decode).
 * - `hash-mismatch`: a page's hash is not in the header (tampered, or from another description).
 * - `inconsistent`: the pieces decode but do not fit together (a page of another clock or at
 *   another index, a header listed as a page, entries out of the canonical order or repeated,
 *   fields a roster page may not carry, a roster for an unknown channel, rosters in the header).
 */
export type AssembleDescriptionFailure = "malformed" | "hash-mismatch" | "inconsistent";

/** The outcome of {@link assembleDescription}; never a throw. */
export type AssembleDescriptionResult =
  | { readonly ok: true; readonly description: OrganizationDescription }
  | {
      readonly ok: false;
      readonly reason: "missing";
      /** Indexes of the pages not received, ascending. */
      readonly missing: readonly number[];
    }
  | {
      readonly ok: false;
      readonly reason: "hash-mismatch";
      /** Positions in `pieces.pages` of the refused pages. */
      readonly refused: readonly number[];
    }
  | { readonly ok: false; readonly reason: "malformed" | "inconsistent" };

function isEmptyRecord(value: unknown): boolean {
  if (value === undefined) return true;
  if (!isRecord(value)) return false;
  for (const _ in value) return false;
  return true;
}

const failed = (reason: "malformed" | "inconsistent"): AssembleDescriptionResult => ({
  ok: false,
  reason,
});

function decodePage(bytes: Uint8Array): DescriptionPage | undefined {
  try {
    return decodeDescriptionPage(bytes);
  } catch {
    // A parse attempt, not a drop: every caller turns `undefined` into a `malformed` result.
    return undefined;
  }
}

/** Decodes and checks the header; returns it with the page index of each hash (hex), or why not. */
function readHeader(
  bytes: unknown,
): { header: DescriptionHeader; index: Map<string, number> } | AssembleDescriptionResult {
  if (!(bytes instanceof Uint8Array)) return failed("malformed");
  const header = decodePage(bytes);
  // `decodeDescriptionPage` checked the count, the hash lengths and that a description is present.
  if (header?.index === undefined || header.description === undefined) return failed("malformed");
  const index = new Map<string, number>();
  for (const [i, hash] of header.index.pageHashes.entries()) {
    const hex = toHex(hash);
    if (index.has(hex)) return failed("malformed");
    index.set(hex, i);
  }
  // Rosters belong in roster pages: a header that carries any is not one of ours.
  const description = header.description;
  if (!isEmptyRecord(description.members) || description.banList.length > 0) {
    return failed("inconsistent");
  }
  for (const chat of Object.values(description.chats)) {
    if (!isEmptyRecord(chat.members)) return failed("inconsistent");
  }
  return { header: header as DescriptionHeader, index };
}

/** A roster page may carry only its clock and rosters; everything else belongs to the header. */
function pageCarriesOnlyRosters(page: OrganizationDescription): boolean {
  return (
    page.permissions === undefined &&
    page.identity === undefined &&
    page.adminSettings === undefined &&
    !page.encrypted &&
    page.tags.length === 0 &&
    isEmptyRecord(page.categories)
  );
}

/**
 * Reassembles a paged description from its header page and its roster pages, received in any
 * order.
 *
 * Checks, in order: the header decodes as a `DescriptionPage` with an `index`, without repeated
 * hashes (else `malformed`) and without rosters (else `inconsistent`); every page's hash is listed
 * by the header (else `hash-mismatch` with the refused positions); every listed page is present
 * (else `missing` with the absent indexes — never guessed); every page decodes (else `malformed`);
 * the pages fit the header and each other: roster pages (no `index`) of the header's clock at the
 * index the header lists them, only rosters, entries strictly in canonical order across pages (so
 * none is repeated), channel rosters only for the header's channels (else `inconsistent`).
 *
 * The signatures are not checked here: the pieces are payloads of envelopes already opened
 * ({@link openDescriptionPages}). The header's signature covers the page hashes, so the pages are
 * authenticated through it.
 *
 * @param pieces - the header page and the roster pages, as encoded `DescriptionPage`s
 * @returns the whole description (members, ban list and channel rosters restored), or why not;
 *   never throws, whatever the input
 * @example
 * ```ts
 * const result = assembleDescription({ header, pages: received });
 * if (!result.ok && result.reason === "missing") requestPages(result.missing);
 * ```
 */
export function assembleDescription(pieces: DescriptionPieces): AssembleDescriptionResult {
  if (!isRecord(pieces)) return failed("malformed");
  const read = readHeader(pieces.header);
  if (!("index" in read)) return read;
  const { header, index } = read;
  if (!Array.isArray(pieces.pages)) return failed("malformed");

  const pageCount = header.index.pageCount;
  const byIndex: (Uint8Array | undefined)[] = new Array(pageCount).fill(undefined);
  const refused: number[] = [];
  for (const [position, page] of pieces.pages.entries()) {
    if (!(page instanceof Uint8Array)) return failed("malformed");
    const at = index.get(toHex(sha256(page)));
    if (at === undefined) refused.push(position);
    else byIndex[at] = page;
  }
  if (refused.length > 0) return { ok: false, reason: "hash-mismatch", refused };
  const missing: number[] = [];
  for (const [i, page] of byIndex.entries()) if (page === undefined) missing.push(i);
  if (missing.length > 0) return { ok: false, reason: "missing", missing };

  const headerDescription = header.description as OrganizationDescription;
  const clock = header.clock;
  const chatIds = new Set(Object.keys(headerDescription.chats));
  const members: Record<string, OrganizationDescription["members"][string]> = {};
  const banList: string[] = [];
  const rosters = new Map<string, Record<string, OrganizationDescription["members"][string]>>();
  // The canonical order: section (members < bans < channel rosters), channel id, member id.
  let lastSection = -1;
  let lastChat = "";
  let lastId = "";
  const advance = (section: number, chat: string, id: string): boolean => {
    const after =
      section > lastSection ||
      (section === lastSection && (chat > lastChat || (chat === lastChat && id > lastId)));
    lastSection = section;
    lastChat = chat;
    lastId = id;
    return after;
  };

  for (const [pageIndex, bytes] of (byIndex as Uint8Array[]).entries()) {
    const decoded = decodePage(bytes);
    if (decoded?.description === undefined) return failed("malformed");
    if (decoded.index !== undefined || decoded.pageIndex !== pageIndex || decoded.clock !== clock) {
      return failed("inconsistent");
    }
    const page = decoded.description;
    if (!pageCarriesOnlyRosters(page)) return failed("inconsistent");
    let entries = 0;
    for (const [id, member] of Object.entries(page.members)) {
      if (!advance(0, "", id)) return failed("inconsistent");
      members[id] = member;
      entries++;
    }
    for (const id of page.banList) {
      if (!advance(1, "", id)) return failed("inconsistent");
      banList.push(id);
      entries++;
    }
    for (const chatId of Object.keys(page.chats).sort(compareIds)) {
      const chat = page.chats[chatId];
      if (
        chat === undefined ||
        !chatIds.has(chatId) ||
        chat.permissions !== undefined ||
        chat.identity !== undefined ||
        chat.categoryId !== ""
      ) {
        return failed("inconsistent");
      }
      let roster = rosters.get(chatId);
      if (roster === undefined) {
        roster = {};
        rosters.set(chatId, roster);
      }
      for (const [id, member] of Object.entries(chat.members)) {
        if (!advance(2, chatId, id)) return failed("inconsistent");
        roster[id] = member;
        entries++;
      }
    }
    if (entries === 0) return failed("inconsistent");
  }

  const chats: OrganizationDescription["chats"] = {};
  for (const [chatId, chat] of Object.entries(headerDescription.chats)) {
    setOwn(chats, chatId, { ...chat, members: rosters.get(chatId) ?? {} });
  }
  return { ok: true, description: { ...headerDescription, members, banList, chats } };
}
