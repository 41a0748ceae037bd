/**
 * Applying channel-message events: 100,000 posts, edits and deletes by eight members in four
 * channels, through `OrgLog` (canonical order, duplicate check, checkpoints), against the floor of
 * the same number of plain `reduce` calls on the same events. Plus the cost of late arrivals: the
 * same events with 1% of them delivered up to 200 positions late (each one re-folds from a
 * checkpoint).
 */
import { performance } from "node:perf_hooks";
import type { MemberId, OrgEvent } from "../src/events.js";
import { OrgLog } from "../src/log.js";
import { reduce } from "../src/reduce.js";
import type { OrgState } from "../src/state.js";

/** One line of a report. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The same work without what the figure measures on top (here: plain `reduce` calls). */
  readonly floor?: number;
  /** `floor / value` for rates: how much of the floor's speed the figure keeps. */
  readonly ratio?: number;
  readonly note?: string;
}

export interface EventsBenchInit {
  /** Message events to apply. @default 100_000 */
  readonly events?: number;
  /** Timed rounds per figure (the median is reported). @default 5 */
  readonly rounds?: number;
  /** Checkpoint interval of the logs. @default the OrgLog default */
  readonly checkpointInterval?: number;
  /** Progress lines (stderr in `run.ts`). */
  readonly progress?: (message: string) => void;
}

const key = (byte: number): MemberId => byte.toString(16).padStart(2, "0").repeat(32);
const id = (n: number) => n.toString(16).padStart(64, "0");
const owner = key(1);
const members = Array.from({ length: 8 }, (_, i) => key(0x10 + i));
const channels = ["general", "random", "staff", "ops"];

function identity(displayName: string) {
  return { displayName, description: "", ensName: "", images: {} };
}

/** Creation, four channels (two open, one listing its members, one by grants), eight members. */
function setupEvents(): OrgEvent[] {
  let clock = 0n;
  let n = 0;
  const next = (type: OrgEvent["type"], author: MemberId, body: unknown): OrgEvent =>
    ({ id: `setup${n++}`, type, author, clock: ++clock, sentAt: 0, body }) as OrgEvent;
  const events: OrgEvent[] = [
    next("org.created", owner, {
      identity: identity("Bench"),
      permissions: { access: "no-membership", ensOnly: false, private: false },
      pinMessageAllMembersEnabled: false,
      tags: [],
      encrypted: true,
    }),
  ];
  for (const member of members) {
    events.push(next("request.sent", member, { chatId: "", ensName: "", displayName: "m" }));
  }
  events.push(
    next("member.roles.changed", owner, { member: members[0], roles: ["moderate-content"] }),
  );
  for (const [i, channelId] of channels.entries()) {
    const restricted = i >= 2;
    events.push(
      next("channel.created", owner, {
        channelId,
        identity: identity(channelId),
        permissions: {
          access: restricted ? "invitation-only" : "no-membership",
          ensOnly: false,
          private: restricted,
        },
        categoryId: "",
      }),
    );
  }
  events.push(
    next("channel.members.changed", owner, {
      channelId: "staff",
      members: Object.fromEntries(members.map((m) => [m, []])),
    }),
  );
  for (const member of members) events.push(next("grant.issued", owner, { member, chatId: "ops" }));
  return events;
}

