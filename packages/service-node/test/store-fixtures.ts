/**
 * Messages for the archive and Store protocol tests: deterministic content, real 14/WAKU2-MESSAGE
 * hashes (`@waku/core`'s `messageHash`, the one clients compute), and the expected Store order.
 */
import { messageHash } from "@waku/core";
import type { WakuMessage } from "@waku/proto";
import type { ArchivedMessage } from "../src/archive.ts";

export const pubsubTopic = "/waku/2/rs/42/0";
export const otherPubsubTopic = "/waku/2/rs/42/1";
export const contentTopic = "/orgchat/1/test/proto";
export const otherContentTopic = "/orgchat/1/other/proto";

/** 2025-06-15T15:06:40Z in nanoseconds, the time of the first fixture message. */
export const baseTimeNs = 1_750_000_000_000n * 1_000_000n;
export const nsPerMs = 1_000_000n;

export interface MessageInit {
  readonly index: number;
  readonly pubsubTopic?: string;
  readonly contentTopic?: string;
  /** Nanoseconds; `null` leaves the timestamp out. @default baseTimeNs + index ms */
  readonly timestamp?: bigint | null;
  readonly payloadBytes?: number;
  readonly meta?: Uint8Array;
  readonly ephemeral?: boolean;
  /** The delivering peer (its quota). */
  readonly peer?: string;
}

/** A message with its real Waku hash, ready to archive. */
export function archived(init: MessageInit): ArchivedMessage {
  const topic = init.pubsubTopic ?? pubsubTopic;
  const timestamp =
    init.timestamp === null
      ? undefined
      : (init.timestamp ?? baseTimeNs + BigInt(init.index) * nsPerMs);
  const text = new TextEncoder().encode(`message ${init.index}`);
  const payload = new Uint8Array(Math.max(init.payloadBytes ?? 0, text.length));
  payload.set(text);
  const message: WakuMessage = {
    payload,
    contentTopic: init.contentTopic ?? contentTopic,
    version: 0,
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(init.meta === undefined ? {} : { meta: init.meta }),
    ...(init.ephemeral === undefined ? {} : { ephemeral: init.ephemeral }),
  };
  return {
    hash: hashOf(topic, message),
    pubsubTopic: topic,
    message,
    ...(init.peer === undefined ? {} : { peer: init.peer }),
  };
}

/** The deterministic message hash of 14/WAKU2-MESSAGE, computed by js-waku's own code. */
export function hashOf(topic: string, message: WakuMessage): Uint8Array {
  return messageHash(topic, {
    version: undefined,
    timestamp: undefined,
    meta: undefined,
    rateLimitProof: undefined,
    ephemeral: undefined,
    ...message,
  });
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Store order: by timestamp, then by hash bytes (WAKU2-STORE v3 "Waku message sorting"). */
export function storeOrder(entries: readonly ArchivedMessage[]): ArchivedMessage[] {
  return [...entries].sort((a, b) => {
    const ta = a.message.timestamp ?? 0n;
    const tb = b.message.timestamp ?? 0n;
    if (ta !== tb) return ta < tb ? -1 : 1;
    return Buffer.compare(a.hash, b.hash);
  });
}

/**
 * 57 messages on one topic, three per millisecond (so that equal timestamps are ordered by hash),
 * shuffled by a fixed permutation so that insertion order is not storage order.
 */
export function series(count = 57): ArchivedMessage[] {
  const messages = Array.from({ length: count }, (_, index) =>
    archived({ index, timestamp: baseTimeNs + BigInt(Math.floor(index / 3)) * nsPerMs }),
  );
  // A fixed stride coprime with the count visits every index once, in a scrambled order.
  let stride = 23;
  while (gcd(stride, count) !== 1) stride++;
  return messages.map((_, i) => messages[(i * stride) % count] as ArchivedMessage);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
