/**
 * The store writes of one channel message sent into an encrypted organization, as `@orgchat/client`
 * makes them since issue #14 (`Messages.send` → `Persistence.commit`): **one batch per send**, before
 * publishing, of
 *
 * - `seen/<org>` append (the message id, empty value),
 * - `events/<org>` append (the `message.posted` event, binary record, its proven bit in the mark),
 * - `messages/<org>/<channel>` append (the message's metadata),
 * - `outbox/<org>` append (topic and ciphertext),
 * - `outbox/<org>` `deleteEntries` of the previous send's entry (published since: its delete rides
 *   in this batch),
 * - and, one send in {@link sendReservation}, `org/<org>` `group/` put (the group's head, sealed with
 *   AES-256-GCM under the vault key): the send that moves the sender-chain reservation, committed
 *   `durable` (the only synced commit under `synchronous = NORMAL`).
 *
 * A store package cannot import the client, so this module replicates that shape with the value
 * sizes the client wrote for a 256-character message from the owner of a 2-member organization
 * (recorded with the client's `bench/pipeline.ts`, a counting store). Values are filler bytes of
 * those sizes: the client's record encoding (~5 µs per send) and the message's encryption are in
 * the client bench, not here; only the head's sealing is done here.
 */
import { createCipheriv, createHash } from "node:crypto";
import type { StoreOp } from "@orgchat/store";

/** Sizes of one send's values in the client's store, in bytes. */
export interface SendSizes {
  readonly label: string;
  /** The group's head before sealing (the sealed record is 28 bytes longer). */
  readonly groupHead: number;
  /** The `message.posted` event record. */
  readonly event: number;
  /** The message's metadata record (`messages/` log). */
  readonly messageMeta: number;
  /** The outbox entry (topic and the published `GroupMessage`). */
  readonly outbox: number;
}

/** Measured with a counting store under the client (see the module comment). */
export const sendSizes: readonly SendSizes[] = [
  { label: "2 members", groupHead: 438, event: 481, messageMeta: 35, outbox: 582 },
];

/** Sends per reservation of the own sender chain (`@orgchat/crypto`'s `sendReservation`). */
export const sendReservation = 64;

/** Deterministic filler bytes (no RNG in measurements). */
export function filler(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return bytes;
}

const messageId = (i: number) => createHash("sha256").update(`message ${i}`).digest("hex");

const org = createHash("sha256").update("bench organization").digest("hex");
const space = `org/${org}`;
const vaultKey = filler(32, 7);
const firstClock = 1_000;
/** The outbox log of the organization. */
export const outboxLog = `outbox/${org}`;
const epochMs = 1_700_000_000_000;

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

/** The values of one organization's sends (filler bytes of the measured sizes). */
export interface SendValues {
  readonly sizes: SendSizes;
  readonly head: Uint8Array;
  readonly event: Uint8Array;
  readonly messageMeta: Uint8Array;
  readonly outbox: Uint8Array;
}

/** Filler values of `sizes`. */
export function sendValues(sizes: SendSizes): SendValues {
  return {
    sizes,
    head: filler(sizes.groupHead, 1),
    event: filler(sizes.event, 2),
    messageMeta: filler(sizes.messageMeta, 3),
    outbox: filler(sizes.outbox, 4),
  };
}

/** The one batch of the `i`-th send, and whether the client commits it durably. */
export interface SendWrites {
  readonly ops: StoreOp[];
  readonly durable: boolean;
}

/**
 * Builds the batch of the `i`-th send, as the client makes it.
 *
 * @param values - the organization's value bytes
 * @param i - the send's number (0, 1, …): the head is written when `i % sendReservation === 0`
 */
export function sendWrites(values: SendValues, i: number): SendWrites {
  const id = messageId(i);
  const clock = BigInt(firstClock + i);
  const sentAt = BigInt(epochMs + i);
  const durable = i % sendReservation === 0;
  const ops: StoreOp[] = [];
  if (durable) {
    ops.push({ type: "put", space, key: "group/", value: seal("group/", values.head, i) });
  }
  ops.push(
    {
      type: "append",
      log: `events/${org}`,
      entries: [{ id, sortKey: clock, value: values.event }],
    },
    {
      type: "append",
      log: `seen/${org}`,
      entries: [{ id, sortKey: sentAt, value: new Uint8Array(0) }],
    },
    {
      type: "append",
      log: `messages/${org}/general`,
      entries: [{ id, sortKey: clock, value: values.messageMeta }],
    },
    { type: "append", log: outboxLog, entries: [{ id, sortKey: sentAt, value: values.outbox }] },
  );
  if (i > 0) ops.push({ type: "deleteEntries", log: outboxLog, ids: [messageId(i - 1)] });
  return { ops, durable };
}

/** One line saying what a send's batch holds, for the bench's notes. */
export function describeSend(sizes: SendSizes): string {
  return (
    `1 batch: seen id, event ${sizes.event} B, message meta ${sizes.messageMeta} B, ` +
    `outbox ${sizes.outbox} B, previous outbox delete; 1 in ${sendReservation}: sealed head ` +
    `${sizes.groupHead + 28} B, durable`
  );
}
