import { Map as ImmutableMap, List } from "immutable";
import { clockLimits } from "./clock.js";
import {
  type AccessMode,
  type Identity,
  type IdentityImage,
  type MemberId,
  type Permissions,
  type Role,
  roles,
} from "./events.js";
import { seedRequestIndexOf } from "./requests.js";
import { AppliedIds } from "./snapshot-applied.js";
import { SnapshotFormatError, SnapshotReader, SnapshotWriter } from "./snapshot-codec.js";
import { RecordPlaces } from "./snapshot-records.js";
import { LazyRequests } from "./snapshot-requests.js";
import {
  accessModes,
  type Ban,
  type Category,
  type Channel,
  type EpochInfo,
  type Grant,
  type Invitation,
  type JoinRequest,
  type LeaveRequest,
  type Member,
  type MessageRecord,
  type OrgState,
} from "./state.js";
import { type MapView, TableMap } from "./table-map.js";

/** "ocst": the first four bytes of every snapshot. */
const magic = [0x6f, 0x63, 0x73, 0x74] as const;
/**
 * The version this code writes. It reads this one and version 1 (before members' display names:
 * they read as "").
 */
export const snapshotVersion = 2;

const sourceTypes = ["raw-payload", "ens-avatar", "unknown"] as const;
const imageTypes = ["png", "jpeg", "webp", "gif", "unknown"] as const;
const leaveStatuses = ["pending", "accepted", "rejected"] as const;

/**
 * The binary snapshot of an organization's state (docs/SCALE.md, "State snapshot"): every field of
 * `OrgState`, every map in its iteration order, clocks as LEB128 varints, 64-hex ids as 32 bytes,
 * a version and a CRC-32 of it all. What an `OrgLog` restarts from instead of the events it folds
 * (`OrgLog.restore`).
 *
 * @param state - a state of an `OrgLog` (or `reduce`); its maps keyed as the reducer keys them
 * @returns the snapshot bytes
 * @throws {RangeError} when a value is outside what a reduced state holds (a clock above 2^64 − 1, a
 *   map entry whose key is not its value's id)
 * @example
 * ```ts
 * const bytes = encodeSnapshot(log.state);
 * const restored = decodeSnapshot(bytes, log.organizationId); // equal to log.state
 * ```
 */
