/**
 * The typed boundary between `@orgchat/state/wire` and `@orgchat/wire`: every `…ToWire` returns
 * exactly the init type the wire encoder takes, so callers pass it to `encodeX`, `sealEnvelope` or
 * a pairwise content case without a cast.
 *
 * The `expectTypeOf` lines are checked by `tsc --noEmit` (the package's typecheck compiles test/);
 * the runtime tests send each result through the real encoder and read it back.
 */
import { createHash } from "node:crypto";
import {
  decodeGrant,
  decodeOrganizationInvitation,
  decodePairwiseContent,
  type encodeChatIdentity,
  encodeGrant,
  type encodeIdentityImage,
  type encodeOrganizationCancelRequestToJoin,
  encodeOrganizationInvitation,
  type encodeOrganizationPermissions,
  type encodeOrganizationRequestToJoin,
  type encodeOrganizationRequestToJoinResponse,
  type encodeOrganizationRequestToLeave,
  encodePairwiseContent,
  memberIdFromPublicKey,
  openEnvelope,
  requestsTopic,
  type SealEnvelopeInit,
  sealEnvelope,
} from "@orgchat/wire";
import { Map as ImmutableMap } from "immutable";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { OrgEventOf } from "../src/events.js";
import type { JoinRequest } from "../src/state.js";
import {
  cancelRequestToJoinFromWire,
  cancelRequestToJoinToWire,
  grantFromWire,
  grantToWire,
  type identityToWire,
  type imageToWire,
  invitationFromWire,
  invitationToWire,
  joinResponseFromWire,
  joinResponseToWire,
  type permissionsToWire,
  requestToJoinFromWire,
  requestToJoinToWire,
  requestToLeaveFromWire,
  requestToLeaveToWire,
  type WireEventContext,
  type WireMessageInit,
} from "../src/wire/index.js";
import { ed25519Key, verify } from "./ed25519.js";

/** What the client puts in `encodePairwiseContent({ content })` (as client.ts defines it). */
type PairwiseContentInit = NonNullable<Parameters<typeof encodePairwiseContent>[0]["content"]>;
/** The decoded value of one pairwise content case. */
type CaseValue<C extends string> = Extract<
  ReturnType<typeof decodePairwiseContent>["content"],
  { case: C }
>["value"];
type EncoderInput<F extends (message: never) => unknown> = Parameters<F>[0];

describe("…ToWire results are the wire encoder's input type (checked by tsc)", () => {
  it("each returns exactly what its encodeX takes", () => {
    expectTypeOf<ReturnType<typeof requestToJoinToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeOrganizationRequestToJoin>
    >();
    expectTypeOf<ReturnType<typeof cancelRequestToJoinToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeOrganizationCancelRequestToJoin>
    >();
    expectTypeOf<ReturnType<typeof joinResponseToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeOrganizationRequestToJoinResponse>
    >();
    expectTypeOf<ReturnType<typeof requestToLeaveToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeOrganizationRequestToLeave>
    >();
    expectTypeOf<ReturnType<typeof grantToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeGrant>
    >();
    expectTypeOf<ReturnType<typeof invitationToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeOrganizationInvitation>
    >();
    expectTypeOf<ReturnType<typeof permissionsToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeOrganizationPermissions>
    >();
    expectTypeOf<ReturnType<typeof identityToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeChatIdentity>
    >();
    expectTypeOf<ReturnType<typeof imageToWire>>().toEqualTypeOf<
      EncoderInput<typeof encodeIdentityImage>
    >();
    expectTypeOf<WireMessageInit<"Grant">>().toEqualTypeOf<EncoderInput<typeof encodeGrant>>();
  });

  it("each fits sealEnvelope's message for its envelope type", () => {
    expectTypeOf<ReturnType<typeof requestToJoinToWire>>().toExtend<
      SealEnvelopeInit<"organization-request-to-join">["message"]
    >();
    expectTypeOf<ReturnType<typeof cancelRequestToJoinToWire>>().toExtend<
      SealEnvelopeInit<"organization-cancel-request-to-join">["message"]
    >();
    expectTypeOf<ReturnType<typeof joinResponseToWire>>().toExtend<
      SealEnvelopeInit<"organization-request-to-join-response">["message"]
    >();
    expectTypeOf<ReturnType<typeof requestToLeaveToWire>>().toExtend<
      SealEnvelopeInit<"organization-request-to-leave">["message"]
    >();
    expectTypeOf<ReturnType<typeof grantToWire>>().toExtend<SealEnvelopeInit<"grant">["message"]>();
    expectTypeOf<ReturnType<typeof invitationToWire>>().toExtend<
      SealEnvelopeInit<"organization-invitation">["message"]
    >();
  });

  it("decoded messages are what each …FromWire reads", () => {
    expectTypeOf<CaseValue<"requestToJoin">>().toExtend<
      Parameters<typeof requestToJoinFromWire>[0]
    >();
    expectTypeOf<CaseValue<"cancelRequestToJoin">>().toExtend<
      Parameters<typeof cancelRequestToJoinFromWire>[0]
    >();
    expectTypeOf<CaseValue<"requestToJoinResponse">>().toExtend<
      Parameters<typeof joinResponseFromWire>[0]
    >();
    expectTypeOf<CaseValue<"requestToLeave">>().toExtend<
      Parameters<typeof requestToLeaveFromWire>[0]
    >();
    expectTypeOf(decodeGrant).returns.toExtend<Parameters<typeof grantFromWire>[0]>();
    expectTypeOf(decodeOrganizationInvitation).returns.toExtend<
      Parameters<typeof invitationFromWire>[0]
    >();
  });
});

