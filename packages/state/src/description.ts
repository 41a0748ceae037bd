/**
 * The organization description at scale (docs/PROTOCOL.md, "Description pages"; issue 5, "The
 * description at scale"): materialise an {@link OrgState} as a spec 55 `OrganizationDescription`,
 * split it into signed pages that each fit a Waku message, reassemble the pages in any order, and
 * read a description back into a base state.
 *
 * Status published one description blob, which reached 2 MB and was dropped by every relay with the
 * default 150 KiB cap. Here a description is a **header page** plus **roster pages**, each an
 * encoded `DescriptionPage` (proto/orgchat/v1/description_page.proto) sealed in its own
 * `SignedEnvelope` of type `description-page`, signed by the organization key and published on the
 * description topic:
 *
 * - the header (`index` set): the description without its rosters (identity, permissions, admin
 *   settings, tags, encrypted, channels without their `members`, categories, clock), with the page
 *   count and the SHA-256 of every roster page's `DescriptionPage` bytes;
 * - the roster pages (`page_index` = position in the header's hashes): each an
 *   `OrganizationDescription` holding only `clock` and a slice of the rosters — the organization's
 *   `members`, then the `ban_list`, then each channel's `members` — in one canonical order
 *   (section, channel id, member id; ids sorted as byte strings), packed greedily up to the page
 *   budget (default 120 KiB, leaving room for the envelope under the 150 KiB cap).
 *
 * Everything that grows with the number of members (members, bans, channel rosters) is paged, so
 * the header stays small whatever the organization's size: a ban list or a channel roster of
 * thousands cannot push the header past its budget. Pages are addressed by their hash, so they
 * reassemble in any order; a missing page is reported by its index, never guessed; a page whose
 * hash the header does not list is refused.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import {
  type DescriptionIndex,
  type DescriptionPage,
  decodeDescriptionPage,
  decodeSignedEnvelope,
  descriptionTopic,
  type EnvelopeSigner,
  type EnvelopeVerifier,
  encodeDescriptionPage,
  encodeOrganizationDescription,
  isChatId,
  isMemberId,
  type OrganizationDescription,
  type OrganizationMember_Roles,
  openEnvelope,
  publicKeyFromMemberId,
  sealEnvelope,
  wireLimits,
} from "@orgchat/wire";
import { Map as ImmutableMap, List } from "immutable";
import type { Identity, MemberId, Permissions, Role } from "./events.js";
import { emptyIdentity } from "./initial-state.js";
import type { Ban, Category, Channel, Member, OrgState } from "./state.js";
import { setOwn, type WireMessageInit } from "./wire/checks.js";
import { identityFromWire, identityToWire } from "./wire/identity.js";
import {
  permissionsFromWire,
  permissionsToWire,
  rolesFromWire,
  rolesToWire,
  unknownAccessFallback,
} from "./wire/permissions.js";

// ---------------------------------------------------------------------------------------------
// Limits and types
// ---------------------------------------------------------------------------------------------

/** Limits of description pages. */
export const descriptionPageLimits = {
  /**
   * Default page budget: 120 KiB per encoded `DescriptionPage`, leaving 30 KiB of the 150 KiB
   * message cap (`wireLimits.maxMessageBytes`) for the signed envelope.
   */
  maxPageBytes: 120 * 1024,
  /** Smallest budget accepted (a page must hold at least one roster entry and its framing). */
  minPageBytes: 1024,
  /**
   * Largest budget accepted: the message cap minus room for the envelope (about 420 bytes with a
   * 256-character topic).
   */
  maxAllowedPageBytes: wireLimits.maxMessageBytes - 1024,
  /**
   * Bytes of a roster page kept for the `DescriptionPage` framing around its description (clock,
   * page index, tag and length prefix: at most 21 bytes).
   */
  pageFramingBytes: 32,
  /** Length of a page hash (SHA-256). */
  hashBytes: 32,
  /** Most roster pages one header may list (`wireLimits.maxDescriptionPages`). */
  maxPages: wireLimits.maxDescriptionPages,
} as const;

/** An `OrganizationDescription` as the `encodeX` functions of `@orgchat/wire` accept it. */
export type OrganizationDescriptionInit = WireMessageInit<"OrganizationDescription">;

