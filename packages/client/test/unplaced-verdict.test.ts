/**
 * A message of an epoch that only a waiting piece names (strict script 114 of
 * `fork-convergence.test.ts`): a1, at epoch 9, got a2's message of epoch 7 (a2's add step on a2's
 * losing sibling) while only that epoch's roster delta, waiting in the roster book for its parent's
 * roster, named it. Judged "past" (no roster to tell a sibling branch), it was dropped; a1 learned
 * both rosters and entered that branch moments later. Such a message is kept as foreign now and
 * judged again once its roster is learned. An epoch whose roster was held and pruned stays "past":
 * kept as foreign, its message would wait for a roster that never comes again (`convergence.test.ts`
 * seed 0xc0ffee, script 5: a newcomer's announced messages of epochs before it joined).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { defaultProvider, ed25519EnvelopeSigner, ed25519EnvelopeVerifier } from "@orgchat/crypto";
import { describe, expect, it } from "vitest";
import { toHex } from "../src/encoding.js";
import {
  openEpochRoster,
  rosterDeltaMessage,
  rosterSnapshotMessages,
  sealEpochRosters,
} from "../src/epoch-roster.js";
import { isUnplaced, judgeUnopened, unopenedVerdict } from "../src/key-evidence.js";
import type { MemberOrg } from "../src/org.js";
import { RosterBook } from "../src/roster-book.js";
import { seededRandom } from "./helpers.js";
import { nextEpoch, seededLeaves } from "./roster-fixtures.js";

const provider = defaultProvider();
const ownerSecret = sha256(new TextEncoder().encode("unplaced-verdict owner"));
const orgKey = provider.ed25519PublicKey(ownerSecret);
const owner = ed25519EnvelopeSigner(provider, ownerSecret);
const verify = ed25519EnvelopeVerifier(provider);
const random = seededRandom(114);
const [me, ...others] = seededLeaves(8, 114) as [ReturnType<typeof seededLeaves>[0]];
const leaf = () => others.shift() ?? seededLeaves(1, 115)[0];

/** Seals and opens owner-signed roster messages, as `KeySync` hands them to the book. */
async function opened(messages: Parameters<typeof sealEpochRosters>[0]["messages"]) {
  const sealed = await sealEpochRosters({
    organizationId: orgKey,
    signer: owner,
    clock: 9n,
    messages,
  });
  return Promise.all(
    sealed.map((s) =>
      openEpochRoster(s.bytes, { organizationId: orgKey, contentTopic: s.topic, verify }),
    ),
  );
}

/** A member holding the organization's group at `held`, with `book` as its roster book. */
function member(book: RosterBook, held: bigint): MemberOrg {
  return {
    role: "member",
    rosters: book,
    log: { state: { epochs: [] } },
    member: {
      groups: new Map([["", { status: "member", epoch: held, keepsParent: () => false }]]),
      waitingWelcomes: new Map(),
      waitingChunks: new Map(),
    },
  } as unknown as MemberOrg;
}

describe("a message of an epoch only a waiting roster delta names", () => {
  it("is kept as foreign while the delta waits, judged once the roster is placed", async () => {
    // Epochs 0 ← 1 ← 2 (a branch a1 has not learned); a1 holds epoch 9 of another branch.
    const e0 = nextEpoch(undefined, [leaf(), me], random(8));
    const e1 = nextEpoch(e0, [...e0.roster, leaf()], random(8));
    const e2 = nextEpoch(e1, [...e1.roster, leaf()], random(8));
    const book = new RosterBook(provider);
    const [snapshot] = await opened(rosterSnapshotMessages(e0));
    expect(book.receive(snapshot as never, "s0").status).toBe("learned");
    const [d2] = await opened([rosterDeltaMessage(e2, e1.roster) as never]);
    expect(book.receive(d2 as never, "d2")).toEqual({ status: "waiting" });
    const org = member(book, 9n);
    const k2 = toHex(e2.keyId);
    expect(book.named(k2)?.epoch).toBe(2n);
    expect(isUnplaced(org, k2)).toBe(true);
    expect(unopenedVerdict(org, k2, me.identityKey)).toBe("foreign");
    // The parent's delta comes: epoch 2's roster is placed, and the message is judged by it.
    const [d1] = await opened([rosterDeltaMessage(e1, e0.roster) as never]);
    expect(book.receive(d1 as never, "d1").status).toBe("learned");
    expect(isUnplaced(org, k2)).toBe(false);
    expect(unopenedVerdict(org, k2, me.identityKey)).toBe("past");
    // Pruned (once epoch 3's is here: the newest roster is never dropped), the epoch stays
    // placed: past, never foreign again.
    const e3 = nextEpoch(e2, [...e2.roster, leaf()], random(8));
    const [d3] = await opened([rosterDeltaMessage(e3, e2.roster) as never]);
    expect(book.receive(d3 as never, "d3").status).toBe("learned");
    expect(book.drop(k2)).toBe(true);
    expect(book.get(k2)).toBeUndefined();
    expect(isUnplaced(org, k2)).toBe(false);
    expect(unopenedVerdict(org, k2, me.identityKey)).toBe("past");
  });

  it("waits as before when the waiting delta's epoch is above the one held", async () => {
    const e0 = nextEpoch(undefined, [leaf(), me], random(8));
    const e1 = nextEpoch(e0, [...e0.roster, leaf()], random(8));
    const e2 = nextEpoch(e1, [...e1.roster, leaf()], random(8));
    const book = new RosterBook(provider);
    const [d2] = await opened([rosterDeltaMessage(e2, e1.roster) as never]);
    expect(book.receive(d2 as never, "d2")).toEqual({ status: "waiting" });
    expect(unopenedVerdict(member(book, 1n), toHex(e2.keyId), me.identityKey)).toBe("waiting");
  });
});

describe("judgeUnopened with an unplaced epoch", () => {
  const evidence = { channelId: "", epoch: 7n };
  const base = { evidence, roster: undefined, identityKey: me.identityKey };
  it("is foreign at or below the held epoch, waiting above it", () => {
    expect(judgeUnopened({ ...base, heldEpoch: 9n, unplaced: true })).toBe("foreign");
    expect(judgeUnopened({ ...base, heldEpoch: 7n, unplaced: true })).toBe("foreign");
    expect(judgeUnopened({ ...base, heldEpoch: 6n, unplaced: true })).toBe("waiting");
    expect(judgeUnopened({ ...base, heldEpoch: undefined, unplaced: true })).toBe("waiting");
  });
  it("is past at or below the held epoch when the epoch was placed", () => {
    expect(judgeUnopened({ ...base, heldEpoch: 9n, unplaced: false })).toBe("past");
    expect(judgeUnopened({ ...base, heldEpoch: 9n })).toBe("past");
  });
  it("is foreign when no record names it, whatever else", () => {
    expect(judgeUnopened({ ...base, evidence: undefined, heldEpoch: 9n })).toBe("foreign");
  });
});
