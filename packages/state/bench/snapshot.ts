/**
 * State snapshot encoding and decoding (`encodeSnapshot`, `decodeSnapshot`; docs/SCALE.md, "State
 * snapshot"): a state of `--messages` posts (10,000 by default, 256-character texts, by
 * `--members` members (300) in four channels, each with its accepted join request) and twice as
 * many applied ids, then
 *
 * - `encode cold`: every record encoded (records never encoded or decoded before);
 * - `encode after decode`: the state a restart decoded, encoded again;
 * - `encode after 1,300 new posts`: the client's compaction case (client `state-snapshots.ts`): the
 *   state encoded last time, with 1,300 posts (and their ids) applied since;
 * - `encode after decode + 1,300 new posts`: the same after a restart;
 * - `decode`.
 *
 * Each figure is the median of `--rounds` rounds (wall and process CPU), with ns per snapshot byte.
 * Run from packages/state: `node --import tsx --conditions=@orgchat/source bench/snapshot.ts
 * [--json] [--messages 10000] [--new 1300] [--applied 20000] [--members 300] [--rounds 7]
 * [--case <part of a figure's name>]`. Benchmarks print numbers and assert nothing.
 */
import { performance } from "node:perf_hooks";
import { sha256 } from "@noble/hashes/sha2.js";
import { Map as ImmutableMap, List } from "immutable";
import type { MemberId } from "../src/events.js";
import { decodeSnapshot, encodeSnapshot } from "../src/snapshot.js";
import { AppliedIds } from "../src/snapshot-applied.js";
import type { Channel, JoinRequest, Member, MessageRecord, OrgState } from "../src/state.js";
import { TableMap } from "../src/table-map.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const messageCount = option("--messages", 10_000);
const rounds = option("--rounds", 7);
const memberCount = option("--members", 300);
/** `--new`: the posts applied between two encodes (the client's pipeline bench: ~40 % of them). */
const newPosts = option("--new", 1_300);
/** `--applied`: the applied ids (one per event: two per post by default). */
const appliedCount = option("--applied", 2 * messageCount);
const textLength = 256;

/** Deterministic pseudo-random bytes: SHA-256 of a counter (ids are hashes, as events' are). */
let counter = 0;
const digest = (): Uint8Array => sha256(new TextEncoder().encode(`${counter++}`));
const latin1 = new TextDecoder("latin1");
const hexDigits = "0123456789abcdef";
/** A 64-hex id, a flat string (as a decoder makes it). */
const hex64 = (): string => {
  const ascii = new Uint8Array(64);
  digest().forEach((b, i) => {
    ascii[2 * i] = hexDigits.charCodeAt(b >> 4);
    ascii[2 * i + 1] = hexDigits.charCodeAt(b & 15);
  });
  return latin1.decode(ascii);
};
const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,";
const text = (): string => {
  let out = "";
  while (out.length < textLength) {
    for (const b of digest()) out += alphabet[b % alphabet.length];
  }
  return out.slice(0, textLength);
};
/** A number from 0 to `n` − 1. */
const pick = (n: number): number => (digest()[0] as number) % n;

const organizationId: MemberId = hex64();
const members = Array.from({ length: memberCount }, () => hex64());
const channelIds = Array.from({ length: 4 }, () => hex64());
let clock = 1n;
const requests: JoinRequest[] = members.slice(1).map((requester) => ({
  id: hex64(),
  requester,
  chatId: "",
  ensName: "",
  displayName: `member ${requester.slice(0, 8)}`,
  clock: clock++,
  sentAt: 1_700_000_000_000,
  status: "accepted",
  decidedBy: members[0] as string,
  decidedAt: clock++,
  decidedSentAt: 1_700_000_000_500,
}));

function post(): MessageRecord {
  clock++;
  return {
    id: hex64(),
    channelId: channelIds[pick(channelIds.length)] as string,
    author: members[pick(members.length)] as string,
    clock,
    text: text(),
    deleted: false,
    pinned: false,
  };
}

const identity = { displayName: "Bench", description: "", ensName: "", images: {} };
const permissions = { access: "on-request", ensOnly: false, private: false } as const;
const baseMessages = Array.from({ length: messageCount }, post);
const baseApplied = Array.from({ length: appliedCount }, (_, i) => [hex64(), BigInt(i + 1)]);
const laterPosts = Array.from({ length: newPosts }, post);

