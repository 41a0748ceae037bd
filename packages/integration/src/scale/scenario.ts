import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Client,
  type ClientConfig,
  createClient,
  defaultClientConfig,
  snapshotPolicy,
} from "@orgchat/client";
import { memoryStore, type Store } from "@orgchat/store";
import { openSqliteStore } from "@orgchat/store-sqlite";
import { memoryNetwork, type Transport } from "@orgchat/transport";
import { hex as toHex } from "./bytes.js";
import { collector, processCpuMs } from "./cpu-clock.js";
import { LeanCrowd } from "./crowd.js";
import type { ScaleResult, SizeFigures } from "./figures.js";
import type { LeanMember } from "./lean-member.js";
import {
  type AloneCapture,
  captureMember,
  measureMembersAlone,
  membersAlone,
} from "./member-alone.js";
import { meteredStore, meteredTransport, type PublishMeter, type StoreMeter } from "./meters.js";
import { dumpStore, measureOwnerAlone } from "./owner-alone.js";
import { admitted, until } from "./waits.js";

/** What one run measures (`bench/scale.ts` prints it). */
export interface ScaleOptions {
  /** Member counts (besides the owner) at which every figure is taken, ascending. */
  readonly sizes: readonly number[];
  /** Requests in flight while the organization grows. @default 64 */
  readonly concurrency?: number;
  /** Requests of the burst, all sent at once. @default 200 */
  readonly burst?: number;
  /**
   * The longest any one wait may take (an admission, the burst, a re-key): a safety net that fails
   * the run, never a measured outcome. @default 600_000
   */
  readonly safetyMs?: number;
  /**
   * The owner's store: in memory, or SQLite in a temporary directory (then its files' size is a
   * figure too; the store's default durability). @default "memory"
   */
  readonly store?: "memory" | "sqlite";
  /**
   * Keep the owner dump the restart alone is measured on (`src/scale/owner-alone.ts`) at this path;
   * `{size}` in it is replaced by the size (otherwise a later size's dump replaces an earlier one's).
   * `bench/owner-restart.ts` restarts the owner on it again, with any source tree.
   */
  readonly dumpOwner?: string;
  /** Told each size's figures as soon as they are taken (a later failure does not lose them). */
  readonly onSize?: (figures: SizeFigures) => void;
  /** Told about progress (lines for stderr). */
  readonly progress?: (line: string) => void;
}

/** The `--quick` profile (CI): small enough for a test, every figure still taken. */
export const quickProfile = { sizes: [100, 300], burst: 50 } as const;

/** Default number of requests in flight while growing. */
export const defaultConcurrency = 64;
/** Default burst size (the 200). */
export const defaultBurst = 200;

/** The figures (their types live in figures.ts). */
export type { ScaleResult, SizeFigures } from "./figures.js";

const round = (value: number, digits = 1) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Heap in use, with the array buffers (keys, messages) that `heapUsed` leaves out. */
const heapBytes = () => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

/** How many times each defined value occurs. */
function countBy(values: ReadonlyArray<string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) if (value !== undefined) out[value] = (out[value] ?? 0) + 1;
  return out;
}

const cpuNow = processCpuMs;

/** Lean members made to measure one's memory. */
export const leanSample = 10_000;

/**
 * Heap per lean member as admitted members hold it (keys, status, times; no group, no session):
 * {@link leanSample} fresh members, after a warm-up, between two full collections.
 */
function leanMemberSize(crowd: LeanCrowd, gc: () => void): number {
  for (const warm of Array.from({ length: 100 }, () => crowd.member())) {
    crowd.members.delete(warm.memberId);
  }
  gc();
  const before = heapBytes();
  const probes = Array.from({ length: leanSample }, () => crowd.member());
  for (const probe of probes) {
    probe.status = "welcomed";
    probe.times.requested = probe.times.accepted = probe.times.welcomed = 1;
    probe.times.requestCpuMs = probe.times.welcomeCpuMs = 1;
  }
  gc();
  const bytes = Math.round((heapBytes() - before) / leanSample);
  for (const probe of probes) crowd.members.delete(probe.memberId);
  return bytes;
}

