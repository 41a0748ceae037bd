import {
  ed25519EnvelopeSigner,
  ed25519EnvelopeVerifier,
  type KeyPair,
  MemberGroup,
  PairwiseSession,
  type WelcomeInit,
  x3dhInitiate,
} from "@orgchat/crypto";
import type { OrgEventOf } from "@orgchat/state";
import { requestToJoinToWire } from "@orgchat/state/wire";
import type { Subscription, TransportMessage } from "@orgchat/transport";
import {
  decodePairwiseContent,
  decodePairwiseMessage,
  encodePairwiseContent,
  inboxTopic,
  memberIdFromPublicKey,
  openEnvelope,
  RosterChangeKind,
  requestsTopic,
  sealEnvelope,
} from "@orgchat/wire";
import { sameBytes as equalBytes, hex as toHex } from "./bytes.js";
import type { LeanCrowd } from "./crowd.js";
import type { KnownRoster } from "./rosters.js";

/** Options of one lean member. */
export interface LeanMemberInit {
  /** Shown to the owner with the request. @default "" */
  readonly displayName?: string;
}

/** Where a lean member is in its admission. */
export type LeanStatus = "new" | "requested" | "accepted" | "rejected" | "welcomed";

/** What the pairwise channel carries to the owner (the `content` of `PairwiseContent`). */
type PairwiseContentInit = NonNullable<Parameters<typeof encodePairwiseContent>[0]["content"]>;

/** The times (performance.now, ms) of one member's admission, and its own CPU time per step. */
export interface LeanTimes {
  requested?: number;
  accepted?: number;
  welcomed?: number;
  /** CPU (ms) of X3DH, the session and sealing the two messages. */
  requestCpuMs?: number;
  /** CPU (ms) of opening the Welcome into a group (`MemberGroup.fromWelcome`). */
  welcomeCpuMs?: number;
  /**
   * CPU (ms) of the last KeyUpdate applied: `MemberGroup.applyKeyUpdateEnvelopes` (decoding its
   * chunks, verifying the one holding our entry, applying it).
   */
  keyUpdateCpuMs?: number;
  /** When the last KeyUpdate was applied. */
  rekeyed?: number;
}

/**
 * Runs `work` and returns its result, adding to `cpu.ms` the time until it returned: for an async
 * function, its synchronous part, up to its first `await` — the envelope functions sign or verify
 * before theirs —, so that other members' work done while it waits is not counted as its own.
 */
function timed<T>(cpu: { ms: number }, work: () => T): T {
  const start = cpuClock();
  try {
    return work();
  } finally {
    cpu.ms += cpuClock() - start;
  }
}

let keyUpdateTurn: Promise<unknown> = Promise.resolve();

/** Runs `work` after the previous call's `work` settled: one member's KeyUpdate at a time. */
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = keyUpdateTurn.then(work, work);
  keyUpdateTurn = run.catch(() => undefined);
  return run;
}

/**
 * This process's CPU time (ms): what the scenario subtracts from the process's CPU per admission
 * is then the same kind of time, whatever the machine's load stretches of wall time.
 */
