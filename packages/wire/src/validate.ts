import type {
  ChannelMessage,
  DelegateEvent,
  PairwiseContent,
  ResyncRequest,
} from "./gen/orgchat/v1/client_pb.js";
import type {
  DescriptionDelta,
  DescriptionIndex,
  DescriptionPage,
} from "./gen/orgchat/v1/description_page_pb.js";
import type { SignedEnvelope } from "./gen/orgchat/v1/envelope_pb.js";
import type {
  ChatIdentity,
  Grant,
  IdentityImage,
  OrganizationAdminSettings,
  OrganizationCancelRequestToJoin,
  OrganizationCategory,
  OrganizationChat,
  OrganizationDescription,
  OrganizationInvitation,
  OrganizationMember,
  OrganizationPermissions,
  OrganizationRequestToJoin,
  OrganizationRequestToJoinResponse,
  OrganizationRequestToLeave,
} from "./gen/orgchat/v1/organization_pb.js";
import { isChatId, isMemberId } from "./ids.js";
import { wireLimits } from "./limits.js";
import { validateLeafHandover, validateMemberKeys, validateWelcome } from "./validate-crypto.js";
import {
  count,
  exactBytes,
  maxBytes,
  optionalChatId,
  optionalPublicKey,
  type Problem,
  publicKey,
  text,
  type Validator,
} from "./validate-fields.js";

export * from "./validate-crypto.js";
export type { Problem, Validator } from "./validate-fields.js";
export * from "./validate-roster.js";

/**
 * Limits of the orgchat additions to spec 55 (field numbers >= 100, docs/PROTOCOL.md): the id of
 * the request a cancel or response names, and a rejection's reason.
 */
const { maxRequestIdLength, maxRejectionReasonBytes } = wireLimits;
const requestIdPattern = /^[A-Za-z0-9_-]+$/;

/** A request id (an event id): empty (a spec-55 sender), or 1-128 characters [A-Za-z0-9_-]. */
function optionalRequestId(value: string, path: string): Problem | undefined {
  return value === "" || (value.length <= maxRequestIdLength && requestIdPattern.test(value))
    ? undefined
    : {
        path,
        problem: `expected an id of 1-${maxRequestIdLength} characters [A-Za-z0-9_-], or empty`,
      };
}