/** A decoded header page: a `DescriptionPage` whose `index` is set. */
export type DescriptionHeader = DescriptionPage & { readonly index: DescriptionIndex };

/** The pages of a description, as {@link buildDescriptionPages} makes them. */
export interface DescriptionPages {
  /** The header page: an encoded `DescriptionPage` with `index` (the roster pages' hashes). */
  readonly header: Uint8Array;
  /** The roster pages: encoded `DescriptionPage`s in page order (`pages[i]` has page index `i`). */
  readonly pages: readonly Uint8Array[];
}

/** What {@link assembleDescription} reassembles: a header and the pages received, in any order. */
export interface DescriptionPieces {
  /** The header page's bytes (a signed envelope's payload, exactly as signed). */
  readonly header: Uint8Array;
  /** Roster pages' bytes in any order; duplicates are ignored. */
  readonly pages: readonly Uint8Array[];
}

/** Options of {@link buildDescriptionPages}. */
export interface DescriptionPagesInit {
  /**
   * Largest encoded page (`DescriptionPage` bytes, header included), between
   * `descriptionPageLimits.minPageBytes` and `descriptionPageLimits.maxAllowedPageBytes`.
   * @default descriptionPageLimits.maxPageBytes (120 KiB)
   */
  readonly maxPageBytes?: number;
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

/**
 * The hash the header lists for a roster page: SHA-256 of its encoded `DescriptionPage` bytes,
 * exactly as signed (the envelope's payload).
 *
 * @param page - the encoded page
 * @returns 32 bytes
 * @throws {TypeError} when `page` is not a Uint8Array
 */
export function descriptionPageHash(page: Uint8Array): Uint8Array {
  if (!(page instanceof Uint8Array)) {
    throw new TypeError(`page: expected a Uint8Array, got ${typeof page}`);
  }
  return sha256(page);
}

const hexDigits = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += hexDigits[byte];
  return out;
}

// ---------------------------------------------------------------------------------------------
// State → description
// ---------------------------------------------------------------------------------------------

function sortedKeys<V>(map: ImmutableMap<string, V>): string[] {
  return [...map.keys()].sort(compareIds);
}

/** Ids compare as byte strings; every id here is ASCII, so UTF-16 order is byte order. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type MemberInit = { roles: OrganizationMember_Roles[] };

/** One shared wire roles array per distinct role list (most members have none). */
function roleEncoder(): (roles: List<Role>) => MemberInit {
  const cache = new Map<string, MemberInit>();
  return (roles) => {
    const key = roles.join(",");
    let init = cache.get(key);
    if (init === undefined) {
      init = { roles: rolesToWire(roles) };
      cache.set(key, init);
    }
    return init;
  };
}

function channelHeaderInit(channel: Channel, clock: bigint) {
  return {
    members: {} as Record<string, MemberInit>,
    permissions: permissionsToWire(channel.permissions),
    identity: identityToWire(channel.identity, clock),
    categoryId: channel.categoryId,
  };
}

/** The description fields that are not rosters (the header's content). */
function headerInit(state: OrgState) {
  const chats: Record<string, ReturnType<typeof channelHeaderInit>> = {};
  for (const id of sortedKeys(state.channels)) {
    const channel = state.channels.get(id);
    if (channel !== undefined) setOwn(chats, id, channelHeaderInit(channel, state.clock));
  }
  const categories: Record<string, { categoryId: string; name: string }> = {};
  for (const id of sortedKeys(state.categories)) {
    const category = state.categories.get(id);
    if (category !== undefined) setOwn(categories, id, { categoryId: id, name: category.name });
  }
  return {
    clock: state.clock,
    permissions: permissionsToWire(state.permissions),
    identity: identityToWire(state.identity, state.clock),
    chats,
    categories,
    adminSettings: { pinMessageAllMembersEnabled: state.pinMessageAllMembersEnabled },
    encrypted: state.encrypted,
    tags: [...state.tags],
  };
}

