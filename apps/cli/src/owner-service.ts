/**
 * The owner's side of `orgchat serve --owner` (docs/CLI.md, "An owner that is always on"): on the
 * owner's open client, answers requests to join by the profile's policies (`owner-policy.ts`) while
 * nobody types, and reports what happens (admissions, epochs, resync answers, errors) as events for
 * the serve process to print. Only the client's public API is used: the client itself runs the add
 * step and the Welcome of open organizations and invitations, the periodic refresh and republishing
 * (its tick, on in a long-running session) and the resync answers (on receipt).
 */
import type { Client } from "@orgchat/client";
import { explain } from "./errors.js";
import {
  type AdmitMode,
  admitModeOf,
  invitationOnlyReason,
  type OwnerPolicy,
} from "./owner-policy.js";

/** What the owner service reports, one event per thing that happened. */
export type OwnerServiceEvent =
  | {
      /** A request to join arrived (or was pending at start), and what the policy does with it. */
      readonly kind: "request";
      readonly organizationId: string;
      readonly requestId: string;
      readonly requester: string;
      readonly displayName: string;
      readonly admit: AdmitMode;
    }
  | {
      /** The policy's decision on a request is committed and sent. */
      readonly kind: "accepted" | "rejected";
      readonly organizationId: string;
      readonly requestId: string;
      readonly requester: string;
      readonly displayName: string;
    }
  | {
      /** A member joined an owned organization (by any path: policy, open, invitation, a human). */
      readonly kind: "joined";
      readonly organizationId: string;
      readonly member: string;
      readonly displayName?: string;
    }
  | {
      /** The owner entered a new epoch of a group (an add step, a re-key, a periodic refresh). */
      readonly kind: "epoch";
      readonly organizationId: string;
      readonly channelId: string;
      readonly epoch: bigint;
    }
  | {
      /** A member asked for the keys again and was answered. */
      readonly kind: "resync";
      readonly organizationId: string;
      readonly channelId: string;
      readonly member: string;
    }
  | {
      /**
       * Another device runs this organization as its owner too (`owner:fork-detected`): this one
       * stopped writing as owner (it reads on) until the user keeps one device.
       */
      readonly kind: "halted";
      readonly organizationId: string;
      /** The other device's id (hex). */
      readonly device: string;
    }
  | {
      /** Something failed; `message` says what to do. */
      readonly kind: "error";
      readonly organizationId?: string;
      readonly message: string;
    };

/** A running owner service. */
export interface OwnerService {
  /** Resolves once every decision taken so far is committed (or failed and was reported). */
  settled(): Promise<void>;
  /** Stops listening; decisions under way finish. Idempotent. */
  stop(): void;
}

/** What {@link startOwnerService} needs. */
export interface OwnerServiceInit {
  /** The owner's open client (its organizations with role `owner` are served). */
  readonly client: Client;
  /** The policies (read at each decision, so a caller may swap them). */
  readonly policy: () => OwnerPolicy;
  /** Receives each event, in order. */
  readonly report: (event: OwnerServiceEvent) => void;
  /** Aborts the decisions under way (the serve process stopping). */
  readonly signal?: AbortSignal;
}

/**
 * Starts answering requests to join every organization `client` owns: those pending now, in the
 * order they were sent, then each as it arrives.
 * @param init - the client, the policies, where events go
 * @returns the service (listening)
 * @example
 * ```ts
 * const service = startOwnerService({
 *   client,
 *   policy: () => ({ admit: "all", admitByOrg: {} }),
 *   report: (event) => console.log(event.kind),
 * });
 * ```
 */
export function startOwnerService(init: OwnerServiceInit): OwnerService {
  const { client, report } = init;
  const seen = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;
  const owned = (organizationId: string): boolean => {
    try {
      return client.getOrganization(organizationId).role === "owner";
    } catch {
      return false;
    }
  };
  const failed = (organizationId: string | undefined, error: unknown) => {
    report({
      kind: "error",
      ...(organizationId === undefined ? {} : { organizationId }),
      message: explain(error).line,
    });
  };
  const answer = (
    organizationId: string,
    request: { requestId: string; requester: string; displayName: string },
  ) => {
    if (stopped || seen.has(request.requestId) || !owned(organizationId)) return;
    seen.add(request.requestId);
    const admit = admitModeOf(init.policy(), organizationId);
    report({ kind: "request", organizationId, ...request, admit });
    if (admit === "none") return;
    // One decision at a time, in arrival order: each is an operation of the client's queue anyway.
    queue = queue.then(async () => {
      if (stopped) return;
      const options = init.signal === undefined ? {} : { signal: init.signal };
      try {
        if (admit === "all") await client.acceptRequest(organizationId, request.requestId, options);
        else {
          await client.rejectRequest(
            organizationId,
            request.requestId,
            invitationOnlyReason,
            options,
          );
        }
        report({
          kind: admit === "all" ? "accepted" : "rejected",
          organizationId,
          ...request,
        });
      } catch (error) {
        // Cancelled, expired or decided by a human in the meantime: said, and nothing else to do.
        failed(organizationId, error);
      }
    });
  };
  const offs = [
    client.on("request:received", ({ organizationId, requestId, requester, displayName }) =>
      answer(organizationId, { requestId, requester, displayName }),
    ),
    client.on("member:joined", ({ organizationId, member }) => {
      if (!owned(organizationId)) return;
      const displayName = client.getOrganization(organizationId).memberNames.get(member);
      report({
        kind: "joined",
        organizationId,
        member,
        ...(displayName === undefined ? {} : { displayName }),
      });
    }),
    client.on("epoch:changed", ({ organizationId, channelId, epoch }) => {
      if (owned(organizationId)) report({ kind: "epoch", organizationId, channelId, epoch });
    }),
    client.on("resync:requested", ({ organizationId, channelId, member }) => {
      if (owned(organizationId)) report({ kind: "resync", organizationId, channelId, member });
    }),
    client.on("owner:fork-detected", ({ organizationId, device }) => {
      report({ kind: "halted", organizationId, device });
    }),
    client.on("error", ({ organizationId, error }) => failed(organizationId, error)),
  ];
  // What waited while no owner process ran, oldest first.
  for (const org of client.listOrganizations()) {
    if (org.role !== "owner") continue;
    const pending = client
      .listRequests(org.id)
      .filter((request) => request.status === "pending")
      .sort((a, b) => a.sentAt - b.sentAt);
    for (const request of pending) {
      answer(org.id, {
        requestId: request.id,
        requester: request.requester,
        displayName: request.displayName,
      });
    }
  }
  return {
    settled: async () => {
      // Decisions queued while waiting are waited for too.
      let seenQueue: Promise<void> | undefined;
      while (seenQueue !== queue) {
        seenQueue = queue;
        await queue;
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const off of offs) off();
    },
  };
}
