/**
 * Page sessions on the memory transport (no browser, no network) for the tests: the client's
 * tunables that make every step happen at once, and waiting for a client event. Waits are for
 * events; no timer decides.
 */
import type { ClientEvents } from "@orgchat/client";
import type { Store } from "@orgchat/store";
import type { MemoryNetwork } from "@orgchat/transport";
import { type ChatSession, openChatSession } from "../src/session.ts";

/** No add or re-key windows, no periodic sync or republish: each step happens at once. */
export const config = {
  addWindowMs: 0,
  rekeyWindowMs: 0,
  syncIntervalMs: 0,
  republishIntervalMs: 0,
};

/**
 * The next `event` of a session's client that `matches`.
 * @param session - the session
 * @param event - the client event's name
 * @param matches - which payload counts (any by default)
 * @returns its payload
 */
export function next<K extends keyof ClientEvents>(
  session: ChatSession,
  event: K,
  matches: (payload: ClientEvents[K]) => boolean = () => true,
): Promise<ClientEvents[K]> {
  return new Promise((resolve) => {
    const off = session.client.on(event, (payload) => {
      if (!matches(payload)) return;
      off();
      resolve(payload);
    });
  });
}

/**
 * A session on the memory network, with its own store.
 * @param network - the memory network
 * @param store - the session's store
 * @returns the session (the caller closes it)
 */
export function onNetwork(network: MemoryNetwork, store: Store): Promise<ChatSession> {
  return openChatSession({ peers: [], transport: network.transport(), store, config });
}
