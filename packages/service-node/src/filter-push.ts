/**
 * Delivery of MessagePush frames to filter subscribers over `/vac/waku/filter-push/2.0.0-beta1`.
 *
 * Like nwaku (`getStreamByPeerIdAndProtocol` in its peer manager), each subscriber gets **one
 * long-lived push stream** that carries every frame for it; the stream is reopened when it breaks.
 * A stream per message does not work with js-waku light nodes: their push handler never closes its
 * end of a stream, so each push stream stays open on their side and after 100 of them (their
 * `maxInboundStreams`) every further push is refused.
 *
 * Each subscriber has a bounded queue; when it is full, new messages for it are dropped (the light
 * node can catch up from Store).
 *
 * Every push stream has a deadline once it is no longer wanted: a subscriber that vanished mid-stream
 * (a stock js-waku light node that stops without unsubscribing leaves its push stream half open, and
 * writing to it never settles) gets {@link FilterPusherInit.timeoutMs} to let the stream end after
 * {@link FilterPusher.forget}, then the stream is aborted; {@link FilterPusher.stop} aborts every
 * stream at once. So no subscriber can keep the node from stopping.
 */
import type { Stream } from "@libp2p/interface";
import { type DiagnosticSink, raceAbort, reportDiagnostic } from "@orgchat/base";
import * as lp from "it-length-prefixed";

/** Opens a filter-push stream to `peer` (a peer id string); rejects when the peer is unreachable. */
export type OpenPushStream = (peer: string, signal: AbortSignal) => Promise<Stream>;

/** Settings of {@link FilterPusher}. */
export interface FilterPusherInit {
  readonly open: OpenPushStream;
  /** Frames queued per subscriber before new ones are dropped. @default 1024 */
  readonly maxQueuePerPeer?: number;
  /** Deadline for opening a push stream, and for closing one, ms. @default 10_000 */
  readonly timeoutMs?: number;
  /** Told about frames lost because a subscriber was unreachable or its stream broke. */
  readonly onDiagnostic?: DiagnosticSink;
}

const component = "service-node/filter-push";

/** One subscriber's push stream and the frames waiting for it. */
class PushChannel {
  readonly frames: Uint8Array[] = [];
  stream: Stream | undefined;
  opening = false;
  closed = false;
  /** Aborts the open and the writes of this channel's stream (on stop, or the deadline after close). */
  readonly halt = new AbortController();
  /** The deadline armed by close: the stream is aborted if it has not ended by then. */
  deadline: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  /** Wakes the writer after frames were queued or the channel was closed. */
  notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The frames to write, as long as the channel is open (the source of `stream.sink`). */
  async *source(onWritten: () => void): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      while (this.frames.length > 0) {
        const frame = this.frames.shift() as Uint8Array;
        yield lp.encode.single(frame).subarray();
        onWritten();
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}

/** Pushes frames to subscribers over one push stream per subscriber. */
export class FilterPusher {
  readonly #open: OpenPushStream;
  readonly #maxQueue: number;
  readonly #timeoutMs: number;
  readonly #onDiagnostic: DiagnosticSink | undefined;
  readonly #channels = new Map<string, PushChannel>();
  /** Channels whose stream task runs, forgotten ones (closing, until their deadline) included. */
  readonly #running = new Set<PushChannel>();
  readonly #tasks = new Set<Promise<void>>();
  #stopped = false;
  #dropped = 0;
  #delivered = 0;
  #failed = 0;

  constructor(init: FilterPusherInit) {
    this.#open = init.open;
    this.#maxQueue = init.maxQueuePerPeer ?? 1024;
    this.#timeoutMs = init.timeoutMs ?? 10_000;
    this.#onDiagnostic = init.onDiagnostic;
  }

