import { createHash } from "node:crypto";
import {
  decodeChatIdentity,
  decodeGrant,
  decodeOrganizationCancelRequestToJoin,
  decodeOrganizationInvitation,
  decodeOrganizationPermissions,
  decodeOrganizationRequestToJoin,
  decodeOrganizationRequestToJoinResponse,
  decodeOrganizationRequestToLeave,
  encodeChatIdentity,
  encodeGrant,
  encodeOrganizationCancelRequestToJoin,
  encodeOrganizationInvitation,
  encodeOrganizationPermissions,
  encodeOrganizationRequestToJoin,
  encodeOrganizationRequestToJoinResponse,
  encodeOrganizationRequestToLeave,
  type IdentityImage_SourceType,
  type ImageType,
  OrganizationMember_Roles,
  OrganizationPermissions_Access,
  publicKeyFromMemberId,
} from "@orgchat/wire";
import fc from "fast-check";
import { Map as ImmutableMap } from "immutable";
import { describe, expect, it } from "vitest";
import type { AccessMode, Identity, OrgEventOf, Permissions, Role } from "../src/events.js";
import type { JoinRequest } from "../src/state.js";
import {
  accessFromWire,
  accessToWire,
  cancelRequestToJoinFromWire,
  cancelRequestToJoinToWire,
  grantFromWire,
  grantToWire,
  identityFromWire,
  identityToWire,
  invitationFromWire,
  invitationToWire,
  joinResponseFromWire,
  joinResponseToWire,
  permissionsFromWire,
  permissionsToWire,
  requestToJoinFromWire,
  requestToJoinToWire,
  requestToLeaveFromWire,
  requestToLeaveToWire,
  roleFromWire,
  rolesFromWire,
  rolesToWire,
  roleToWire,
  type WireEventContext,
} from "../src/wire/index.js";

const seed = 0x5eed55;
/** Any value, the unusual ones included (null prototypes, typed arrays, maps, boxed values). */
const anyValue = () =>
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withTypedArray: true,
    withSparseArray: true,
    withDate: true,
  });
const memberId = (label: string) => createHash("sha256").update(label).digest("hex");
const orgId = memberId("organization");
const requester = memberId("requester");
const sentAt = 1_700_000_000_000;

const roles: Role[] = ["all", "manage-users", "moderate-content"];
const accessModes: AccessMode[] = ["no-membership", "invitation-only", "on-request"];

describe("roles and access modes", () => {
  it("map to the spec's enum values and back", () => {
    expect(rolesToWire(roles)).toEqual([
      OrganizationMember_Roles.ROLE_ALL,
      OrganizationMember_Roles.ROLE_MANAGE_USERS,
      OrganizationMember_Roles.ROLE_MODERATE_CONTENT,
    ]);
    for (const role of roles)
      expect(roleFromWire(roleToWire(role))).toEqual({ ok: true, value: role });
    expect(accessModes.map(accessToWire)).toEqual([
      OrganizationPermissions_Access.NO_MEMBERSHIP,
      OrganizationPermissions_Access.INVITATION_ONLY,
      OrganizationPermissions_Access.ON_REQUEST,
    ]);
    for (const access of accessModes) {
      expect(accessFromWire(accessToWire(access))).toEqual({ ok: true, value: access });
    }
  });

  it("refuse unknown values, or take the documented fallbacks when asked", () => {
    for (const value of [0, 4, -1, 99, "1", undefined]) {
      expect(roleFromWire(value)).toMatchObject({ ok: false, reason: "malformed" });
      expect(accessFromWire(value)).toMatchObject({ ok: false, reason: "malformed" });
      expect(accessFromWire(value, { unknownEnums: "fallback" })).toEqual({
        ok: true,
        value: "invitation-only",
      });
    }
    expect(rolesFromWire([1, 0, 7, 3])).toMatchObject({ ok: false, reason: "malformed" });
    expect(rolesFromWire([1, 0, 7, 3], { unknownEnums: "fallback" })).toEqual({
      ok: true,
      value: ["all", "moderate-content"],
    });
    expect(rolesFromWire(new Array(9).fill(1))).toMatchObject({ ok: false, field: "roles" });
  });
});