/**
 * The whole description of a state, unpaged: members, ban list and channel rosters included, every
 * map and list in canonical (sorted) order.
 *
 * A large organization's description does not fit in one message: publish
 * {@link buildDescriptionPages} instead. This is for small organizations, tests and tooling.
 *
 * Not carried by a description (so lost by `stateFromDescription`): members' `joinedAt`, bans'
 * clock and `deleteMessages`, requests, invitations, grants, epochs, messages and applied ids.
 * `ChatIdentity.clock` is written as the state's clock (the state does not track when an identity
 * changed).
 *
 * @param state - the organization's state
 * @returns an `OrganizationDescription` init for `encodeOrganizationDescription`
 */
export function describeOrganization(state: OrgState): OrganizationDescriptionInit {
  const encodeRoles = roleEncoder();
  const members: Record<string, MemberInit> = {};
  for (const id of sortedKeys(state.members)) {
    const member = state.members.get(id);
    if (member !== undefined) members[id] = encodeRoles(member.roles);
  }
  const header = headerInit(state);
  for (const [id, chat] of Object.entries(header.chats)) {
    const channel = state.channels.get(id);
    if (channel === undefined) continue;
    const roster: Record<string, MemberInit> = {};
    for (const member of sortedKeys(channel.members)) {
      roster[member] = encodeRoles(channel.members.get(member) ?? List());
    }
    chat.members = roster;
  }
  const description: OrganizationDescriptionInit = {
    ...header,
    members,
    banList: sortedKeys(state.banned),
  };
  return description;
}

// Sizes of protobuf encodings, to pack pages without encoding twice. Every field number here is
// below 16 (one-byte tags), roles are 1-3 (one-byte varints), member ids are 64 ASCII bytes.

function varintBytes(value: number): number {
  let bytes = 1;
  let rest = value;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80);
    bytes++;
  }
  return bytes;
}

function uint64Bytes(value: bigint): number {
  let bytes = 1;
  let rest = value;
  while (rest >= 0x80n) {
    rest >>= 7n;
    bytes++;
  }
  return bytes;
}

/** A length-delimited field: tag, length, body. */
function fieldBytes(bodyBytes: number): number {
  return 1 + varintBytes(bodyBytes) + bodyBytes;
}

/** A `map<string, OrganizationMember>` entry keyed by a member id. */
function memberEntryBytes(roleCount: number): number {
  const value = roleCount === 0 ? 0 : fieldBytes(roleCount);
  return fieldBytes(fieldBytes(64) + fieldBytes(value));
}

/** A `chats` entry holding only a roster of `rosterBytes`. */
function chatEntryBytes(chatId: string, rosterBytes: number): number {
  return fieldBytes(fieldBytes(chatId.length) + fieldBytes(rosterBytes));
}

const banEntryBytes = fieldBytes(64);

function clockBytes(clock: bigint): number {
  return clock === 0n ? 0 : 1 + uint64Bytes(clock);
}

/** Size of the header `DescriptionPage`: clock, index (count and hashes), description. */
function headerPageBytes(descriptionBytes: number, pageCount: number, clock: bigint): number {
  const indexBytes =
    (pageCount === 0 ? 0 : 1 + varintBytes(pageCount)) +
    pageCount * fieldBytes(descriptionPageLimits.hashBytes);
  return clockBytes(clock) + fieldBytes(indexBytes) + fieldBytes(descriptionBytes);
}

interface PageDraft {
  members: Record<string, MemberInit>;
  banList: string[];
  chats: Record<string, { members: Record<string, MemberInit> }>;
}

type OpenChat = { id: string; roster: Record<string, MemberInit>; bytes: number };