function key(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

function memberMap(members: Record<string, OrganizationMember>, path: string): Problem | undefined {
  for (const [id, member] of Object.entries(members)) {
    const at = `${path}[${key(id)}]`;
    if (!isMemberId(id)) {
      return { path: at, problem: "member key is not 64 lowercase hex characters (a public key)" };
    }
    const problem = validateOrganizationMember(member, at);
    if (problem) return problem;
  }
  return undefined;
}

export const validateIdentityImage: Validator<IdentityImage> = (image, path) =>
  count(image.encryptionKeys.length, wireLimits.maxEncryptionKeys, `${path}.encryptionKeys`);

export const validateChatIdentity: Validator<ChatIdentity> = (identity, path) => {
  const problem =
    text(identity.ensName, wireLimits.maxEnsNameBytes, `${path}.ensName`) ??
    text(identity.displayName, wireLimits.maxNameBytes, `${path}.displayName`) ??
    text(identity.description, wireLimits.maxDescriptionBytes, `${path}.description`) ??
    count(Object.keys(identity.images).length, wireLimits.maxImages, `${path}.images`);
  if (problem) return problem;
  for (const [name, image] of Object.entries(identity.images)) {
    const at = `${path}.images[${key(name)}]`;
    if (name.length === 0 || name.length > wireLimits.maxImageKeyLength) {
      return {
        path: at,
        problem: `image name must be 1-${wireLimits.maxImageKeyLength} characters`,
      };
    }
    const imageProblem = validateIdentityImage(image, at);
    if (imageProblem) return imageProblem;
  }
  return undefined;
};

export const validateGrant: Validator<Grant> = (grant, path) =>
  publicKey(grant.organizationId, `${path}.organizationId`) ??
  publicKey(grant.memberId, `${path}.memberId`) ??
  optionalChatId(grant.chatId, `${path}.chatId`);

export const validateOrganizationMember: Validator<OrganizationMember> = (member, path) =>
  count(member.roles.length, wireLimits.maxRoles, `${path}.roles`) ??
  text(member.displayName, wireLimits.maxNameBytes, `${path}.displayName`);

export const validateOrganizationPermissions: Validator<OrganizationPermissions> = () => undefined;

export const validateOrganizationAdminSettings: Validator<OrganizationAdminSettings> = () =>
  undefined;

export const validateOrganizationChat: Validator<OrganizationChat> = (chat, path) =>
  memberMap(chat.members, `${path}.members`) ??
  (chat.identity ? validateChatIdentity(chat.identity, `${path}.identity`) : undefined) ??
  optionalChatId(chat.categoryId, `${path}.categoryId`);

export const validateOrganizationCategory: Validator<OrganizationCategory> = (category, path) =>
  optionalChatId(category.categoryId, `${path}.categoryId`) ??
  text(category.name, wireLimits.maxNameBytes, `${path}.name`);

export const validateOrganizationInvitation: Validator<OrganizationInvitation> = (
  invitation,
  path,
) =>
  publicKey(invitation.publicKey, `${path}.publicKey`) ??
  optionalChatId(invitation.chatId, `${path}.chatId`) ??
  optionalPublicKey(invitation.inviteePublicKey, `${path}.inviteePublicKey`);

const validateRequestLike: Validator<
  OrganizationRequestToJoin | OrganizationCancelRequestToJoin
> = (request, path) =>
  publicKey(request.organizationId, `${path}.organizationId`) ??
  text(request.ensName, wireLimits.maxEnsNameBytes, `${path}.ensName`) ??
  text(request.displayName, wireLimits.maxNameBytes, `${path}.displayName`) ??
  optionalChatId(request.chatId, `${path}.chatId`);

export const validateOrganizationRequestToJoin: Validator<OrganizationRequestToJoin> =
  validateRequestLike;

export const validateOrganizationCancelRequestToJoin: Validator<OrganizationCancelRequestToJoin> = (
  cancel,
  path,
) => validateRequestLike(cancel, path) ?? optionalRequestId(cancel.requestId, `${path}.requestId`);

export const validateOrganizationRequestToJoinResponse: Validator<
  OrganizationRequestToJoinResponse
> = (response, path) =>
  publicKey(response.organizationId, `${path}.organizationId`) ??
  optionalRequestId(response.requestId, `${path}.requestId`) ??
  text(response.rejectionReason, maxRejectionReasonBytes, `${path}.rejectionReason`) ??
  (response.organization
    ? validateOrganizationDescription(response.organization, `${path}.organization`)
    : undefined);

export const validateOrganizationRequestToLeave: Validator<OrganizationRequestToLeave> = (
  request,
  path,
) => publicKey(request.organizationId, `${path}.organizationId`);

export const validateOrganizationDescription: Validator<OrganizationDescription> = (
  description,
  path,
) => {
  const problem =
    memberMap(description.members, `${path}.members`) ??
    (description.identity
      ? validateChatIdentity(description.identity, `${path}.identity`)
      : undefined) ??
    count(description.tags.length, wireLimits.maxTags, `${path}.tags`);
  if (problem) return problem;
  for (const [id, chat] of Object.entries(description.chats)) {
    const at = `${path}.chats[${key(id)}]`;
    if (!isChatId(id))
      return { path: at, problem: "chat id must be 1-64 characters [A-Za-z0-9_-]" };
    const chatProblem = validateOrganizationChat(chat, at);
    if (chatProblem) return chatProblem;
  }
  for (const [id, category] of Object.entries(description.categories)) {
    const at = `${path}.categories[${key(id)}]`;
    if (!isChatId(id)) {
      return { path: at, problem: "category id must be 1-64 characters [A-Za-z0-9_-]" };
    }
    if (category.categoryId !== "" && category.categoryId !== id) {
      return { path: `${at}.categoryId`, problem: "differs from the map key it is stored under" };
    }
    const categoryProblem = validateOrganizationCategory(category, at);
    if (categoryProblem) return categoryProblem;
  }
  for (const [index, banned] of description.banList.entries()) {
    if (!isMemberId(banned)) {
      return {
        path: `${path}.banList[${index}]`,
        problem: "not 64 lowercase hex characters (a public key)",
      };
    }
  }
  for (const [index, tag] of description.tags.entries()) {
    const tagProblem = text(tag, wireLimits.maxTagBytes, `${path}.tags[${index}]`);
    if (tagProblem) return tagProblem;
  }
  return undefined;
};

export const validateDescriptionIndex: Validator<DescriptionIndex> = (index, path) => {
  if (index.pageCount > wireLimits.maxDescriptionPages) {
    return {
      path: `${path}.pageCount`,
      problem: `${index.pageCount} pages, more than the limit of ${wireLimits.maxDescriptionPages}`,
    };
  }
  if (index.pageHashes.length !== index.pageCount) {
    return {
      path: `${path}.pageHashes`,
      problem: `${index.pageHashes.length} hashes for a pageCount of ${index.pageCount}`,
    };
  }
  for (const [i, hash] of index.pageHashes.entries()) {
    const problem = exactBytes(
      hash,
      wireLimits.descriptionPageHashBytes,
      `${path}.pageHashes[${i}]`,
    );
    if (problem) return problem;
  }
  return undefined;
};

/**
 * Structural rules of a description page (docs/PROTOCOL.md, "Description pages"): a description is
 * required and carries the page's clock; a header (with `index`) has no `pageIndex`; a roster
 * page's `pageIndex` is below the page limit. Whether the content belongs in a header or a roster
 * page, and whether pages fit together, is judged by `@orgchat/state` when it reassembles them.
 */
export const validateDescriptionPage: Validator<DescriptionPage> = (page, path) => {
  if (page.description === undefined) {
    return { path: `${path}.description`, problem: "required: a page carries a description" };
  }
  if (page.description.clock !== page.clock) {
    return {
      path: `${path}.description.clock`,
      problem: `${page.description.clock} differs from the page clock ${page.clock}`,
    };
  }
  if (page.index !== undefined) {
    if (page.pageIndex !== 0) {
      return {
        path: `${path}.pageIndex`,
        problem: "must be 0 (absent) in a header page (one with an index)",
      };
    }
    const problem = validateDescriptionIndex(page.index, `${path}.index`);
    if (problem) return problem;
  } else if (page.pageIndex >= wireLimits.maxDescriptionPages) {
    return {
      path: `${path}.pageIndex`,
      problem: `must be below the limit of ${wireLimits.maxDescriptionPages} pages`,
    };
  }
  return validateOrganizationDescription(page.description, `${path}.description`);
};

function memberIds(ids: readonly string[], path: string): Problem | undefined {
  for (const [index, id] of ids.entries()) {
    if (!isMemberId(id)) {
      return {
        path: `${path}[${index}]`,
        problem: "not 64 lowercase hex characters (a public key)",
      };
    }
  }
  return undefined;
}

/**
 * Structural rules of a description delta (docs/PROTOCOL.md, "Description deltas"): its clock is
 * above its base's; both digests are 32 bytes; a header, when present, carries the delta's clock
 * and no rosters; every id is a member id (a chat id for channel changes, each channel at most
 * once); at most `wireLimits.maxDescriptionDeltaEntries` entries in all. Whether it applies to a
 * receiver's description, and converges, is judged by `@orgchat/state` when it applies it.
 */
export const validateDescriptionDelta: Validator<DescriptionDelta> = (delta, path) => {
  if (delta.clock <= delta.baseClock) {
    return {
      path: `${path}.clock`,
      problem: `${delta.clock} is not above the base clock ${delta.baseClock}`,
    };
  }
  const digests =
    exactBytes(delta.baseDigest, wireLimits.descriptionPageHashBytes, `${path}.baseDigest`) ??
    exactBytes(delta.digest, wireLimits.descriptionPageHashBytes, `${path}.digest`);
  if (digests) return digests;
  const header = delta.header;
  if (header !== undefined) {
    if (header.clock !== delta.clock) {
      return {
        path: `${path}.header.clock`,
        problem: `${header.clock} differs from the delta clock ${delta.clock}`,
      };
    }
    const rosters =
      Object.keys(header.members).length > 0 ||
      header.banList.length > 0 ||
      Object.values(header.chats).some((chat) => Object.keys(chat.members).length > 0);
    if (rosters) return { path: `${path}.header`, problem: "a delta's header carries no rosters" };
    const problem = validateOrganizationDescription(header, `${path}.header`);
    if (problem) return problem;
  }
  let entries =
    Object.keys(delta.members).length +
    delta.removedMembers.length +
    delta.banned.length +
    delta.unbanned.length;
  const problem =
    memberMap(delta.members, `${path}.members`) ??
    memberIds(delta.removedMembers, `${path}.removedMembers`) ??
    memberIds(delta.banned, `${path}.banned`) ??
    memberIds(delta.unbanned, `${path}.unbanned`);
  if (problem) return problem;
  const chats = new Set<string>();
  for (const [index, chat] of delta.chats.entries()) {
    const at = `${path}.chats[${index}]`;
    if (!isChatId(chat.chatId)) {
      return { path: `${at}.chatId`, problem: "chat id must be 1-64 characters [A-Za-z0-9_-]" };
    }
    if (chats.has(chat.chatId)) return { path: `${at}.chatId`, problem: "repeated channel" };
    chats.add(chat.chatId);
    const chatProblem =
      memberMap(chat.members, `${at}.members`) ?? memberIds(chat.removed, `${at}.removed`);
    if (chatProblem) return chatProblem;
    entries += Object.keys(chat.members).length + chat.removed.length;
  }
  return count(entries, wireLimits.maxDescriptionDeltaEntries, `${path} entries`);
};

/** Structural rules of an envelope; its version and type are judged by `openEnvelope()`. */
export const validateSignedEnvelope: Validator<SignedEnvelope> = (envelope, path) =>
  publicKey(envelope.organizationId, `${path}.organizationId`) ??
  (envelope.contentTopic.length === 0 ||
  envelope.contentTopic.length > wireLimits.maxContentTopicLength
    ? {
        path: `${path}.contentTopic`,
        problem: `must be 1-${wireLimits.maxContentTopicLength} characters`,
      }
    : undefined) ??
  (envelope.signer.length === 0 || envelope.signer.length > 64
    ? { path: `${path}.signer`, problem: "must be a 1-64 byte public key" }
    : undefined) ??
  (envelope.signature.length === 0 || envelope.signature.length > 128
    ? { path: `${path}.signature`, problem: "must be 1-128 bytes" }
    : undefined);
/** A referenced event id (message id): 1-128 characters [A-Za-z0-9_-]. */
function eventId(value: string, path: string): Problem | undefined {
  return value !== "" && value.length <= maxRequestIdLength && requestIdPattern.test(value)
    ? undefined
    : { path, problem: `expected an event id of 1-${maxRequestIdLength} characters [A-Za-z0-9_-]` };
}

export const validateChannelMessage: Validator<ChannelMessage> = (message, path) => {
  const head =
    publicKey(message.organizationId, `${path}.organizationId`) ??
    (isChatId(message.channelId)
      ? undefined
      : {
          path: `${path}.channelId`,
          problem: "expected an id of 1-64 characters [A-Za-z0-9_-]",
        }) ??
    publicKey(message.author, `${path}.author`);
  if (head) return head;
  const body = message.body;
  switch (body.case) {
    case "post":
      return (
        text(body.value.text, wireLimits.maxChannelTextBytes, `${path}.post.text`) ??
        (body.value.replyTo === ""
          ? undefined
          : eventId(body.value.replyTo, `${path}.post.replyTo`))
      );
    case "edit":
      return (
        eventId(body.value.messageId, `${path}.edit.messageId`) ??
        text(body.value.text, wireLimits.maxChannelTextBytes, `${path}.edit.text`)
      );
    case "delete":
      return eventId(body.value.messageId, `${path}.delete.messageId`);
    case "pin":
      return eventId(body.value.messageId, `${path}.pin.messageId`);
    default:
      return { path: `${path}.body`, problem: "missing: expected post, edit, delete or pin" };
  }
};

/**
 * Structural rules of a delegate's decision (docs/DELEGATION.md, "Decisions reach everyone"): two
 * 32-byte keys, an event of 1 to {@link wireLimits}.maxDelegateEventJsonBytes bytes and a request
 * of at most as many. What the JSON says is the receiver's to check (the state's own event checks).
 */
export const validateDelegateEvent: Validator<DelegateEvent> = (message, path) =>
  publicKey(message.organizationId, `${path}.organizationId`) ??
  publicKey(message.author, `${path}.author`) ??
  (message.event.length === 0
    ? { path: `${path}.event`, problem: "missing" }
    : maxBytes(message.event, wireLimits.maxDelegateEventJsonBytes, `${path}.event`)) ??
  maxBytes(message.request, wireLimits.maxDelegateEventJsonBytes, `${path}.request`);

export const validateResyncRequest: Validator<ResyncRequest> = (request, path) =>
  optionalChatId(request.channelId, `${path}.channelId`) ??
  (request.haveKeyId.length === 0
    ? undefined
    : exactBytes(request.haveKeyId, wireLimits.keyIdBytes, `${path}.haveKeyId`)) ??
  (request.wantedKeyId.length === 0
    ? undefined
    : exactBytes(request.wantedKeyId, wireLimits.keyIdBytes, `${path}.wantedKeyId`));

export const validatePairwiseContent: Validator<PairwiseContent> = (content, path) => {
  const c = content.content;
  switch (c.case) {
    case "requestToJoin":
      return validateOrganizationRequestToJoin(c.value, `${path}.requestToJoin`);
    case "cancelRequestToJoin":
      return validateOrganizationCancelRequestToJoin(c.value, `${path}.cancelRequestToJoin`);
    case "requestToLeave":
      return validateOrganizationRequestToLeave(c.value, `${path}.requestToLeave`);
    case "resyncRequest":
      return validateResyncRequest(c.value, `${path}.resyncRequest`);
    case "memberKeys":
      return validateMemberKeys(c.value, `${path}.memberKeys`);
    case "leafHandover":
      return validateLeafHandover(c.value, `${path}.leafHandover`);
    case "requestToJoinResponse":
      return validateOrganizationRequestToJoinResponse(c.value, `${path}.requestToJoinResponse`);
    case "invitation":
      return validateOrganizationInvitation(c.value, `${path}.invitation`);
    case "welcome":
      return validateWelcome(c.value, `${path}.welcome`);
    default:
      return { path: `${path}.content`, problem: "missing: expected one of the pairwise contents" };
  }
};
