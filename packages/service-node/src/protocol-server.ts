/**
 * The protocol server: mounts the request/response protocols (light push, filter subscribe, store,
 * metadata) on libp2p with the shape they all share, so that each protocol module only says what it
 * answers. Per stream: take one request from the peer's rate budget, read one length-prefixed
 * request frame within the stream deadline, answer a rate-limited peer without processing the
 * request (as nwaku does), answer a frame that is too large or malformed with the protocol's own
 * status, otherwise hand the frame to the protocol, then write its reply and release the stream.
 *
 * Nothing a peer sends can make a handler throw out of here: failures become a missing reply plus a
 * diagnostic.
 */
import type { Connection, IncomingStreamData, Libp2p, Stream } from "@libp2p/interface";
import { type DiagnosticSink, reportDiagnostic } from "@orgchat/base";
import type { RequestRateLimiter } from "./rate-limit.js";
import { readRequest } from "./stream-io.js";

/** Status codes the Waku request/response protocols share (nwaku's values). */
export const commonStatus = {
  ok: 200,
  badRequest: 400,
  tooManyRequests: 429,
} as const;

/** The description of a rate-limited request, as nwaku words it. */
export const tooManyRequestsDescription = "Request rejected due to too many requests";

/** One request/response protocol, as the {@link ProtocolServer} mounts it. */
export interface ProtocolHandler {
  /** The libp2p protocol id. */
  readonly codec: string;
  /** Short name for diagnostics (`service-node/<name>`), e.g. `"light-push"`. */
  readonly name: string;
  /** Largest request frame read, bytes (checked on the length prefix). */
  readonly maxRequestBytes: number;
  /** Concurrent inbound streams libp2p allows per connection. */
  readonly maxInboundStreams: number;
  /** The peer's request budget and the reply to a peer over it; absent: no rate limit. */
  readonly rateLimit?: {
    readonly limiter: RequestRateLimiter;
    readonly reply: () => Uint8Array;
  };
  /** The reply to a frame longer than {@link maxRequestBytes}; undefined: close without one. */
  tooLarge(): Uint8Array | undefined;
  /** The reply to a stream that ended before a whole frame; undefined: close without one. */
  malformed(): Uint8Array | undefined;
  /**
   * Answers one request frame from `connection`'s peer. May throw: the stream is then closed
   * without a reply and a diagnostic reports why.
   */
  respond(
    request: Uint8Array,
    connection: Connection,
  ): Promise<Uint8Array | undefined> | Uint8Array | undefined;
}

/** Settings of {@link ProtocolServer}. */
export interface ProtocolServerInit {
  /** Deadline for the request frame, and again for the reply, ms. */
  readonly streamTimeoutMs: number;
  /** Where dropped requests and failed handlers are reported. */
  readonly onDiagnostic: DiagnosticSink;
}

/**
 * Mounts {@link ProtocolHandler}s on a libp2p node. Every request stream has the stream deadline
 * (request frame, then reply) and is aborted by {@link ProtocolServer.stop}: a peer that vanishes
 * mid-stream holds nothing.
 */
export class ProtocolServer {
  readonly #libp2p: Libp2p;
  readonly #init: ProtocolServerInit;
  /** Streams being served, aborted on stop. */
  readonly #streams = new Set<Stream>();
  #stopped = false;

  constructor(libp2p: Libp2p, init: ProtocolServerInit) {
    this.#libp2p = libp2p;
    this.#init = init;
  }

  /** Registers `handler` for its codec (before or after libp2p starts). */
  async mount(handler: ProtocolHandler): Promise<void> {
    await this.#libp2p.handle(
      handler.codec,
      (data: IncomingStreamData) => {
        void this.#serve(data, handler).catch((error: unknown) =>
          this.#report(handler, "stream-failed", error),
        );
      },
      { maxInboundStreams: handler.maxInboundStreams },
    );
  }

  /**
   * Aborts every request stream being served and refuses new ones (each is aborted as it opens).
   * The handlers stay registered: libp2p's own stop releases them.
   */
  stop(): void {
    this.#stopped = true;
    for (const stream of this.#streams) stream.abort(new Error("the service node is stopping"));
    this.#streams.clear();
  }

  async #serve(data: IncomingStreamData, handler: ProtocolHandler): Promise<void> {
    const { stream } = data;
    if (this.#stopped) {
      stream.abort(new Error("the service node is stopping"));
      return;
    }
    this.#streams.add(stream);
    try {
      await this.#exchange(data, handler);
    } finally {
      this.#streams.delete(stream);
    }
  }

  async #exchange(
    { stream, connection }: IncomingStreamData,
    handler: ProtocolHandler,
  ): Promise<void> {
    const peer = connection.remotePeer.toString();
    // Taken when the stream opens, so a peer cannot dodge its budget by sending slowly.
    const limited = handler.rateLimit !== undefined && !handler.rateLimit.limiter.allow(peer);
    const exchange = await readRequest(stream, {
      maxBytes: handler.maxRequestBytes,
      timeoutMs: this.#init.streamTimeoutMs,
      onTrailingGarbage: (error) => this.#report(handler, "trailing-garbage", error),
    });
    const { frame } = exchange;
    if (frame.kind === "timeout") {
      this.#report(handler, "request-timeout");
      return;
    }
    if (limited) {
      this.#report(handler, "rate-limited");
      await exchange.finish(handler.rateLimit?.reply());
      return;
    }
    if (frame.kind === "too-large") {
      this.#report(handler, "request-too-large");
      await exchange.finish(handler.tooLarge());
      return;
    }
    if (frame.kind === "malformed") {
      this.#report(handler, "malformed-frame", frame.error);
      await exchange.finish(handler.malformed());
      return;
    }
    let reply: Uint8Array | undefined;
    try {
      reply = await handler.respond(frame.bytes, connection);
    } catch (error) {
      this.#report(handler, "handler-failed", error);
      reply = undefined;
    }
    await exchange.finish(reply);
  }

  #report(handler: ProtocolHandler, reason: string, error?: unknown): void {
    reportDiagnostic(this.#init.onDiagnostic, {
      component: `service-node/${handler.name}`,
      reason,
      ...(error === undefined ? {} : { error }),
    });
  }
}
