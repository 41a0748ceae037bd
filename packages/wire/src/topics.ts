import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "@orgchat/base";
import { assertPublicKey, isChatId } from "./ids.js";
import { wireLimits } from "./limits.js";

/** The `{application}` part of every orgchat content topic. */
export const topicApplication = "orgchat";
/** The `{version}` part of every orgchat content topic (bumped only with an incompatible wire). */
export const topicVersion = "1";
/** The `{encoding}` part of every orgchat content topic. */
export const topicEncoding = "proto";

/**
 * What a content topic carries.
 *
 * - `description`: the owner's signed organization description (and its pages); what a newcomer
 *   listens to after learning the organization key.
 * - `requests`: messages to the owner (request to join, cancel, request to leave).
 * - `channel`: one channel's messages.
 * - `inbox`: messages to one peer (invitations, join responses, grants), keyed by its public key.
 * - `keys`: the owner's KeyUpdates for the organization, or for one restricted channel's own chain.
 */
export type TopicKind = "description" | "requests" | "channel" | "inbox" | "keys";

const kindPrefix: Record<TopicKind, string> = {
  description: "d",
  requests: "r",
  channel: "c",
  inbox: "i",
  keys: "k",
};

const encoder = new TextEncoder();
const domain = encoder.encode("orgchat/v1/topic");

function topicName(kind: TopicKind, key: Uint8Array, channelId: string): string {
  // sha256(domain ‖ 0 ‖ kind ‖ 0 ‖ key(32) ‖ channelId): the key has a fixed length and the kind is
  // zero-terminated, so no two (kind, key, channel) triples hash the same input.
  const kindBytes = encoder.encode(kind);
  const channelBytes = encoder.encode(channelId);
  const input = new Uint8Array(
    domain.length + 1 + kindBytes.length + 1 + key.length + channelBytes.length,
  );
  let offset = 0;
  input.set(domain, offset);
  offset += domain.length + 1;
  input.set(kindBytes, offset);
  offset += kindBytes.length + 1;
  input.set(key, offset);
  offset += key.length;
  input.set(channelBytes, offset);
  const digest = sha256(input).subarray(0, 16);
  return `/${topicApplication}/${topicVersion}/${kindPrefix[kind]}-${toHex(digest)}/${topicEncoding}`;
}

/**
 * The content topic of an organization's description: where the owner publishes it and where
 * anyone who knows the organization key finds it (spec 55, "Organization Creation Flow", step 3).
 *
 * @param organizationId - the organization's 32-byte public key
 * @returns a Waku content topic `/orgchat/1/d-<32 hex>/proto`
 * @throws {RangeError} when `organizationId` is not 32 bytes
 * @example
 * ```ts
 * import { descriptionTopic } from "@orgchat/wire";
 * const topic = descriptionTopic(organizationPublicKey);
 * ```
 */
export function descriptionTopic(organizationId: Uint8Array): string {
  assertPublicKey(organizationId, "organizationId");
  return topicName("description", organizationId, "");
}

/**
 * The content topic of messages to an organization's owner: requests to join, their
 * cancellations and requests to leave.
 *
 * @throws {RangeError} when `organizationId` is not 32 bytes
 */
export function requestsTopic(organizationId: Uint8Array): string {
  assertPublicKey(organizationId, "organizationId");
  return topicName("requests", organizationId, "");
}

/**
 * The content topic of one channel of an organization.
 *
 * @param organizationId - the organization's 32-byte public key
 * @param channelId - the channel's id (a key of `OrganizationDescription.chats`)
 * @throws {RangeError} when `organizationId` is not 32 bytes or `channelId` is not a chat id
 */
export function channelTopic(organizationId: Uint8Array, channelId: string): string {
  assertPublicKey(organizationId, "organizationId");
  if (!isChatId(channelId)) {
    throw new RangeError(
      `channelId: expected 1-${wireLimits.maxIdLength} characters of [A-Za-z0-9_-], got ${JSON.stringify(channelId.slice(0, 80))}`,
    );
  }
  return topicName("channel", organizationId, channelId);
}

/**
 * The content topic of one peer's inbox: where the owner sends it invitations, join responses and
 * grants. It depends only on the peer's key, so a peer can listen before it knows the organization
 * (an invitation is how it learns of one).
 *
 * @param publicKey - the peer's 32-byte identity public key
 * @throws {RangeError} when `publicKey` is not 32 bytes
 */
export function inboxTopic(publicKey: Uint8Array): string {
  assertPublicKey(publicKey, "publicKey");
  return topicName("inbox", publicKey, "");
}

/**
 * The content topic of an organization's KeyUpdates: the organization-wide group's when `channelId`
 * is omitted, or a restricted channel's own key chain.
 *
 * @throws {RangeError} when `organizationId` is not 32 bytes or `channelId` is not a chat id
 */
export function keysTopic(organizationId: Uint8Array, channelId?: string): string {
  assertPublicKey(organizationId, "organizationId");
  if (channelId !== undefined && !isChatId(channelId)) {
    throw new RangeError(
      `channelId: expected 1-${wireLimits.maxIdLength} characters of [A-Za-z0-9_-], got ${JSON.stringify(channelId.slice(0, 80))}`,
    );
  }
  return topicName("keys", organizationId, channelId ?? "");
}

/** The parts of a Waku content topic in the auto-sharding form. */
export interface ContentTopicParts {
  /** The optional leading generation; only `0` is defined by Waku. */
  generation: number | undefined;
  application: string;
  version: string;
  topicName: string;
  encoding: string;
}

/**
 * Parses a content topic of the form `/{application}/{version}/{topic-name}/{encoding}` with an
 * optional leading `/{generation}` (which must be `0`), the form Waku auto-sharding requires
 * (23/WAKU2-TOPICS, 51/WAKU2-RELAY-SHARDING).
 *
 * @param topic - any string (bytes from the network are welcome: nothing throws)
 * @returns the parts, or `undefined` when `topic` is not in that form
 * @example
 * ```ts
 * parseContentTopic("/orgchat/1/desc-ab12/proto")?.topicName; // "desc-ab12"
 * parseContentTopic("orgchat/1/x/proto"); // undefined: no leading slash
 * ```
 */
export function parseContentTopic(topic: string): ContentTopicParts | undefined {
  if (typeof topic !== "string" || topic.length > wireLimits.maxContentTopicLength)
    return undefined;
  if (!topic.startsWith("/")) return undefined;
  const parts = topic.slice(1).split("/");
  let generation: number | undefined;
  if (parts.length === 5) {
    if (parts[0] !== "0") return undefined;
    generation = 0;
    parts.shift();
  }
  if (parts.length !== 4 || parts.some((part) => part.length === 0)) return undefined;
  const [application, version, name, encoding] = parts as [string, string, string, string];
  return { generation, application, version, topicName: name, encoding };
}

/** True when `topic` is a content topic in Waku's auto-sharding form. */
export function isValidContentTopic(topic: string): boolean {
  return parseContentTopic(topic) !== undefined;
}