/** Packs roster entries, in canonical order, into pages of at most `budget` bytes. */
function pagePacker(clock: bigint, budget: number) {
  const drafts: PageDraft[] = [];
  let draft: PageDraft = { members: {}, banList: [], chats: {} };
  let entries = 0;
  let size = clockBytes(clock);
  // The chat entry being filled: its size depends on its roster's, so it counts once closed.
  let openChat: OpenChat | undefined;

  const closeChat = () => {
    if (openChat !== undefined && openChat.bytes > 0) {
      setOwn(draft.chats, openChat.id, { members: openChat.roster });
      size += chatEntryBytes(openChat.id, openChat.bytes);
    }
    openChat = undefined;
  };
  const flush = () => {
    closeChat();
    if (entries > 0) drafts.push(draft);
    draft = { members: {}, banList: [], chats: {} };
    entries = 0;
    size = clockBytes(clock);
  };
  const room = (bytes: number) => {
    if (entries > 0 && size + bytes > budget) flush();
  };
  return {
    member(id: MemberId, init: MemberInit) {
      const bytes = memberEntryBytes(init.roles.length);
      room(bytes);
      draft.members[id] = init;
      size += bytes;
      entries++;
    },
    ban(id: MemberId) {
      room(banEntryBytes);
      draft.banList.push(id);
      size += banEntryBytes;
      entries++;
    },
    channelMember(chatId: string, id: MemberId, init: MemberInit) {
      const bytes = memberEntryBytes(init.roles.length);
      let chat = openChat;
      if (chat?.id !== chatId) {
        closeChat();
        chat = { id: chatId, roster: {}, bytes: 0 };
      }
      if (entries > 0 && size + chatEntryBytes(chatId, chat.bytes + bytes) > budget) {
        openChat = chat;
        flush();
        chat = { id: chatId, roster: {}, bytes: 0 };
      }
      chat.roster[id] = init;
      chat.bytes += bytes;
      openChat = chat;
      entries++;
    },
    finish(): PageDraft[] {
      flush();
      return drafts;
    },
  };
}

/**
 * Materialises a state as a paged description: a small header page and roster pages, each an
 * encoded `DescriptionPage` of at most `maxPageBytes` (see the module docs for the layout).
 *
 * Deterministic: the same state gives the same bytes (rosters in sorted order, greedy packing).
 *
 * @param state - the organization's state
 * @param init - the page budget
 * @returns the header and the roster pages, in page order, ready for {@link sealDescriptionPages}
 * @throws {RangeError} naming `init.maxPageBytes` when it is out of range; when the header alone
 *   does not fit the budget (identity images too large, or more than
 *   `descriptionPageLimits.maxPages` roster pages); or when the state breaks a wire limit (from
 *   `encodeDescriptionPage`)
 * @example
 * ```ts
 * const { header, pages } = buildDescriptionPages(state);
 * // seal and publish them (sealDescriptionPages); a receiver, in any order:
 * const assembled = assembleDescription({ header, pages: [...pages].reverse() });
 * if (assembled.ok) console.log(stateFromDescription(assembled.description, orgId).members.size);
 * ```
 */
export function buildDescriptionPages(
  state: OrgState,
  init?: DescriptionPagesInit,
): DescriptionPages {
  const maxPageBytes = init?.maxPageBytes ?? descriptionPageLimits.maxPageBytes;
  if (
    !Number.isInteger(maxPageBytes) ||
    maxPageBytes < descriptionPageLimits.minPageBytes ||
    maxPageBytes > descriptionPageLimits.maxAllowedPageBytes
  ) {
    throw new RangeError(
      `init.maxPageBytes: must be an integer from ${descriptionPageLimits.minPageBytes} to ${descriptionPageLimits.maxAllowedPageBytes}, got ${maxPageBytes}`,
    );
  }
  const budget = maxPageBytes - descriptionPageLimits.pageFramingBytes;
  const encodeRoles = roleEncoder();
  const packer = pagePacker(state.clock, budget);
  for (const id of sortedKeys(state.members)) {
    const member = state.members.get(id);
    if (member !== undefined) packer.member(id, encodeRoles(member.roles));
  }
  for (const id of sortedKeys(state.banned)) packer.ban(id);
  for (const chatId of sortedKeys(state.channels)) {
    const roster = state.channels.get(chatId)?.members;
    if (roster === undefined) continue;
    for (const id of sortedKeys(roster)) {
      packer.channelMember(chatId, id, encodeRoles(roster.get(id) ?? List()));
    }
  }
  const drafts = packer.finish();
  const headerContent = headerInit(state);
  const headerDescriptionBytes = encodeOrganizationDescription(headerContent).length;
  const headerSize = headerPageBytes(headerDescriptionBytes, drafts.length, state.clock);
  if (headerSize > maxPageBytes || drafts.length > descriptionPageLimits.maxPages) {
    throw new RangeError(
      `state: the description header needs ${headerSize} bytes for ${drafts.length} roster pages, more than the ${maxPageBytes}-byte page budget or the ${descriptionPageLimits.maxPages}-page limit; shrink the identity images or descriptions, or raise init.maxPageBytes`,
    );
  }
  const pages = drafts.map((draft, pageIndex) => {
    const bytes = encodeDescriptionPage({
      clock: state.clock,
      pageIndex,
      description: { clock: state.clock, ...draft },
    });
    if (bytes.length > maxPageBytes) {
      // The size arithmetic above mirrors protobuf's encoding; reaching this is a bug here.
      throw new Error(
        `description page ${pageIndex} encodes to ${bytes.length} bytes, over its ${maxPageBytes}-byte budget`,
      );
    }
    return bytes;
  });
  const header = encodeDescriptionPage({
    clock: state.clock,
    index: { pageCount: pages.length, pageHashes: pages.map((page) => sha256(page)) },
    description: headerContent,
  });
  if (header.length > maxPageBytes) {
    throw new Error(`description header encodes to ${header.length} bytes, over ${maxPageBytes}`);
  }
  return { header, pages };
}