/**
 * The scale scenario (issue #14 point 4): an encrypted organization grown through the real
 * admission path — a full owner client (`createClient`, memory network, memory store) accepting
 * every request as it arrives, lean members asking (`lean-member.ts`) — and, at every size, a burst,
 * a full client's join, a removal and the owner's restart.
 */
export async function runScale(options: ScaleOptions): Promise<ScaleResult> {
  const concurrency = options.concurrency ?? defaultConcurrency;
  const burstSize = options.burst ?? defaultBurst;
  const safetyMs = options.safetyMs ?? 600_000;
  const progress = options.progress ?? (() => {});
  const gc = collector();
  // Production defaults (with whatever add window they set) but rekeyWindowMs: a removal re-keys
  // inside removeMember, so the removal figure is the re-key's cost (see bench/scale.ts).
  const clientConfig: Required<ClientConfig> = { ...defaultClientConfig, rekeyWindowMs: 0 };
  const network = memoryNetwork();
  const published: PublishMeter = { bytes: 0, envelopes: 0 };
  const dir =
    options.store === "sqlite" ? mkdtempSync(join(tmpdir(), "orgchat-scale-")) : undefined;
  const dbPath = dir === undefined ? undefined : join(dir, "owner.db");
  const fileBytes = () => {
    if (dbPath === undefined) return 0;
    let total = 0;
    for (const file of [dbPath, `${dbPath}-wal`]) {
      try {
        total += statSync(file).size;
      } catch {
        // No WAL file (checkpointed): nothing to add.
      }
    }
    return total;
  };
  const inner: Store =
    dbPath === undefined ? memoryStore() : await openSqliteStore({ path: dbPath });
  const metered = meteredStore(inner);
  const ownerStore: Store = metered.store;
  const storeMeter: StoreMeter = metered.meter;
  let ownerTransport: Transport = meteredTransport(network.transport({ name: "owner" }), published);
  let owner: Client = await createClient({
    transport: ownerTransport,
    store: ownerStore,
    config: clientConfig,
  });
  const orgId = await owner.createOrganization({
    name: "Scale",
    access: "on-request",
    encrypted: true,
  });
  let rejectedAccepts = 0;
  /** When the owner received each request, and when each accept returned (cleared per burst). */
  const ownerTimes = { received: [] as number[], accepted: [] as number[] };
  const acceptAll = (client: Client) =>
    client.on("request:received", ({ requestId }) => {
      ownerTimes.received.push(performance.now());
      client.acceptRequest(orgId, requestId).then(
        () => void ownerTimes.accepted.push(performance.now()),
        () => {
          rejectedAccepts++;
        },
      );
    });
  acceptAll(owner);
  const crowd = await LeanCrowd.start({
    transport: network.transport({ name: "crowd" }),
    organizationId: orgId,
  });
  const admittedMembers: LeanMember[] = [];
  let victims = 0;

  /** One admission with its own figures; the member is released once it holds its group. */
  const admitOne = async () => {
    const member = crowd.member();
    await member.requestToJoin();
    await admitted(member, crowd, safetyMs);
    member.release();
    if (member.status === "welcomed") admittedMembers.push(member);
    return member;
  };

  const figures: SizeFigures[] = [];
  let members = 0;
  for (const size of options.sizes) {
    // --- growth ------------------------------------------------------------------------------
    const before = {
      bytes: published.bytes,
      envelopes: published.envelopes,
      written: storeMeter.written,
      writtenBy: new Map(storeMeter.writtenBy),
      epoch: owner.getOrganization(orgId).epoch ?? 0n,
      rejected: rejectedAccepts,
    };
    const count = Math.max(1, size - members);
    const grown: LeanMember[] = [];
    const start = performance.now();
    const startCpu = cpuNow();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        grown.push(await admitOne());
        if (grown.length % 500 === 0) progress(`  ${members + grown.length} members`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    const growMs = performance.now() - start;
    const growCpu = cpuNow() - startCpu;
    members = size;
    const epochAfter = owner.getOrganization(orgId).epoch ?? 0n;
    const welcomed = grown.filter((m) => m.status === "welcomed");
    const latencies = welcomed.map((m) => (m.times.welcomed ?? 0) - (m.times.requested ?? 0));
    const growth = {
      admissions: count,
      admissionsPerSecond: round((count / growMs) * 1000),
      cpuMsPerAdmission: round(growCpu / count, 2),
      ownerCpuMsPerAdmission: round(
        (growCpu -
          grown.reduce(
            (sum, m) => sum + (m.times.requestCpuMs ?? 0) + (m.times.welcomeCpuMs ?? 0),
            0,
          )) /
          count,
        2,
      ),
      latencyP50Ms: round(quantile(latencies, 0.5)),
      latencyMaxMs: round(quantile(latencies, 1)),
      ownerBytesPublishedPerAdmission: Math.round((published.bytes - before.bytes) / count),
      ownerEnvelopesPerAdmission: round((published.envelopes - before.envelopes) / count, 2),
      ownerStoreBytesWrittenPerAdmission: Math.round((storeMeter.written - before.written) / count),
      ownerStoreBytesWrittenPerAdmissionBy: Object.fromEntries(
        [...storeMeter.writtenBy]
          .map(
            ([prefix, bytes]) =>
              [prefix, Math.round((bytes - (before.writtenBy.get(prefix) ?? 0)) / count)] as const,
          )
          .filter(([, bytes]) => bytes > 0)
          .sort((a, b) => b[1] - a[1]),
      ),
      ownerEpochsPerAdmission: round(Number(epochAfter - before.epoch) / count, 3),
      memberRequestCpuMs: round(
        quantile(
          welcomed.map((m) => m.times.requestCpuMs ?? 0),
          0.5,
        ),
        2,
      ),
      memberWelcomeCpuMs: round(
        quantile(
          welcomed.map((m) => m.times.welcomeCpuMs ?? 0),
          0.5,
        ),
        2,
      ),
      rejected: grown.length - welcomed.length,
    };
    progress(`${size} members: ${growth.admissionsPerSecond} admissions/s`);

    // --- burst: `burstSize` requests at once, one epoch expected --------------------------------
    const burstBefore = { bytes: published.bytes, epoch: epochAfter };
    const burst = Array.from({ length: burstSize }, () => crowd.member());
    for (const member of burst) member.keepGroup();
    ownerTimes.received.length = ownerTimes.accepted.length = 0;
    const burstStart = performance.now();
    const burstCpu = cpuNow();
    await Promise.all(burst.map((member) => member.requestToJoin()));
    await Promise.all(burst.map((member) => admitted(member, crowd, safetyMs)));
    const burstEnd = performance.now();
    const burstCpuMs = cpuNow() - burstCpu;
    const burstEpoch = owner.getOrganization(orgId).epoch ?? 0n;
    members += burst.filter((m) => m.status === "welcomed").length;
    const firstSent = Math.min(...burst.map((m) => m.times.requested ?? burstEnd));
    const since = (times: readonly number[], pick: (all: number[]) => number) =>
      round(times.length === 0 ? 0 : pick([...times]) - firstSent);
    const welcomedAt = burst.flatMap((m) =>
      m.times.welcomed === undefined ? [] : [m.times.welcomed],
    );
    const burstFigures = {
      requests: burstSize,
      allHoldKeysMs: round(burstEnd - firstSent),
      allHoldKeysFromStartMs: round(burstEnd - burstStart),
      cpuMs: round(burstCpuMs),
      membersCpuMs: round(
        burst.reduce(
          (sum, m) => sum + (m.times.requestCpuMs ?? 0) + (m.times.welcomeCpuMs ?? 0),
          0,
        ),
      ),
      phases: {
        lastRequestSentMs: since(
          burst.map((m) => m.times.requested ?? firstSent),
          (all) => Math.max(...all),
        ),
        ownerReceivedAllMs: since(ownerTimes.received, (all) => Math.max(...all)),
        ownerAcceptedAllMs: since(ownerTimes.accepted, (all) => Math.max(...all)),
        firstWelcomeMs: since(welcomedAt, (all) => Math.min(...all)),
      },
      epochs: Number(burstEpoch - burstBefore.epoch),
      ownerBytesPublished: published.bytes - burstBefore.bytes,
      rejected: burst.filter((m) => m.status === "rejected").length,
      rejections: countBy(burst.map((m) => m.rejection)),
    };
    progress(`  burst of ${burstSize}: ${burstFigures.allHoldKeysMs} ms`);

    // --- a newcomer's join with a full client ----------------------------------------------------
    const newcomerTransport = network.transport({ name: `newcomer-${size}` });
    const newcomer = await createClient({
      transport: newcomerTransport,
      store: memoryStore(),
      config: clientConfig,
    });
    const discoverStart = performance.now();
    await newcomer.discover(orgId);
    const discoverMs = performance.now() - discoverStart;
    let newcomerEpoch: bigint | undefined;
    const offEpoch = newcomer.on("epoch:changed", ({ epoch, channelId }) => {
      if (channelId === "") newcomerEpoch = epoch;
    });
    // The burst's members follow the epochs for the removal below: on their own devices they
    // enter the newcomer's epoch in parallel, off its path; here they would run in turn inside the
    // timed window (each copies the 10,000-leaf roster into its new epoch). They catch up after it.
    crowd.pauseFollowing();
    const joinStart = performance.now();
    const joinCpu = cpuNow();
    await newcomer.requestToJoin(orgId);
    const ownerEpochNow = () => owner.getOrganization(orgId).epoch ?? 0n;
    await until(
      (check) => newcomer.on("epoch:changed", check),
      () => newcomerEpoch !== undefined && newcomerEpoch >= ownerEpochNow(),
      "the newcomer's keys",
      safetyMs,
    );
    const requestToKeysMs = performance.now() - joinStart;
    const joinCpuMs = cpuNow() - joinCpu;
    const catchUpStart = performance.now();
    const catchUpCpu = cpuNow();
    crowd.resumeFollowing();
    members++;
    progress(
      `  newcomer: discover ${round(discoverMs)} ms, request → keys ${round(requestToKeysMs)} ms`,
    );

    // --- a removal: every follower re-keys ----------------------------------------------------------
    const followers = burst.filter((m) => m.status === "welcomed");
    // The followers caught up on the newcomer's epoch (held while it joined) before the clock starts.
    const epochBeforeCatchUp = ownerEpochNow();
    await Promise.all(
      followers.map((m) =>
        until(
          (check) => m.onChange(check),
          () =>
            m.group === undefined ||
            m.group.status !== "member" ||
            m.group.epoch >= epochBeforeCatchUp,
          "a follower's catch-up on the newcomer's epoch",
          safetyMs,
        ),
      ),
    );
    const followersCatchUpMs = performance.now() - catchUpStart;
    const followersCatchUpCpuMs = cpuNow() - catchUpCpu;
    const victim = admittedMembers[victims++];
    if (victim === undefined) throw new Error("scale bench: no member to remove");
    const removalBefore = { bytes: published.bytes, envelopes: published.envelopes };
    const epochBeforeRemoval = ownerEpochNow();
    const rekeyedAfter = (m: LeanMember) => (m.group?.epoch ?? 0n) > epochBeforeRemoval;
    // The first followers' states, for the measurement of a member alone (`member-alone.ts`):
    // captured before the clock starts (a capture serializes the group).
    const aloneCapture: AloneCapture = { members: [], rosters: new Map() };
    const rosterOf = (keyIdHex: string) =>
      [...crowd.rosters.all()].find((r) => toHex(r.keyId) === keyIdHex)?.roster;
    for (const follower of followers.slice(0, membersAlone)) {
      if (follower.group === undefined) continue;
      aloneCapture.members.push(captureMember(follower.group, rosterOf, aloneCapture.rosters));
    }
    crowd.alone = aloneCapture;
    published.firstAt = undefined;
    const removalStart = performance.now();
    const removalCpu = cpuNow();
    let fullRekeyed = 0;
    const fullDone = until(
      (check) => newcomer.on("epoch:changed", check),
      () => (newcomerEpoch ?? 0n) > epochBeforeRemoval,
      "the newcomer's re-key",
      safetyMs,
    ).then(() => {
      fullRekeyed = performance.now();
    });
    await owner.removeMember(orgId, victim.memberId);
    const ownerReturned = performance.now();
    const ownerOperationMs = ownerReturned - removalStart;
    const firstPublished = published.firstAt ?? ownerReturned;
    const removalBytes = published.bytes - removalBefore.bytes;
    const removalEnvelopes = published.envelopes - removalBefore.envelopes;
    await Promise.all([
      fullDone,
      ...followers.map((m) =>
        until(
          (check) => m.onChange(check),
          () => rekeyedAfter(m),
          "a follower's re-key",
          safetyMs,
        ),
      ),
    ]);
    const removalCpuMs = cpuNow() - removalCpu;
    const lastLean = Math.max(...followers.map((m) => m.times.rekeyed ?? 0));
    const cpu = followers.map((m) => m.times.keyUpdateCpuMs ?? 0);
    members--;
    const alone = crowd.alone;
    crowd.alone = undefined;
    // Every chunk the members received: a member on its own device has them all in hand.
    const aloneChunks =
      alone.keyIdHex === undefined ? [] : (crowd.chunks.get(alone.keyIdHex) ?? []);
    const aloneResult =
      alone.keyIdHex === undefined || alone.members.length === 0
        ? { cpuMs: [], applied: 0, verifiedChunks: 0, statuses: {} }
        : await measureMembersAlone({
            members: alone.members,
            rosters: [...alone.rosters],
            envelopes: aloneChunks.map(({ bytes }) => bytes),
            keyIdHex: alone.keyIdHex,
            now: crowd.now(),
          });
    if (aloneResult.applied !== aloneResult.cpuMs.length) {
      progress(`  members alone: ${JSON.stringify(aloneResult.statuses)}`);
    }
    const measuredAlone = Math.max(1, alone.members.length);
    const removal = {
      followers: followers.length + 1,
      ownerOperationMs: round(ownerOperationMs),
      ownerBuildMs: round(firstPublished - removalStart),
      ownerPublishMs: round(ownerReturned - firstPublished),
      membersApplyMs: round(Math.max(lastLean, fullRekeyed) - ownerReturned),
      membersCpuSumMs: round(cpu.reduce((sum, ms) => sum + ms, 0)),
      allRekeyedMs: round(Math.max(lastLean, fullRekeyed) - removalStart),
      cpuMs: round(removalCpuMs),
      fullClientRekeyedMs: round(fullRekeyed - removalStart),
      memberCpuP50Ms: round(quantile(cpu, 0.5), 2),
      memberCpuP95Ms: round(quantile(cpu, 0.95), 2),
      memberCpuMaxMs: round(quantile(cpu, 1), 2),
      memberAloneCpuP50Ms: round(quantile(aloneResult.cpuMs, 0.5), 2),
      memberAloneCpuP95Ms: round(quantile(aloneResult.cpuMs, 0.95), 2),
      memberAloneCpuMaxMs: round(quantile(aloneResult.cpuMs, 1), 2),
      membersAlone: aloneResult.cpuMs.length,
      membersAloneApplied: aloneResult.applied,
      memberAloneVerifiedChunks: round(aloneResult.verifiedChunks / measuredAlone, 2),
      ownerBytesPublished: removalBytes,
      ownerEnvelopesPublished: removalEnvelopes,
    };
    progress(`  removal: all re-keyed in ${removal.allRekeyedMs} ms`);
    offEpoch();
    await newcomer.close();
    await newcomerTransport.stop();
    // The burst's members stop following: from now on they are members like the others.
    for (const member of burst) crowd.unfollow(member);
    admittedMembers.push(...followers);

    // --- the owner: store, heap, restart -----------------------------------------------------------
    // At rest: a compaction made due by the removal runs once no event came for a while.
    await new Promise((resolve) => setTimeout(resolve, snapshotPolicy.quietMs + 50));
    await owner.idle();
    const live = storeMeter.live();
    const top = Object.fromEntries([...live.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6));
    const storeLiveBytes = storeMeter.liveBytes();
    gc();
    const heapWithOwner = heapBytes();
    // What every restart must load again: the members and the organization-wide group's epoch (a
    // restart that lost the groups still shows the members, from the state snapshot).
    const closed = owner.getOrganization(orgId);
    await owner.close();
    await ownerTransport.stop();
    // Nothing may hold the closed client while the heap it released is measured.
    owner = undefined as unknown as Client;
    gc();
    const heapWithout = heapBytes();
    ownerTransport = meteredTransport(network.transport({ name: `owner-${size}` }), published);
    const restartStart = performance.now();
    const restartCpu = cpuNow();
    owner = await createClient({
      transport: ownerTransport,
      store: ownerStore,
      config: clientConfig,
    });
    const restarted = owner.getOrganization(orgId);
    const restartMs = performance.now() - restartStart;
    const restartCpuMs = cpuNow() - restartCpu;
    acceptAll(owner);
    gc();
    const heapRestarted = heapBytes();
    // Alone: a copy of the store as this restart left it, restarted in a child process.
    const ownerAlone = await measureOwnerAlone(
      await dumpStore(inner, storeMeter.spaces, storeMeter.logs),
      orgId,
      clientConfig,
      options.dumpOwner?.replaceAll("{size}", String(size)),
    );
    for (const [where, members, epoch] of [
      ["in this process", restarted.members.size, restarted.epoch],
      ["alone", ownerAlone.members, ownerAlone.epoch],
    ] as const) {
      if (members !== closed.members.size || epoch === undefined || epoch !== closed.epoch) {
        throw new Error(
          `scale bench: the owner restarted ${where} loaded ${members} members at epoch ${epoch}, not ${closed.members.size} at ${closed.epoch}`,
        );
      }
    }

    const taken: SizeFigures = {
      members: size,
      growth,
      burst: burstFigures,
      newcomer: {
        discoverMs: round(discoverMs),
        requestToKeysMs: round(requestToKeysMs),
        cpuMs: round(joinCpuMs),
        followersCatchUpMs: round(followersCatchUpMs),
        followersCatchUpCpuMs: round(followersCatchUpCpuMs),
      },
      removal,
      owner: {
        storeLiveBytes,
        storeLiveBytesPerMember: Math.round(storeLiveBytes / members),
        storeWrittenBytes: storeMeter.written,
        storeFileBytes: fileBytes(),
        storeLiveTop: top,
        heapReleasedBytes: heapWithOwner - heapWithout,
        heapAfterRestartBytes: heapRestarted - heapWithout,
        restartMs: round(restartMs),
        restartCpuMs: round(restartCpuMs),
        aloneRestartColdMs: ownerAlone.coldMs,
        aloneRestartColdCpuMs: ownerAlone.coldCpuMs,
        aloneRestartWarmMs: ownerAlone.warmMs,
        aloneRestartWarmCpuMs: ownerAlone.warmCpuMs,
      },
      process: { heapUsedBytes: heapRestarted },
    };
    figures.push(taken);
    options.onSize?.(taken);
    progress(
      `  owner: restart ${round(restartMs)} ms (alone: cold ${ownerAlone.coldMs} ms), store ${storeLiveBytes} B live`,
    );
  }
  const leanMemberBytes = leanMemberSize(crowd, gc);
  await owner.close();
  await crowd.close();
  await inner.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  return {
    store: options.store ?? "memory",
    leanMemberBytes,
    clientConfig,
    concurrency,
    burst: burstSize,
    sizes: figures,
    unopenable: crowd.unopenable,
  };
}