/** The state with fresh record objects (nothing any cache could know). */
function freshState(): OrgState {
  return {
    organizationId,
    created: true,
    clock,
    identity,
    permissions,
    pinMessageAllMembersEnabled: false,
    tags: List(["bench"]),
    encrypted: true,
    members: TableMap.fromTable(
      new Map<string, Member>(
        members.map((id, i) => [
          id,
          {
            id,
            roles: List(i === 0 ? (["all"] as const) : []),
            joinedAt: 2n,
            displayName: i === 0 ? "" : `Member ${i}`,
          },
        ]),
      ),
    ),
    banned: ImmutableMap(),
    channels: ImmutableMap<string, Channel>(
      channelIds.map((id) => [
        id,
        { id, identity, permissions, categoryId: "", members: ImmutableMap() },
      ]),
    ),
    categories: ImmutableMap(),
    // Every member came in by a request, accepted by the owner.
    requests: TableMap.fromTable(new Map(requests.map((request) => [request.id, { ...request }]))),
    leaveRequests: ImmutableMap(),
    invitations: ImmutableMap(),
    grants: ImmutableMap(),
    epochs: ImmutableMap(),
    messages: ImmutableMap<string, MessageRecord>(baseMessages.map((m) => [m.id, { ...m }])),
    applied: AppliedIds.of(baseApplied as Array<[string, bigint]>),
  };
}

/** `state` with the later posts applied (records and ids), as the reducer adds them. */
function withLaterPosts(state: OrgState): OrgState {
  let applied = state.applied;
  const messages = state.messages.withMutations((map) => {
    for (const message of laterPosts) {
      map.set(message.id, { ...message });
      applied = applied.set(message.id, message.clock);
    }
  });
  return { ...state, messages, applied };
}

interface Figure {
  readonly name: string;
  readonly ms: number;
  readonly cpuMs: number;
  readonly bytes: number;
  readonly nsPerByte: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const caseAt = args.indexOf("--case");
/** `--case <text>`: only the figures whose name holds it (to profile one). */
const only = caseAt >= 0 ? (args[caseAt + 1] ?? "") : "";

/** Runs `prepare` (untimed) then `timed` on its result, `rounds` times; medians. */
function measure<T>(
  name: string,
  prepare: () => T,
  timed: (input: T) => Uint8Array | OrgState,
  bytes: number,
): Figure | undefined {
  if (!name.includes(only)) return undefined;
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const input = prepare();
    const cpu = process.cpuUsage();
    const start = performance.now();
    timed(input);
    walls.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000);
  }
  const ms = median(walls);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    name,
    ms: round(ms),
    cpuMs: round(median(cpus)),
    bytes,
    nsPerByte: round((ms * 1e6) / bytes),
  };
}

const sample = encodeSnapshot(freshState());
const later = encodeSnapshot(withLaterPosts(freshState()));
const figures = [
  measure("encode cold", freshState, encodeSnapshot, sample.length),
  measure(
    "encode after decode",
    () => decodeSnapshot(sample, organizationId),
    encodeSnapshot,
    sample.length,
  ),
  measure(
    `encode after ${newPosts.toLocaleString("en-US")} new posts`,
    () => {
      const state = freshState();
      encodeSnapshot(state);
      return withLaterPosts(state);
    },
    encodeSnapshot,
    later.length,
  ),
  measure(
    `encode after decode + ${newPosts.toLocaleString("en-US")} new posts`,
    () => withLaterPosts(decodeSnapshot(sample, organizationId)),
    encodeSnapshot,
    later.length,
  ),
  measure(
    "decode",
    () => sample,
    (bytes) => decodeSnapshot(bytes, organizationId),
    sample.length,
  ),
].filter((figure) => figure !== undefined);

if (json) {
  process.stdout.write(
    `${JSON.stringify({ benchmark: "state snapshot", messages: messageCount, rounds, figures })}\n`,
  );
} else {
  process.stdout.write(
    `state snapshot: ${messageCount.toLocaleString("en-US")} posts of ${textLength} characters, ` +
      `${appliedCount.toLocaleString("en-US")} applied ids, ${memberCount} members ` +
      `(median of ${rounds})\n`,
  );
  for (const f of figures) {
    process.stdout.write(
      `${f.name.padEnd(40)} ${f.ms.toFixed(2).padStart(8)} ms  cpu ${f.cpuMs
        .toFixed(2)
        .padStart(8)} ms  ${(f.bytes / 1e6).toFixed(2)} MB  ${f.nsPerByte.toFixed(2)} ns/B\n`,
    );
  }
}
