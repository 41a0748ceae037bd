/**
 * Reading and writing the single length-prefixed frame that every Waku request/response protocol
 * (light push, filter subscribe, store, metadata) exchanges per stream, with the limits a public
 * server needs: a maximum frame size checked on the length prefix (before the bytes arrive) and a
 * deadline so that a peer that opens a stream and goes quiet cannot hold it.
 *
 * Closing matters with mplex: a stream is forgotten once both of its ends are closed locally, and a
 * peer that receives more than 5 messages per second for forgotten streams drops the whole connection
 * ("Too many messages for missing streams"). So a request stream is only released after the
 * requester's own close has arrived; closing our read end early would make its close such a message.
 */
import type { Stream } from "@libp2p/interface";
import { hasErrorName, raceAbort } from "@orgchat/base";
import * as lp from "it-length-prefixed";

/** What reading the request frame of a stream gave. */
export type FrameResult =
  /** One complete frame. */
  | { readonly kind: "frame"; readonly bytes: Uint8Array }
  /** The length prefix announced more than the limit (the data was not read). */
  | { readonly kind: "too-large" }
  /** The stream ended before a complete frame, or the length prefix was not a varint (`error`). */
  | { readonly kind: "malformed"; readonly error?: unknown }
  /** Nothing arrived before the deadline. */
  | { readonly kind: "timeout" };

/** Limits for reading one request frame. */
export interface FrameLimits {
  /** Largest frame accepted, in bytes (checked on the length prefix). */
  readonly maxBytes: number;
  /** Deadline for the request frame, and again for the reply and the requester's close, ms. */
  readonly timeoutMs: number;
  /** Told when bytes after the request frame fail to decode (they are dropped either way). */
  readonly onTrailingGarbage?: (error: unknown) => void;
}

/** A request read from a stream, and the way to answer it. */
export interface RequestExchange {
  readonly frame: FrameResult;
  /**
   * Writes `reply` (if any) as one frame, waits for the requester to close its end, and releases the
   * stream; aborts it when the deadline passes. Never throws.
   * @returns whether the reply was written.
   */
  finish(reply: Uint8Array | undefined): Promise<boolean>;
}

/**
 * Reads the request frame of `stream` (the Waku request/response protocols send one request per
 * stream; anything after it is read and ignored). Never throws.
 */
export async function readRequest(stream: Stream, limits: FrameLimits): Promise<RequestExchange> {
  const frames = lp.decode(stream.source, { maxDataLength: limits.maxBytes });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<FrameResult>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout" }), limits.timeoutMs);
  });
  const read = frames.next().then(
    (result): FrameResult =>
      result.done === true
        ? { kind: "malformed" }
        : { kind: "frame", bytes: result.value.subarray() },
    (error: unknown): FrameResult =>
      hasErrorName(error, "InvalidDataLengthError")
        ? { kind: "too-large" }
        : { kind: "malformed", error },
  );
  let frame: FrameResult;
  try {
    frame = await Promise.race([read, deadline]);
  } finally {
    clearTimeout(timer);
  }
  if (frame.kind === "timeout") {
    stream.abort(new Error("request not received in time"));
    return { frame, finish: async () => false };
  }
  // Reads to the end in the background: it completes when the requester closes its end.
  const remoteClosed = (async () => {
    try {
      if (frame.kind === "frame") {
        for await (const _extra of frames) {
          // One request per stream: later frames are ignored.
        }
      }
    } catch (error) {
      // Garbage after the request: the close below still releases the stream.
      limits.onTrailingGarbage?.(error);
    }
  })();
  return {
    frame,
    finish: async (reply) => {
      const signal = AbortSignal.timeout(limits.timeoutMs);
      let written = false;
      try {
        if (reply !== undefined) {
          await raceSignal(stream.sink([lp.encode.single(reply)]), signal);
          written = true;
        } else {
          await raceSignal(stream.closeWrite({ signal }), signal);
        }
        await raceSignal(remoteClosed, signal);
        if (stream.status === "open") await stream.close({ signal });
      } catch (error) {
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      }
      return written;
    },
  };
}

/**
 * Writes `bytes` as one length-prefixed frame on a stream we opened, then closes it (the receiver
 * of a filter push never writes back). On any failure the stream is aborted; never throws.
 * @returns whether the frame was written.
 */
export async function writeFrameAndClose(
  stream: Stream,
  bytes: Uint8Array,
  timeoutMs: number,
): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await raceSignal(stream.sink([lp.encode.single(bytes)]), signal);
    await stream.close({ signal });
    return true;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    return false;
  }
}

/** Rejects with the deadline's own reason (a TimeoutError), which then aborts the stream. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return raceAbort(promise, signal, asError);
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
