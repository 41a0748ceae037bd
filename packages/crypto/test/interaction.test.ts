/**
 * An interaction fuzz in the style of libsignal's group tests: an owner and up to eight members go
 * through random operations (add, remove, ban, refresh, send by any member, delivery of random
 * subsets of messages in random order, control messages delivered late or lost, time passing), and a
 * simple model says what every party must be able to decrypt. Invariants:
 *
 * 1. a party decrypts every message of an epoch it entered, as long as that epoch is within the
 *    retention window (current, one of the last two previous, or replaced less than 24 h ago);
 * 2. a removed (or banned) member never decrypts anything sent in the epochs after its removal;
 * 3. under the "joined" history policy a joiner never decrypts an epoch before its Welcome;
 * 4. a message is decrypted at most once (a second delivery is `DuplicateMessageError`);
 * 5. control messages give the expected outcome: `applied`, `removed` for the removed, `gap` after a
 *    lost add step, bridged by `acceptGap` on the next KeyUpdate.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { epochRetention } from "../src/epoch-window.js";
import type { GroupId, Roster } from "../src/key-schedule.js";
import type { KeyUpdateChunk } from "../src/key-update.js";
import type { MemberGroup, MemberTransition } from "../src/member-group.js";
import type { HistoryPolicy, OwnerGroup } from "../src/owner-group.js";
import { nodeProvider } from "../src/providers/node.js";
import { createOwner, joiner, joinFromWelcome, type Person, person } from "./fixtures.js";
import { seeded } from "./seeded-provider.js";

const node = nodeProvider();
const hour = 60 * 60 * 1000;
const maxMembers = 8;

type Op =
  | { kind: "add"; count: number; lose: number | null }
  | { kind: "remove" | "ban"; pick: number }
  | { kind: "refresh" }
  | { kind: "send"; pick: number }
  | { kind: "deliver"; picks: number[] }
  | { kind: "advance"; hours: number }
  | { kind: "sync"; pick: number; order: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      count: fc.integer({ min: 1, max: 2 }),
      lose: fc.option(fc.nat(), { freq: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom("remove" as const, "ban" as const),
      pick: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("refresh" as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("send" as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("deliver" as const),
      picks: fc.array(fc.nat(), { maxLength: 12 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      hours: fc.integer({ min: 0, max: 30 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("sync" as const), pick: fc.nat(), order: fc.nat() }),
  },
);

/** An epoch a party entered: `retiredAt` once it was replaced (or the party was removed). */
interface EnteredEpoch {
  epoch: bigint;
  retiredAt?: number;
}

/** The model's view of what a party can read: an independent restatement of the retention rule. */
class ReadModel {
  entered: EnteredEpoch[] = [];

  enter(epoch: bigint, now: number): void {
    for (const entry of this.entered) if (entry.retiredAt === undefined) entry.retiredAt = now;
    this.entered.push({ epoch });
  }

  leave(now: number): void {
    for (const entry of this.entered) if (entry.retiredAt === undefined) entry.retiredAt = now;
  }

  readable(epoch: bigint, now: number): boolean {
    const retired = this.entered
      .filter((e) => e.retiredAt !== undefined)
      .sort((a, b) => (a.epoch < b.epoch ? -1 : 1));
    const current = this.entered.find((e) => e.retiredAt === undefined);
    if (current?.epoch === epoch) return true;
    const index = retired.findIndex((e) => e.epoch === epoch);
    if (index === -1) return false;
    const entry = retired[index] as EnteredEpoch;
    return (
      index >= retired.length - epochRetention.previousEpochs ||
      now - (entry.retiredAt as number) < epochRetention.windowMs
    );
  }
}

type Control =
  | {
      type: "add";
      epoch: bigint;
      roster: Roster;
      keyId: Uint8Array;
      previousKeyId: Uint8Array;
      lost: boolean;
    }
  | { type: "key-update"; epoch: bigint; roster: Roster; chunks: readonly KeyUpdateChunk[] };

interface MemberModel {
  id: number;
  leaf: number;
  state: MemberGroup;
  joinedEpoch: bigint;
  /** The epoch whose KeyUpdate removes this member (set when the owner removes it). */
  removedEpoch?: bigint;
  removedProcessed: boolean;
  /** Missed an add step: the next control messages are gaps until a KeyUpdate is bridged. */
  broken: boolean;
  queue: Control[];
  reads: ReadModel;
}

interface Sent {
  id: number;
  bytes: Uint8Array;
  epoch: bigint;
  /** -1 for the owner, else the member model id. */
  sender: number;
  senderLeaf: number;
  content: string;
}

