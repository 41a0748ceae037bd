/**
 * The receive-path fuzzer (issue #13, item 3): mutated valid messages on every topic the clients
 * subscribe to, then checks that nothing broke.
 *
 * The world, on the arena's memory network and virtual clock: the victim owns an encrypted
 * organization ("Acme": members alice and carol) and is a member of a public one ("Open", owned by
 * bob, alice a member too). Honest traffic — posts, edits, a delete, a join accepted and a member
 * removed (a re-key), a request rejected — fills the network's history; everything in it on the
 * clients' topics is the corpus. Each input is one corpus message mutated ({@link nextInput}: bit
 * flips, truncation, splices, field edits of the decoded protobuf re-encoded, some re-signed with an
 * outsider's key or with alice's own identity key) and published on its topic (or another one the
 * clients subscribe to). The arena settles after every burst, and virtual time moves on now and then
 * so that sweeps, retries and expiries run.
 *
 * Afterwards: no uncaught exception or unhandled rejection, no client `error` event; the owner can
 * still send, edit and ban, the members still send and read, in both organizations; the heap and
 * the bytes each client persisted grew by a bounded amount.
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { ClientEvents } from "@orgchat/client";
import type { TransportMessage } from "@orgchat/transport";
import { channelTopic } from "@orgchat/wire";
import { Arena, type ArenaPeer, arenaOrg } from "../adversary/arena.js";
import { keyOf } from "../adversary/bytes.js";
import { keptGroups, keptIdentity } from "../adversary/kept-state.js";
import { type CorpusEntry, nextInput, Rng, type Strategy, strategies } from "./mutate.js";

/** What a run is asked to do. */
export interface FuzzReceiveOptions {
  /** Seeds the arena, the clients' randomness and every mutation. @default 1 */
  readonly seed?: number;
  /** How many mutated messages to publish. */
  readonly inputs: number;
  /** Inputs published between two settles of the arena. @default 20 */
  readonly burst?: number;
  /** Every this many inputs, one virtual minute passes (timers run). @default 500 */
  readonly minuteEvery?: number;
  /** The mutation strategies to draw from (e.g. `["replay"]` for a control run). @default all */
  readonly strategies?: readonly Strategy[];
  /** Called every `burst` inputs with how many were published so far. */
  readonly onProgress?: (published: number) => void;
}

/** The outcome of one check after the run. */
export interface FuzzCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail?: string;
}

/** What a run measured and found. */
export interface FuzzReceiveReport {
  readonly seed: number;
  readonly inputs: number;
  readonly corpus: number;
  readonly topics: number;
  readonly byStrategy: Readonly<Record<Strategy, number>>;
  /** Inputs the publishing transport refused (e.g. over the payload limit). */
  readonly unpublishable: number;
  readonly publishedBytes: number;
  /** Uncaught exceptions and unhandled rejections during the run (should be none). */
  readonly uncaught: readonly string[];
  /** Client `error` events during the run (should be none). */
  readonly clientErrors: readonly string[];
  /**
   * Other client events during the run, by name: what the inputs got through to (a member's
   * re-signed post accepted, an edit applied…), so that a run shows how deep it reached.
   */
  readonly events: Readonly<Record<string, number>>;
  /** `diagnostic` events (dropped input, reported), by `component/reason`. */
  readonly diagnostics: Readonly<Record<string, number>>;
  /** Bytes each client's store holds, before and after the run. */
  readonly persisted: Readonly<Record<string, { before: number; after: number }>>;
  /** Heap used after a full GC, before and after the run (the network's own history included). */
  readonly heap: { readonly before: number; readonly after: number };
  /** What the clients published during the run (answers the junk provoked), by peer. */
  readonly publishedByClients: Readonly<Record<string, number>>;
  /** History queries the clients made during the run, by peer, then by kind of topic (`d`, `r`, `c`, `k`, `i`…). */
  readonly historyQueriesByClients: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly checks: readonly FuzzCheck[];
  readonly durationMs: number;
}

/** Largest growth of one client's persisted bytes a run may cause (bounded quotas, not the input count). */
export const maxPersistedGrowthBytes = 16 * 1024 * 1024;
/**
 * Largest heap growth beyond what the network's history holds (the published inputs): the clients'
 * bounded caches fill up during a long run — each client's in-memory seen ids alone may reach
 * `maxSeenIds` (65,536, ~10 MB) — so the bound is their sum with room, not a function of the input
 * count.
 */