  /** Counters since start: frames written, frames dropped (queue full), frames lost to a failure. */
  get stats(): { delivered: number; dropped: number; failed: number } {
    return { delivered: this.#delivered, dropped: this.#dropped, failed: this.#failed };
  }

  /** Queues `frame` for each of `peers`. */
  push(peers: readonly string[], frame: Uint8Array): void {
    if (this.#stopped) return;
    for (const peer of peers) {
      let channel = this.#channels.get(peer);
      if (channel === undefined) {
        channel = new PushChannel();
        this.#channels.set(peer, channel);
      }
      if (channel.frames.length >= this.#maxQueue) {
        this.#dropped += 1;
        continue;
      }
      channel.frames.push(frame);
      if (channel.stream === undefined && !channel.opening) this.#start(peer, channel);
      else channel.notify();
    }
  }

  /** Closes `peer`'s push stream and forgets its queue (it disconnected or has no subscription left). */
  forget(peer: string): void {
    const channel = this.#channels.get(peer);
    if (channel === undefined) return;
    this.#channels.delete(peer);
    this.#close(channel);
  }

  /**
   * Stops accepting pushes and aborts every push stream (queued frames are lost: the subscribers can
   * catch up from Store). Settles once every stream task has ended, which no subscriber can delay.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const channel of this.#channels.values()) this.#close(channel);
    // Forgotten channels too: a stream still closing must not hold stop() until its deadline.
    for (const channel of new Set([...this.#channels.values(), ...this.#running])) {
      channel.halt.abort(new Error("the service node is stopping"));
    }
    this.#channels.clear();
    await Promise.allSettled([...this.#tasks]);
  }

  /** Ends the channel's writes; its stream gets the deadline to end, then it is aborted. */
  #close(channel: PushChannel): void {
    this.#failed += channel.frames.length;
    channel.frames.length = 0;
    channel.closed = true;
    channel.notify();
    if (channel.deadline === undefined && (channel.stream !== undefined || channel.opening)) {
      channel.deadline = setTimeout(
        () => channel.halt.abort(new Error("push stream did not end in time")),
        this.#timeoutMs,
      );
    }
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }

  #start(peer: string, channel: PushChannel): void {
    channel.opening = true;
    this.#running.add(channel);
    this.#track(
      (async () => {
        let stream: Stream;
        try {
          stream = await this.#open(
            peer,
            AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), channel.halt.signal]),
          );
        } catch (error) {
          channel.opening = false;
          this.#running.delete(channel);
          clearTimeout(channel.deadline);
          channel.deadline = undefined;
          this.#report("subscriber-unreachable", error);
          // Unreachable: drop what was queued; the next push tries again.
          this.#failed += channel.frames.length;
          channel.frames.length = 0;
          return;
        }
        channel.opening = false;
        if (channel.closed) {
          this.#running.delete(channel);
          clearTimeout(channel.deadline);
          channel.deadline = undefined;
          stream.abort(new Error("push channel closed while opening"));
          return;
        }
        channel.stream = stream;
        try {
          // The write ends when the channel closes, unless the subscriber vanished mid-stream and
          // the muxer never takes the end: then the deadline (or stop) aborts it.
          await raceAbort(
            stream.sink(channel.source(() => (this.#delivered += 1))),
            channel.halt.signal,
            asError,
          );
          // Our end is closed (channel closed): release the stream without waiting for the light
          // node, which never closes its end of a push stream.
          await stream
            .close({
              signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), channel.halt.signal]),
            })
            .catch((error: unknown) => {
              this.#report("close-failed", error);
              stream.abort(new Error("push stream did not close in time"));
            });
        } catch (error) {
          this.#report("push-stream-failed", error);
          stream.abort(error instanceof Error ? error : new Error("push stream failed"));
          this.#failed += channel.frames.length;
          channel.frames.length = 0;
        } finally {
          channel.stream = undefined;
          this.#running.delete(channel);
          clearTimeout(channel.deadline);
          channel.deadline = undefined;
          // A broken stream with a live subscriber: the next push opens a new one.
          if (
            this.#channels.get(peer) === channel &&
            !channel.closed &&
            channel.frames.length > 0
          ) {
            this.#start(peer, channel);
          }
        }
      })(),
    );
  }

  #report(reason: string, error: unknown): void {
    reportDiagnostic(this.#onDiagnostic, { component, reason, error });
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
