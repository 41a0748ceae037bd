/**
 * Relay mesh upkeep of the service node: a peer that subscribes to a shard we serve joins our mesh
 * for it at once, instead of at our next gossipsub heartbeat or when its own GRAFT arrives.
 *
 * Why: gossipsub forwards a relayed message only to the mesh peers of its topic. A relay peer puts us
 * in its mesh the moment it sends its GRAFT, so it counts us as its relay before we have read that
 * GRAFT; a message another peer sends through us in between is not forwarded to it. Our next
 * heartbeat does not repair it either: by then the GRAFT has made the peer a mesh peer, and IHAVE
 * gossip only goes to peers outside the mesh. The peer never gets the message. A peer's subscription
 * travels on the same stream before its GRAFT, so grafting on the subscription closes that gap.
 *
 * This is what our heartbeat would do for a topic below its mesh degree (same checks: not a direct
 * peer, no negative score, not backed off, room up to `D`), only earlier.
 */
import type { GossipSub } from "@chainsafe/libp2p-gossipsub";
import type { SubscriptionChangeData } from "@libp2p/interface";

/** The parts of gossipsub's state this module works on (public fields at runtime, not in its types). */
interface GossipSubMesh {
  readonly mesh: Map<string, Set<string>>;
  readonly backoff: Map<string, Map<string, number>>;
  readonly direct: Set<string>;
  readonly opts: { readonly D: number };
  readonly score: {
    score(id: string): number;
    graft(id: string, topic: string): void;
  };
  sendGraft(id: string, topic: string): void;
}

/**
 * Grafts every peer that subscribes to one of `pubsubTopics` into our mesh of that topic as soon as
 * its subscription arrives (see the module comment).
 * @param gossipSub - the node's gossipsub (started, subscribed to `pubsubTopics`)
 * @param pubsubTopics - the topics to do it for (the shards served)
 * @returns the function that stops doing it
 */
export function graftOnSubscribe(
  gossipSub: GossipSub,
  pubsubTopics: readonly string[],
): () => void {
  const topics = new Set(pubsubTopics);
  const state = gossipSub as unknown as GossipSubMesh;
  const onChange = (event: CustomEvent<SubscriptionChangeData>) => {
    const id = event.detail.peerId.toString();
    for (const { topic, subscribe } of event.detail.subscriptions) {
      if (subscribe && topics.has(topic)) graft(state, id, topic);
    }
  };
  gossipSub.addEventListener("subscription-change", onChange);
  return () => gossipSub.removeEventListener("subscription-change", onChange);
}

function graft(state: GossipSubMesh, id: string, topic: string): void {
  const peers = state.mesh.get(topic);
  // Not joined (yet or any more), or already there.
  if (peers === undefined || peers.has(id)) return;
  if (peers.size >= state.opts.D || state.direct.has(id) || state.score.score(id) < 0) return;
  const backoffExpiry = state.backoff.get(topic)?.get(id);
  if (backoffExpiry !== undefined && Date.now() < backoffExpiry) return;
  peers.add(id);
  state.score.graft(id, topic);
  state.sendGraft(id, topic);
}