export function encodeSnapshot(state: OrgState): Uint8Array {
  const w = new SnapshotWriter(sizeHints.get(state.organizationId));
  for (const b of magic) w.byte(b);
  w.uint(snapshotVersion);
  w.str(state.organizationId);
  w.bool(state.created);
  w.big(state.clock);
  writeIdentity(w, state.identity);
  writePermissions(w, state.permissions);
  w.bool(state.pinMessageAllMembersEnabled);
  w.uint(state.tags.size);
  for (const tag of state.tags) w.str(tag);
  w.bool(state.encrypted);
  writeMap(w, state.members, (member: Member) => {
    writeRoles(w, member.roles);
    w.big(member.joinedAt);
    w.str(member.displayName);
  });
  writeMap(w, state.banned, (ban: Ban, key) => {
    keyed(key, ban.member);
    w.big(ban.clock);
    w.bool(ban.deleteMessages);
  });
  writeMap(w, state.channels, (channel: Channel, key) => {
    keyed(key, channel.id);
    writeIdentity(w, channel.identity);
    writePermissions(w, channel.permissions);
    w.str(channel.categoryId);
    writeMap(w, channel.members, (list: List<Role>) => writeRoles(w, list));
  });
  writeMap(w, state.categories, (category: Category, key) => {
    keyed(key, category.id);
    w.str(category.name);
  });
  // Posts and join requests are most of a large organization's snapshot, and most of them are as
  // they were at the last one: their entries are copied from it (`snapshot-records.ts`).
  const places = new RecordPlaces();
  const recordsStart = w.position;
  writeRecords(w, places, state.requests, (request: JoinRequest) => {
    w.str(request.requester);
    w.str(request.chatId);
    w.str(request.ensName);
    w.str(request.displayName);
    w.big(request.clock);
    w.uint(request.sentAt);
    w.str(request.status);
    writeOptional(w, request.decidedBy, (v) => w.str(v));
    writeOptional(w, request.decidedAt, (v) => w.big(v));
    writeOptional(w, request.decidedSentAt, (v) => w.uint(v));
    writeOptional(w, request.rejectionReason, (v) => w.str(v));
  });
  writeMap(w, state.leaveRequests, (request: LeaveRequest, key) => {
    keyed(key, request.id);
    w.str(request.member);
    w.big(request.clock);
    w.str(request.status);
    writeOptional(w, request.decidedBy, (v) => w.str(v));
    writeOptional(w, request.decidedAt, (v) => w.big(v));
  });
  writeMap(w, state.invitations, (invitation: Invitation, key) => {
    keyed(key, invitation.id);
    w.str(invitation.invitee);
    w.str(invitation.chatId);
    w.str(invitation.issuedBy);
    w.big(invitation.clock);
    w.uint(invitation.sentAt);
    w.bool(invitation.used);
    writeOptional(w, invitation.usedAt, (v) => w.big(v));
    writeOptional(w, invitation.revokedAt, (v) => w.big(v));
  });
  writeMap(w, state.grants, (grant: Grant, key) => {
    keyed(key, `${grant.member}/${grant.chatId}`);
    w.big(grant.clock);
  });
  writeMap(w, state.epochs, (epoch: EpochInfo, key) => {
    keyed(key, epoch.channelId);
    w.big(epoch.epoch);
    w.str(epoch.keyId);
  });
  writeRecords(w, places, state.messages, (message: MessageRecord) => {
    w.str(message.channelId);
    w.str(message.author);
    w.big(message.clock);
    w.str(message.text);
    writeOptional(w, message.editedAt, (v) => w.big(v));
    w.bool(message.deleted);
    writeOptional(w, message.deletedBy, (v) => w.str(v));
    w.bool(message.pinned);
  });
  const recordsEnd = w.position;
  // In the view's order: ascending ids for `AppliedIds` (what `decodeSnapshot` reads fastest),
  // those of its table from their bytes (no string made).
  w.uint(state.applied.size);
  if (state.applied instanceof AppliedIds) {
    state.applied.visitSorted(
      (ids, row, clock) => {
        w.hexBytes(ids, 32 * row, 32 * row + 32);
        w.big(clock);
      },
      (id, clock) => {
        w.str(id);
        w.big(clock);
      },
    );
  } else {
    for (const [id, clock] of state.applied) {
      w.str(id);
      w.big(clock);
    }
  }
  const bytes = w.finish();
  if (sizeHints.size >= maxSizeHints) sizeHints.clear();
  sizeHints.set(state.organizationId, bytes.length);
  places.commit(...ownBytes(w.buffer, bytes.length, recordsStart, recordsEnd));
  return bytes;
}

/**
 * The size of the last snapshot encoded per organization (a writer's first buffer: no growth, no
 * copy, for a snapshot a little larger than the last); forgotten all at once past this many
 * organizations (a hint, not a bound anything depends on).
 */
const maxSizeHints = 64;
const sizeHints = new Map<string, number>();

/**
 * A map of records (each keyed by its id) as {@link writeMap} writes it, each entry
 * ({@link RecordPlaces}) copied from the last snapshot that held the same record, else written:
 * its key, then `fields`.
 */
function writeRecords<V extends { readonly id: string }>(
  w: SnapshotWriter,
  places: RecordPlaces,
  map: ImmutableMap<string, V> | MapView<V>,
  fields: (record: V) => void,
): void {
  w.uint(map.size);
  for (const [key, record] of map) {
    // Checked first: the bytes remembered for a record hold its id as the key.
    keyed(key, record.id);
    if (places.reuse(record, w)) continue;
    const at = places.flush(w);
    w.str(key);
    fields(record);
    places.note(record, at, w.position);
  }
  places.flush(w);
}

/**
 * The bytes the records' places point into: the writer's own buffer (never handed out: the
 * snapshot returned is a copy), or a copy of the records' sections alone when the buffer is more
 * than twice the snapshot (a smaller snapshot after a larger one's size hint).
 * @returns the buffer and the offset of its first byte in the snapshot
 */
function ownBytes(
  buffer: Uint8Array,
  length: number,
  start: number,
  end: number,
): [Uint8Array, number] {
  if (buffer.length <= 2 * length + 65_536) return [buffer, 0];
  return [buffer.slice(start, end), start];
}

/**
 * Reads a snapshot {@link encodeSnapshot} wrote. Every byte is checked (magic, version, checksum,
 * ranges, exact length): a truncated, altered or foreign snapshot throws, it never gives a wrong
 * state. Allocation is bounded by the input: a count is refused when the bytes left cannot hold it.
 *
 * @param bytes - the snapshot
 * @param organizationId - the organization it must be of
 * @returns the state it holds
 * @throws {SnapshotFormatError} when the bytes are not a whole, unaltered snapshot of this version
 *   and organization
 * @example
 * ```ts
 * const state = decodeSnapshot(await store.get(space, "snapshot"), orgId);
 * ```
 */