function cpuClock(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * A member without a client: the real admission path of spec 55 with `@orgchat/crypto`,
 * `@orgchat/wire` and `@orgchat/state` alone. It asks to join like the client does (`membership.ts`:
 * X3DH to the owner's prekey bundle, its member keys, then the request, both pairwise on the
 * requests topic signed by its identity), reads the owner's response and Welcome on its inbox
 * (`pairwise.ts`) and enters the group (`MemberGroup.fromWelcome` with the epoch's roster). Then,
 * if its crowd makes it a follower, it follows add steps and KeyUpdates (`key-sync.ts`); otherwise
 * it drops its group and session, keeping only its keys (what 10,000 of them cost in memory).
 * Nothing is stored: a lean member has no store and no event log.
 */
export class LeanMember {
  readonly memberId: string;
  readonly times: LeanTimes = {};
  status: LeanStatus = "new";
  /** The owner's reason, when it rejected the request. */
  rejection: string | undefined;
  /** The group, for a follower (undefined otherwise, and before the Welcome). */
  group: MemberGroup | undefined;
  /** A Welcome waiting for its epoch's roster. */
  #waiting: WelcomeInit | undefined;
  readonly #crowd: LeanCrowd;
  readonly #init: LeanMemberInit;
  readonly #identity: KeyPair;
  readonly #signing: KeyPair;
  readonly #prekey: KeyPair;
  #session: PairwiseSession | undefined;
  #inbox: Subscription | undefined;
  readonly #inboxTopic: string;
  #following = false;
  #listeners = new Set<() => void>();

  constructor(crowd: LeanCrowd, init: LeanMemberInit) {
    this.#crowd = crowd;
    this.#init = init;
    const { provider } = crowd;
    this.#identity = provider.ed25519KeyPair();
    this.#signing = provider.ed25519KeyPair();
    this.#prekey = provider.x25519KeyPair();
    this.memberId = memberIdFromPublicKey(this.#identity.publicKey);
    this.#inboxTopic = inboxTopic(this.#identity.publicKey);
  }

  /** The epoch of a Welcome waiting for its roster, if any. */
  get waitingEpoch(): bigint | undefined {
    return this.#waiting?.epoch;
  }

  /** Calls `listener` whenever this member's status or group changes. @returns a function that stops it */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Asks to join: X3DH to the owner's bundle, then member keys and the request to join.
   * @returns the request's id (hex SHA-256 of its envelope, as the owner computes it)
   * @throws {Error} when the crowd holds no prekey bundle yet, or the member asked already
   */
  async requestToJoin(): Promise<void> {
    const crowd = this.#crowd;
    const bundle = crowd.bundle;
    if (bundle === undefined) throw new Error("lean member: no prekey bundle of the owner yet");
    if (this.status !== "new") throw new Error(`lean member: already ${this.status}`);
    this.#inbox = await crowd.listenInbox(this, this.#inboxTopic);
    const cpu = { ms: 0 };
    const { provider } = crowd;
    this.#session = timed(cpu, () =>
      PairwiseSession.initiate(
        provider,
        x3dhInitiate(provider, {
          identityKeyPair: this.#identity,
          identityDhKeyPair: provider.x25519KeyPair(),
          bundle,
          organizationKey: crowd.organizationKey,
        }),
      ),
    );
    const clock = crowd.clock + 1n;
    const now = crowd.now();
    const event: OrgEventOf<"request.sent"> = {
      id: "",
      type: "request.sent",
      author: this.memberId,
      clock,
      sentAt: now,
      body: { chatId: "", ensName: "", displayName: this.#init.displayName ?? "" },
    };
    const keys = await this.#seal(cpu, clock, {
      case: "memberKeys",
      value: {
        identityKey: this.#identity.publicKey,
        signingKey: this.#signing.publicKey,
        prekey: this.#prekey.publicKey,
        prekeyVersion: 0n,
      },
    });
    const request = await this.#seal(cpu, clock, {
      case: "requestToJoin",
      value: requestToJoinToWire(event, crowd.organizationId),
    });
    this.times.requestCpuMs = cpu.ms;
    this.status = "requested";
    this.times.requested = performance.now();
    const topic = requestsTopic(crowd.organizationKey);
    // Member keys first: the owner needs them to add this member when it accepts. Both leave at
    // once, as from the client's outbox: between them the owner holds a handshake, and it holds at
    // most `maxHandshakes` (16) of those — 200 members whose keys all came before their requests
    // would see most of their handshakes dropped (found by this bench).
    await Promise.all([
      crowd.transport.publish(topic, keys),
      crowd.transport.publish(topic, request),
    ]);
  }

  async #seal(
    cpu: { ms: number },
    clock: bigint,
    content: PairwiseContentInit,
  ): Promise<Uint8Array> {
    const crowd = this.#crowd;
    const session = this.#session as PairwiseSession;
    return await timed(cpu, () =>
      sealEnvelope(
        {
          type: "pairwise",
          organizationId: crowd.organizationKey,
          clock,
          contentTopic: requestsTopic(crowd.organizationKey),
          message: decodePairwiseMessage(session.encrypt(encodePairwiseContent({ content }))),
        },
        ed25519EnvelopeSigner(crowd.provider, this.#identity.secretKey),
      ),
    );
  }

  /** A message on this member's inbox: the owner's response, or the Welcome. Never throws. */
  async onInbox(message: TransportMessage): Promise<void> {
    const crowd = this.#crowd;
    const session = this.#session;
    if (session === undefined) return;
    try {
      const opened = await openEnvelope(message.payload, {
        contentTopic: this.#inboxTopic,
        organizationId: crowd.organizationKey,
        accept: ["pairwise"],
        verify: ed25519EnvelopeVerifier(crowd.provider),
      });
      if (opened.type !== "pairwise" || !equalBytes(opened.signer, crowd.organizationKey)) return;
      const content = decodePairwiseContent(session.decrypt(opened.payload)).content;
      if (content.case === "requestToJoinResponse") {
        if (this.status !== "requested") return;
        this.status = content.value.accepted ? "accepted" : "rejected";
        if (!content.value.accepted) this.rejection = content.value.rejectionReason ?? "";
        this.times.accepted = performance.now();
        if (this.status === "rejected") await this.#closeInbox();
        this.#changed();
      } else if (content.case === "welcome") {
        this.#waiting = content.value;
        this.#tryWelcome();
      }
    } catch {
      crowd.unopenable++;
    }
  }

  /** A roster became known: a Welcome waiting for it opens. */
  onRoster(roster: KnownRoster): void {
    if (this.#waiting !== undefined && equalBytes(this.#waiting.keyId, roster.keyId)) {
      this.#tryWelcome();
    }
  }

  #tryWelcome(): void {
    const welcome = this.#waiting;
    if (welcome === undefined || welcome.channelId !== "") return;
    const crowd = this.#crowd;
    const known = crowd.rosters.get(welcome.keyId);
    if (known === undefined) {
      crowd.wait(this);
      return;
    }
    crowd.unwait(this);
    this.#waiting = undefined;
    const start = cpuClock();
    const group = MemberGroup.fromWelcome({
      provider: crowd.provider,
      welcome,
      roster: known.roster,
      rosterHash: known.rosterHash,
      signingSecretKey: this.#signing.secretKey,
      prekeySecret: this.#prekey.secretKey,
      now: crowd.now(),
    });
    this.times.welcomeCpuMs = cpuClock() - start;
    this.times.welcomed = performance.now();
    if (this.status === "requested") this.times.accepted ??= this.times.welcomed;
    this.status = "welcomed";
    this.group = group;
    void this.#closeInbox();
    if (this.#following) this.followUp();
    this.#changed();
  }

  /**
   * Keeps the group and follows the epochs after the Welcome (add steps, KeyUpdates). Otherwise the
   * group is dropped once entered ({@link release}).
   */
  keepGroup(): void {
    this.#following = true;
    this.#crowd.follow(this);
  }

  /** No longer follows (its crowd's `unfollow`): drops the group. */
  stopFollowing(): void {
    this.#following = false;
    this.group = undefined;
  }

  /** Drops the group (a non-follower, once admitted): only the member's keys stay in memory. */
  release(): void {
    if (this.#following) return;
    this.group = undefined;
  }

  /**
   * Applies what the crowd holds after this member's epoch: add steps (the next epoch's roster, an
   * add), a KeyUpdate (its chunks and roster). Synchronous except opening chunk envelopes. Never throws.
   */
  followUp(): void {
    if (!this.#following || this.group === undefined) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    void this.#followUp()
      .catch(() => {
        this.#crowd.unopenable++;
      })
      .finally(() => {
        this.#busy = false;
        if (this.#again) {
          this.#again = false;
          this.followUp();
        }
      });
  }

  #busy = false;
  #again = false;

  async #followUp(): Promise<void> {
    const crowd = this.#crowd;
    for (;;) {
      const group = this.group;
      if (group === undefined || group.status !== "member") return;
      const next = [...crowd.rosters.all()].find(
        (r) => r.epoch === group.epoch + 1n && equalBytes(r.previousKeyId, group.keyId),
      );
      if (next === undefined) return;
      if (next.change === RosterChangeKind.ADD) {
        const outcome = group.applyAdd({
          roster: next.roster,
          now: crowd.now(),
          epoch: next.epoch,
          previousKeyId: next.previousKeyId,
          keyId: next.keyId,
        });
        if (outcome.status !== "applied") return;
        this.#changed();
        continue;
      }
      const chunks = crowd.chunks.get(toHex(next.keyId)) ?? [];
      if (chunks.length === 0) return;
      // Every chunk at once: the member verifies only the chunk holding its entry (the others only
      // before concluding it was removed). Its awaits are microtasks only; run one member at a
      // time so that the CPU measured around it is this member's.
      const envelopes = chunks.map(({ bytes }) => bytes);
      const { outcome, ms } = await oneAtATime(async () => {
        const start = cpuClock();
        const outcome = await group.applyKeyUpdateEnvelopes(envelopes, crowd.now(), {
          roster: next.roster,
        });
        return { outcome, ms: cpuClock() - start };
      });
      const status = outcome.transition?.status;
      if (status === "removed") {
        this.#changed();
        return;
      }
      if (status !== "applied") return;
      // The new epoch's roster, for the members measured alone (`member-alone.ts`; captured
      // before the removal's clock started).
      const alone = crowd.alone;
      if (alone !== undefined && alone.keyIdHex === undefined) {
        alone.keyIdHex = toHex(next.keyId);
        alone.rosters.set(alone.keyIdHex, next.roster);
      }
      this.times.keyUpdateCpuMs = ms;
      this.times.rekeyed = performance.now();
      this.#changed();
    }
  }

  async #closeInbox(): Promise<void> {
    this.#session = undefined;
    this.#crowd.stopInbox(this.#inboxTopic);
    const inbox = this.#inbox;
    this.#inbox = undefined;
    await inbox?.unsubscribe();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