describe("permissions and identity", () => {
  const permissions = fc.record({
    access: fc.constantFrom(...accessModes),
    ensOnly: fc.boolean(),
    private: fc.boolean(),
  }) satisfies fc.Arbitrary<Permissions>;

  it("round-trip permissions through the wire", () => {
    fc.assert(
      fc.property(permissions, (value) => {
        const bytes = encodeOrganizationPermissions(permissionsToWire(value));
        expect(permissionsFromWire(decodeOrganizationPermissions(bytes))).toEqual({
          ok: true,
          value,
        });
      }),
      { seed, numRuns: 50 },
    );
  });

  const image = fc.record({
    payload: fc.uint8Array({ maxLength: 16 }),
    sourceType: fc.constantFrom("raw-payload", "ens-avatar", "unknown"),
    imageType: fc.constantFrom("png", "jpeg", "webp", "gif", "unknown"),
    encrypted: fc.boolean(),
    encryptionKeys: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 3 }),
  } as const);
  const identity = fc.record({
    displayName: fc.string({ maxLength: 20 }),
    description: fc.string({ maxLength: 40 }),
    ensName: fc.string({ maxLength: 20 }),
    images: fc.dictionary(fc.string({ minLength: 1, maxLength: 32 }), image, { maxKeys: 8 }),
  }) satisfies fc.Arbitrary<Identity>;

  it("round-trip identities (images included) through the wire", () => {
    fc.assert(
      fc.property(identity, (value) => {
        const bytes = encodeChatIdentity(identityToWire(value, 5n));
        const back = identityFromWire(decodeChatIdentity(bytes));
        expect(back).toEqual({ ok: true, value });
      }),
      { seed, numRuns: 200 },
    );
  });

  it("keeps an image named __proto__ as an image", () => {
    const images = {};
    Object.defineProperty(images, "__proto__", {
      value: {
        payload: new Uint8Array([1]),
        sourceType: "raw-payload",
        imageType: "gif",
        encrypted: false,
        encryptionKeys: [],
      },
      enumerable: true,
    });
    const value: Identity = { displayName: "x", description: "", ensName: "", images };
    const back = identityFromWire(
      decodeChatIdentity(encodeChatIdentity(identityToWire(value, 1n))),
    );
    expect(back.ok && Object.keys(back.value.images)).toEqual(["__proto__"]);
  });

  it("read unknown image types as unknown, an absent identity as empty", () => {
    const back = identityFromWire({
      images: { a: { sourceType: 9 as IdentityImage_SourceType, imageType: 42 as ImageType } },
    });
    expect(back.ok && back.value.images.a).toMatchObject({
      sourceType: "unknown",
      imageType: "unknown",
    });
    expect(identityFromWire(undefined)).toEqual({
      ok: true,
      value: { displayName: "", description: "", ensName: "", images: {} },
    });
  });

  it("refuse identities over the protocol limits", () => {
    expect(identityFromWire({ displayName: "é".repeat(129) })).toMatchObject({
      ok: false,
      field: "identity.displayName",
    });
    const images = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`i${i}`, {}]));
    expect(identityFromWire({ images })).toMatchObject({ ok: false, field: "identity.images" });
  });
});