export const maxHeapGrowthBytes = 96 * 1024 * 1024;

/** A full garbage collection (V8's `gc`, exposed for this process once). */
function collect(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

function heapUsed(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack ?? ""}`;
  return String(error);
}

/** Every message in the network's history on `topics`, oldest first. */
async function capture(arena: Arena, topics: readonly string[]): Promise<CorpusEntry[]> {
  const sniffer = await arena.hostile("corpus");
  const corpus: CorpusEntry[] = [];
  for (const topic of topics) {
    let cursor: string | undefined;
    do {
      const page = await sniffer.transport.queryHistory({
        contentTopics: [topic],
        direction: "forward",
        pageSize: 100,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const message of page.messages as TransportMessage[]) {
        corpus.push({ topic: message.contentTopic, bytes: message.payload });
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  return corpus;
}

/** `peer` asks to join `orgId` and `owner` accepts. */
async function join(arena: Arena, owner: ArenaPeer, peer: ArenaPeer, orgId: string) {
  await peer.client.discover(orgId);
  const requestId = await peer.client.requestToJoin(orgId, { displayName: peer.name });
  await arena.settle();
  await owner.client.acceptRequest(orgId, requestId);
  await arena.settle();
  await arena.advance(60_000, 5_000);
}

/** The kind of a content topic: its name's prefix (`/orgchat/1/c-…/proto` → `c`). */
function topicKind(topic: string): string {
  const name = topic.split("/")[3] ?? "";
  return name.split("-")[0] ?? name;
}

const has = (peer: ArenaPeer, orgId: string, text: string) =>
  peer.client.history(orgId, "general").some((m) => m.text === text && !m.deleted);

/** Runs the fuzzer (see the module comment). Never throws for what it finds: read the report. */
export async function fuzzReceivePath(options: FuzzReceiveOptions): Promise<FuzzReceiveReport> {
  const seed = options.seed ?? 1;
  const burst = options.burst ?? 20;
  const minuteEvery = options.minuteEvery ?? 500;
  const started = Date.now();
  const uncaught: string[] = [];
  const onUncaught = (error: unknown) => uncaught.push(describeError(error));
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  const arena = new Arena({ seed });
  try {
    // ---- the world and honest traffic
    const { owner: victim, members, orgId } = await arenaOrg(arena, ["alice", "carol"]);
    const [alice, carol] = members as [ArenaPeer, ArenaPeer];
    const bob = await arena.peer("bob");
    const openId = await bob.client.createOrganization({
      name: "Open",
      access: "on-request",
      encrypted: false,
    });
    await bob.client.createChannel(openId, { id: "general", name: "General" });
    await arena.settle();
    await join(arena, bob, victim, openId);
    await join(arena, bob, alice, openId);
    const posted = await victim.client.sendMessage(orgId, "general", "hello from the owner");
    const byAlice = await alice.client.sendMessage(orgId, "general", "hello from alice");
    await carol.client.sendMessage(orgId, "general", "hello from carol");
    await arena.settle();
    await victim.client.editMessage(orgId, posted.id, "hello from the owner (edited)");
    await alice.client.deleteMessage(orgId, byAlice.id);
    await bob.client.sendMessage(openId, "general", "welcome to Open");
    const inOpen = await victim.client.sendMessage(openId, "general", "the victim in Open");
    await alice.client.sendMessage(openId, "general", "alice in Open");
    await arena.settle();
    await victim.client.editMessage(openId, inOpen.id, "the victim in Open (edited)");
    const dave = await arena.peer("dave");
    await join(arena, victim, dave, orgId);
    await dave.client.sendMessage(orgId, "general", "hello from dave");
    await arena.settle();
    await victim.client.removeMember(orgId, dave.client.memberId);
    await arena.settle();
    await victim.client.sendMessage(orgId, "general", "after the re-key");
    const erin = await arena.peer("erin");
    await erin.client.discover(openId);
    const erinRequest = await erin.client.requestToJoin(openId, { displayName: "erin" });
    await arena.settle();
    await bob.client.rejectRequest(openId, erinRequest, "not now");
    await arena.advance(60_000, 5_000);

    // ---- the corpus: every message on the topics the clients subscribe to
    const subscribed = new Set<string>();
    for (const peer of arena.peers)
      for (const t of peer.transport.counts.subscribed) subscribed.add(t);
    const topics = [...subscribed].sort();
    const corpus = await capture(arena, topics);
    if (corpus.length === 0) throw new Error("fuzz: the honest traffic left no corpus");
    const fuzzer = await arena.hostile("fuzzer");
    const aliceGroup = (await keptGroups(alice.store, orgId)).get("");
    const signers = {
      outsider: fuzzer.identity,
      member: (await keptIdentity(alice.store)).signing,
      ...(aliceGroup === undefined
        ? {}
        : { memberGroup: { group: aliceGroup, topic: channelTopic(keyOf(orgId), "general") } }),
    };
    const watched = [victim, alice, carol, bob];

    // ---- the run
    const persistedBefore = new Map<ArenaPeer, number>();
    for (const peer of watched) persistedBefore.set(peer, await peer.store.persistedBytes());
    const publishedBefore = new Map<ArenaPeer, number>();
    const queriesBefore = new Map<ArenaPeer, Map<string, number>>();
    const sum = (map: ReadonlyMap<string, number>) => [...map.values()].reduce((a, b) => a + b, 0);
    for (const peer of watched) {
      publishedBefore.set(peer, sum(peer.transport.counts.published));
      queriesBefore.set(peer, new Map(peer.transport.counts.historyQueries));
    }
    const diagnostics: Record<string, number> = {};
    const events: Record<string, number> = {};
    let counting = false;
    const clientErrors: string[] = [];
    const drainEvents = () => {
      for (const peer of arena.peers) {
        for (const [name, payload] of peer.events) {
          if (name === "diagnostic") {
            const d = payload as ClientEvents["diagnostic"];
            const key = `${d.component}/${d.reason}`;
            diagnostics[key] = (diagnostics[key] ?? 0) + 1;
          } else if (name === "error") {
            clientErrors.push(
              `${peer.name}: ${describeError((payload as { error?: unknown }).error ?? payload)}`,
            );
          } else if (counting) {
            events[name] = (events[name] ?? 0) + 1;
          }
        }
        // The arena records every event: forget them so that the heap measures the clients.
        peer.events.length = 0;
      }
    };
    drainEvents();
    counting = true;
    const heapBefore = heapUsed();
    const rng = new Rng(seed * 0x9e37 + 1);
    const byStrategy = Object.fromEntries(strategies.map((s) => [s, 0])) as Record<
      Strategy,
      number
    >;
    let unpublishable = 0;
    let publishedBytes = 0;
    for (let done = 0; done < options.inputs; ) {
      const end = Math.min(options.inputs, done + burst);
      for (; done < end; done++) {
        const input = nextInput(rng, corpus, topics, signers, options.strategies);
        byStrategy[input.strategy]++;
        try {
          await fuzzer.publish(input.topic, input.bytes);
          publishedBytes += input.bytes.length;
        } catch {
          unpublishable++;
        }
        if ((done + 1) % minuteEvery === 0) {
          await arena.settle();
          await arena.advance(60_000);
        }
      }
      await arena.settle();
      drainEvents();
      options.onProgress?.(done);
    }
    await arena.advance(10 * 60_000, 60_000);
    drainEvents();
    counting = false;
    const heapAfter = heapUsed();
    const persisted: Record<string, { before: number; after: number }> = {};
    const publishedByClients: Record<string, number> = {};
    const historyQueriesByClients: Record<string, Record<string, number>> = {};
    for (const peer of watched) {
      persisted[peer.name] = {
        before: persistedBefore.get(peer) ?? 0,
        after: await peer.store.persistedBytes(),
      };
      publishedByClients[peer.name] =
        sum(peer.transport.counts.published) - (publishedBefore.get(peer) ?? 0);
      const byKind: Record<string, number> = {};
      for (const [topic, count] of peer.transport.counts.historyQueries) {
        const added = count - (queriesBefore.get(peer)?.get(topic) ?? 0);
        if (added === 0) continue;
        const kind = topicKind(topic);
        byKind[kind] = (byKind[kind] ?? 0) + added;
      }
      historyQueriesByClients[peer.name] = byKind;
    }

    // ---- afterwards: everyone can still act
    const checks: FuzzCheck[] = [];
    const check = async (name: string, body: () => Promise<boolean>) => {
      try {
        checks.push({ name, passed: await body() });
      } catch (error) {
        checks.push({ name, passed: false, detail: describeError(error) });
      }
    };
    await check("the owner sends; both members read it", async () => {
      await victim.client.sendMessage(orgId, "general", "owner after the fuzz");
      await arena.settle();
      return has(alice, orgId, "owner after the fuzz") && has(carol, orgId, "owner after the fuzz");
    });
    // Carol: alice is the insider whose keys the fuzzer used (her own sends may now be taken for
    // replays of the generations the fuzzer consumed; she is banned below).
    await check("a member sends; the owner and the other member read it", async () => {
      await carol.client.sendMessage(orgId, "general", "carol after the fuzz");
      await arena.settle();
      return (
        has(victim, orgId, "carol after the fuzz") && has(alice, orgId, "carol after the fuzz")
      );
    });
    await check("the owner edits its post; a member reads the edit", async () => {
      const sent = await victim.client.sendMessage(orgId, "general", "to be edited");
      await arena.settle();
      await victim.client.editMessage(orgId, sent.id, "edited after the fuzz");
      await arena.settle();
      return has(carol, orgId, "edited after the fuzz");
    });
    await check(
      "the owner bans the insider (re-key); the other member still reads and sends, the banned one reads nothing",
      async () => {
        await victim.client.banMember(orgId, alice.client.memberId);
        await arena.settle();
        await arena.advance(60_000, 5_000);
        await victim.client.sendMessage(orgId, "general", "after the ban");
        await carol.client.sendMessage(orgId, "general", "carol after the ban");
        await arena.settle();
        return (
          has(carol, orgId, "after the ban") &&
          has(victim, orgId, "carol after the ban") &&
          !has(alice, orgId, "after the ban")
        );
      },
    );
    await check(
      "in the public organization the victim (a member) and its owner still talk",
      async () => {
        await victim.client.sendMessage(openId, "general", "victim in Open after the fuzz");
        await bob.client.sendMessage(openId, "general", "bob in Open after the fuzz");
        await arena.settle();
        return (
          has(bob, openId, "victim in Open after the fuzz") &&
          has(victim, openId, "bob in Open after the fuzz") &&
          has(alice, openId, "victim in Open after the fuzz")
        );
      },
    );
    await check("after a restart the owner still sends and a member reads it", async () => {
      await arena.restart(victim);
      await victim.client.sendMessage(orgId, "general", "owner after a restart");
      await arena.settle();
      return has(carol, orgId, "owner after a restart");
    });
    drainEvents();
    return {
      seed,
      inputs: options.inputs,
      corpus: corpus.length,
      topics: topics.length,
      byStrategy,
      unpublishable,
      publishedBytes,
      uncaught,
      clientErrors,
      events,
      diagnostics,
      persisted,
      heap: { before: heapBefore, after: heapAfter },
      publishedByClients,
      historyQueriesByClients,
      checks,
      durationMs: Date.now() - started,
    };
  } finally {
    await arena.close();
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
  }
}

/**
 * Why a report fails the fuzzer's bounds (empty when it passes): uncaught errors, client errors,
 * failed checks, a client's persisted bytes grown by more than {@link maxPersistedGrowthBytes}, the
 * heap grown by more than {@link maxHeapGrowthBytes} beyond what the network's history holds.
 */
export function fuzzFailures(report: FuzzReceiveReport): string[] {
  const failures: string[] = [];
  for (const error of report.uncaught) failures.push(`uncaught: ${error}`);
  for (const error of report.clientErrors) failures.push(`client error event: ${error}`);
  for (const check of report.checks) {
    if (!check.passed)
      failures.push(`check failed: ${check.name}${check.detail ? ` (${check.detail})` : ""}`);
  }
  for (const [name, { before, after }] of Object.entries(report.persisted)) {
    if (after - before > maxPersistedGrowthBytes) {
      failures.push(
        `${name} persisted ${after - before} more bytes (bound ${maxPersistedGrowthBytes})`,
      );
    }
  }
  // The memory network keeps every published message: its payload and ~100 bytes of bookkeeping
  // (measured with a replay-only run, which the clients drop as seen).
  const history = report.publishedBytes + 128 * report.inputs;
  const growth = report.heap.after - report.heap.before - history;
  if (growth > maxHeapGrowthBytes) {
    failures.push(
      `heap grew by ${growth} bytes beyond the network's history (bound ${maxHeapGrowthBytes})`,
    );
  }
  return failures;
}
