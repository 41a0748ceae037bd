/**
 * Page building: a state as a small header page and roster pages of at most `maxPageBytes` each,
 * packed greedily in canonical order (docs/PROTOCOL.md, "Description pages").
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { encodeDescriptionPage, encodeOrganizationDescription } from "@orgchat/wire";
import { List } from "immutable";
import type { MemberId } from "../events.js";
import type { OrgState } from "../state.js";
import { setOwn } from "../wire/checks.js";
import { headerInit, type MemberInit, memberEncoder, roleEncoder } from "./describe.js";
import { type DescriptionPages, descriptionPageLimits, sortedKeys } from "./pages.js";

/** Options of {@link buildDescriptionPages}. */
export interface DescriptionPagesInit {
  /**
   * Largest encoded page (`DescriptionPage` bytes, header included), between
   * `descriptionPageLimits.minPageBytes` and `descriptionPageLimits.maxAllowedPageBytes`.
   * @default descriptionPageLimits.maxPageBytes (120 KiB)
   */
  readonly maxPageBytes?: number;
}

// Sizes of protobuf encodings, to pack pages without encoding twice. Every field number here is
// below 16 (one-byte tags) but display_name's (100: two bytes), roles are 1-3 (one-byte varints),
// member ids are 64 ASCII bytes.

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

const utf8 = new TextEncoder();

/** A `map<string, OrganizationMember>` entry keyed by a member id. */
function memberEntryBytes(init: MemberInit): number {
  const roleCount = init.roles.length;
  const name = init.displayName === undefined ? 0 : utf8.encode(init.displayName).length;
  // display_name is field 100: a two-byte tag.
  const value =
    (roleCount === 0 ? 0 : fieldBytes(roleCount)) + (name === 0 ? 0 : 1 + fieldBytes(name));
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
      const bytes = memberEntryBytes(init);
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
      const bytes = memberEntryBytes(init);
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
  const encodeMember = memberEncoder();
  const packer = pagePacker(state.clock, budget);
  for (const id of sortedKeys(state.members)) {
    const member = state.members.get(id);
    if (member !== undefined) packer.member(id, encodeMember(member));
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
