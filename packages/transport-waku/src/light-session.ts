/**
 * Light mode, startup and readiness: creating and starting the `@waku/sdk` light node, keeping the
 * service nodes connected (through the connection upkeep), and knowing which of them are ready to
 * carry our traffic or answer history.
 *
 * Readiness comes from our own `peer:identify` tracking, not `waitForPeers()` (which can resolve
 * before the peer's protocols are known and leaves its timeout timer armed).
 */
import type { Connection, IdentifyResult, PeerId, PrivateKey } from "@libp2p/interface";
import { describeError } from "@orgchat/base";
import { AbortError, TransportStartError } from "@orgchat/transport";
import { type TransportEventEmitter, throwIfAborted } from "@orgchat/transport/implement";
import { FilterCodecs, LightPushCodec, StoreCodec } from "@waku/core";
import type { LightNode } from "@waku/interfaces";
import { createLightNode } from "@waku/sdk";
import { type ConnectionUpkeep, connectionUpkeep } from "./connection-upkeep.js";
import { libp2pTransportsFor, offlineNodeOptions } from "./node-options.js";
import {
  bootstrapAddresses,
  reportDialFailures,
  type SessionNode,
  type WakuTransportOptions,
} from "./transport-base.js";
import { stopQuietly, Wakeups } from "./transport-common.js";

/** One started light node and what we know about its service nodes. */
export interface LightSession extends SessionNode {
  readonly node: LightNode;
  readonly libp2p: LightNode["libp2p"];
  /** The node's identity (generated at the first start when none was given). */
  readonly privateKey: PrivateKey | undefined;
  /** Dials the service and store nodes, redials them with backoff. */
  readonly upkeep: ConnectionUpkeep;
  /** History goes to these addresses (`storePeers`; any connected store node when empty). */
  readonly storeAddresses: ReadonlySet<string>;
  /** Identified peers that serve light push and filter (the ones that carry our traffic). */
  readonly carriers: Set<string>;
  /** Identified peers that serve Store v3. */
  readonly stores: Set<string>;
  /** Wakes calls waiting for a service node. */
  readonly wakeups: Wakeups;
  /** Set by {@link closeLightSession}: nothing may use the session any more. */
  closed: boolean;
  readonly detach: () => void;
}

/** What opening a session needs from the transport. */
export interface LightSessionParts {
  readonly options: WakuTransportOptions;
  readonly privateKey: PrivateKey | undefined;
  readonly events: TransportEventEmitter;
  /** Called whenever the set of ready service nodes changed. */
  readonly onReadinessChanged: (session: LightSession) => void;
}

/**
 * Creates and starts a light node (not dialing yet: start `session.upkeep` for that).
 * @throws TransportStartError (bad address, node cannot start), AbortError
 */