// ---------------------------------------------------------------------------------------------
// Pages → description
// ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

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

// ---------------------------------------------------------------------------------------------
// Pages ↔ signed envelopes
// ---------------------------------------------------------------------------------------------

/** What {@link sealDescriptionPages} seals. */
export interface SealDescriptionPagesInit {
  /** The pages of {@link buildDescriptionPages}. */
  readonly pages: DescriptionPages;
  /** The organization key as a member id. */
  readonly organizationId: MemberId;
  /** Signs with the organization key (the only key a `description-page` may be signed with). */
  readonly signer: EnvelopeSigner;
}

/** Signed envelopes of a paged description, ready to publish on the description topic. */
export interface SealedDescriptionPages {
  /** The envelope of the header page. */
  readonly header: Uint8Array;
  /** The envelopes of the roster pages, in page order. */
  readonly pages: readonly Uint8Array[];
}

/**
 * Seals every page of a paged description in a `SignedEnvelope` of type `description-page`, for
 * the organization's description topic, at the description's clock.
 *
 * Each envelope's payload is exactly the page's bytes, so the hashes the header lists hold for
 * what receivers open.
 *
 * @param init - the pages, the organization and its key
 * @returns the envelopes (header first, then the roster pages in order)
 * @throws {RangeError} when `init.organizationId` is not a member id, the signer is not the
 *   organization key, or a page is not a valid `DescriptionPage` or is over the message cap (from
 *   `sealEnvelope`)
 * @throws {TypeError} when the signer returns something other than an Ed25519 signature
 * @example
 * ```ts
 * const sealed = await sealDescriptionPages({
 *   pages: buildDescriptionPages(state),
 *   organizationId: state.organizationId,
 *   signer: organizationKey, // { scheme: "ed25519", publicKey, sign }
 * });
 * for (const envelope of [sealed.header, ...sealed.pages]) await publish(topic, envelope);
 * ```
 */
export async function sealDescriptionPages(
  init: SealDescriptionPagesInit,
): Promise<SealedDescriptionPages> {
  if (typeof init.organizationId !== "string" || !isMemberId(init.organizationId)) {
    throw new RangeError("init.organizationId: expected 64 lowercase hex characters (a member id)");
  }
  const organizationKey = publicKeyFromMemberId(init.organizationId);
  const contentTopic = descriptionTopic(organizationKey);
  const seal = async (bytes: Uint8Array, what: string) => {
    let message: DescriptionPage;
    try {
      message = decodeDescriptionPage(bytes);
    } catch (cause) {
      throw new RangeError(`${what}: not a valid DescriptionPage`, { cause });
    }
    const envelope = await sealEnvelope(
      {
        type: "description-page",
        organizationId: organizationKey,
        clock: message.clock,
        contentTopic,
        message,
      },
      init.signer,
    );
    // The header lists hashes of the exact page bytes; a re-encoding that differed (pages not made
    // by buildDescriptionPages, with maps in another order) would make every receiver refuse it.
    if (!bytesEqual(decodeSignedEnvelope(envelope).payload, bytes)) {
      throw new RangeError(
        `${what}: its bytes do not survive decoding and re-encoding; seal pages made by buildDescriptionPages`,
      );
    }
    return envelope;
  };
  const header = await seal(init.pages.header, "init.pages.header");
  const pages: Uint8Array[] = [];
  for (const [i, page] of init.pages.pages.entries()) {
    pages.push(await seal(page, `init.pages.pages[${i}]`));
  }
  return { header, pages };
}

