/**
 * Identities and identity images ↔ spec 55 `ChatIdentity` and `IdentityImage`.
 *
 * @module
 */

import { IdentityImage_SourceType, ImageType, wireLimits } from "@orgchat/wire";
import type { Identity, IdentityImage } from "../events.js";
import { emptyIdentity } from "../initial-state.js";
import {
  entriesOf,
  isRecord,
  isText,
  malformed,
  ok,
  setOwn,
  type WireMappingResult,
  type WireMessageInit,
} from "./checks.js";

/** The identity of an absent `ChatIdentity` (proto3 defaults): empty texts, no images. */
export { emptyIdentity };

type SourceType = IdentityImage["sourceType"];
type ImageKind = IdentityImage["imageType"];

const sourceTypeWire: Readonly<Record<SourceType, IdentityImage_SourceType>> = {
  unknown: IdentityImage_SourceType.UNKNOWN_SOURCE_TYPE,
  "raw-payload": IdentityImage_SourceType.RAW_PAYLOAD,
  "ens-avatar": IdentityImage_SourceType.ENS_AVATAR,
};

const imageTypeWire: Readonly<Record<ImageKind, ImageType>> = {
  unknown: ImageType.UNKNOWN_IMAGE_TYPE,
  png: ImageType.PNG,
  jpeg: ImageType.JPEG,
  webp: ImageType.WEBP,
  gif: ImageType.GIF,
};

const sourceTypeByWire: ReadonlyMap<unknown, SourceType> = new Map(
  (Object.entries(sourceTypeWire) as [SourceType, number][]).map(([name, wire]) => [wire, name]),
);
const imageTypeByWire: ReadonlyMap<unknown, ImageKind> = new Map(
  (Object.entries(imageTypeWire) as [ImageKind, number][]).map(([name, wire]) => [wire, name]),
);

/** An identity image as an `IdentityImage` init. */
export function imageToWire(image: IdentityImage): WireMessageInit<"IdentityImage"> {
  return {
    payload: image.payload,
    sourceType: sourceTypeWire[image.sourceType],
    imageType: imageTypeWire[image.imageType],
    encryptionKeys: [...image.encryptionKeys],
    encrypted: image.encrypted,
  };
}

/**
 * The identity image of a wire `IdentityImage`. Source and image types this version does not know
 * read as `"unknown"` (the domain keeps no number for them: such a value does not round-trip).
 *
 * @returns the image, or `malformed`; never throws
 */
export function imageFromWire(value: unknown): WireMappingResult<IdentityImage> {
  if (!isRecord(value)) return malformed("image");
  const payload = value.payload ?? new Uint8Array(0);
  const keys = value.encryptionKeys ?? [];
  const encrypted = value.encrypted ?? false;
  const sourceType = value.sourceType ?? 0;
  const imageType = value.imageType ?? 0;
  if (!(payload instanceof Uint8Array)) return malformed("image.payload");
  if (
    !Array.isArray(keys) ||
    keys.length > wireLimits.maxEncryptionKeys ||
    !keys.every((key) => key instanceof Uint8Array)
  ) {
    return malformed("image.encryptionKeys");
  }
  if (typeof encrypted !== "boolean") return malformed("image.encrypted");
  if (typeof sourceType !== "number") return malformed("image.sourceType");
  if (typeof imageType !== "number") return malformed("image.imageType");
  return ok({
    payload,
    sourceType: sourceTypeByWire.get(sourceType) ?? "unknown",
    imageType: imageTypeByWire.get(imageType) ?? "unknown",
    encrypted,
    encryptionKeys: keys as Uint8Array[],
  });
}

/**
 * An identity as a `ChatIdentity` init.
 *
 * @param identity - the identity
 * @param clock - the `ChatIdentity.clock` to write (the domain identity has none; descriptions use
 *   their own clock)
 */
export function identityToWire(identity: Identity, clock: bigint): WireMessageInit<"ChatIdentity"> {
  const images: Record<string, WireMessageInit<"IdentityImage">> = {};
  for (const [name, image] of Object.entries(identity.images)) {
    setOwn(images, name, imageToWire(image));
  }
  return {
    clock,
    ensName: identity.ensName,
    images,
    displayName: identity.displayName,
    description: identity.description,
  };
}

/**
 * The identity of a wire `ChatIdentity` (its clock is dropped: the domain identity has none). An
 * absent message is the empty identity.
 *
 * @returns the identity, or `malformed` (wrong types, texts or image counts over the limits of
 *   docs/PROTOCOL.md); never throws
 */
export function identityFromWire(value: unknown): WireMappingResult<Identity> {
  if (value === undefined) return ok(emptyIdentity);
  if (!isRecord(value)) return malformed("identity");
  const displayName = value.displayName ?? "";
  const description = value.description ?? "";
  const ensName = value.ensName ?? "";
  if (!isText(displayName, wireLimits.maxNameBytes)) return malformed("identity.displayName");
  if (!isText(description, wireLimits.maxDescriptionBytes)) {
    return malformed("identity.description");
  }
  if (!isText(ensName, wireLimits.maxEnsNameBytes)) return malformed("identity.ensName");
  const entries = entriesOf(value.images ?? {});
  if (entries === undefined || entries.length > wireLimits.maxImages) {
    return malformed("identity.images");
  }
  const images: Record<string, IdentityImage> = {};
  for (const [name, wireImage] of entries) {
    if (name.length === 0 || name.length > wireLimits.maxImageKeyLength) {
      return malformed("identity.images");
    }
    const image = imageFromWire(wireImage);
    if (!image.ok) return malformed(`identity.images.${image.field}`);
    setOwn(images, name, image.value);
  }
  return ok({ displayName, description, ensName, images });
}
