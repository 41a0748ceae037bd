/**
 * `@orgchat/state/description`: the organization description (spec 55's
 * `OrganizationDescription`) of a state, its pages (docs/PROTOCOL.md, "Description pages"), how
 * the owner seals them and how a member opens, checks and assembles them back into a state.
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
  buildDescriptionPages,
  type DescriptionHeader,
  type DescriptionPages,
  type DescriptionPagesInit,
  type DescriptionPieces,
  describeOrganization,
  descriptionPageHash,
  descriptionPageLimits,
  type OpenDescriptionPagesInit,
  type OpenedDescriptionPages,
  type OrganizationDescriptionInit,
  openDescriptionPages,
  type RefusedDescriptionEnvelope,
  type SealDescriptionPagesInit,
  type SealedDescriptionPages,
  sealDescriptionPages,
  stateFromDescription,
} from "../description.js";
