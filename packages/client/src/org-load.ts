import { fromHex, hasErrorName, toHex } from "@orgchat/base";
import {
  ed25519EnvelopeSigner,
  MemberGroup,
  OwnerPrekeys,
  PairwiseSession,
  type PrekeyBundleFields,
} from "@orgchat/crypto";
import { compareEvents, type OrgEvent } from "@orgchat/state";
import type { StoreOp } from "@orgchat/store";
import type { ClientCore } from "./core.js";
import { storedDescriptionState } from "./description-sync.js";
import { decodeJson, decodeStored, encodeStored } from "./encoding.js";
import { StoreCorruptedError } from "./errors.js";
import { loadGroupRecords, type StoredGroupRecords } from "./group-records.js";
import type { MessageMeta } from "./held-events.js";
import { checkDeferredRosters, type DeferredRosterChecks, KeptRosters } from "./kept-rosters.js";
import {
  newMemberOrg,
  newOwnerOrg,
  type Org,
  type OrgKeys,
  type OwnRequest,
  type PendingMessage,
  type StoredDescription,
} from "./org.js";
import {
  descriptionKey,
  eventsLog,
  heldLog,
  messagesLog,
  type OrgMeta,
  type OrgSecrets,
  orgSpace,
  pendingLog,
  provenLog,
} from "./org-records.js";
import { readOwnerGroupHeads } from "./owner-groups-later.js";
import { decodeRestoreRecord, restoreRecordKey } from "./restore.js";
import { loadRosterRecords } from "./roster-records.js";
import type { StateSnapshots } from "./state-snapshots.js";
import { readWaitingWelcome } from "./waiting-welcomes.js";

/** How {@link loadOrg} loads. */
export interface LoadOrgOptions {
  /**
   * "after-start": an owner's groups are restored by a task queued with `queueOwnerGroups`
   * (`owner-groups-later.ts`), not before the load returns; "now" by default.
   */
  readonly ownerGroups?: "now" | "after-start";
}

/**
 * Loads one organization from the store: its records, keys, rosters, groups, state snapshot and
 * the events after it, held events, message metadata and pending messages.
 * @param core the client's core (store, vault, provider, config)
 * @param hex the organization's id, hex
 * @param storedGroups filled with the group records the store holds (the commit path's view)
 * @param snapshots the organization's state-snapshot policy
 * @param options whether an owner's groups wait for a task after the start
 * @returns the organization as last committed
 * @throws {StoreCorruptedError} when a record is missing or unreadable
 */