const organizationKey = ed25519Key(0x01);
const requesterKey = ed25519Key(0x02);
const orgId = memberIdFromPublicKey(organizationKey.publicKey);
const requester = memberIdFromPublicKey(requesterKey.publicKey);
const sentAt = 1_700_000_000_000;
const envelopeId = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const base = { id: "e".repeat(64), clock: 7n, sentAt } as const;
const sent: OrgEventOf<"request.sent"> = {
  ...base,
  author: requester,
  type: "request.sent",
  body: { chatId: "general", ensName: "alice.eth", displayName: "Alice" },
};
const request: JoinRequest = {
  id: sent.id,
  requester,
  chatId: "general",
  ensName: "alice.eth",
  displayName: "Alice",
  clock: 7n,
  sentAt,
  status: "pending",
};
const cancelled: OrgEventOf<"request.cancelled"> = {
  ...base,
  clock: 8n,
  author: requester,
  type: "request.cancelled",
  body: { requestId: request.id },
};
const rejected: OrgEventOf<"request.rejected"> = {
  ...base,
  clock: 9n,
  author: orgId,
  type: "request.rejected",
  body: { requestId: request.id, reason: "full" },
};
const left: OrgEventOf<"leave.requested"> = {
  ...base,
  clock: 10n,
  author: requester,
  type: "leave.requested",
  body: {},
};
const context = (event: { clock: bigint; author: string }): WireEventContext => ({
  id: base.id,
  author: event.author,
  clock: event.clock,
  sentAt: 0,
});

describe("…ToWire results go through the wire without a cast", () => {
  it("as pairwise content cases, and back to the same events", () => {
    const contents: PairwiseContentInit[] = [
      { case: "requestToJoin", value: requestToJoinToWire(sent, orgId) },
      { case: "cancelRequestToJoin", value: cancelRequestToJoinToWire(cancelled, request, orgId) },
      {
        case: "requestToJoinResponse",
        value: joinResponseToWire(rejected, { organizationId: orgId }),
      },
      { case: "requestToLeave", value: requestToLeaveToWire(left, orgId) },
    ];
    const state = { requests: ImmutableMap([[request.id, request]]) };
    const back = contents.map((content) => {
      const decoded = decodePairwiseContent(encodePairwiseContent({ content })).content;
      switch (decoded.case) {
        case "requestToJoin":
          return requestToJoinFromWire(decoded.value, context(sent));
        case "cancelRequestToJoin":
          return cancelRequestToJoinFromWire(decoded.value, context(cancelled), state);
        case "requestToJoinResponse":
          return joinResponseFromWire(decoded.value, context(rejected), state, requester);
        case "requestToLeave":
          return requestToLeaveFromWire(decoded.value, context(left));
        default:
          return decoded.case;
      }
    });
    expect(back).toEqual([sent, cancelled, rejected, left].map((value) => ({ ok: true, value })));
  });

  it("as a sealed envelope's message, opened and mapped back", async () => {
    const contentTopic = requestsTopic(organizationKey.publicKey);
    const bytes = await sealEnvelope(
      {
        type: "organization-request-to-join",
        organizationId: organizationKey.publicKey,
        clock: sent.clock,
        contentTopic,
        message: requestToJoinToWire(sent, orgId),
      },
      requesterKey,
    );
    const opened = await openEnvelope(bytes, {
      contentTopic,
      organizationId: organizationKey.publicKey,
      accept: ["organization-request-to-join"],
      verify,
    });
    expect(opened.type).toBe("organization-request-to-join");
    if (opened.type !== "organization-request-to-join") return;
    const id = envelopeId(bytes);
    const mapped = requestToJoinFromWire(opened.message, {
      id,
      author: memberIdFromPublicKey(opened.signer),
      clock: opened.clock,
      sentAt: 0,
    });
    expect(mapped).toEqual({ ok: true, value: { ...sent, id } });
  });

  it("grants and invitations through their encoders", () => {
    const grant: OrgEventOf<"grant.issued"> = {
      ...base,
      author: orgId,
      type: "grant.issued",
      body: { member: requester, chatId: "general" },
    };
    expect(
      grantFromWire(decodeGrant(encodeGrant(grantToWire(grant, orgId))), context(grant)),
    ).toEqual({ ok: true, value: grant });
    const invitation: OrgEventOf<"invitation.issued"> = {
      ...base,
      author: orgId,
      type: "invitation.issued",
      body: { invitee: requester, chatId: "" },
    };
    const message = decodeOrganizationInvitation(
      encodeOrganizationInvitation(invitationToWire(invitation, { organizationId: orgId })),
    );
    expect(invitationFromWire(message, context(invitation), orgId)).toEqual({
      ok: true,
      value: invitation,
    });
  });
});
