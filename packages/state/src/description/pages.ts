/**
 * What every part of the paged description shares: the page limits, the page types, the page hash
 * and the canonical order of ids.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { type DescriptionIndex, type DescriptionPage, wireLimits } from "@orgchat/wire";
import type { WireMessageInit } from "../wire/checks.js";

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

/** The ids of a map in canonical (byte string) order. */
export function sortedKeys(map: { keys(): Iterable<string> }): string[] {
  return [...map.keys()].sort(compareIds);
}

/** Ids compare as byte strings; every id here is ASCII, so UTF-16 order is byte order. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
