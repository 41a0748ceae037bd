/**
 * Broken relay streams: a peer whose gossipsub stream died while its connection stays open is hung
 * up, so that both sides start clean on a new connection.
 *
 * Gossipsub 14.1.x keeps one outbound and one inbound stream per peer, and it only repairs them when
 * the whole connection goes (libp2p's `peer:disconnect`). A stream can die alone: the peer's muxer
 * resets it (mplex does when the reader falls 4 MiB behind, a loaded node does), a protocol
 * negotiation times out, the peer's gossipsub drops it. Then, with the connection still open:
 * - the side whose inbound stream failed forgets the peer (gossipsub's `removePeer`): it no longer
 *   knows the peer's subscriptions and never sends to it again;
 * - the side whose outbound stream died keeps it (gossipsub never replaces an outbound stream; it
 *   only logs the pipe's error) and keeps counting the peer as a recipient: every publish and
 *   forward to it goes into a buffer that nothing reads;
 * - an outbound stream that could not be opened is never retried.
 * Either way one direction of the link is silent for as long as the connection lives, which is
 * forever on a healthy socket: a member on a slow device stops receiving, and nothing redials,
 * because nothing disconnected. Closing the connection makes libp2p report the disconnect on both
 * sides; gossipsub clears the peer, the connection upkeep redials a bootstrap peer, and the new
 * connection opens new streams and exchanges subscriptions again.
 *
 * @packageDocumentation
 */
import type { GossipSub } from "@chainsafe/libp2p-gossipsub";
import type { PeerId } from "@libp2p/interface";

/** Why {@link watchRelayStreams} hung up a peer. */
export type BrokenRelayStream =
  /** The peer's inbound stream ended or failed while the connection stayed open. */
  | "inbound-ended"
  /** The outbound stream to the peer is closed or reset (found when sending on it). */
  | "outbound-closed"
  /** The outbound stream to the peer could not be opened. */
  | "outbound-not-opened";

/** The part of libp2p's connection manager {@link watchRelayStreams} uses. */
export interface RelayConnections {
  getConnections(peerId?: PeerId): readonly { readonly status: string }[];
  closeConnections(peerId: PeerId): Promise<void>;
}

/** Gossipsub's internals (public at run time in the pinned 14.1.x, private in its types). */
interface GossipSubInternals {
  readonly peers: Map<string, PeerId>;
  readonly streamsInbound: Map<string, unknown>;
  readonly streamsOutbound: Map<string, unknown>;
  pipePeerReadStream(peerId: PeerId, source: unknown): Promise<void>;
  createOutboundStream(peerId: PeerId, connection: OutboundConnection): Promise<void>;
}

/** What gossipsub's `createOutboundStream` is given. */
interface OutboundConnection {
  readonly status: string;
  readonly streams?: readonly unknown[];
}

/** Gossipsub's `OutboundStream.close`. */
interface OutboundClose {
  close(): Promise<void>;
}

/** The raw libp2p stream under a gossipsub `OutboundStream`. */
interface RawStreamState {
  readonly rawStream?: { readonly status?: string; readonly writeStatus?: string };
}

/**
 * Whether an outbound stream can still carry data: neither its stream nor its write side is closed,
 * reset or aborted.
 * @param stream - a gossipsub `OutboundStream`
 */
export function outboundStreamOpen(stream: unknown): boolean {
  const raw = (stream as RawStreamState).rawStream;
  if (raw === undefined) return true;
  return raw.status === "open" && raw.writeStatus !== "closed" && raw.writeStatus !== "closing";
}

/**
 * Watches `gossipSub`'s streams and hangs up a peer whose stream broke while its connection stayed
 * open (see the module documentation). Call it on a fresh gossipsub, before it connects to anyone.
 * @param gossipSub - the relay's gossipsub
 * @param connections - libp2p's connection manager (gossipsub's `components.connectionManager`)
 * @param onHangUp - told about every hang-up, for diagnostics
 * @returns a function that reports a dead outbound stream found when sending (the batching calls it)
 */
export function watchRelayStreams(
  gossipSub: GossipSub,
  connections: RelayConnections,
  onHangUp?: (peerId: PeerId, reason: BrokenRelayStream) => void,
): (peerId: string) => void {
  const gs = gossipSub as unknown as GossipSubInternals;
  const hangUp = (peerId: PeerId, reason: BrokenRelayStream) => {
    if (!gossipSub.isStarted()) return;
    // Only a connection that is still open needs it: after a disconnect gossipsub cleaned up itself.
    if (!connections.getConnections(peerId).some((c) => c.status === "open")) return;
    onHangUp?.(peerId, reason);
    connections.closeConnections(peerId).catch(() => {});
  };

  const pipe = gs.pipePeerReadStream.bind(gs);
  gs.pipePeerReadStream = async (peerId, source) => {
    const id = peerId.toString();
    // createInboundStream registers the stream just before it starts reading it.
    const inbound = gs.streamsInbound.get(id);
    try {
      await pipe(peerId, source);
    } finally {
      const current = gs.streamsInbound.get(id);
      // A stream replaced by a newer one from the same peer ends normally: nothing is broken. The
      // current one ending, or gossipsub having dropped the peer over a read error, is.
      if (current === inbound || (current === undefined && !gs.peers.has(id))) {
        hangUp(peerId, "inbound-ended");
      }
    }
  };

  const open = gs.createOutboundStream.bind(gs);
  gs.createOutboundStream = async (peerId, connection) => {
    const id = peerId.toString();
    const existing = gs.streamsOutbound.get(id) as (RawStreamState & OutboundClose) | undefined;
    const stale =
      existing?.rawStream !== undefined &&
      connection.status === "open" &&
      connection.streams !== undefined &&
      !connection.streams.includes(existing.rawStream);
    // The peer came back on a new connection while we still send on the old one: it may be dead on
    // the peer's side without us knowing yet (a peer that dropped it redials at once). Move to the
    // new connection, as gossipsub does with a peer's new inbound stream; the old stream closes
    // once the new one is open, so the peer sees its new inbound stream first.
    if (stale) gs.streamsOutbound.delete(id);
    await open(peerId, connection);
    if (stale) existing?.close().catch(() => {});
    if (connection.status === "open" && gs.peers.has(id) && !gs.streamsOutbound.has(id)) {
      hangUp(peerId, "outbound-not-opened");
    }
  };

  return (id) => {
    const peerId = gs.peers.get(id);
    if (peerId !== undefined) hangUp(peerId, "outbound-closed");
  };
}