/** What {@link openDescriptionPages} needs to know. */
export interface OpenDescriptionPagesInit {
  /** The organization key as a member id: envelopes must be for it, signed by it. */
  readonly organizationId: MemberId;
  /** Checks Ed25519 signatures (injected: `@orgchat/state` depends on no crypto). */
  readonly verify: EnvelopeVerifier;
}

/** An envelope {@link openDescriptionPages} refused. */
export interface RefusedDescriptionEnvelope {
  /** Position in the envelopes given. */
  readonly position: number;
  /** `name` of the error `openEnvelope` threw (`DecodeError`, `EnvelopeMismatchError`, `InvalidSignatureError`). */
  readonly error: string;
}

/** What {@link openDescriptionPages} found among the envelopes. */
export interface OpenedDescriptionPages {
  /**
   * The newest header page's bytes (highest clock; at an equal clock the lexicographically
   * greater bytes, as for descriptions), or `undefined` when no header opened.
   */
  readonly header: Uint8Array | undefined;
  /** That header decoded (its clock, page count and description without rosters). */
  readonly headerPage: DescriptionHeader | undefined;
  /**
   * The roster pages the header lists (by hash), in the order received: with `header`, what
   * {@link assembleDescription} takes. Empty when no header opened.
   */
  readonly pages: readonly Uint8Array[];
  /**
   * Positions of envelopes that opened but are not part of the chosen description: older headers,
   * and roster pages the header does not list (another description's, or any page when no header
   * opened). Keep the envelopes if the header may come later, and open them again with it.
   */
  readonly unlisted: readonly number[];
  /** Envelopes that did not open, with the error's name. */
  readonly refused: readonly RefusedDescriptionEnvelope[];
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Opens the envelopes received on an organization's description topic (live or from a Store
 * query) and picks out the newest paged description: its header and the roster pages it lists.
 *
 * Every envelope goes through `openEnvelope` with the description topic, the organization id,
 * `accept: ["description-page"]` and the injected verifier, so only pages signed by the
 * organization key for this organization and topic count. Refused envelopes are reported, never
 * thrown.
 *
 * @param envelopes - encoded `SignedEnvelope`s, in any order, duplicates allowed
 * @param init - the organization and the signature verifier
 * @returns the newest header, the pages it lists, and what was left out or refused
 * @throws {RangeError} when `init.organizationId` is not a member id
 * @throws {TypeError} when `envelopes` is not an array of Uint8Arrays (a caller's mistake)
 * @example
 * ```ts
 * const opened = await openDescriptionPages(received, { organizationId, verify });
 * if (opened.header !== undefined) {
 *   const assembled = assembleDescription({ header: opened.header, pages: opened.pages });
 *   if (assembled.ok) state = stateFromDescription(assembled.description, organizationId);
 * }
 * ```
 */
export async function openDescriptionPages(
  envelopes: readonly Uint8Array[],
  init: OpenDescriptionPagesInit,
): Promise<OpenedDescriptionPages> {
  if (typeof init.organizationId !== "string" || !isMemberId(init.organizationId)) {
    throw new RangeError("init.organizationId: expected 64 lowercase hex characters (a member id)");
  }
  if (!Array.isArray(envelopes) || !envelopes.every((e) => e instanceof Uint8Array)) {
    throw new TypeError("envelopes: expected an array of Uint8Arrays");
  }
  const organizationId = publicKeyFromMemberId(init.organizationId);
  const options = {
    contentTopic: descriptionTopic(organizationId),
    organizationId,
    accept: ["description-page" as const],
    verify: init.verify,
  };
  const refused: RefusedDescriptionEnvelope[] = [];
  const headers: { position: number; bytes: Uint8Array; page: DescriptionHeader }[] = [];
  const rosterPages: { position: number; bytes: Uint8Array }[] = [];
  for (const [position, envelope] of envelopes.entries()) {
    try {
      const opened = await openEnvelope(envelope, options);
      if (opened.type !== "description-page") continue; // `accept` rules this out
      if (opened.message.index !== undefined) {
        headers.push({
          position,
          bytes: opened.payload,
          page: opened.message as DescriptionHeader,
        });
      } else {
        rosterPages.push({ position, bytes: opened.payload });
      }
    } catch (error) {
      const name = error instanceof Error ? error.name : "Error";
      refused.push({ position, error: name });
    }
  }

  let newest: (typeof headers)[number] | undefined;
  for (const candidate of headers) {
    if (
      newest === undefined ||
      candidate.page.clock > newest.page.clock ||
      (candidate.page.clock === newest.page.clock &&
        compareBytes(candidate.bytes, newest.bytes) > 0)
    ) {
      newest = candidate;
    }
  }
  const listed = new Set(newest?.page.index.pageHashes.map(toHex));
  const unlisted: number[] = [];
  const pages: Uint8Array[] = [];
  for (const candidate of headers) {
    if (candidate !== newest && !bytesEqual(candidate.bytes, newest?.bytes)) {
      unlisted.push(candidate.position);
    }
  }
  for (const page of rosterPages) {
    if (listed.has(toHex(sha256(page.bytes)))) pages.push(page.bytes);
    else unlisted.push(page.position);
  }
  unlisted.sort((a, b) => a - b);
  return {
    header: newest?.bytes,
    headerPage: newest?.page,
    pages,
    unlisted,
    refused,
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.length === b.length && compareBytes(a, b) === 0;
}

// ---------------------------------------------------------------------------------------------
// Description → state
// ---------------------------------------------------------------------------------------------

const fallbackPermissions: Permissions = Object.freeze({
  access: unknownAccessFallback,
  ensOnly: false,
  private: false,
});

function readPermissions(value: unknown): Permissions {
  const permissions = permissionsFromWire(value, { unknownEnums: "fallback" });
  return permissions.ok ? permissions.value : fallbackPermissions;
}

function readIdentity(value: unknown): Identity {
  const identity = identityFromWire(value);
  return identity.ok ? identity.value : emptyIdentity;
}

/** One shared `List` per distinct wire role list. */
function roleDecoder(): (member: unknown) => List<Role> {
  const cache = new Map<string, List<Role>>();
  return (member) => {
    const wire = isRecord(member) ? member.roles : undefined;
    if (!Array.isArray(wire) || wire.length === 0) return List();
    const read = () => {
      const roles = rolesFromWire(wire, { unknownEnums: "fallback" });
      return List(roles.ok ? roles.value : []);
    };
    // Only lists of numbers are cached: `join` on arbitrary values could throw.
    if (!wire.every((value) => typeof value === "number")) return read();
    const key = wire.join(",");
    let roles = cache.get(key);
    if (roles === undefined) {
      roles = read();
      cache.set(key, roles);
    }
    return roles;
  };
}

function isUint64(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value < 1n << 64n;
}

const utf8 = new TextEncoder();

function fitsBytes(value: string, max: number): boolean {
  return value.length <= max && (value.length * 3 <= max || utf8.encode(value).length <= max);
}

/**
 * The base state of a description: what a newcomer (or a member catching up) starts from before
 * applying later events.
 *
 * Total on remote input: it never throws for any `description` value. Entries that break the rules
 * of docs/PROTOCOL.md (which `decodeOrganizationDescription` already refuses) are skipped; enum
 * values this version does not know take the documented fallbacks (unknown roles dropped, an
 * unknown access mode read as `invitation-only`); absent messages read as proto3 defaults.
 *
 * What the description does not carry is set as follows: members' `joinedAt` and bans' `clock` are
 * the description's clock, bans' `deleteMessages` is false; requests, invitations, grants, epochs,
 * messages and applied ids are empty. The organization key is always a member (added without roles
 * if the description omits it) and never banned; a key both listed and banned is banned only.
 *
 * @param description - a (reassembled) description, e.g. from {@link assembleDescription}
 * @param organizationId - the organization key as a member id
 * @returns a state with `created: true` and the description's clock
 * @throws {RangeError} when `organizationId` is not a member id (a caller's mistake, not remote
 *   input)
 * @example
 * ```ts
 * const assembled = assembleDescription({ header, pages });
 * if (assembled.ok) state = stateFromDescription(assembled.description, orgId);
 * ```
 */
export function stateFromDescription(
  description: OrganizationDescription | OrganizationDescriptionInit,
  organizationId: MemberId,
): OrgState {
  if (typeof organizationId !== "string" || !isMemberId(organizationId)) {
    throw new RangeError(
      "organizationId: expected 64 lowercase hex characters (the organization key as a member id)",
    );
  }
  const d: Record<string, unknown> = isRecord(description) ? description : {};
  const clock = isUint64(d.clock) ? d.clock : 0n;
  const decodeRoles = roleDecoder();

  const banned = ImmutableMap<MemberId, Ban>().withMutations((map) => {
    if (!Array.isArray(d.banList)) return;
    for (const member of d.banList) {
      if (typeof member !== "string" || !isMemberId(member) || member === organizationId) continue;
      map.set(member, { member, clock, deleteMessages: false });
    }
  });

  const members = ImmutableMap<MemberId, Member>().withMutations((map) => {
    if (isRecord(d.members)) {
      for (const [id, member] of Object.entries(d.members)) {
        if (!isMemberId(id) || banned.has(id)) continue;
        map.set(id, { id, roles: decodeRoles(member), joinedAt: clock });
      }
    }
    if (!map.has(organizationId)) {
      map.set(organizationId, { id: organizationId, roles: List(), joinedAt: clock });
    }
  });

  const channels = ImmutableMap<string, Channel>().withMutations((map) => {
    if (!isRecord(d.chats)) return;
    for (const [id, chat] of Object.entries(d.chats)) {
      if (!isChatId(id) || !isRecord(chat)) continue;
      const roster = ImmutableMap<MemberId, List<Role>>().withMutations((rosterMap) => {
        if (!isRecord(chat.members)) return;
        for (const [member, roles] of Object.entries(chat.members)) {
          if (isMemberId(member)) rosterMap.set(member, decodeRoles(roles));
        }
      });
      const categoryId = chat.categoryId;
      map.set(id, {
        id,
        identity: readIdentity(chat.identity),
        permissions: readPermissions(chat.permissions),
        categoryId: typeof categoryId === "string" && isChatId(categoryId) ? categoryId : "",
        members: roster,
      });
    }
  });

  const categories = ImmutableMap<string, Category>().withMutations((map) => {
    if (!isRecord(d.categories)) return;
    for (const [id, category] of Object.entries(d.categories)) {
      if (!isChatId(id) || !isRecord(category)) continue;
      const name = category.name;
      map.set(id, {
        id,
        name: typeof name === "string" && fitsBytes(name, wireLimits.maxNameBytes) ? name : "",
      });
    }
  });

  const tags = Array.isArray(d.tags)
    ? d.tags
        .filter(
          (tag): tag is string => typeof tag === "string" && fitsBytes(tag, wireLimits.maxTagBytes),
        )
        .slice(0, wireLimits.maxTags)
    : [];
  const adminSettings = d.adminSettings;

  return {
    organizationId,
    created: true,
    clock,
    identity: readIdentity(d.identity),
    permissions: readPermissions(d.permissions),
    pinMessageAllMembersEnabled:
      isRecord(adminSettings) && adminSettings.pinMessageAllMembersEnabled === true,
    tags: List(tags),
    encrypted: d.encrypted === true,
    members,
    banned,
    channels,
    categories,
    requests: ImmutableMap(),
    leaveRequests: ImmutableMap(),
    invitations: ImmutableMap(),
    grants: ImmutableMap(),
    epochs: ImmutableMap(),
    messages: ImmutableMap(),
    applied: ImmutableMap(),
  };
}
