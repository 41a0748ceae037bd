/**
 * Sealing and opening: description pages ↔ `SignedEnvelope`s of type `description-page`, signed by
 * the organization key and published on its description topic.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { equalBytes, toHex } from "@orgchat/base";
import {
  type DescriptionPage,
  decodeDescriptionPage,
  decodeSignedEnvelope,
  descriptionTopic,
  type EnvelopeSigner,
  type EnvelopeVerifier,
  isMemberId,
  openEnvelope,
  publicKeyFromMemberId,
  sealEnvelope,
} from "@orgchat/wire";
import type { MemberId } from "../events.js";
import type { DescriptionHeader, DescriptionPages } from "./pages.js";

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
    if (!equalBytes(decodeSignedEnvelope(envelope).payload, bytes)) {
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
    if (candidate !== newest && !equalBytes(candidate.bytes, newest?.bytes)) {
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