export async function loadOrg(
  core: ClientCore,
  hex: string,
  storedGroups: StoredGroupRecords,
  snapshots: StateSnapshots,
  options: LoadOrgOptions = {},
): Promise<Org> {
  const { store, vault, provider } = core.p;
  const space = orgSpace(hex);
  const read = async (key: string) => {
    const bytes = await store.get(space, key);
    if (bytes === undefined) throw new StoreCorruptedError(`${space}/${key}`);
    return bytes;
  };
  try {
    const meta = decodeJson<OrgMeta>(await read("meta"));
    const secrets = vault.openJson<OrgSecrets>(space, "secrets", await read("secrets"));
    const keys: OrgKeys = {
      signingSecret: secrets.signingSecret,
      signingKey: provider.ed25519PublicKey(secrets.signingSecret),
      prekeySecret: secrets.prekeySecret,
      prekey: provider.x25519PublicKey(secrets.prekeySecret),
    };
    const rules = { maxPendingRequests: core.p.config.maxPendingRequests };
    let org: Org;
    if (secrets.orgSecret !== undefined) {
      if (meta.role !== "owner") throw new StoreCorruptedError(`${space}/meta`);
      org = newOwnerOrg(
        provider,
        fromHex(hex),
        keys,
        {
          orgSecret: secrets.orgSecret,
          signer: ed25519EnvelopeSigner(provider, secrets.orgSecret),
          prekeys: OwnerPrekeys.deserialize(
            provider,
            vault.open(space, "prekeys", await read("prekeys")),
          ),
        },
        rules,
      );
    } else {
      if (meta.role === "owner") throw new StoreCorruptedError(`${space}/secrets`);
      org = newMemberOrg(provider, fromHex(hex), meta.role, keys, rules);
    }
    org.lastSeen = meta.lastSeen;
    org.discovered = meta.discovered;
    const departed = await store.get(space, "departed");
    if (departed !== undefined) {
      for (const member of decodeJson<string[]>(departed)) org.departed.add(member);
    }
    for (const [topic, mark] of Object.entries(meta.marks ?? {})) org.marks.set(topic, mark);
    if (org.role === "owner") {
      for (const [channelId, members] of Object.entries(meta.pendingRemovals)) {
        org.owner.pendingRemovals.set(channelId, new Set(members));
      }
      if (meta.rekeyDueAt !== undefined) org.owner.rekeyDueAt = meta.rekeyDueAt;
    } else {
      const member = org.member;
      if (meta.request !== undefined) member.request = meta.request as OwnRequest;
      if (meta.bundle !== undefined) member.bundle = meta.bundle as PrekeyBundleFields;
    }
    for (const key of await store.keys(space, { prefix: "retired/" })) {
      const record = vault.openJson<{ channelId: string; retiredAt: number; group: Uint8Array }>(
        space,
        key,
        await read(key),
      );
      if (org.role === "owner") throw new StoreCorruptedError(`${space}/${key}`);
      org.member.retiredGroups.set(key.slice("retired/".length), {
        channelId: record.channelId,
        retiredAt: record.retiredAt,
        group: MemberGroup.deserialize(provider, record.group),
      });
    }
    // The owner's sessions and member keys are read when needed (owner-keys.ts), and so are a
    // delegate's (its desk: a `prekeys` record, docs/DELEGATION.md).
    if (org.role !== "owner") {
      const member = org;
      await core.delegates.load(
        member,
        async (key) => {
          const bytes = await store.get(space, key);
          return bytes === undefined ? undefined : vault.open(space, key, bytes);
        },
        (prefix) => store.keys(space, { prefix }),
      );
      const desk = member.member.delegate !== undefined;
      const owner = await store.get(space, "pairwise/owner");
      if (owner !== undefined) {
        member.member.ownerSession = PairwiseSession.deserialize(
          provider,
          vault.open(space, "pairwise/owner", owner),
        );
      }
      if (!desk) {
        for (const key of await store.keys(space, { prefix: "pairwise/" })) {
          if (key !== "pairwise/owner") throw new StoreCorruptedError(`${space}/${key}`);
        }
        const memberKeys = await store.keys(space, { prefix: "memberkeys/", limit: 1 });
        if (memberKeys.length > 0) throw new StoreCorruptedError(`${space}/${memberKeys[0]}`);
      }
    }
    // Before the groups: a group restored in pieces takes its rosters from the book.
    // Their hashes are checked after the groups: a group's restore checks those it is given.
    const deferredRosters: DeferredRosterChecks = new Map();
    // Only each group's newest kept roster is built now; older ones at first read (`KeptRosters`).
    const kept = new KeptRosters(provider, space, (keyIdHex) => org.rosters.get(keyIdHex)?.roster);
    await loadRosterRecords(store, space, org.rosters, deferredRosters, kept);
    // Groups in pieces (head, member and epoch records), after the rosters they refer to.
    const handedOut = new Set<string>();
    const groupsInit = {
      store,
      provider,
      vault,
      space,
      stored: storedGroups,
      roster: (keyIdHex: string) => {
        handedOut.add(keyIdHex);
        return org.rosters.get(keyIdHex)?.roster;
      },
    };
    if (org.role === "owner" && options.ownerGroups === "after-start") {
      // Every kept roster checked now (a corrupted one is refused at start): the groups' restore,
      // queued after the start, finds their hashes noted (`rosterHashOnce`).
      checkDeferredRosters(org.rosters, space, deferredRosters, new Set(), []);
      await readOwnerGroupHeads(org, groupsInit);
    } else if (org.role === "owner") {
      const groups = await loadGroupRecords({ ...groupsInit, role: "owner" });
      for (const [channelId, group] of groups) org.owner.groups.set(channelId, group);
      checkDeferredRosters(org.rosters, space, deferredRosters, handedOut, groups.values());
    } else {
      const groups = await loadGroupRecords({ ...groupsInit, role: "member" });
      for (const [channelId, group] of groups) org.member.groups.set(channelId, group);
      checkDeferredRosters(org.rosters, space, deferredRosters, handedOut, groups.values());
    }
    if (org.role !== "owner") {
      const restore = await store.get(space, restoreRecordKey);
      if (restore !== undefined) {
        org.member.restore = decodeRestoreRecord(restore, `${space}/${restoreRecordKey}`);
      }
    }
    for (const key of await store.keys(space, { prefix: "welcome/" })) {
      const opened = vault.openJson<unknown>(space, key, await read(key));
      if (org.role === "owner") throw new StoreCorruptedError(`${space}/${key}`);
      const welcome = readWaitingWelcome(opened, `${space}/${key}`);
      org.member.waitingWelcomes.set(toHex(welcome.keyId), welcome);
    }
    const snapshotBytes = await snapshots.restore(org);
    const descriptionRecord = await store.get(space, descriptionKey);
    const description =
      descriptionRecord === undefined
        ? meta.description
        : decodeStored<StoredDescription>(descriptionRecord).value;
    if (description !== undefined && org.role !== "owner") {
      org.member.description = description;
      const described = storedDescriptionState(description, hex);
      if (described !== undefined) org.log.rebase(described.state);
    }
    // Proof of epoch is a flag on the event's record; stores written before it kept a `proven/` log.
    const proven = new Set((await store.range(provenLog(hex))).map((entry) => entry.id));
    const stored: Array<{ event: OrgEvent; proven: boolean }> = [];
    for (const entry of await store.range(eventsLog(hex))) {
      const { value: event, flag } = decodeStored<OrgEvent>(entry.value);
      stored.push({ event, proven: flag || proven.has(event.id) });
    }
    // The log's canonical order (the store's is clock, then id): each event then lands last,
    // where the log reduces it directly, instead of re-folding up to a checkpoint interval.
    stored.sort((a, b) => compareEvents(a.event, b.event));
    const expired = await snapshots.expireHistory(org, stored);
    for (const { event, proven: isProven } of stored) {
      if (expired.has(event.id)) continue;
      org.log.add(event);
      if (isProven) org.proven.set(event.id, event);
    }
    snapshots.loaded(org, stored.length - expired.size, snapshotBytes);
    await loadHeld(core, org);
    for (const channelId of org.log.state.channels.keys()) {
      for (const entry of await store.range(messagesLog(hex, channelId))) {
        org.messageMeta.set(entry.id, decodeStored<MessageMeta>(entry.value).value);
      }
    }
    for (const entry of await store.range(pendingLog(hex))) {
      const pending = decodeStored<PendingMessage>(entry.value).value;
      org.pending.set(pending.id, pending);
    }
    return org;
  } catch (cause) {
    if (hasErrorName(cause, StoreCorruptedError.errorName)) throw cause;
    throw new StoreCorruptedError(space, { cause });
  }
}

