/**
 * What a restored owner reads from Store before it carries its organization on (docs/RESTORE.md,
 * "Owner continuity: built"): the newest owner-signed description (a full one and the deltas after
 * it), every group's newest epoch number (owner- or delegate-signed rosters and KeyUpdates), the
 * roster of that epoch, and the highest clock signed as owner. Only what the organization key
 * (or, for the keys topics, a delegate the newest state ranks admin or manager, with the checks
 * members apply) signed counts: a stranger's forgeries are dropped and change nothing.
 *
 * Every byte is hostile: at most `maxBackfillPages` pages of 100 messages per topic are read, and
 * the description pieces held are bounded in count and bytes (beyond, the read is refused: the
 * resume stops with {@link OwnerHistoryGapError}, nothing sent).
 *
 * @module
 */
import { equalBytes, toHex } from "@orgchat/base";
import { type Roster, readKeyUpdateEnvelope } from "@orgchat/crypto";
import { canPost, type OrgState } from "@orgchat/state";
import {
  applyDescriptionDelta,
  assembleDescription,
  type DescribedState,
  describedState,
  openDescriptionPages,
  stateFromDescription,
} from "@orgchat/state/description";
import type { TransportMessage } from "@orgchat/transport";
import {
  type DescriptionDelta,
  decodeDescriptionPage,
  decodeSignedEnvelope,
  descriptionTopic,
  keysTopic,
  MessageType,
  openEnvelope,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { checkDelegateRoster } from "./delegate-commits.js";
import { isDelegate } from "./delegates.js";
import { maxHeldDescriptionDeltaBytes, maxHeldDescriptionDeltas } from "./description-sync.js";
import { hashId } from "./encoding.js";
import { type EpochRoster, openEpochRoster } from "./epoch-roster.js";
import { OwnerHistoryGapError } from "./errors.js";
import type { OwnerOrg } from "./org.js";
import { wantedGroups } from "./owner-controller.js";
import { RosterBook } from "./roster-book.js";

const component = "client/owner-history";

/** Bounds of the description pieces held while reading Store (every byte is hostile). */
export const ownerHistoryLimits = {
  /** Description headers held: the newest by clock. */
  maxHeaders: 64,
  /** Description pages held (count). */
  maxPages: 4_096,
  /** Description pages held (bytes). */
  maxPageBytes: 32 * 1024 * 1024,
} as const;

/** What Store says about an owned organization, read by a restored owner. */
export interface OwnerHistory {
  /** The newest owner-signed description with the deltas after it applied. */
  readonly described: DescribedState;
  /** Per group: the highest epoch seen, signed by the owner or a delegate. */
  readonly highest: ReadonlyMap<string, bigint>;
  /** Per group: the roster of that epoch (hash-checked, from a snapshot or a chain of deltas). */
  readonly rosters: ReadonlyMap<string, EpochRoster>;
  /** The highest clock of an owner-signed message read. */
  readonly clock: bigint;
}

/** Reads every page of `topic` from Store, oldest first, up to the client's page bound. */
async function readTopic(
  c: ClientCore,
  topic: string,
  each: (message: TransportMessage) => Promise<void>,
): Promise<void> {
  let cursor: string | undefined;
  for (let page = 0; page < c.p.config.maxBackfillPages; page++) {
    const result = await c.p.transport.queryHistory({
      contentTopics: [topic],
      direction: "forward",
      pageSize: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const message of result.messages) await each(message);
    if (result.cursor === undefined) return;
    cursor = result.cursor;
  }
}

/** The description topic: the newest complete owner-signed description, the deltas after it. */
async function readDescription(
  c: ClientCore,
  org: OwnerOrg,
): Promise<{ described: DescribedState | undefined; clock: bigint }> {
  const headers = new Map<string, { clock: bigint; payload: Uint8Array }>();
  const pages = new Map<string, Uint8Array>();
  let pageBytes = 0;
  const deltas = new Map<bigint, DescriptionDelta>();
  let deltaBytes = 0;
  let clock = 0n;
  let overflow = false;
  await readTopic(c, descriptionTopic(org.id), async (message) => {
    let envelope: ReturnType<typeof decodeSignedEnvelope>;
    try {
      envelope = decodeSignedEnvelope(message.payload);
    } catch {
      return;
    }
    const type = envelope.type;
    if (type === MessageType.PREKEY_BUNDLE || type === MessageType.DESCRIPTION_DELTA) {
      let opened: Awaited<ReturnType<typeof openEnvelope>>;
      try {
        opened = await openEnvelope(message.payload, {
          contentTopic: descriptionTopic(org.id),
          organizationId: org.id,
          accept: ["prekey-bundle", "description-delta"],
          verify: c.verify,
        });
      } catch (error) {
        c.report({ component, reason: "refused", topic: message.contentTopic, error });
        return;
      }
      if (opened.clock > clock) clock = opened.clock;
      if (opened.type !== "description-delta" || deltas.has(opened.message.baseClock)) return;
      deltaBytes += opened.payload.length;
      if (deltas.size >= maxHeldDescriptionDeltas || deltaBytes > maxHeldDescriptionDeltaBytes) {
        overflow = true;
        return;
      }
      deltas.set(opened.message.baseClock, opened.message);
      return;
    }
    if (type !== MessageType.DESCRIPTION_PAGE) return;
    const opened = await openDescriptionPages([message.payload], {
      organizationId: org.hex,
      verify: c.verify,
    });
    if (opened.refused.length > 0) {
      c.report({ component, reason: "refused-page", topic: message.contentTopic });
      return;
    }
    if (envelope.clock > clock) clock = envelope.clock;
    if (opened.header !== undefined) {
      headers.set(hashId(opened.header), { clock: envelope.clock, payload: opened.header });
      if (headers.size > ownerHistoryLimits.maxHeaders) {
        // The oldest header goes (its pages are of no use once a newer one assembles).
        let oldest: [string, bigint] | undefined;
        for (const [hash, header] of headers) {
          if (oldest === undefined || header.clock < oldest[1]) oldest = [hash, header.clock];
        }
        if (oldest !== undefined) headers.delete(oldest[0]);
      }
      return;
    }
    const hash = hashId(envelope.payload);
    if (pages.has(hash)) return;
    pageBytes += envelope.payload.length;
    if (pages.size >= ownerHistoryLimits.maxPages || pageBytes > ownerHistoryLimits.maxPageBytes) {
      overflow = true;
      return;
    }
    pages.set(hash, envelope.payload);
  });
  if (overflow) return { described: undefined, clock };
  const newestFirst = [...headers.values()].sort((a, b) =>
    a.clock > b.clock ? -1 : a.clock < b.clock ? 1 : 0,
  );
  for (const header of newestFirst) {
    const decoded = decodeDescriptionPage(header.payload);
    const held: Uint8Array[] = [];
    for (const hash of decoded.index?.pageHashes ?? []) {
      const page = pages.get(toHex(hash));
      if (page !== undefined) held.push(page);
    }
    const assembled = assembleDescription({ header: header.payload, pages: held });
    if (!assembled.ok) continue;
    let described = describedState(stateFromDescription(assembled.description, org.hex));
    for (;;) {
      const delta = deltas.get(described.state.clock);
      if (delta === undefined) break;
      const applied = applyDescriptionDelta(described, delta, org.hex);
      if (!applied.ok) break;
      described = applied.described;
    }
    return { described, clock };
  }
  return { described: undefined, clock };
}

/**
 * Reads Store for a restored owner (see the module).
 * @param org - the organization as the backup holds it (its groups, and those the newest state
 *   runs, name the keys topics read)
 * @returns the newest description, epochs, rosters and owner clock
 * @throws {OwnerHistoryGapError} when Store has no complete owner-signed description at or above
 *   the backup's clock, or lacks the roster of a group's highest epoch
 */
export async function readOwnerHistory(c: ClientCore, org: OwnerOrg): Promise<OwnerHistory> {
  const backupClock = org.log.state.clock;
  const read = await readDescription(c, org);
  const described = read.described;
  if (described === undefined || described.state.clock < backupClock) {
    throw new OwnerHistoryGapError(
      org.hex,
      `Store holds no complete owner-signed description at or above the backup's clock ${backupClock}` +
        (described === undefined ? "" : ` (the newest is at ${described.state.clock})`),
    );
  }
  let clock = read.clock;
  const state = described.state;
  const committer = (key: Uint8Array) => isDelegate(state, toHex(key));
  const book = new RosterBook(c.p.provider);
  for (const record of org.rosters.values()) book.add(record);
  const highest = new Map<string, bigint>();
  const rosters = new Map<string, EpochRoster>();
  // The groups the copy holds, and those the newest state runs (a restricted channel created after
  // the backup: its roster comes from a snapshot on Store).
  const groups = new Set(org.owner.groups.keys());
  if (state.encrypted) for (const channelId of wantedGroups(state)) groups.add(channelId);
  for (const channelId of groups) {
    const topic = keysTopic(org.id, channelId === "" ? undefined : channelId);
    let top = org.owner.groups.get(channelId)?.epoch ?? 0n;
    await readTopic(c, topic, async (message) => {
      let type: MessageType;
      try {
        type = decodeSignedEnvelope(message.payload).type;
      } catch {
        return;
      }
      if (type === MessageType.EPOCH_ROSTER) {
        let signer: Uint8Array | undefined;
        const opened = await openEpochRoster(message.payload, {
          organizationId: org.id,
          contentTopic: topic,
          verify: c.verify,
          delegates: {
            committers: committer,
            check: (key, roster) => {
              signer = key;
              return checkDelegateRoster(c.p.provider, state, org.id, key, roster);
            },
          },
        });
        if (opened === undefined) return;
        if (signer === undefined) {
          const envelopeClock = decodeSignedEnvelope(message.payload).clock;
          if (envelopeClock > clock) clock = envelopeClock;
        }
        if (opened.epoch > top) top = opened.epoch;
        book.receive(opened, hashId(message.payload));
      } else if (type === MessageType.KEY_UPDATE) {
        try {
          const chunk = await readKeyUpdateEnvelope({
            provider: c.p.provider,
            group: { organizationId: org.id, channelId },
            bytes: message.payload,
            committers: committer,
          });
          if (chunk.chunk.epoch > top && chunk.verify()) top = chunk.chunk.epoch;
        } catch (error) {
          c.report({ component, reason: "key-update-refused", topic, error });
        }
      }
    });
    highest.set(channelId, top);
    const newest = book.newest(channelId);
    if (newest === undefined || newest.epoch < top) {
      throw new OwnerHistoryGapError(
        org.hex,
        `Store lacks the roster of epoch ${top} of group "${channelId}"` +
          (newest === undefined ? "" : ` (the newest roster read is of epoch ${newest.epoch})`),
      );
    }
    rosters.set(channelId, newest);
  }
  return { described, highest, rosters, clock };
}

/**
 * The roster a re-genesis takes over: the newest one read, with every leaf emptied whose member the
 * state no longer wants in the group (departed, removed, banned, or without access to a restricted
 * channel). Leaf 0 (the owner) stays. A member that joined after the backup is in it with the keys
 * its add step listed.
 */
export function regenesisRoster(
  state: OrgState,
  channelId: string,
  roster: Roster,
  ownerId: Uint8Array,
): Roster {
  return roster.map((leaf, index) => {
    if (leaf === undefined) return undefined;
    if (index === 0) return equalBytes(leaf.identityKey, ownerId) ? leaf : undefined;
    const member = toHex(leaf.identityKey);
    const wanted =
      state.members.has(member) && (channelId === "" || canPost(state, member, channelId));
    return wanted ? leaf : undefined;
  });
}