export function decodeSnapshot(bytes: Uint8Array, organizationId: MemberId): OrgState {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotFormatError("not bytes");
  if (bytes.length < magic.length + 5) throw new SnapshotFormatError("truncated");
  for (let i = 0; i < magic.length; i++) {
    if (bytes[i] !== magic[i]) throw new SnapshotFormatError("not a snapshot (magic)");
  }
  const version = bytes[magic.length];
  if (version !== snapshotVersion && version !== 1) {
    throw new SnapshotFormatError(`unknown version ${version}`);
  }
  const r = new SnapshotReader(bytes, magic.length + 1);
  const org = r.str();
  if (org !== organizationId) throw new SnapshotFormatError("another organization's snapshot");
  const created = r.bool();
  const clock = readClock(r);
  const identity = readIdentity(r);
  const permissions = readPermissions(r);
  const pinMessageAllMembersEnabled = r.bool();
  const tagCount = r.count();
  const tags: string[] = [];
  for (let i = 0; i < tagCount; i++) tags.push(r.str());
  const encrypted = r.bool();
  const members = readMembers(r, version === 1);
  const banned = readMap(r, 3, undefined, (member) => ({
    member,
    clock: readClock(r),
    deleteMessages: r.bool(),
  }));
  const channels = readMap(r, 8, undefined, (id) => ({
    id,
    identity: readIdentity(r),
    permissions: readPermissions(r),
    categoryId: r.str(),
    members: readMap(r, 2, undefined, () => readRoles(r)),
  }));
  const categories = readMap(r, 2, undefined, (id) => ({ id, name: r.str() }));
  // The records whose entries a later encoding copies (`snapshot-records.ts`): where each is.
  const places = new RecordPlaces();
  const recordsStart = r.position;
  // The requests checked, read whole only when pending or rejected (their index needs them), the
  // others at first use (`snapshot-requests.ts`).
  const requestTable = LazyRequests.read(
    r,
    (status) => status === "pending" || status === "rejected",
    places,
  );
  const leaveRequests = readMap(r, 6, undefined, (id) => {
    const request: Mutable<LeaveRequest> = {
      id,
      member: r.str(),
      clock: readClock(r),
      status: r.oneOf(leaveStatuses),
    };
    if (r.bool()) request.decidedBy = r.str();
    if (r.bool()) request.decidedAt = readClock(r);
    return request as LeaveRequest;
  });
  const invitations = readMap(r, 9, undefined, (id) => {
    const invitation: Mutable<Invitation> = {
      id,
      invitee: r.str(),
      chatId: r.str(),
      issuedBy: r.str(),
      clock: readClock(r),
      sentAt: r.uint(),
      used: r.bool(),
    };
    if (r.bool()) invitation.usedAt = readClock(r);
    if (r.bool()) invitation.revokedAt = readClock(r);
    return invitation as Invitation;
  });
  const grants = readMap(r, 2, undefined, (key) => {
    const slash = key.indexOf("/");
    if (slash < 0) throw new SnapshotFormatError("grant key without a slash");
    return { member: key.slice(0, slash), chatId: key.slice(slash + 1), clock: readClock(r) };
  });
  const epochs = readMap(r, 3, undefined, (channelId) => ({
    channelId,
    epoch: readClock(r),
    keyId: r.str(),
  }));
  const messages = readMap(r, 8, places, (id) => {
    const message: Mutable<MessageRecord> = {
      id,
      channelId: r.str(),
      author: r.str(),
      clock: readClock(r),
      text: r.str(),
      deleted: false,
      pinned: false,
    };
    if (r.bool()) message.editedAt = readClock(r);
    message.deleted = r.bool();
    if (r.bool()) message.deletedBy = r.str();
    message.pinned = r.bool();
    return message as MessageRecord;
  });
  const recordsEnd = r.position;
  const applied = readApplied(r);
  r.done();
  // A whole snapshot: the records' places point into a copy of their sections (a caller may
  // reuse its input), and so do the requests not read yet.
  const section = bytes.slice(recordsStart, recordsEnd);
  const later = places.commit(section, recordsStart);
  const requests = TableMap.fromTable(requestTable.finish(section, recordsStart, later));
  seedRequestIndexOf(requests, requestTable.now);
  return {
    organizationId,
    created,
    clock,
    identity,
    permissions,
    pinMessageAllMembersEnabled,
    tags: List(tags),
    encrypted,
    members,
    banned,
    channels,
    categories,
    requests,
    leaveRequests,
    invitations,
    grants,
    epochs,
    messages,
    applied,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function keyed(key: string, expected: string): void {
  if (key !== expected) {
    throw new RangeError(`snapshot: map key ${key} is not its value's id ${expected}`);
  }
}

function writeMap<V>(
  w: SnapshotWriter,
  map: ImmutableMap<string, V> | MapView<V>,
  value: (value: V, key: string) => void,
): void {
  w.uint(map.size);
  for (const [key, entry] of map) {
    w.str(key);
    value(entry, key);
  }
}

/**
 * The `count` entries of a map, each at least `min` bytes, in the order written; with `places`, each
 * entry read as {@link encodeSnapshot} writes it (canonical bytes: a value read from other bytes
 * is written anew) is noted there.
 */
function readEntries<V>(
  r: SnapshotReader,
  min: number,
  places: RecordPlaces | undefined,
  value: (key: string) => V,
): Map<string, V> {
  const count = r.count(min);
  const entries = new Map<string, V>();
  for (let i = 0; i < count; i++) {
    const at = r.position;
    r.canonical = true;
    const key = r.str();
    const entry = value(key);
    entries.set(key, entry);
    // A key twice leaves the size as it was (one hash per key: no `has` before the `set`).
    if (entries.size !== i + 1) throw new SnapshotFormatError("a key twice in a map");
    if (places !== undefined && r.canonical) places.note(entry as object, at, r.position);
  }
  return entries;
}

/** A map as {@link readEntries} reads it, immutable (set in the order read, as it was written). */
function readMap<V>(
  r: SnapshotReader,
  min: number,
  places: RecordPlaces | undefined,
  value: (key: string) => V,
): ImmutableMap<string, V> {
  return ImmutableMap(readEntries(r, min, places, value));
}

/**
 * The members map, as {@link readEntries} reads a map, its plain `Map` handed to a
 * {@link TableMap} (no immutable entry, no string hashed through immutable's cache per key:
 * docs/SCALE.md). A loop of its own: its 10,000 entries at 10,000 members run in a loop that
 * calls no closure per entry (the shared one calls a different one per map).
 *
 * @param unnamed - a version 1 snapshot: no display names
 */
function readMembers(r: SnapshotReader, unnamed: boolean): TableMap<Member> {
  const count = r.count(2);
  const entries = new Map<string, Member>();
  for (let i = 0; i < count; i++) {
    const id = r.str();
    const roles = readRoles(r);
    const joinedAt = readClock(r);
    const displayName = unnamed ? "" : r.str();
    entries.set(id, { id, roles, joinedAt, displayName });
    // A key twice leaves the size as it was.
    if (entries.size !== i + 1) throw new SnapshotFormatError("a key twice in a map");
  }
  return TableMap.fromTable(entries);
}

/**
 * The applied ids (`applied`): when every id is 64-hex, two tables (ids ascending, clocks) taken as
 * they are by `AppliedIds` — no string, no map entry per id; a snapshot written before the ids were
 * written in ascending order is sorted once here. Else {@link readMap} (same result).
 */
function readApplied(r: SnapshotReader): AppliedIds {
  const start = r.position;
  const count = r.uint();
  // 34 bytes at least per 64-hex entry; anything else goes the general way (same result).
  const table = count * 34 <= r.left() ? r.hexIdTable(count, clockLimits.maxClock) : undefined;
  if (table === undefined) {
    r.rewind(start);
    return AppliedIds.fromMap(readMap(r, 2, undefined, () => readClock(r)));
  }
  let { ids, clocks } = table;
  if (!table.ascending) ({ ids, clocks } = sortedTable(ids, clocks));
  return AppliedIds.fromTable(ids, clocks);
}

/**
 * `ids` (32 bytes each) and their `clocks` in ascending id order; an id twice is refused. A
 * snapshot written before the ids were written in order: sorted once by a native numeric sort of
 * each id's first 4 bytes with its index (`prefix · 2^21 + index`, exact in a double), then any run
 * of equal prefixes by insertion — ids are hashes, such runs are rare and short.
 */
function sortedTable(
  ids: Uint8Array,
  clocks: BigUint64Array,
): { ids: Uint8Array; clocks: BigUint64Array } {
  const count = clocks.length;
  const compare = (a: number, b: number) => {
    for (let j = 0; j < 32; j++) {
      const order = (ids[32 * a + j] as number) - (ids[32 * b + j] as number);
      if (order !== 0) return order;
    }
    return 0;
  };
  const view = new DataView(ids.buffer, ids.byteOffset, ids.byteLength);
  const indexBits = 2 ** 21;
  let order: Uint32Array;
  if (count <= indexBits) {
    const keys = new Float64Array(count);
    for (let i = 0; i < count; i++) keys[i] = view.getUint32(32 * i) * indexBits + i;
    keys.sort();
    order = Uint32Array.from(keys, (key) => key % indexBits);
    for (let i = 1; i < count; i++) {
      // Insertion within a run of equal prefixes (the keys ordered it by index only).
      for (let k = i; k > 0; k--) {
        const a = order[k - 1] as number;
        const b = order[k] as number;
        if (view.getUint32(32 * a) !== view.getUint32(32 * b) || compare(a, b) < 0) break;
        order[k - 1] = b;
        order[k] = a;
      }
    }
  } else {
    order = Uint32Array.from(clocks.keys()).sort(compare);
  }
  const sortedIds = new Uint8Array(ids.length);
  const sortedClocks = new BigUint64Array(count);
  order.forEach((from, to) => {
    if (to > 0 && compare(order[to - 1] as number, from) === 0) {
      throw new SnapshotFormatError("a key twice in a map");
    }
    sortedIds.set(ids.subarray(32 * from, 32 * from + 32), 32 * to);
    sortedClocks[to] = clocks[from] as bigint;
  });
  return { ids: sortedIds, clocks: sortedClocks };
}

function writeOptional<T>(w: SnapshotWriter, value: T | undefined, write: (value: T) => void) {
  w.bool(value !== undefined);
  if (value !== undefined) write(value);
}

function readClock(r: SnapshotReader): bigint {
  const clock = r.big();
  if (clock > clockLimits.maxClock) throw new SnapshotFormatError("clock above the limit");
  return clock;
}

function writeRoles(w: SnapshotWriter, list: List<Role>): void {
  w.uint(list.size);
  for (const role of list) w.byte(roles.indexOf(role));
}

/**
 * Role lists of at most this many roles are decoded once per process and shared (an immutable
 * `List` is a value): at most 1 + 3 + 9 + 27 = 40 lists for the 3 roles, instead of one `List`
 * per member at every start.
 */
const maxSharedRoles = roles.length;
const sharedRoleLists = new Map<string, List<Role>>();

function readRoles(r: SnapshotReader): List<Role> {
  const count = r.count();
  const list: Role[] = [];
  let key = "";
  for (let i = 0; i < count; i++) {
    const index = r.byte();
    const role = roles[index];
    if (role === undefined) throw new SnapshotFormatError("unknown role");
    list.push(role);
    key += String.fromCharCode(index);
  }
  if (count > maxSharedRoles) return List(list);
  let shared = sharedRoleLists.get(key);
  if (shared === undefined) {
    shared = List(list);
    sharedRoleLists.set(key, shared);
  }
  return shared;
}

function writePermissions(w: SnapshotWriter, permissions: Permissions): void {
  w.str(permissions.access);
  w.bool(permissions.ensOnly);
  w.bool(permissions.private);
}

function readPermissions(r: SnapshotReader): Permissions {
  const access: AccessMode = r.oneOf(accessModes);
  return { access, ensOnly: r.bool(), private: r.bool() };
}

function writeIdentity(w: SnapshotWriter, identity: Identity): void {
  w.str(identity.displayName);
  w.str(identity.description);
  w.str(identity.ensName);
  const images = Object.entries(identity.images);
  w.uint(images.length);
  for (const [name, image] of images) {
    w.str(name);
    w.bytes(image.payload);
    w.str(image.sourceType);
    w.str(image.imageType);
    w.bool(image.encrypted);
    w.uint(image.encryptionKeys.length);
    for (const key of image.encryptionKeys) w.bytes(key);
  }
}

function readIdentity(r: SnapshotReader): Identity {
  const displayName = r.str();
  const description = r.str();
  const ensName = r.str();
  const count = r.count(6);
  const images: Record<string, IdentityImage> = {};
  for (let i = 0; i < count; i++) {
    const name = r.str();
    if (Object.hasOwn(images, name)) throw new SnapshotFormatError("an image twice");
    const payload = r.bytes();
    const sourceType = r.oneOf(sourceTypes);
    const imageType = r.oneOf(imageTypes);
    const encrypted = r.bool();
    const keyCount = r.count();
    const encryptionKeys: Uint8Array[] = [];
    for (let k = 0; k < keyCount; k++) encryptionKeys.push(r.bytes());
    // A name like "__proto__" must stay a plain own property.
    Object.defineProperty(images, name, {
      value: { payload, sourceType, imageType, encrypted, encryptionKeys },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { displayName, description, ensName, images };
}
