/**
 * What the scale bench measures (`scenario.ts` takes the figures, `bench/scale.ts` prints
 * them): one size's figures and a whole run's.
 *
 * @module
 */
import type { ClientConfig } from "@orgchat/client";

/** The figures at one size. */
export interface SizeFigures {
  /** Members besides the owner when the figures were taken (the size, before the burst). */
  readonly members: number;
  readonly growth: {
    /** Admissions measured (the members added since the previous size). */
    readonly admissions: number;
    readonly admissionsPerSecond: number;
    /** CPU of this whole process (owner, members, network) per admission. */
    readonly cpuMsPerAdmission: number;
    /**
     * The process CPU per admission less what the lean members measured as their own (X3DH and
     * sealing the request, opening the Welcome): the owner and the memory network, the figure
     * that must not grow with N (issue #14 point 1).
     */
    readonly ownerCpuMsPerAdmission: number;
    /** Request → Welcome opened, under `concurrency` requests in flight. */
    readonly latencyP50Ms: number;
    readonly latencyMaxMs: number;
    readonly ownerBytesPublishedPerAdmission: number;
    readonly ownerEnvelopesPerAdmission: number;
    readonly ownerStoreBytesWrittenPerAdmission: number;
    /** The same by store key prefix (`space:prefix`), largest first. */
    readonly ownerStoreBytesWrittenPerAdmissionBy: Readonly<Record<string, number>>;
    readonly ownerEpochsPerAdmission: number;
    /** A lean member's own CPU per admission (X3DH + sealing; opening the Welcome), p50. */
    readonly memberRequestCpuMs: number;
    readonly memberWelcomeCpuMs: number;
    readonly rejected: number;
  };
  readonly burst: {
    readonly requests: number;
    /**
     * The first of the requests published → the last of them opened its Welcome (the goal's span).
     * In this one process the 200 members' own work (their requests before, their Welcomes after)
     * runs in turn with the owner's: see {@link membersCpuMs}.
     */
    readonly allHoldKeysMs: number;
    /**
     * The same from before the members built their requests: the X3DH and sealing of all of them
     * come first here (their awaits interleave), which members on their own machines do at once.
     */
    readonly allHoldKeysFromStartMs: number;
    /** CPU of this whole process over {@link allHoldKeysFromStartMs}. */
    readonly cpuMs: number;
    /** The burst's members' own CPU (requests and Welcomes), in that span, one after the other. */
    readonly membersCpuMs: number;
    /**
     * When each stage ended, from the first request published (ms): the last request published,
     * the owner's last `request:received`, its last `acceptRequest` returned, the first Welcome
     * opened. The add window (`addWindowMs`) opens at the first accept; its flush sends the Welcomes.
     */
    readonly phases: {
      readonly lastRequestSentMs: number;
      readonly ownerReceivedAllMs: number;
      readonly ownerAcceptedAllMs: number;
      readonly firstWelcomeMs: number;
    };
    readonly epochs: number;
    readonly ownerBytesPublished: number;
    readonly rejected: number;
    /** The owner's reasons for the rejections, with their counts. */
    readonly rejections: Readonly<Record<string, number>>;
  };
  readonly newcomer: {
    /** A full client: `discover` (reads what it needs of the topics' history). */
    readonly discoverMs: number;
    /** `requestToJoin` → accepted, epoch entered (keys held). */
    readonly requestToKeysMs: number;
    /** CPU of this whole process in that span. */
    readonly cpuMs: number;
    /**
     * The burst's followers entering the newcomer's epoch, held until its keys were in hand (on
     * devices of their own they do it in parallel, off its path): wall time and process CPU.
     */
    readonly followersCatchUpMs: number;
    readonly followersCatchUpCpuMs: number;
  };
  readonly removal: {
    /** Members re-keyed and measured: the burst's lean members and the newcomer (full client). */
    readonly followers: number;
    /** `removeMember` returned (the owner built and published the KeyUpdate). */
    readonly ownerOperationMs: number;
    /**
     * The removal's cost split (printed so that the next regression shows where it is):
     * `ownerBuildMs` from the call to the owner's first publish (the KeyUpdate, the new epoch, the
     * description and the commit that writes them: the outbox is sent after it), `ownerPublishMs`
     * from there until `removeMember` returned, `membersApplyMs` from there until the last follower
     * re-keyed (in this one process: every follower's work in turn), `membersCpuSumMs` the followers'
     * own CPU summed.
     */
    readonly ownerBuildMs: number;
    readonly ownerPublishMs: number;
    readonly membersApplyMs: number;
    readonly membersCpuSumMs: number;
    /** `removeMember` called → the last follower re-keyed (all in this one process, serially). */
    readonly allRekeyedMs: number;
    /** CPU of this whole process in that span. */
    readonly cpuMs: number;
    /** The newcomer (full client) entered the new epoch. */
    readonly fullClientRekeyedMs: number;
    /**
     * A member's CPU for the KeyUpdate (open its chunks, apply): p50, p95 and max of the followers.
     * Process CPU time over the member's synchronous work, so a garbage collection that falls in it
     * (on the main thread or a helper thread) counts: the max is the noisiest figure.
     */
    readonly memberCpuP50Ms: number;
    readonly memberCpuP95Ms: number;
    readonly memberCpuMaxMs: number;
    /**
     * The same KeyUpdate applied by members alone (`member-alone.ts`): 40 followers' states
     * captured just before they applied it, applied again in a child process holding only them
     * (code warmed first). Process CPU of `applyKeyUpdateEnvelopes`: what a member pays on its
     * own device, and what the goal (≤ 10 ms) reads.
     */
    readonly memberAloneCpuP50Ms: number;
    readonly memberAloneCpuP95Ms: number;
    readonly memberAloneCpuMaxMs: number;
    /** Members measured alone, those whose KeyUpdate applied, and the chunks each verified on average. */
    readonly membersAlone: number;
    readonly membersAloneApplied: number;
    readonly memberAloneVerifiedChunks: number;
    readonly ownerBytesPublished: number;
    readonly ownerEnvelopesPublished: number;
  };
  readonly owner: {
    readonly storeLiveBytes: number;
    readonly storeLiveBytesPerMember: number;
    readonly storeWrittenBytes: number;
    /** SQLite only: the database and its WAL on disk (0 with the memory store). */
    readonly storeFileBytes: number;
    /** The largest live prefixes (`space:key prefix` → bytes). */
    readonly storeLiveTop: Readonly<Record<string, number>>;
    /** Heap released by closing the owner (after GC), and held by it again after the restart. */
    readonly heapReleasedBytes: number;
    readonly heapAfterRestartBytes: number;
    /** `createClient` on the owner's store → its organization loaded, in this process. */
    readonly restartMs: number;
    readonly restartCpuMs: number;
    /**
     * The same restart alone (`owner-alone.ts`: a child process holding only the owner's store):
     * cold (the first in that process; the goal is read on its wall time) and warm.
     */
    readonly aloneRestartColdMs: number;
    readonly aloneRestartColdCpuMs: number;
    readonly aloneRestartWarmMs: readonly number[];
    readonly aloneRestartWarmCpuMs: readonly number[];
  };
  readonly process: {
    /** Everything in this process after the owner's restart (every lean member included). */
    readonly heapUsedBytes: number;
  };
}

/** A whole run. */
export interface ScaleResult {
  readonly clientConfig: Required<ClientConfig>;
  readonly store: "memory" | "sqlite";
  readonly concurrency: number;
  readonly burst: number;
  readonly sizes: readonly SizeFigures[];
  /**
   * Heap per lean member once admitted (not following): measured on `leanSample` (scenario.ts)
   * fresh ones.
   */
  readonly leanMemberBytes: number;
  /** Envelopes the lean crowd could not open (expected 0). */
  readonly unopenable: number;
}
