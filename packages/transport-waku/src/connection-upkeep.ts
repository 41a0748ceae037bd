/**
 * Connection upkeep: keeps a libp2p node connected to the peers it was configured with. It dials every
 * bootstrap peer at start, redials one with exponential backoff whenever a dial fails or the peer
 * drops, and (optionally) hangs up a connected peer that stays silent past a grace period. One
 * component for relay mode, light mode and the service node, so all three behave the same way (they
 * used to carry three copies that had drifted apart).
 *
 * It is a libp2p-style component: {@link ConnectionUpkeepInit} options, the node it works on as
 * {@link ConnectionUpkeepComponents}, `start()`/`stop()`, and events ({@link ConnectionUpkeepEvents}).
 */
import type { PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import { errorGuard, OrgchatError, TypedEventEmitter } from "@orgchat/base";

/**
 * A dial reached a node whose peer id is not the one in the address dialed (`/p2p/<id>`): the
 * connection is closed and never used, and the peer is redialed with backoff. Reported through the
 * upkeep's `dial:failed` (and the transports' `diagnostic` event, reason `dial-failed`).
 */
export class PeerIdMismatchError extends OrgchatError {
  static readonly errorName = "PeerIdMismatchError";
  declare readonly name: "PeerIdMismatchError";
  /** The peer id the address names. */
  readonly expected: string;
  /** The peer id of the node that answered. */
  readonly actual: string;
  /**
   * @param expected - the address's peer id
   * @param actual - the answering node's
   */
  constructor(expected: string, actual: string) {
    super(
      PeerIdMismatchError.errorName,
      `the node at this address is ${actual}, not ${expected}:`,
      {
        hint: "check the address (a node restarted with a new key, or someone else listens there).",
      },
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** @returns whether `value` is a {@link PeerIdMismatchError} (by name, across package copies). */
export const isPeerIdMismatchError = errorGuard<PeerIdMismatchError>(PeerIdMismatchError.errorName);

/** Backoff of redials, in ms: the first delay doubles after every failed attempt up to the maximum. */
export interface RedialBackoff {
  /** Delay before the first redial. */
  readonly initialDelayMs: number;
  /** Longest delay between two attempts (redials never stop while started). */
  readonly maxDelayMs: number;
}

/** The backoff light and relay mode use when the app gives none. */
export const defaultRedialBackoff: RedialBackoff = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 10_000,
});

/**
 * Fills in and checks a partial backoff.
 * @param partial - what the app gave (either field may be missing)
 * @param defaults - the values for missing fields
 * @returns the complete backoff
 * @throws RangeError unless `0 < initialDelayMs <= maxDelayMs`
 * @example
 * ```ts
 * const backoff = redialBackoff(init.reconnect, defaultRedialBackoff);
 * ```
 */
export function redialBackoff(
  partial: { readonly initialDelayMs?: number; readonly maxDelayMs?: number } | undefined,
  defaults: RedialBackoff = defaultRedialBackoff,
): RedialBackoff {
  const initialDelayMs = partial?.initialDelayMs ?? defaults.initialDelayMs;
  const maxDelayMs = partial?.maxDelayMs ?? defaults.maxDelayMs;
  if (!(initialDelayMs > 0) || !(maxDelayMs >= initialDelayMs)) {
    throw new RangeError(
      `reconnect delays must satisfy 0 < initialDelayMs <= maxDelayMs, got ${initialDelayMs} and ${maxDelayMs}`,
    );
  }
  return { initialDelayMs, maxDelayMs };
}

/**
 * Shortest time libp2p's connection monitor waits for a ping before it gives up on a connection
 * (ms). libp2p's monitor pings every connection every 10 s and aborts the connection when a ping takes
 * longer than an adaptive timeout, by default at least 5 s. A ping travels behind everything queued
 * on the connection and is answered by a peer that may be busy: a burst of relay messages (1,000 sent
 * at once to a loaded peer) delays it by seconds. The abort then drops every relay message still
 * queued on the connection, messages that `publish` had already reported sent, and the sender never
 * knows (seen in the throughput bench: 100–400 of 1,000 messages lost at a load average of 13). A
 * ping stuck for 30 s means the connection is dead, and the upkeep redials it. Ours pings every
 * {@link pingIntervalMs}.
 */
export const minPingTimeoutMs = 30_000;

/**
 * Longest time the connection monitor waits for a ping (ms), libp2p's own default; with
 * {@link minPingTimeoutMs} the monitor's adaptive timeout stays between the two.
 */
export const maxPingTimeoutMs = 60_000;

/**
 * How often the connection monitor pings each connection (ms): longer than the longest ping timeout,
 * so two pings never overlap on a connection. libp2p pings every 10 s and allows one outbound ping
 * stream per connection; a ping still waiting when the next is due makes that next one fail at once
 * ("too many outbound protocol streams"), and the monitor aborts the connection for it. With the
 * 30 s timeout and libp2p's 10 s interval, a ping slower than 10 s (a peer busy with a burst, a
 * stalled device) cut the connection 10 s in, and everything gossipsub had queued on it was lost
 * (seen in the relay throughput bench under load, libp2p's debug log naming the error). A dead
 * connection is found within 65 s + the timeout (libp2p's own settings: within 70 s).
 */
export const pingIntervalMs = 65_000;

/**
 * The `connectionMonitor` options of every libp2p node of orgchat (relay and light transports, the
 * service node): a ping every {@link pingIntervalMs}, given {@link minPingTimeoutMs} to
 * {@link maxPingTimeoutMs} to answer.
 */
export const connectionMonitorInit = Object.freeze({
  pingInterval: pingIntervalMs,
  pingTimeout: Object.freeze({ minTimeout: minPingTimeoutMs, maxTimeout: maxPingTimeoutMs }),
});

/** Options of {@link connectionUpkeep}. */
export interface ConnectionUpkeepInit extends Partial<RedialBackoff> {
  /** The bootstrap peers to keep connected (ideally with `/p2p/<peer id>`; else learnt at the first dial). */
  readonly peers: readonly Multiaddr[];
  /**
   * When a peer's backoff starts again from `initialDelayMs`:
   * - `"dialed"`: after every successful dial (a peer that accepts connections is worth a quick redial);
   * - `"confirmed"`: only after the owner called {@link ConnectionUpkeep.confirm} for the peer during
   *   the connection (relay mode: the peer carried our shards). A peer that accepts connections but
   *   never becomes useful is then retried ever more slowly instead of in a tight loop.
   * @default "dialed"
   */
  readonly resetBackoffOn?: "dialed" | "confirmed";
  /**
   * Hang up any connected peer (bootstrap or not) for which `isSilent(peer)` holds `graceMs` after it
   * connected. Relay mode uses it for peers that never sent their gossipsub subscriptions: they hold
   * stale state of a previous connection and would never talk on this one. A bootstrap peer hung up
   * this way is redialed. @default off
   */
  readonly silentPeers?: {
    readonly graceMs: number;
    readonly isSilent: (peer: PeerId) => boolean;
  };
}

/**
 * The part of a libp2p node the upkeep uses. A libp2p `Libp2p` fits; unit tests pass a fake.
 */
export interface UpkeepNode {
  dial(
    address: Multiaddr,
    options: { signal: AbortSignal },
  ): Promise<{ readonly remotePeer: PeerId; readonly status: string }>;
  hangUp(peer: PeerId): Promise<void>;
  addEventListener(
    type: "peer:connect" | "peer:disconnect",
    listener: (event: CustomEvent<PeerId>) => void,
  ): void;
  removeEventListener(
    type: "peer:connect" | "peer:disconnect",
    listener: (event: CustomEvent<PeerId>) => void,
  ): void;
}

/** What {@link connectionUpkeep} works on. */
export interface ConnectionUpkeepComponents {
  /** The libp2p node whose connections are kept up (started before the upkeep starts). */
  readonly libp2p: UpkeepNode;
}

/** Events of {@link ConnectionUpkeep} (past-tense keys). */
export interface ConnectionUpkeepEvents {
  /** A dial to a bootstrap peer succeeded; `peerId` is now known for `address`. */
  "peer:dialed": { readonly address: Multiaddr; readonly peerId: string };
  /** A dial to a bootstrap peer failed (a redial is scheduled). */
  "dial:failed": { readonly address: Multiaddr; readonly error: unknown };
  /** A redial of `address` will happen in `delayMs`. */
  "redial:scheduled": { readonly address: Multiaddr; readonly delayMs: number };
  /** A peer was hung up because it stayed silent (see `silentPeers`). */
  "peer:hung-up": { readonly peerId: string };
}

/** A bootstrap peer as the upkeep knows it. */
export interface UpkeepPeer {
  /** The configured address. */
  readonly address: Multiaddr;
  /** Its peer id: from the address, or learnt at the first successful dial. */
  readonly peerId: string | undefined;
}

/** Keeps the bootstrap peers connected; see {@link connectionUpkeep}. */
export interface ConnectionUpkeep {
  /** Dials every bootstrap peer and starts watching connections. Idempotent while started. */
  start(): void;
  /** Cancels pending redials and in-flight dials, stops watching. Idempotent. */
  stop(): void;
  /** The bootstrap peers, in configuration order. */
  readonly peers: readonly UpkeepPeer[];
  /**
   * Marks a connected peer as useful: with `resetBackoffOn: "confirmed"`, its next drop restarts the
   * backoff. Unknown peer ids are ignored.
   */
  confirm(peerId: string): void;
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ConnectionUpkeepEvents>(
    event: K,
    listener: (event: ConnectionUpkeepEvents[K]) => void,
  ): () => void;
}

interface PeerState {
  readonly address: Multiaddr;
  peerId: string | undefined;
  /** Failed attempts since the backoff last restarted. */
  failures: number;
  /** Reset condition met during the current connection (see `resetBackoffOn`). */
  confirmed: boolean;
  dialing: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Creates the connection upkeep of a libp2p node (not started).
 *
 * @param init - the peers, backoff and policies
 * @param components - the node to work on
 * @returns the component; call `start()` once the node is started, `stop()` before stopping it
 * @throws RangeError for a bad backoff or `silentPeers.graceMs`
 * @example
 * ```ts
 * import { connectionUpkeep } from "@orgchat/transport-waku/relay";
 *
 * const upkeep = connectionUpkeep(
 *   { peers: [multiaddr("/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…")], initialDelayMs: 250, maxDelayMs: 30_000 },
 *   { libp2p },
 * );
 * upkeep.on("peer:dialed", ({ peerId }) => console.log("connected to", peerId));
 * upkeep.start();
 * // …
 * upkeep.stop();
 * await libp2p.stop();
 * ```
 */
export function connectionUpkeep(
  init: ConnectionUpkeepInit,
  components: ConnectionUpkeepComponents,
): ConnectionUpkeep {
  return new Upkeep(init, components);
}

class Upkeep implements ConnectionUpkeep {
  readonly #libp2p: UpkeepNode;
  readonly #backoff: RedialBackoff;
  readonly #resetOnDial: boolean;
  readonly #silent: ConnectionUpkeepInit["silentPeers"];
  readonly #peers: PeerState[];
  readonly #events = new TypedEventEmitter<ConnectionUpkeepEvents>();
  readonly #silenceChecks = new Map<string, ReturnType<typeof setTimeout>>();
  #abort: AbortController | undefined;

  constructor(init: ConnectionUpkeepInit, components: ConnectionUpkeepComponents) {
    this.#libp2p = components.libp2p;
    this.#backoff = redialBackoff(init);
    this.#resetOnDial = (init.resetBackoffOn ?? "dialed") === "dialed";
    if (init.silentPeers !== undefined && !(init.silentPeers.graceMs > 0)) {
      throw new RangeError(`silentPeers.graceMs must be positive, got ${init.silentPeers.graceMs}`);
    }
    this.#silent = init.silentPeers;
    this.#peers = init.peers.map((address) => ({
      address,
      peerId: address.getPeerId() ?? undefined,
      failures: 0,
      confirmed: false,
      dialing: false,
      timer: undefined,
    }));
  }

  get peers(): readonly UpkeepPeer[] {
    return this.#peers.map(({ address, peerId }) => ({ address, peerId }));
  }

  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    this.#libp2p.addEventListener("peer:connect", this.#onConnect);
    this.#libp2p.addEventListener("peer:disconnect", this.#onDisconnect);
    for (const peer of this.#peers) void this.#dial(peer);
  }

  stop(): void {
    const abort = this.#abort;
    if (!abort) return;
    this.#abort = undefined;
    abort.abort();
    this.#libp2p.removeEventListener("peer:connect", this.#onConnect);
    this.#libp2p.removeEventListener("peer:disconnect", this.#onDisconnect);
    for (const peer of this.#peers) {
      if (peer.timer !== undefined) clearTimeout(peer.timer);
      peer.timer = undefined;
      peer.dialing = false;
    }
    for (const timer of this.#silenceChecks.values()) clearTimeout(timer);
    this.#silenceChecks.clear();
  }

  confirm(peerId: string): void {
    for (const peer of this.#peers) if (peer.peerId === peerId) peer.confirmed = true;
  }

  on<K extends keyof ConnectionUpkeepEvents>(
    event: K,
    listener: (event: ConnectionUpkeepEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  #emit<K extends keyof ConnectionUpkeepEvents>(
    event: K,
    payload: ConnectionUpkeepEvents[K],
  ): void {
    // A listener's bug must not stop the upkeep: the emitter isolates it.
    this.#events.emit(event, payload);
  }

  readonly #onConnect = (event: CustomEvent<PeerId>): void => {
    const silent = this.#silent;
    if (!silent || !this.#abort) return;
    const peerId = event.detail;
    const key = peerId.toString();
    clearTimeout(this.#silenceChecks.get(key));
    this.#silenceChecks.set(
      key,
      setTimeout(() => {
        this.#silenceChecks.delete(key);
        if (!this.#abort || !silent.isSilent(peerId)) return;
        this.#emit("peer:hung-up", { peerId: key });
        // The disconnect that follows schedules the redial of a bootstrap peer.
        this.#libp2p.hangUp(peerId).catch(() => {});
      }, silent.graceMs),
    );
  };

  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    if (!this.#abort) return;
    const key = event.detail.toString();
    clearTimeout(this.#silenceChecks.get(key));
    this.#silenceChecks.delete(key);
    for (const peer of this.#peers) if (peer.peerId === key) this.#scheduleRedial(peer);
  };

  async #dial(peer: PeerState): Promise<void> {
    const abort = this.#abort;
    if (!abort || peer.dialing) return;
    peer.timer = undefined;
    peer.dialing = true;
    try {
      const connection = await this.#libp2p.dial(peer.address, { signal: abort.signal });
      if (this.#abort !== abort) return;
      peer.dialing = false;
      const remote = connection.remotePeer.toString();
      const expected = peer.address.getPeerId();
      if (expected !== null && remote !== expected) {
        // Another node answers at that address: a pinned peer id is the only thing that tells a
        // service node from an impostor, so never use it (libp2p does not refuse it by itself).
        this.#libp2p.hangUp(connection.remotePeer).catch(() => {});
        this.#emit("dial:failed", {
          address: peer.address,
          error: new PeerIdMismatchError(expected, remote),
        });
        this.#scheduleRedial(peer);
        return;
      }
      peer.peerId = remote;
      if (this.#resetOnDial) peer.confirmed = true;
      this.#emit("peer:dialed", { address: peer.address, peerId: peer.peerId });
      // The connection may have closed before we learnt whose it was: check rather than miss it.
      if (connection.status !== "open") this.#scheduleRedial(peer);
    } catch (error) {
      if (this.#abort !== abort) return;
      peer.dialing = false;
      this.#emit("dial:failed", { address: peer.address, error });
      this.#scheduleRedial(peer);
    }
  }

  #scheduleRedial(peer: PeerState): void {
    if (!this.#abort || peer.timer !== undefined || peer.dialing) return;
    if (peer.confirmed) peer.failures = 0;
    peer.confirmed = false;
    const delayMs = Math.min(
      this.#backoff.initialDelayMs * 2 ** peer.failures,
      this.#backoff.maxDelayMs,
    );
    peer.failures += 1;
    peer.timer = setTimeout(() => {
      peer.timer = undefined;
      void this.#dial(peer);
    }, delayMs);
    this.#emit("redial:scheduled", { address: peer.address, delayMs });
  }
}