/** `count` message events after `setup`: 85% posts, 10% edits and 5% deletes of recent posts. */
function messageEvents(count: number, after: bigint): OrgEvent[] {
  const events: OrgEvent[] = [];
  const recent: { id: string; author: MemberId }[] = [];
  let seed = 0x2545f491;
  const random = () => {
    // xorshift32: a fixed, seeded sequence (the benchmark builds the same events every run).
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  for (let i = 0; i < count; i++) {
    const clock = after + BigInt(i) + 1n;
    const roll = random();
    const target = recent[Math.floor(random() * recent.length)];
    const sentAt = 1_700_000_000_000 + i * 10;
    if (roll < 0.1 && target !== undefined) {
      events.push({
        id: id(i),
        type: "message.edited",
        author: target.author,
        clock,
        sentAt,
        body: { messageId: target.id, text: `edited ${i}` },
      });
    } else if (roll < 0.15 && target !== undefined) {
      // Half by the author, half by the moderator (members[0]; its own posts it deletes as author).
      const author = random() < 0.5 ? target.author : (members[0] as MemberId);
      events.push({
        id: id(i),
        type: "message.deleted",
        author,
        clock,
        sentAt,
        body: { messageId: target.id },
      });
      recent.splice(recent.indexOf(target), 1);
    } else {
      const author = members[i % members.length] as MemberId;
      events.push({
        id: id(i),
        type: "message.posted",
        author,
        clock,
        sentAt,
        body: {
          channelId: channels[i % channels.length] as string,
          text: `message ${i} `.repeat(8),
        },
      });
      recent.push({ id: id(i), author });
      if (recent.length > 64) recent.shift();
    }
  }
  return events;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function time(run: () => void, rounds: number): number {
  run(); // warm-up
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);

/**
 * Runs the message-event benchmark.
 *
 * @returns events per second through `OrgLog` (in order, and with late arrivals) with the plain
 *   `reduce` floor
 */
export function benchEvents(init: EventsBenchInit = {}): Figure[] {
  const count = init.events ?? 100_000;
  const rounds = init.rounds ?? 5;
  const progress = init.progress ?? (() => {});
  const setup = setupEvents();
  const last = setup[setup.length - 1];
  const messages = messageEvents(count, last?.clock ?? 0n);

  const setupLog = () => {
    const log = new OrgLog({
      organizationId: owner,
      ...(init.checkpointInterval === undefined
        ? {}
        : { checkpointInterval: init.checkpointInterval }),
    });
    for (const e of setup) if (log.add(e).rejected) throw new Error("bench setup was refused");
    return log;
  };
  let start: OrgState = setupLog().state;
  let rejected = 0;

  progress(`plain reduce: ${count} events × ${rounds + 1} rounds`);
  const floorMs = time(() => {
    let state = start;
    rejected = 0;
    for (const e of messages) {
      const result = reduce(state, e);
      if (result.rejected) rejected++;
      state = result.state;
    }
  }, rounds);
  if (rejected > 0) throw new Error(`${rejected} bench events were refused: fix the generator`);

  progress(`OrgLog, in order: ${count} events × ${rounds + 1} rounds`);
  let log = setupLog();
  const logMs = time(() => {
    log = setupLog();
    for (const e of messages) log.add(e);
  }, rounds);
  if (log.rejections().size > 0) throw new Error("OrgLog refused bench events");
  start = log.state;

  // 1% of the events arrive late, each by up to 200 positions (a fixed pattern).
  const late: OrgEvent[] = [];
  const held: { event: OrgEvent; due: number }[] = [];
  messages.forEach((e, i) => {
    if (i % 100 === 37) held.push({ event: e, due: i + 1 + ((i * 7919) % 200) });
    else late.push(e);
    while (held.length > 0 && (held[0]?.due ?? Number.POSITIVE_INFINITY) <= i) {
      late.push((held.shift() as { event: OrgEvent }).event);
    }
  });
  for (const h of held) late.push(h.event);
  progress(`OrgLog, 1% late: ${count} events × ${Math.max(1, rounds - 2) + 1} rounds`);
  const lateMs = time(
    () => {
      log = setupLog();
      for (const e of late) log.add(e);
    },
    Math.max(1, rounds - 2),
  );
  if (log.rejections().size > 0) throw new Error("OrgLog refused late bench events");

  const floor = rate(count, floorMs);
  const inOrder = rate(count, logMs);
  const withLate = rate(count, lateMs);
  return [
    {
      name: `apply ${count} channel-message events (OrgLog, in order)`,
      value: inOrder,
      unit: "events/s",
      floor,
      ratio: Math.round((inOrder / floor) * 100) / 100,
      note: `${Math.round(logMs)} ms; floor = plain reduce, ${Math.round(floorMs)} ms`,
    },
    {
      name: `apply ${count} channel-message events (OrgLog, 1% late by ≤ 200)`,
      value: withLate,
      unit: "events/s",
      floor,
      ratio: Math.round((withLate / floor) * 100) / 100,
      note: `${Math.round(lateMs)} ms; each late event re-folds from a checkpoint (every 256)`,
    },
    {
      name: "state after the run",
      value: start.messages.size,
      unit: "messages",
      note: `${start.members.size} members, ${start.channels.size} channels`,
    },
  ];
}
