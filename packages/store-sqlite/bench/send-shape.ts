/**
 * The store writes of one channel message sent by a member of an encrypted organization, as
 * `@orgchat/client` makes them (`Messages.send` → `Persistence.commit`, then the outbox delete in
 * `Persistence.#publish`). The client cannot be imported here (a store depends only on wire and the
 * store contract), so this module replicates the shape of its two commits:
 *
 * 1. before publishing, one atomic batch of 7 ops:
 *    `seen/<org>` append (the message id, empty value), `proven/<org>` append (the event id, empty
 *    value: own encrypted messages are proven), `org/<org>` `group/` put (the group state, sealed
 *    with AES-256-GCM under the vault key as when the client has a passphrase), `events/<org>` append
 *    (the `message.posted` event as JSON), `messages/<org>/<channel>` append (its `sentAt` as JSON),
 *    `outbox/<org>` append (topic and ciphertext as JSON, bytes as hex) and `org/<org>` `meta` put
 *    (the organization's metadata as JSON, the member's stored description included);
 * 2. after publishing, `deleteEntries` of the outbox entry (one more commit).
 *
 * The value sizes are those the client wrote for a 100-character message, measured by recording the
 * store calls of a real client (a member of an organization with 2 and with 21 members, after three
 * earlier messages). The timed part includes what the client does to the bytes right before the batch
 * (JSON and hex encoding, AES-256-GCM sealing) but not what it does before that (encrypting the
 * message, serializing the group state, reducing the event).
 */
import { createCipheriv, createHash } from "node:crypto";
import type { StoreOp } from "@orgchat/store";

/** Sizes of one send's values in the client's store, in bytes. */
export interface SendSizes {
  readonly label: string;
  /** The serialized group state before sealing (the sealed record is 28 bytes longer). */
  readonly groupState: number;
  /** The ciphertext published (a `GroupMessage`), carried as hex in the outbox entry. */
  readonly ciphertext: number;
  /** The encoded organization metadata record. */
  readonly meta: number;
}

/** Measured with a recording store under a member's client (see the module comment). */
export const sendSizes: readonly SendSizes[] = [
  { label: "2 members", groupState: 893, ciphertext: 303, meta: 1_201 },
  { label: "21 members", groupState: 4_853, ciphertext: 303, meta: 4_002 },
];

/** Deterministic filler bytes (no RNG in measurements). */
export function filler(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return bytes;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const messageId = (i: number) => createHash("sha256").update(`message ${i}`).digest("hex");

const org = createHash("sha256").update("bench organization").digest("hex");
const author = createHash("sha256").update("bench member").digest("hex");
const space = `org/${org}`;
const topic = `/orgchat/1/c-${createHash("sha256").update("general").digest("hex")}/proto`;
const vaultKey = filler(32, 7);
const text = "x".repeat(100);
const firstClock = 1_000;
const epochMs = 1_700_000_000_000;

/** The outbox log of the organization (where the second commit deletes from). */
export const outboxLog = `outbox/${org}`;

/** AES-256-GCM under the vault key, nonce first, record name as associated data (as the vault). */
function seal(key: string, plaintext: Uint8Array, nonceSeed: number): Uint8Array {
  const nonce = filler(12, nonceSeed);
  const cipher = createCipheriv("aes-256-gcm", vaultKey, nonce);
  cipher.setAAD(new TextEncoder().encode(`orgchat/client/v1 record\u0000${space}\u0000${key}`));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const out = new Uint8Array(12 + body.length);
  out.set(nonce, 0);
  out.set(body, 12);
  return out;
}

/**
 * The metadata the client writes at every commit: role, marks, and for a member the stored
 * description, here padded with description bytes to `size` once encoded.
 */
function metaValue(size: number, i: number): Uint8Array {
  const base = {
    v: 1,
    role: "member",
    lastSeen: epochMs + i,
    pendingRemovals: {},
    discovered: true,
    marks: { [topic]: epochMs + i },
    request: { id: messageId(-1), status: "accepted" },
    description: { clock: { $n: String(firstClock) }, pages: [{ $b: "" }] },
  };
  const room = Math.max(0, size - json(base).length);
  base.description.pages = [{ $b: hex(filler(Math.floor(room / 2), 5)) }];
  return json(base);
}

export interface SendWrites {
  /** The batch committed before publishing. */
  readonly beforePublish: StoreOp[];
  /** The outbox entry the second commit deletes once published. */
  readonly outboxId: string;
}

/**
 * Builds the batch of the `i`-th send, as the client encodes it.
 *
 * @param sizes - the value sizes of the organization
 * @param groupState - the serialized group state (`sizes.groupState` bytes), sealed here
 * @param ciphertext - the published message (`sizes.ciphertext` bytes)
 */
export function sendWrites(
  sizes: SendSizes,
  i: number,
  groupState: Uint8Array,
  ciphertext: Uint8Array,
): SendWrites {
  const id = messageId(i);
  const clock = firstClock + i;
  const sentAt = epochMs + i;
  const event = {
    id,
    author,
    clock: { $n: String(clock) },
    sentAt,
    type: "message.posted",
    body: { channelId: "general", text },
  };
  const empty = new Uint8Array(0);
  return {
    outboxId: id,
    beforePublish: [
      {
        type: "append",
        log: `seen/${org}`,
        entries: [{ id, sortKey: BigInt(sentAt), value: empty }],
      },
      {
        type: "append",
        log: `proven/${org}`,
        entries: [{ id, sortKey: BigInt(clock), value: empty }],
      },
      { type: "put", space, key: "group/", value: seal("group/", groupState, i) },
      {
        type: "append",
        log: `events/${org}`,
        entries: [{ id, sortKey: BigInt(clock), value: json(event) }],
      },
      {
        type: "append",
        log: `messages/${org}/general`,
        entries: [{ id, sortKey: BigInt(clock), value: json({ sentAt }) }],
      },
      {
        type: "append",
        log: outboxLog,
        entries: [
          { id, sortKey: BigInt(sentAt), value: json({ topic, bytes: { $b: hex(ciphertext) } }) },
        ],
      },
      { type: "put", space, key: "meta", value: metaValue(sizes.meta, i) },
    ],
  };
}

/** One line saying what a send's first commit holds, for the bench's notes. */
export function describeSend(sizes: SendSizes): string {
  const ops = sendWrites(sizes, 0, filler(sizes.groupState, 1), filler(sizes.ciphertext, 2));
  const bytes = ops.beforePublish.map((op) =>
    op.type === "put"
      ? op.value.length
      : op.type === "append"
        ? op.entries.reduce((sum, entry) => sum + entry.value.length, 0)
        : 0,
  );
  const [, , group, event, meta, outbox, orgMeta] = bytes;
  return (
    `7 ops: seen + proven ids, sealed group state ${group} B, event ${event} B, ` +
    `message meta ${meta} B, outbox ${outbox} B, org meta ${orgMeta} B`
  );
}
