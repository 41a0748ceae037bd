/**
 * The owner's device id, and what a device does when it sees another device run its organization
 * as owner (docs/RESTORE.md, "Two owner devices at once").
 *
 * Every store draws a random 16-byte device id (`identity/owner-device`), never carried over by a
 * restore (`markRestored` drops it: the restored store draws a new one). The owner puts it in every
 * prekey bundle it publishes (`PrekeyBundle.owner_device`, signed by the organization key in the
 * envelope). A device that reads an owner-signed bundle with another device id at a clock above the
 * one it started at (`since`: history before that is its own past) has a twin: it records the fork,
 * emits `owner:fork-detected`, and stops writing as owner (every signature with the organization key
 * throws {@link OwnerForkDetectedError}); it reads on. Only the organization key signs such a
 * bundle: a stranger cannot trigger it.
 *
 * @module
 */
import { equalBytes, fromHex, toHex } from "@orgchat/base";
import type { Store } from "@orgchat/store";
import {
  descriptionTopic,
  type EnvelopeSigner,
  openEnvelope,
  requestsTopic,
  wireLimits,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { publishDescription } from "./description-publisher.js";
import { decodeJson, encodeJson, hashId } from "./encoding.js";
import {
  EventRejectedError,
  NotOwnerError,
  OwnerForkDetectedError,
  StoreCorruptedError,
} from "./errors.js";
import { newTxn, type OwnerOrg, type Txn } from "./org.js";
import { orgSpace } from "./org-records.js";
import { type OwnerRestoreStep, resumeRestoredOwner } from "./owner-restore.js";

/** Where the store's device id is kept: beside the identity record. */
export const ownerDeviceIdKey = { space: "identity", key: "owner-device" } as const;

/** The record of an owned organization's device state, in its organization's space. */
export const ownerDeviceRecordKey = "owner-device";

/** Another device's bundle seen at a clock this device did not write. */
export interface OwnerFork {
  /** The other device's id (hex). */
  readonly device: string;
  /** The clock of its bundle. */
  readonly clock: bigint;
  /** When this device saw it (ms since the epoch, local clock). */
  readonly at: number;
}

/** What an owned organization keeps about its owner devices (`OwnerSide.device`). */
export interface OwnerDeviceState {
  /**
   * The device id this organization is written under: the store's, or a fresh one drawn by
   * {@link OwnerDevices.resume} (members see a new device and make a new session). Unset until the
   * organization's record is loaded or first written: the store's id then.
   */
  id?: Uint8Array | undefined;
  /**
   * The state's clock when this device started writing the organization: bundles of other devices
   * at or below it are its own past (the device it was copied from, before the copy).
   */
  since: bigint;
  /** Set once another device was seen writing as owner: nothing is signed as owner until resumed. */
  fork?: OwnerFork | undefined;
  /** Whether the record is in the store (a new organization writes it with its first publication). */
  stored: boolean;
}

/** The device state of a new organization: it started at clock 0, nothing stored yet. */
export function newOwnerDeviceState(): OwnerDeviceState {
  return { since: 0n, stored: false };
}

/**
 * The organization key's envelope signer, refusing while a fork is recorded: every owner-signed
 * message (description, bundle, KeyUpdate, roster, invitation, pairwise, channel post) goes through
 * it, so a halted device cannot write as owner whatever path tries.
 * @throws {OwnerForkDetectedError} from `sign` while `device.fork` is set
 */
export function forkGuardedSigner(
  organizationId: string,
  inner: EnvelopeSigner,
  device: OwnerDeviceState,
): EnvelopeSigner {
  return {
    scheme: inner.scheme,
    publicKey: inner.publicKey,
    sign(message: Uint8Array) {
      const fork = device.fork;
      if (fork !== undefined) throw new OwnerForkDetectedError(organizationId, fork.device);
      return inner.sign(message);
    },
  };
}

/** Longest `deviceOrigin` (characters). */
export const maxDeviceOriginChars = 1024;

/**
 * The store's owner device id, drawn (16 random bytes) and stored at the first start, and drawn
 * again when `origin` differs from the one stored with it: a data directory copied as files (not
 * through a backup and a restore) is another device, and the app tells it by where the store lives
 * (the CLI: the directory's real path and the store file's inode).
 * @param origin - where this store lives, as the app sees it (undefined: not checked)
 * @throws {StoreCorruptedError} when the stored id does not decode
 * @throws {RangeError} when `origin` is longer than {@link maxDeviceOriginChars}
 */
export async function ownerDeviceId(
  store: Store,
  random: (length: number) => Uint8Array,
  origin?: string,
): Promise<Uint8Array> {
  if (origin !== undefined && origin.length > maxDeviceOriginChars) {
    throw new RangeError(`deviceOrigin: at most ${maxDeviceOriginChars} characters`);
  }
  const bytes = await store.get(ownerDeviceIdKey.space, ownerDeviceIdKey.key);
  if (bytes !== undefined) {
    let record: { v: number; id: string; origin?: string };
    try {
      record = decodeJson<{ v: number; id: string; origin?: string }>(bytes);
      if (record.v !== 1 || !/^[0-9a-f]{32}$/.test(String(record.id))) throw new Error("format");
    } catch (cause) {
      throw new StoreCorruptedError(`${ownerDeviceIdKey.space}/${ownerDeviceIdKey.key}`, {
        cause,
      });
    }
    if (origin === undefined || record.origin === undefined || record.origin === origin) {
      if (origin !== undefined && record.origin === undefined) {
        await store.put(
          ownerDeviceIdKey.space,
          ownerDeviceIdKey.key,
          encodeJson({ ...record, origin }),
        );
      }
      return fromHex(record.id);
    }
  }
  const id = random(wireLimits.ownerDeviceBytes);
  if (id.length !== wireLimits.ownerDeviceBytes) {
    throw new RangeError(`random(${wireLimits.ownerDeviceBytes}) returned ${id.length} bytes`);
  }
  await store.put(
    ownerDeviceIdKey.space,
    ownerDeviceIdKey.key,
    encodeJson({ v: 1, id: toHex(id), ...(origin === undefined ? {} : { origin }) }),
  );
  return id.slice();
}

/** The stored form of {@link OwnerDeviceState}: clocks as decimal strings. */
interface OwnerDeviceRecord {
  readonly v: 1;
  /** The store's device id when the record was written (a copied store's record is its original's). */
  readonly store: string;
  /** The device id the organization is written under. */
  readonly device: string;
  readonly since: string;
  readonly fork?: { readonly device: string; readonly clock: string; readonly at: number };
}

/** What {@link OwnerDevices.status} tells about an owned organization. */
export interface OwnerDeviceStatus {
  /** This device's id (hex). */
  readonly device: string;
  /** The clock this device started writing at. */
  readonly since: bigint;
  /** The other device seen writing as owner, when one was. */
  readonly fork?: { readonly device: string; readonly clock: bigint; readonly at: number };
}

/**
 * The owner's devices: this store's id, each owned organization's device state (loaded at start,
 * stored with the first publication), the bundles of other devices read on the description topic.
 * Owns: `OwnerSide.device` and its record; `identity/owner-device`.
 */
export class OwnerDevices {
  readonly #c: ClientCore;
  #id: Uint8Array | undefined;
  /** The highest clock of another device's bundle seen since this device's `since` (memory). */
  readonly #others = new WeakMap<OwnerOrg, bigint>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** This store's device id (drawn at the first start). */
  get id(): Uint8Array {
    if (this.#id === undefined) throw new Error("owner device id read before the client started");
    return this.#id;
  }

  /**
   * Reads (or draws) the store's device id: at start, before any organization is loaded.
   * @param origin - where the store lives (`ClientInit.deviceOrigin`)
   */
  async start(origin?: string): Promise<void> {
    this.#id = await ownerDeviceId(this.#c.p.store, this.#c.p.random, origin);
  }

  /**
   * Loads an owned organization's device state. With no record of this device (a store from before
   * device ids, or a copy: the record is the original's), this device starts at the state's clock
   * and writes its record at once.
   * @throws {StoreCorruptedError} when the record does not decode
   */
  async load(org: OwnerOrg): Promise<void> {
    const c = this.#c;
    const device = org.owner.device;
    const bytes = await c.p.store.get(orgSpace(org.hex), ownerDeviceRecordKey);
    let record: OwnerDeviceRecord | undefined;
    if (bytes !== undefined) {
      try {
        record = decodeJson<OwnerDeviceRecord>(bytes);
        if (
          record.v !== 1 ||
          typeof record.since !== "string" ||
          typeof record.store !== "string" ||
          !/^[0-9a-f]{32}$/.test(String(record.device))
        ) {
          throw new Error("format");
        }
      } catch (cause) {
        throw new StoreCorruptedError(`${orgSpace(org.hex)}/${ownerDeviceRecordKey}`, { cause });
      }
    }
    if (record === undefined || record.store !== toHex(this.id)) {
      device.id = this.id;
      device.since = org.log.state.clock;
      device.fork = undefined;
      const txn = newTxn(org);
      this.record(org, txn);
      await c.persistence.commit(org, txn);
      return;
    }
    try {
      device.id = fromHex(record.device);
      device.since = BigInt(record.since);
      device.fork =
        record.fork === undefined
          ? undefined
          : { device: record.fork.device, clock: BigInt(record.fork.clock), at: record.fork.at };
      device.stored = true;
    } catch (cause) {
      throw new StoreCorruptedError(`${orgSpace(org.hex)}/${ownerDeviceRecordKey}`, { cause });
    }
  }

  /** The device id `org` is written under (the store's unless resumed here). */
  idOf(org: OwnerOrg): Uint8Array {
    return org.owner.device.id ?? this.id;
  }

  /** Writes the organization's device state in `txn`. */
  record(org: OwnerOrg, txn: Txn): void {
    const device = org.owner.device;
    const fork = device.fork;
    const record: OwnerDeviceRecord = {
      v: 1,
      store: toHex(this.id),
      device: toHex(this.idOf(org)),
      since: String(device.since),
      ...(fork === undefined
        ? {}
        : { fork: { device: fork.device, clock: String(fork.clock), at: fork.at } }),
    };
    txn.ops.push({
      type: "put",
      space: orgSpace(org.hex),
      key: ownerDeviceRecordKey,
      value: encodeJson(record),
    });
    device.stored = true;
  }

  /**
   * @throws {OwnerForkDetectedError} when another device was seen writing `org` as owner
   */
  check(org: OwnerOrg): void {
    const fork = org.owner.device.fork;
    if (fork !== undefined) throw new OwnerForkDetectedError(org.hex, fork.device);
  }

  /** This device's id and the organization's device state. */
  status(org: OwnerOrg): OwnerDeviceStatus {
    const device = org.owner.device;
    return {
      device: toHex(this.idOf(org)),
      since: device.since,
      ...(device.fork === undefined ? {} : { fork: { ...device.fork } }),
    };
  }

  /**
   * An owner bundle read on the organization's description topic. Verified first (the organization
   * key signs it, on this topic: nothing else is looked at). Another device's id at a clock above
   * `since` records the fork (once), emits `owner:fork-detected` and halts writing as owner.
   */
  async onBundle(org: OwnerOrg, bytes: Uint8Array, topic: string, id: string): Promise<void> {
    const c = this.#c;
    // Judged once per run (memory only: a restart reads history again, which decides the same).
    c.sync.seen.add(id);
    const device = org.owner.device;
    let opened: Awaited<ReturnType<typeof openEnvelope>>;
    try {
      opened = await openEnvelope(bytes, {
        contentTopic: descriptionTopic(org.id),
        organizationId: org.id,
        accept: ["prekey-bundle"],
        verify: c.verify,
      });
    } catch (error) {
      c.report({
        component: "client/owner-device",
        reason: "unopenable-prekey-bundle",
        topic,
        error,
      });
      return;
    }
    if (opened.type !== "prekey-bundle") return;
    const other = opened.message.ownerDevice;
    // Empty: an owner from before device ids (or a delegate's bundle kind): nothing to compare.
    if (other.length === 0 || equalBytes(other, this.idOf(org))) return;
    if (opened.clock <= device.since) return;
    const highest = this.#others.get(org);
    if (highest === undefined || opened.clock > highest) this.#others.set(org, opened.clock);
    if (device.fork !== undefined) return;
    device.fork = { device: toHex(other), clock: opened.clock, at: c.now() };
    const txn = newTxn(org);
    this.record(org, txn);
    txn.emits.push([
      "owner:fork-detected",
      {
        organizationId: org.hex,
        device: toHex(other),
        ownDevice: toHex(this.idOf(org)),
        clock: opened.clock,
      },
    ]);
    await c.persistence.commit(org, txn);
  }

  /**
   * What a device taking an organization over as owner does first, in `txn` (the fork case and a
   * restored owner): every pairwise session dropped and the signed prekey retired (another device
   * held the same: their keys would be used twice), an event at a clock above `above` and the
   * state's (the tags as they are), and a new device id from that clock on, any halt lifted.
   * @returns the event's clock
   * @throws {EventRejectedError} when the state refuses the event
   */
  async takeOver(org: OwnerOrg, txn: Txn, above: bigint): Promise<bigint> {
    const c = this.#c;
    const owner = org.owner;
    const space = orgSpace(org.hex);
    for (const key of await c.p.store.keys(space, { prefix: "pairwise/" })) {
      txn.ops.push({ type: "delete", space, key });
    }
    owner.sessions.clear();
    // Twice: a rotation keeps the prekey before it, and the one both devices published must go
    // (a session a member opens to it could have been answered by the other device too).
    owner.prekeys.rotate(c.p.now());
    owner.prekeys.rotate(c.p.now());
    txn.prekeys = true;
    const state = org.log.state;
    const draft = {
      type: "org.tags.changed" as const,
      author: org.hex,
      clock: org.log.nextClock(above > state.clock ? above : state.clock),
      sentAt: c.now(),
      body: { tags: [...state.tags] },
    };
    const event = { id: hashId(encodeJson(draft)), ...draft };
    const refused = c.eventLog.add(org, txn, event);
    if (refused !== undefined) throw new EventRejectedError("resumeOwner", refused);
    // Halt lifted, under a new id: what follows is signed by this device.
    const device = owner.device;
    device.fork = undefined;
    device.id = c.p.random(wireLimits.ownerDeviceBytes);
    device.since = event.clock;
    this.record(org, txn);
    return event.clock;
  }

  /**
   * This device carries the organization on as its owner: the user keeps it (docs/RESTORE.md, "Two
   * owner devices at once"). What the other device may have used is never used again here, and
   * members follow this device from now on, in one commit:
   * - a **new device id** for the organization (members that see it make a new session);
   * - every pairwise session dropped (the other device may have sent on it: its message keys
   *   would be used twice), and the signed prekey both devices held retired (a session opened to
   *   it could have been answered by either): a request pending then must be made again;
   * - an event at a clock above everything seen from the other device (the tags as they are), and
   *   a full description with the bundle, so members take this device's description as the newest;
   * - a fresh epoch (new randomness) for every group: this device's sender chains may be behind
   *   what the other device sent on them;
   * - the requests and delegates' decisions left unread while halted are read again, and the
   *   re-key and add windows run again.
   * On an organization of a restored store (inactive), the resume reads Store first and starts
   * every group again above the epochs seen (owner-restore.ts).
   * @param onStep - told what a restored organization's resume read and did
   * @returns the new device id (hex) and the clock this device now writes above
   * @throws {UnknownOrganizationError} / {NotOwnerError} / {EventRejectedError}
   * @throws {OwnerHistoryGapError} (restored store) when Store cannot show everything after the
   *   backup: nothing sent, the organization stays inactive
   */
  async resume(
    organizationId: string,
    onStep?: (step: OwnerRestoreStep) => void,
  ): Promise<{ device: string; clock: bigint }> {
    const c = this.#c;
    const result = await c.runtime.task(async () => {
      if (c.inactive.has(organizationId.toLowerCase())) {
        return resumeRestoredOwner(c, organizationId, onStep);
      }
      const org = c.org(organizationId);
      if (org.role !== "owner") throw new NotOwnerError(org.hex);
      const owner = org.owner;
      const device = owner.device;
      const fork = device.fork;
      const txn = newTxn(org);
      // Above every clock seen from the other device.
      let above = device.since;
      for (const clock of [fork?.clock, this.#others.get(org)]) {
        if (clock !== undefined && clock > above) above = clock;
      }
      const clock = await this.takeOver(org, txn, above);
      this.#others.delete(org);
      for (const channelId of [...owner.groups.keys()]) await c.epochs.refresh(org, txn, channelId);
      await publishDescription(org, txn, {
        now: c.p.now(),
        maxFullAgeMs: c.p.config.republishIntervalMs,
        full: true,
        ownerDevice: this.idOf(org),
      });
      // What was left unread while halted is read again (from the fork on).
      if (fork !== undefined) {
        for (const topic of [requestsTopic(org.id), descriptionTopic(org.id)]) {
          const mark = org.marks.get(topic);
          if (mark !== undefined && mark > fork.at) org.marks.set(topic, fork.at);
        }
      }
      await c.persistence.commit(org, txn);
      if (owner.rekeyDueAt !== undefined) c.epochs.scheduleRekey(org, owner.rekeyDueAt);
      return { org, device: toHex(this.idOf(org)), clock };
    });
    await c.sync.syncSubscriptions(result.org);
    await c.runtime.task(() => c.epochs.resume(result.org));
    c.runtime.background(result.org.hex, () => c.sync.catchUp(result.org));
    return { device: result.device, clock: result.clock };
  }
}