/**
 * The held events (`held/<id>`, oldest first) back under the quota: refused in their place again,
 * or — explained meanwhile — moved to the events log. Events refused that a store written before
 * the quota kept in the events log are refused again there, and shown once explained.
 */
async function loadHeld(core: ClientCore, org: Org): Promise<void> {
  const store = core.p.store;
  const log = heldLog(org.hex);
  const ops: StoreOp[] = [];
  const stale: string[] = [];
  const kept: OrgEvent[] = [];
  for (const entry of await store.range(log)) {
    const held = decodeJson<{ event: OrgEvent; meta?: MessageMeta }>(entry.value);
    const result = org.log.add(held.event);
    if (result.rejected?.reason === "duplicate") {
      stale.push(entry.id);
      continue;
    }
    if (result.rejected === undefined) {
      stale.push(entry.id);
      kept.push(held.event);
      if (held.meta !== undefined) org.messageMeta.set(held.event.id, held.meta);
      continue;
    }
    const evicted = org.heldEvents.add({
      event: held.event,
      ...(held.meta === undefined ? {} : { meta: held.meta }),
      bytes: entry.value.length,
    });
    stale.push(...evicted);
  }
  // Explained by what the events log held (a crash between the two writes cannot leave this:
  // every move is one batch; a quota made smaller can).
  if (kept.length > 0) {
    ops.push({
      type: "append",
      log: eventsLog(org.hex),
      entries: kept.map((event) => ({
        id: event.id,
        sortKey: event.clock,
        value: encodeStored(event, org.proven.has(event.id)),
      })),
    });
    for (const event of kept) {
      if (event.type !== "message.posted") continue;
      const meta = org.messageMeta.get(event.id) ?? { sentAt: event.sentAt };
      ops.push({
        type: "append",
        log: messagesLog(org.hex, event.body.channelId),
        entries: [{ id: event.id, sortKey: event.clock, value: encodeStored(meta) }],
      });
    }
  }
  if (stale.length > 0) ops.push({ type: "deleteEntries", log, ids: stale });
  if (ops.length > 0) await store.batch(ops);
}
