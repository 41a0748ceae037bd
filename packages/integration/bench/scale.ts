/**
 * The scale benchmark (issue #14 point 4): an encrypted organization grown to 1,000, 5,000 and
 * 10,000 members through the real admission path, and what each size costs.
 *
 * `pnpm --filter @orgchat/integration bench:scale [-- --json] [-- --quick] [-- --sizes 1000,5000]
 * [-- --concurrency 64] [-- --burst 200] [-- --sqlite] [-- --dump-owner FILE]`
 *
 * How: one memory network in this process. The owner is a full client (`createClient`, memory store
 * behind a meter, production configuration but `rekeyWindowMs: 0`, so a removal re-keys inside
 * `removeMember`; the add window is the production default). Members are lean (src/scale/): each
 * asks like a client does — X3DH to the owner's prekey bundle, its member keys, the request to
 * join, pairwise on the requests topic — and opens the owner's Welcome into a `MemberGroup`, with
 * `@orgchat/crypto`, `@orgchat/wire` and `@orgchat/state` alone, no store; they share one transport
 * and the epoch rosters (one copy for all). The owner accepts every request as it arrives.
 *
 * At every size:
 * - **growth**: the members since the previous size join with `--concurrency` requests in flight:
 *   admissions/s, request → Welcome opened, owner bytes published and written per admission;
 * - **burst**: `--burst` lean members ask at once: time from the first request sent until all hold
 *   keys (and from before they built their requests), the stages, epochs it took;
 * - **newcomer**: a full client discovers the organization and joins: request → keys held;
 * - **removal**: the owner removes a member; the burst's members (they keep their groups and follow
 *   add steps) and the newcomer re-key: time until all did, each one's CPU for the KeyUpdate;
 * - **owner**: store bytes live and written, heap (released by closing it, held after a restart),
 *   restart time (`createClient` on its store → its organization loaded) in this process, and
 *   alone: in a child process holding only a copy of its store (`src/scale/owner-alone.ts`), cold
 *   (the first restart there) and warm. The restart goal is read on the cold wall time alone.
 *
 * Wall time on a shared machine stretches with its load: every timed span also prints the CPU time
 * this process used in it (owner, lean members and network together), which does not.
 *
 * In-process floors: every party runs on this one thread, so a wait that involves many members is
 * the sum of their CPU, not the wall time of members on their own machines: "all re-keyed" is the
 * owner's operation plus every follower's CPU in turn; a member's own figure is its CPU. Each figure
 * is printed with the issue's goal; the curve shows each figure's ratio between consecutive sizes
 * next to the size ratio (×N): a cost that grows like N shows the size ratio, N² its square.
 *
 * `--sqlite` puts the owner's store in SQLite (a temporary directory; its files' size is printed).
 * `--json` prints one JSON document on one line; `--quick` runs 100 and 300 members with a burst of
 * 50 (CI: the numbers mean little). `--dump-owner FILE` keeps the owner dump the restart alone ran
 * on (`{size}` in FILE is replaced by the size): `bench/owner-restart.ts --dump FILE` restarts the
 * owner on it again, with this tree or another (docs/SCALE.md, "Owner restart").
 */
import { cpus } from "node:os";
import { defaultClientConfig } from "@orgchat/client";
import {
  defaultBurst,
  defaultConcurrency,
  quickProfile,
  runScale,
  type ScaleResult,
  type SizeFigures,
} from "../src/scale/scenario.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const option = (name: string) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const sizes = (option("--sizes") ?? (quick ? quickProfile.sizes.join() : "1000,5000,10000"))
  .split(",")
  .map((size) => Number(size));
if (sizes.some((size) => !Number.isSafeInteger(size) || size < 1)) {
  throw new Error(`--sizes: expected positive integers separated by commas, got ${sizes.join()}`);
}
const concurrency = Number(option("--concurrency") ?? defaultConcurrency);
const burst = Number(option("--burst") ?? (quick ? quickProfile.burst : defaultBurst));
/** `--sqlite`: the owner's store is SQLite (temporary directory), not memory. */
const store = args.includes("--sqlite") ? "sqlite" : "memory";
/** `--safety-ms`: the longest one wait may take before the run fails (a safety net, not a figure). */
const safetyMs = Number(option("--safety-ms") ?? 600_000);
/** `--dump-owner FILE`: keep the owner dump of the restart alone (`{size}` → the size). */
const dumpOwner = option("--dump-owner");