describe("control messages and events", () => {
  const context = (over: Partial<WireEventContext> = {}): WireEventContext => ({
    id: memberId("event"),
    author: requester,
    clock: 10n,
    sentAt,
    ...over,
  });

  const request: JoinRequest = {
    id: memberId("request"),
    requester,
    chatId: "general",
    ensName: "alice.eth",
    displayName: "Alice",
    clock: 10n,
    sentAt,
    status: "pending",
  };
  const state = {
    requests: ImmutableMap<string, JoinRequest>([
      [request.id, request],
      // An older request of the same key and another key's request must not be picked.
      [memberId("older"), { ...request, id: memberId("older"), clock: 2n, status: "rejected" }],
      [
        memberId("other"),
        { ...request, id: memberId("other"), requester: memberId("x"), clock: 11n },
      ],
    ]),
  };

  it("request.sent ↔ OrganizationRequestToJoin", () => {
    const event: OrgEventOf<"request.sent"> = {
      ...context(),
      // The message's own sent_at wins over the context's fallback.
      sentAt: sentAt + 123,
      type: "request.sent",
      body: { chatId: "general", ensName: "alice.eth", displayName: "Alice" },
    };
    const bytes = encodeOrganizationRequestToJoin(requestToJoinToWire(event, orgId));
    const message = decodeOrganizationRequestToJoin(bytes);
    expect(message.organizationId).toEqual(publicKeyFromMemberId(orgId));
    expect(message.sentAt).toBe(BigInt(sentAt + 123));
    expect(requestToJoinFromWire(message, context())).toEqual({ ok: true, value: event });
    expect(requestToJoinFromWire(message, context({ clock: 11n }))).toMatchObject({
      ok: false,
      reason: "malformed",
      field: "clock",
    });
  });

  it("request.cancelled ↔ OrganizationCancelRequestToJoin (request_id, or found by requester and chat)", () => {
    const event: OrgEventOf<"request.cancelled"> = {
      ...context({ clock: 12n }),
      type: "request.cancelled",
      body: { requestId: request.id },
    };
    const bytes = encodeOrganizationCancelRequestToJoin(
      cancelRequestToJoinToWire(event, request, orgId),
    );
    const message = decodeOrganizationCancelRequestToJoin(bytes);
    expect(message).toMatchObject({
      chatId: "general",
      ensName: "alice.eth",
      displayName: "Alice",
      requestId: request.id,
      sentAt: BigInt(sentAt),
    });
    // request_id names the request: no lookup (the reducer judges an unknown one).
    const empty = { requests: ImmutableMap<string, JoinRequest>() };
    expect(cancelRequestToJoinFromWire(message, context({ clock: 12n }), empty)).toEqual({
      ok: true,
      value: event,
    });
    // A plain spec-55 cancel (no request_id, no sent_at): found by requester and chat, sentAt
    // from the context.
    const spec55 = { ...message, requestId: "", sentAt: 0n };
    expect(cancelRequestToJoinFromWire(spec55, context({ clock: 12n, sentAt: 7 }), state)).toEqual({
      ok: true,
      value: { ...event, sentAt: 7 },
    });
    // Before the request's clock, or for another chat, there is nothing to cancel (yet).
    expect(
      cancelRequestToJoinFromWire({ ...spec55, clock: 1n }, context({ clock: 1n }), state),
    ).toEqual({ ok: false, reason: "unknown-target", field: "chatId" });
    expect(
      cancelRequestToJoinFromWire({ ...spec55, chatId: "other" }, context({ clock: 12n }), state),
    ).toMatchObject({ ok: false, reason: "unknown-target" });
    for (const requestId of ["a b", "x".repeat(129), 7]) {
      expect(
        cancelRequestToJoinFromWire(
          { ...message, requestId } as never,
          context({ clock: 12n }),
          state,
        ),
      ).toEqual({ ok: false, reason: "malformed", field: "requestId" });
    }
    expect(() =>
      encodeOrganizationCancelRequestToJoin({ ...message, requestId: "not/an id" }),
    ).toThrow(RangeError);
    expect(() => cancelRequestToJoinToWire(event, { ...request, id: "another" }, orgId)).toThrow(
      RangeError,
    );
  });

  it("request.accepted / request.rejected ↔ OrganizationRequestToJoinResponse", () => {
    const owner = context({ author: orgId, clock: 15n });
    const accepted: OrgEventOf<"request.accepted"> = {
      ...owner,
      type: "request.accepted",
      body: { requestId: request.id },
    };
    const grant = new Uint8Array([1, 2, 3]);
    const bytes = encodeOrganizationRequestToJoinResponse(
      joinResponseToWire(accepted, {
        organizationId: orgId,
        organization: { clock: 15n },
        grant,
      }),
    );
    const message = decodeOrganizationRequestToJoinResponse(bytes);
    expect(message).toMatchObject({
      accepted: true,
      grant,
      organization: { clock: 15n },
      requestId: request.id,
      rejectionReason: "",
    });
    // request_id names the request, whatever the inbox and the state.
    const empty = { requests: ImmutableMap<string, JoinRequest>() };
    expect(joinResponseFromWire(message, owner, empty, memberId("stranger"))).toEqual({
      ok: true,
      value: accepted,
    });

    const rejected: OrgEventOf<"request.rejected"> = {
      ...owner,
      type: "request.rejected",
      body: { requestId: request.id, reason: "spam" },
    };
    const rejection = decodeOrganizationRequestToJoinResponse(
      encodeOrganizationRequestToJoinResponse(
        joinResponseToWire(rejected, { organizationId: orgId }),
      ),
    );
    expect(rejection.rejectionReason).toBe("spam");
    expect(joinResponseFromWire(rejection, owner, state, requester)).toEqual({
      ok: true,
      value: rejected,
    });
    // A plain spec-55 response: the request is the inbox owner's latest, the reason "", and
    // sentAt the context's.
    const spec55 = { ...rejection, requestId: "", rejectionReason: "", sentAt: 0n };
    expect(joinResponseFromWire(spec55, { ...owner, sentAt: 9 }, state, requester)).toEqual({
      ok: true,
      value: { ...rejected, sentAt: 9, body: { requestId: request.id, reason: "" } },
    });
    expect(joinResponseFromWire({ ...message, requestId: "" }, owner, state, requester)).toEqual({
      ok: true,
      value: accepted,
    });
    expect(
      joinResponseFromWire({ ...message, requestId: "" }, owner, state, memberId("stranger")),
    ).toMatchObject({ ok: false, reason: "unknown-target" });
    expect(
      joinResponseFromWire(
        { ...rejection, rejectionReason: "é".repeat(2049) },
        owner,
        state,
        requester,
      ),
    ).toEqual({ ok: false, reason: "malformed", field: "rejectionReason" });
    expect(() =>
      encodeOrganizationRequestToJoinResponse({ ...rejection, rejectionReason: "x".repeat(4097) }),
    ).toThrow(RangeError);
    expect(() =>
      encodeOrganizationRequestToJoinResponse({ ...rejection, requestId: "x".repeat(129) }),
    ).toThrow(RangeError);
  });

  it("leave.requested ↔ OrganizationRequestToLeave", () => {
    const event: OrgEventOf<"leave.requested"> = {
      ...context(),
      type: "leave.requested",
      body: {},
    };
    const message = decodeOrganizationRequestToLeave(
      encodeOrganizationRequestToLeave(requestToLeaveToWire(event, orgId)),
    );
    expect(message.sentAt).toBe(BigInt(sentAt));
    expect(requestToLeaveFromWire(message, context())).toEqual({ ok: true, value: event });
  });

  it("reads sent_at as ms, falls back to the context when 0, refuses it past 2^53 - 1", () => {
    const message = { clock: 10n, organizationId: publicKeyFromMemberId(orgId) };
    const read = (value: unknown) =>
      requestToLeaveFromWire({ ...message, sentAt: value } as never, context({ sentAt: 5 }));
    expect(read(0n)).toMatchObject({ ok: true, value: { sentAt: 5 } });
    expect(read(undefined)).toMatchObject({ ok: true, value: { sentAt: 5 } });
    expect(read(BigInt(Number.MAX_SAFE_INTEGER))).toMatchObject({
      ok: true,
      value: { sentAt: Number.MAX_SAFE_INTEGER },
    });
    for (const bad of [BigInt(Number.MAX_SAFE_INTEGER) + 1n, (1n << 64n) - 1n, -1n, 12]) {
      expect(read(bad)).toEqual({ ok: false, reason: "malformed", field: "sentAt" });
    }
    const event: OrgEventOf<"leave.requested"> = {
      ...context(),
      sentAt: 1.5,
      type: "leave.requested",
      body: {},
    };
    expect(() => requestToLeaveToWire(event, orgId)).toThrow(RangeError);
  });

  it("grant.issued ↔ Grant", () => {
    for (const chatId of ["", "general"]) {
      const event: OrgEventOf<"grant.issued"> = {
        ...context({ author: orgId }),
        type: "grant.issued",
        body: { member: requester, chatId },
      };
      const message = decodeGrant(encodeGrant(grantToWire(event, orgId)));
      expect(grantFromWire(message, context({ author: orgId }))).toEqual({
        ok: true,
        value: event,
      });
    }
  });

  it("invitation.issued ↔ OrganizationInvitation (invitee_public_key, or the inbox owner)", () => {
    const event: OrgEventOf<"invitation.issued"> = {
      ...context({ author: orgId }),
      type: "invitation.issued",
      body: { invitee: requester, chatId: "general" },
    };
    const description = new Uint8Array([4, 5]);
    const message = decodeOrganizationInvitation(
      encodeOrganizationInvitation(
        invitationToWire(event, { organizationId: orgId, organizationDescription: description }),
      ),
    );
    expect(message.organizationDescription).toEqual(description);
    expect(message.inviteePublicKey).toEqual(publicKeyFromMemberId(requester));
    // invitee_public_key wins over the inbox.
    expect(invitationFromWire(message, context({ author: orgId }), memberId("inbox"))).toEqual({
      ok: true,
      value: event,
    });
    // A plain spec-55 invitation: the invitee is the owner of the inbox it arrived on.
    const spec55 = { ...message, inviteePublicKey: new Uint8Array(0), sentAt: 0n };
    expect(invitationFromWire(spec55, context({ author: orgId, sentAt: 3 }), requester)).toEqual({
      ok: true,
      value: { ...event, sentAt: 3 },
    });
    expect(
      invitationFromWire(
        { ...message, inviteePublicKey: new Uint8Array(31) },
        context({ author: orgId }),
        requester,
      ),
    ).toEqual({ ok: false, reason: "malformed", field: "inviteePublicKey" });
    expect(() =>
      encodeOrganizationInvitation({ ...message, inviteePublicKey: new Uint8Array(31) }),
    ).toThrow(RangeError);
  });

  it("refuses a context that is not an envelope's", () => {
    const message = { clock: 10n, organizationId: publicKeyFromMemberId(orgId) };
    for (const bad of [
      { id: "" },
      { author: "0xabc" },
      { clock: -1n },
      { sentAt: Number.NaN },
    ] as Partial<WireEventContext>[]) {
      expect(requestToLeaveFromWire(message, context(bad))).toMatchObject({
        ok: false,
        reason: "malformed",
      });
    }
  });

  it("never throws on any message, context or state value", () => {
    const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const field = fc.oneof(
      anyValue(),
      fc.bigInt({ min: -1n, max: 20n }),
      bytes32,
      fc.constantFrom("", "general", "bad id!", memberId("m")),
    );
    const message = fc.oneof(
      anyValue(),
      fc.record(
        {
          clock: field,
          organizationId: field,
          memberId: field,
          publicKey: field,
          chatId: field,
          ensName: field,
          displayName: field,
          accepted: field,
          grant: field,
          organization: field,
          organizationDescription: field,
          sentAt: fc.oneof(field, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
          requestId: field,
          rejectionReason: field,
          inviteePublicKey: field,
        },
        { requiredKeys: [] },
      ),
    );
    const anyContext = fc.oneof(
      anyValue(),
      fc.record({
        id: fc.oneof(fc.string(), anyValue()),
        author: fc.oneof(fc.constant(requester), anyValue()),
        clock: fc.oneof(fc.bigInt({ min: -1n, max: 20n }), anyValue()),
        sentAt: fc.oneof(fc.double(), anyValue()),
      }),
    );
    const anyState = fc.oneof(fc.constant(state), anyValue());
    const anyMember = fc.oneof(fc.constant(requester), anyValue());
    fc.assert(
      fc.property(message, anyContext, anyState, anyMember, (m, c, s, who) => {
        const results = [
          requestToJoinFromWire(m as never, c as never),
          cancelRequestToJoinFromWire(m as never, c as never, s as never),
          joinResponseFromWire(m as never, c as never, s as never, who as never),
          requestToLeaveFromWire(m as never, c as never),
          grantFromWire(m as never, c as never),
          invitationFromWire(m as never, c as never, who as never),
          identityFromWire(m),
          permissionsFromWire(m),
          rolesFromWire(m),
        ];
        for (const result of results) expect(typeof result.ok).toBe("boolean");
      }),
      { seed, numRuns: 2000 },
    );
  });
});
