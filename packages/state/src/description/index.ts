/**
 * `@orgchat/state/description`: the organization description at scale (docs/PROTOCOL.md,
 * "Description pages"; issue 5, "The description at scale"): materialise an {@link OrgState} as a spec 55 `OrganizationDescription`,
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
 * Between full descriptions the owner publishes **deltas** (`delta.ts`, docs/PROTOCOL.md,
 * "Description deltas"): the changes from the description of a base clock and digest, and the
 * digest of the result, which the receiver checks after applying it.
 *
 * The parts: `describe.ts` (state → description), `build-pages.ts` (page building),
 * `envelopes.ts` (sealing and opening), `assemble.ts` (pages → description), `to-state.ts`
 * (description → state), `pages.ts` (limits and shared types).
 *
 * @example
 * ```ts
 * import { assembleDescription, buildDescriptionPages } from "@orgchat/state/description";
 *
 * const pieces = buildDescriptionPages(log.state); // owner: a header and its pages
 * const assembled = assembleDescription(pieces); // member: checked against the header's hashes
 * if (assembled.ok) console.log(assembled.description.identity?.displayName);
 * ```
 *
 * @packageDocumentation
 */

export {
  type AssembleDescriptionFailure,
  type AssembleDescriptionResult,
  assembleDescription,
  type DescriptionPieces,
} from "./assemble.js";
export { buildDescriptionPages, type DescriptionPagesInit } from "./build-pages.js";
export {
  type ApplyDescriptionDeltaFailure,
  type ApplyDescriptionDeltaResult,
  applyDescriptionDelta,
  type BuiltDescriptionDelta,
  buildDescriptionDelta,
  type DescribedState,
  type DescriptionDeltaInit,
  describedState,
} from "./delta.js";
export { describeOrganization } from "./describe.js";
export {
  type OpenDescriptionPagesInit,
  type OpenedDescriptionPages,
  openDescriptionPages,
  type RefusedDescriptionEnvelope,
  type SealDescriptionPagesInit,
  type SealedDescriptionPages,
  sealDescriptionPages,
} from "./envelopes.js";
export {
  type DescriptionHeader,
  type DescriptionPages,
  descriptionPageHash,
  descriptionPageLimits,
  type OrganizationDescriptionInit,
} from "./pages.js";
export { stateFromDescription } from "./to-state.js";