/** The issue's goals, by figure. */
export const goals = {
  admissionsPerSecond: 20,
  ownerBytesPublishedPerAdmission: 2_000,
  ownerStoreBytesWrittenPerAdmission: 4_000,
  burstAllHoldKeysMs: 2_000,
  removalAllRekeyedMs: 2_000,
  removalMemberCpuMs: 10,
  newcomerRequestToKeysMs: 1_000,
  ownerStoreLiveBytesPerMember: 300,
  ownerHeapBytes: 100_000_000,
  ownerRestartMs: 200,
} as const;

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** One size's figures as text lines. */
function sizeLines(f: SizeFigures): string[] {
  const g = f.growth;
  return [
    `— ${f.members} members`,
    `  growth: ${g.admissionsPerSecond} admissions/s (goal ≥ ${goals.admissionsPerSecond}; process CPU ${g.cpuMsPerAdmission} ms/admission, owner and network ${g.ownerCpuMsPerAdmission}); request → Welcome p50 ${g.latencyP50Ms} ms, max ${g.latencyMaxMs} ms; owner published ${g.ownerBytesPublishedPerAdmission} B/admission (goal ≤ ${goals.ownerBytesPublishedPerAdmission}) in ${g.ownerEnvelopesPerAdmission} envelopes, wrote ${g.ownerStoreBytesWrittenPerAdmission} B/admission (goal ≤ ${goals.ownerStoreBytesWrittenPerAdmission}); ${g.ownerEpochsPerAdmission} epochs/admission; member CPU: request ${g.memberRequestCpuMs} ms, Welcome ${g.memberWelcomeCpuMs} ms; rejected ${g.rejected}`,
    `  burst of ${f.burst.requests}: all hold keys ${f.burst.allHoldKeysMs} ms after the first request was sent (goal ≤ ${goals.burstAllHoldKeysMs}; ${f.burst.allHoldKeysFromStartMs} ms from before the members built their requests, process CPU ${f.burst.cpuMs} ms of which the members' own ${f.burst.membersCpuMs} ms); ${f.burst.epochs} epochs; owner published ${kb(f.burst.ownerBytesPublished)}; rejected ${f.burst.rejected}${f.burst.rejected > 0 ? ` (${JSON.stringify(f.burst.rejections)}; "all hold keys" counts the admitted ones)` : ""}`,
    `    burst stages after the first request sent: last sent ${f.burst.phases.lastRequestSentMs} ms, owner received all ${f.burst.phases.ownerReceivedAllMs} ms, accepted all ${f.burst.phases.ownerAcceptedAllMs} ms, first Welcome opened ${f.burst.phases.firstWelcomeMs} ms`,
    `  newcomer (full client): request → keys ${f.newcomer.requestToKeysMs} ms (goal ≤ ${goals.newcomerRequestToKeysMs}; process CPU ${f.newcomer.cpuMs} ms); discover ${f.newcomer.discoverMs} ms; the burst's followers entered its epoch after it, in ${f.newcomer.followersCatchUpMs} ms (CPU ${f.newcomer.followersCatchUpCpuMs} ms: on devices of their own, in parallel)`,
    `  removal: ${f.removal.followers} members re-keyed in ${f.removal.allRekeyedMs} ms (process CPU ${f.removal.cpuMs} ms; goal ≤ ${goals.removalAllRekeyedMs}; floor: in-process, owner ${f.removal.ownerOperationMs} ms + every follower's CPU in turn); split: owner build ${f.removal.ownerBuildMs} ms (call → first publish: KeyUpdate, epoch, description, commit), publish ${f.removal.ownerPublishMs} ms, members' apply ${f.removal.membersApplyMs} ms after (their CPU summed ${f.removal.membersCpuSumMs} ms); full client ${f.removal.fullClientRekeyedMs} ms; member CPU in this process p50 ${f.removal.memberCpuP50Ms} ms, p95 ${f.removal.memberCpuP95Ms} ms, max ${f.removal.memberCpuMaxMs} ms; alone (${f.removal.membersAlone} members in a process of their own, ${f.removal.membersAloneApplied} applied; ${f.removal.memberAloneVerifiedChunks} chunk(s) verified each) p50 ${f.removal.memberAloneCpuP50Ms} ms, p95 ${f.removal.memberAloneCpuP95Ms} ms, max ${f.removal.memberAloneCpuMaxMs} ms (goal ≤ ${goals.removalMemberCpuMs}, read alone); owner published ${kb(f.removal.ownerBytesPublished)} in ${f.removal.ownerEnvelopesPublished} envelopes`,
    `  owner: store ${mb(f.owner.storeLiveBytes)} live (${f.owner.storeLiveBytesPerMember} B/member; goal ≤ ${goals.ownerStoreLiveBytesPerMember} beyond the members' keys), ${mb(f.owner.storeWrittenBytes)} written so far${store === "sqlite" ? `, ${mb(f.owner.storeFileBytes)} on disk (SQLite + WAL)` : ""}; heap ${mb(f.owner.heapReleasedBytes)} released by closing, ${mb(f.owner.heapAfterRestartBytes)} after restart (goal ≤ ${mb(goals.ownerHeapBytes)}); restart in this process ${f.owner.restartMs} ms, CPU ${f.owner.restartCpuMs} ms`,
    `  owner restart alone (a process holding only its store): cold ${f.owner.aloneRestartColdMs} ms, CPU ${f.owner.aloneRestartColdCpuMs} ms (goal ≤ ${goals.ownerRestartMs}, read on this cold wall time); warm ${f.owner.aloneRestartWarmMs.join(", ")} ms, CPU ${f.owner.aloneRestartWarmCpuMs.join(", ")} ms`,
    `  written per admission by prefix: ${Object.entries(g.ownerStoreBytesWrittenPerAdmissionBy)
      .map(([key, bytes]) => `${key} ${bytes} B`)
      .join(", ")}`,
    `  live store by prefix: ${Object.entries(f.owner.storeLiveTop)
      .map(([key, bytes]) => `${key} ${kb(bytes)}`)
      .join(", ")}`,
    `  process heap ${mb(f.process.heapUsedBytes)} (owner, lean members, the memory network's history)`,
  ];
}