const text = new TextEncoder();
const utf8 = new TextDecoder();

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function run(policy: HistoryPolicy, chunkSize: number, ops: readonly Op[]): void {
  const provider = seeded(node, `interaction ${policy}`);
  let now = 0;
  const orgKey = provider.ed25519KeyPair();
  const group: GroupId = { organizationId: orgKey.publicKey, channelId: "" };
  const me = person(provider);
  const owner = createOwner(me, {
    provider,
    group,
    historyPolicy: policy,
    now,
    maxEntriesPerChunk: chunkSize,
  });
  const ownerReads = new ReadModel();
  ownerReads.enter(owner.epoch, now);
  const rosters = new Map<bigint, Roster>([[owner.epoch, owner.roster]]);
  const members: MemberModel[] = [];
  const sent: Sent[] = [];
  /** `${message id}:${receiver}` pairs that were decrypted once. */
  const decrypted = new Set<string>();
  let nextId = 0;

  const current = () => members.filter((m) => m.removedEpoch === undefined);
  const broadcast = (control: Control) => {
    for (const m of members) m.queue.push(control);
  };

  const processAdd = (m: MemberModel, control: Extract<Control, { type: "add" }>) => {
    if (control.lost) {
      m.broken = true;
      return;
    }
    const outcome = m.state.applyAdd({
      roster: control.roster,
      now,
      epoch: control.epoch,
      previousKeyId: control.previousKeyId,
      keyId: control.keyId,
    });
    if (m.removedProcessed) expect(outcome.status).toBe("removed");
    else if (m.broken) expect(outcome.status).toBe("gap");
    else {
      expect(outcome).toMatchObject({ status: "applied", epoch: control.epoch });
      m.reads.enter(control.epoch, now);
    }
  };

  const processKeyUpdate = (
    m: MemberModel,
    control: Extract<Control, { type: "key-update" }>,
    order: number,
  ) => {
    if (control.chunks.length === 0) {
      // The owner removed its last member: no chunk to publish; the signed roster tells the member.
      expect(m.removedEpoch === control.epoch || m.removedProcessed).toBe(true);
      if (!m.removedProcessed) {
        m.state.markRemoved(now);
        m.removedProcessed = true;
        m.reads.leave(now);
      }
      return;
    }
    const apply = (acceptGap: boolean) =>
      shuffled(control.chunks, order).map((chunk) =>
        m.state.applyKeyUpdate(chunk, now, { roster: control.roster, acceptGap }),
      );
    let outcomes: MemberTransition[] = apply(false);
    if (m.removedProcessed) {
      expect(outcomes.every((o) => o.status === "removed")).toBe(true);
      return;
    }
    if (m.broken) {
      expect(outcomes.every((o) => o.status === "gap")).toBe(true);
      outcomes = apply(true);
      m.broken = false;
    }
    const statuses = outcomes.map((o) => o.status);
    if (m.removedEpoch === control.epoch) {
      // Not in any chunk: "not-in-chunk" until the last one, then "removed".
      expect(statuses.at(-1)).toBe("removed");
      expect(statuses.slice(0, -1).every((s) => s === "not-in-chunk")).toBe(true);
      expect(m.state.status).toBe("removed");
      m.removedProcessed = true;
      m.reads.leave(now);
    } else {
      expect(statuses.filter((s) => s === "applied")).toHaveLength(1);
      const applied = statuses.indexOf("applied");
      expect(statuses.slice(0, applied).every((s) => s === "not-in-chunk")).toBe(true);
      expect(statuses.slice(applied + 1).every((s) => s === "stale")).toBe(true);
      m.reads.enter(control.epoch, now);
    }
  };

  const sync = (m: MemberModel, order: number) => {
    for (const control of m.queue.splice(0)) {
      if (control.type === "add") processAdd(m, control);
      else processKeyUpdate(m, control, order);
    }
  };

  const rekeyed = (update: ReturnType<OwnerGroup["refresh"]>) => {
    rosters.set(update.epoch, update.roster);
    ownerReads.enter(update.epoch, now);
    broadcast({
      type: "key-update",
      epoch: update.epoch,
      roster: update.roster,
      chunks: update.chunks,
    });
  };

  const deliver = (message: Sent, receiver: number) => {
    const key = `${message.id}:${receiver}`;
    const model = receiver === -1 ? undefined : members.find((m) => m.id === receiver);
    const state = receiver === -1 ? owner : (model as MemberModel).state;
    const reads = receiver === -1 ? ownerReads : (model as MemberModel).reads;
    const expected = reads.readable(message.epoch, now);
    let result: ReturnType<OwnerGroup["decrypt"]> | undefined;
    let error: unknown;
    try {
      result = state.decrypt(message.bytes, now);
    } catch (e) {
      error = e;
    }
    // Invariant 2: nothing of the epochs after a removal.
    if (model?.removedEpoch !== undefined && message.epoch >= model.removedEpoch) {
      expect(result).toBeUndefined();
    }
    // Invariant 3: under "joined", nothing before the Welcome.
    if (model !== undefined && policy === "joined" && message.epoch < model.joinedEpoch) {
      expect(result).toBeUndefined();
    }
    if (!expected) {
      expect(error).toMatchObject({ name: "UnknownEpochError" });
    } else if (decrypted.has(key)) {
      expect(error).toMatchObject({ name: "DuplicateMessageError" });
    } else {
      expect(error).toBeUndefined();
      expect(result?.senderLeaf).toBe(message.senderLeaf);
      expect(result?.epoch).toBe(message.epoch);
      expect(utf8.decode(result?.content)).toBe(message.content);
      decrypted.add(key);
    }
  };

  const receivers = (message: Sent) =>
    [-1, ...members.map((m) => m.id)].filter((r) => r !== message.sender);

  for (const op of ops) {
    switch (op.kind) {
      case "add": {
        const room = maxMembers - current().length;
        if (room <= 0) break;
        const people = Array.from({ length: Math.min(op.count, room) }, () => person(provider));
        const loser =
          op.lose === null || current().length === 0
            ? undefined
            : current()[op.lose % current().length];
        const added = owner.add(people.map(joiner), now);
        rosters.set(added.epoch, added.roster);
        ownerReads.enter(added.epoch, now);
        for (const m of members) {
          m.queue.push({
            type: "add",
            epoch: added.epoch,
            roster: added.roster,
            keyId: added.keyId,
            previousKeyId: added.previousKeyId,
            lost: m === loser,
          });
        }
        for (const [i, { leaf, welcome }] of added.welcomes.entries()) {
          const state = joinFromWelcome({
            provider,
            person: people[i] as Person,
            welcome,
            roster: added.roster,
            now,
            historyRoster: (epoch) => rosters.get(epoch),
          });
          const reads = new ReadModel();
          if (policy === "shared") {
            for (let epoch = 0n; epoch < added.epoch; epoch++)
              reads.entered.push({ epoch, retiredAt: now });
          }
          reads.enter(added.epoch, now);
          expect(state.readableEpochs(now)).toEqual(reads.entered.map((e) => e.epoch));
          members.push({
            id: nextId++,
            leaf,
            state,
            joinedEpoch: added.epoch,
            removedProcessed: false,
            broken: false,
            queue: [],
            reads,
          });
        }
        break;
      }
      case "remove":
      case "ban": {
        const candidates = current();
        if (candidates.length === 0) break;
        const target = candidates[op.pick % candidates.length] as MemberModel;
        const update = owner.remove([target.leaf], now);
        target.removedEpoch = update.epoch;
        expect(update.roster[target.leaf]).toBeUndefined();
        rekeyed(update);
        break;
      }
      case "refresh":
        rekeyed(owner.refresh(now));
        break;
      case "send": {
        const senders = [
          -1,
          ...members.filter((m) => m.state.status === "member").map((m) => m.id),
        ];
        const sender = senders[op.pick % senders.length] as number;
        const model = members.find((m) => m.id === sender);
        const state = model?.state ?? owner;
        const content = `message ${sent.length} from ${sender}`;
        const bytes = state.encrypt({ contentType: 1, content: text.encode(content) });
        sent.push({
          id: sent.length,
          bytes,
          epoch: state.epoch,
          sender,
          senderLeaf: model?.leaf ?? owner.leaf,
          content,
        });
        break;
      }
      case "deliver": {
        const pairs = sent.flatMap((message) =>
          receivers(message).map((r) => [message, r] as const),
        );
        if (pairs.length === 0) break;
        for (const pick of op.picks) {
          const [message, receiver] = pairs[pick % pairs.length] as readonly [Sent, number];
          deliver(message, receiver);
        }
        break;
      }
      case "advance":
        now += op.hours * hour;
        break;
      case "sync": {
        if (members.length === 0) break;
        sync(members[op.pick % members.length] as MemberModel, op.order);
        break;
      }
    }
  }

  // The end: every control message arrives, then every message goes to everyone it has not reached.
  for (const m of members) sync(m, 7);
  for (const message of sent) for (const receiver of receivers(message)) deliver(message, receiver);
  // Every current member ends in the owner's epoch, unless a lost add step left it behind with no
  // KeyUpdate since.
  for (const m of current()) {
    if (!m.broken) expect(m.state.keyId).toEqual(owner.keyId);
  }
}