export async function openLightSession(
  parts: LightSessionParts,
  signal: AbortSignal | undefined,
): Promise<LightSession> {
  const { options, events } = parts;
  throwIfAborted(signal, "start");
  const addresses = bootstrapAddresses(options);
  const servicePeers = options.peers.length;
  const transports = await libp2pTransportsFor([...addresses.listen, ...addresses.peers]);
  let node: LightNode;
  try {
    node = await createLightNode({
      ...offlineNodeOptions({
        networkConfig: options.networkConfig,
        listen: addresses.listen,
        transports,
        privateKey: parts.privateKey,
      }),
      autoStart: false,
      // We redial our own peers with backoff; the SDK's recovery would add a 5 s polling timer
      // and dial cooldowns of up to 60 s.
      connectionManager: { enableAutoRecovery: false },
      lightPush: { autoRetry: false, numPeersToUse: Math.max(1, servicePeers) },
      numPeersToUse: Math.max(1, servicePeers),
      filter: { numPeersToUse: Math.max(1, servicePeers) },
    });
  } catch (error) {
    throw new TransportStartError(`cannot create the light node (${describeError(error)})`, {
      cause: error,
    });
  }
  try {
    await node.start();
  } catch (error) {
    await stopQuietly(node);
    throw new TransportStartError(
      `cannot start the light node on ${options.listen.join(", ") || "(no listen address)"} (${describeError(error)})`,
      { cause: error },
    );
  }
  const privateKey =
    parts.privateKey ??
    (node.libp2p as unknown as { components?: { privateKey?: PrivateKey } }).components?.privateKey;
  if (signal?.aborted) {
    await stopQuietly(node);
    throw new AbortError("start", { cause: signal.reason });
  }
  const upkeep = connectionUpkeep(
    { peers: addresses.peers, ...options.reconnect },
    { libp2p: node.libp2p },
  );
  const stopReporting = reportDialFailures(upkeep, events);
  const onIdentify = (event: CustomEvent<IdentifyResult>) => {
    if (session.closed) return;
    const { peerId, protocols } = event.detail;
    const id = peerId.toString();
    const carries =
      protocols.includes(LightPushCodec) && protocols.includes(FilterCodecs.SUBSCRIBE);
    const stores = protocols.includes(StoreCodec);
    if (!carries && !stores) return;
    // Record the shards the service node serves before using it (the SDK then only picks it for
    // those shards); a failed handshake leaves the shards unknown, which the SDK accepts.
    const metadata = (
      node.libp2p.services as {
        metadata?: { confirmOrAttemptHandshake(peer: PeerId): Promise<unknown> };
      }
    ).metadata;
    void (
      metadata
        ? metadata.confirmOrAttemptHandshake(peerId).catch((error: unknown) =>
            events.diagnostic({
              component: "transport-waku/light",
              reason: "metadata-handshake-failed",
              topic: id,
              error,
            }),
          )
        : Promise.resolve()
    ).then(() => {
      if (session.closed) return;
      if (node.libp2p.getConnections(peerId).length === 0) return;
      // Only the configured service nodes, by the peer id their address names: a node answering at
      // such an address under another id is not one of them (an address without an id trusts any).
      const known = session.upkeep.peers.some(
        (peer) => peer.peerId === id || peer.address.getPeerId() === null,
      );
      if (!known) return;
      if (carries) session.carriers.add(id);
      if (stores) session.stores.add(id);
      parts.onReadinessChanged(session);
    });
  };
  const onDisconnect = (event: CustomEvent<PeerId>) => {
    if (session.closed) return;
    const id = event.detail.toString();
    session.carriers.delete(id);
    session.stores.delete(id);
    parts.onReadinessChanged(session);
  };
  node.libp2p.addEventListener("peer:identify", onIdentify);
  node.libp2p.addEventListener("peer:disconnect", onDisconnect);
  const session: LightSession = {
    node,
    libp2p: node.libp2p,
    privateKey,
    upkeep,
    storeAddresses: addresses.storeAddresses,
    carriers: new Set(),
    stores: new Set(),
    wakeups: new Wakeups(),
    closed: false,
    detach: () => {
      stopReporting();
      node.libp2p.removeEventListener("peer:identify", onIdentify);
      node.libp2p.removeEventListener("peer:disconnect", onDisconnect);
    },
  };
  return session;
}

/** Stops dialing and watching; wakes every waiter (they see the session closed). */
export function closeLightSession(session: LightSession): void {
  session.closed = true;
  session.upkeep.stop();
  session.detach();
  session.wakeups.wake();
}

/**
 * Waits until a service node that carries light push and filter is ready.
 * @returns false at the deadline (a `performance.now()` time) or once the session closed
 * @throws AbortError
 */
export async function waitForCarrier(
  session: LightSession,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const ready = await session.wakeups.until(
    () => (session.carriers.size > 0 ? true : undefined),
    deadline,
    signal,
    () => !session.closed,
    "wait for a service node",
  );
  return ready === true;
}

/**
 * An open connection to a ready store node: one of `storePeers` when given, else any.
 * @param anyStore - whether any connected store node will do (no `storePeers` configured)
 */
export function storeConnection(session: LightSession, anyStore: boolean): Connection | undefined {
  const wanted = new Set(
    session.upkeep.peers
      .filter(
        (peer) =>
          peer.peerId !== undefined &&
          (session.storeAddresses.size === 0 ||
            session.storeAddresses.has(peer.address.toString())),
      )
      .map((peer) => peer.peerId as string),
  );
  const connections = session.node.libp2p
    .getConnections()
    .filter((c) => c.status === "open" && session.stores.has(c.remotePeer.toString()));
  return (
    connections.find((c) => wanted.has(c.remotePeer.toString())) ??
    (anyStore ? connections[0] : undefined)
  );
}