if (!json) {
  process.stdout.write(
    `@orgchat/integration scale: encrypted organization through the real admission path (${quick ? "quick" : "full"}, Node ${process.version}, ${cpus().length} cpus)\nowner: full client on a ${store} store, production config but rekeyWindowMs 0 (addWindowMs ${defaultClientConfig.addWindowMs}); members: lean, ${concurrency} requests in flight while growing; burst ${burst}\n`,
  );
}

const result: ScaleResult = await runScale({
  sizes,
  concurrency,
  burst,
  safetyMs,
  store,
  ...(dumpOwner === undefined ? {} : { dumpOwner }),
  // Each size's figures as soon as they are taken: a failure later does not lose them.
  ...(json
    ? {}
    : { onSize: (f: SizeFigures) => void process.stdout.write(`${sizeLines(f).join("\n")}\n`) }),
  ...(json ? {} : { progress: (line: string) => void process.stderr.write(`${line}\n`) }),
});

/** The figures the curve follows, by name. */
const curve: Record<string, (f: SizeFigures) => number> = {
  "admission latency p50 (ms)": (f) => f.growth.latencyP50Ms,
  "s per 1,000 admissions": (f) => 1000 / f.growth.admissionsPerSecond,
  "process CPU / admission": (f) => f.growth.cpuMsPerAdmission,
  "owner and network CPU / admission": (f) => f.growth.ownerCpuMsPerAdmission,
  "owner bytes published / admission": (f) => f.growth.ownerBytesPublishedPerAdmission,
  "owner bytes written / admission": (f) => f.growth.ownerStoreBytesWrittenPerAdmission,
  "burst: all hold keys (ms)": (f) => f.burst.allHoldKeysMs,
  "burst: process CPU (ms)": (f) => f.burst.cpuMs,
  "newcomer request → keys (ms)": (f) => f.newcomer.requestToKeysMs,
  "newcomer discover (ms)": (f) => f.newcomer.discoverMs,
  "removal: owner operation (ms)": (f) => f.removal.ownerOperationMs,
  "removal: owner build (ms)": (f) => f.removal.ownerBuildMs,
  "removal: members' apply (ms)": (f) => f.removal.membersApplyMs,
  "removal: member CPU p50 (ms)": (f) => f.removal.memberCpuP50Ms,
  "removal: member alone CPU p50 (ms)": (f) => f.removal.memberAloneCpuP50Ms,
  "removal: member alone CPU max (ms)": (f) => f.removal.memberAloneCpuMaxMs,
  "owner store live (B)": (f) => f.owner.storeLiveBytes,
  "owner heap after restart (B)": (f) => f.owner.heapAfterRestartBytes,
  "owner restart (ms)": (f) => f.owner.restartMs,
  "owner restart CPU (ms)": (f) => f.owner.restartCpuMs,
  "owner restart alone, cold (ms)": (f) => f.owner.aloneRestartColdMs,
  "owner restart alone, cold CPU (ms)": (f) => f.owner.aloneRestartColdCpuMs,
};