describe("interaction fuzz: owner and up to 8 members", () => {
  for (const policy of ["joined", "shared"] as const) {
    it(`history policy "${policy}": every invariant holds over random operations`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3 }),
          fc.array(opArbitrary, { minLength: 5, maxLength: 45 }),
          (chunkSize, ops) => {
            run(policy, chunkSize, ops);
          },
        ),
        { seed: policy === "joined" ? 0x6a6f696e : 0x73686172, numRuns: 200 },
      );
    });
  }

  it("a fixed scenario: ban, late delivery across epochs, expiry after 24 h", () => {
    run("joined", 3400, [
      { kind: "add", count: 2, lose: null },
      { kind: "send", pick: 1 },
      { kind: "add", count: 2, lose: 0 },
      { kind: "send", pick: 3 },
      { kind: "ban", pick: 1 },
      { kind: "send", pick: 0 },
      { kind: "sync", pick: 0, order: 1 },
      { kind: "sync", pick: 1, order: 2 },
      { kind: "deliver", picks: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
      { kind: "advance", hours: 25 },
      { kind: "refresh" },
      { kind: "refresh" },
      { kind: "refresh" },
      { kind: "send", pick: 2 },
      { kind: "deliver", picks: [11, 12, 13, 14, 15, 16] },
    ]);
  });
});