/** For each figure, its ratio between consecutive sizes (null when the earlier one is 0). */
const ratios = result.sizes.slice(1).map((figures, i) => {
  const previous = result.sizes[i] as SizeFigures;
  const out: Record<string, number | null> = {
    sizeRatio: Math.round((figures.members / previous.members) * 100) / 100,
  };
  for (const [name, get] of Object.entries(curve)) {
    const before = get(previous);
    out[name] = before > 0 ? Math.round((get(figures) / before) * 100) / 100 : null;
  }
  return { from: previous.members, to: figures.members, ratios: out };
});

/**
 * CPU per admission against the size, made explicit (issue #14 point 1: it must not grow with N):
 * between consecutive sizes, the ratio and its exponent `log(ratio) / log(size ratio)` — 0 is flat,
 * 1 grows like N.
 */
const cpuCurve = result.sizes.map((figures, i) => {
  const previous = result.sizes[i - 1];
  const exponent = (get: (f: SizeFigures) => number) => {
    if (previous === undefined || get(previous) <= 0 || get(figures) <= 0) return null;
    const sizeRatio = figures.members / previous.members;
    if (sizeRatio === 1) return null;
    return Math.round((Math.log(get(figures) / get(previous)) / Math.log(sizeRatio)) * 100) / 100;
  };
  return {
    members: figures.members,
    processCpuMsPerAdmission: figures.growth.cpuMsPerAdmission,
    ownerCpuMsPerAdmission: figures.growth.ownerCpuMsPerAdmission,
    processExponent: exponent((f) => f.growth.cpuMsPerAdmission),
    ownerExponent: exponent((f) => f.growth.ownerCpuMsPerAdmission),
  };
});

const report = {
  benchmark: "@orgchat/integration scale: encrypted organization through the real admission path",
  profile: quick ? "quick" : "full",
  node: process.version,
  cpus: cpus().length,
  goals,
  ...result,
  ratios,
  cpuCurve,
};

if (json) {
  process.stdout.write(
    `${JSON.stringify(report, (_, value) => (typeof value === "bigint" ? value.toString() : value))}\n`,
  );
} else {
  const lines: string[] = [];
  if (ratios.length > 0) {
    lines.push("curve (each figure's ratio to the previous size; ×N = the size ratio):");
    for (const { from, to, ratios: r } of ratios) {
      const parts = Object.entries(r)
        .filter(([name]) => name !== "sizeRatio")
        .map(([name, value]) => `${name} ×${value ?? "—"}`);
      lines.push(`  ${from} → ${to} (×N ${r.sizeRatio}): ${parts.join("; ")}`);
    }
  }
  lines.push(
    "CPU per admission by size (process; owner and network = process less the lean members' own; exponent: ratio = (size ratio)^e, 0 flat, 1 like N):",
  );
  for (const point of cpuCurve) {
    const e = (value: number | null) => (value === null ? "" : `, e ${value}`);
    lines.push(
      `  ${point.members}: process ${point.processCpuMsPerAdmission} ms${e(point.processExponent)}; owner and network ${point.ownerCpuMsPerAdmission} ms${e(point.ownerExponent)}`,
    );
  }
  lines.push(
    `a lean member (admitted, not following) holds ${result.leanMemberBytes} B of heap: ${mb(result.leanMemberBytes * 10_000)} for 10,000`,
  );
  if (result.unopenable > 0) lines.push(`lean crowd: ${result.unopenable} envelopes did not open`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
