/**
 * The messages between a bench and its node processes (`node-main.ts`): the parent asks, the child
 * answers each request once, by id. Sent over the fork's IPC channel with `serialization:
 * "advanced"` (structured clone: bigint, Uint8Array and nested objects pass as they are).
 */
import type { ClientConfig } from "@orgchat/client";

/** What a node process runs, given as its one command-line argument (JSON). */
export type NodeRole =
  | { readonly role: "service" }
  | {
      readonly role: "client";
      readonly name: string;
      /**
       * The service node's multiaddr (WebSocket or TCP): relay peer and store peer. Without it the
       * client has no store peer (and no history).
       */
      readonly serviceAddress?: string;
      /** Relay peers to dial besides the service node (other clients' multiaddrs). @default [] */
      readonly peers?: readonly string[];
      /**
       * Listen on a WebSocket port of 127.0.0.1, so that other clients can dial this one (a relay
       * node that is its own infrastructure). @default false (dial-only)
       */
      readonly listen?: boolean;
      readonly config: ClientConfig;
    };

/** A request of the parent. */
export type NodeRequest =
  /** Service node: messages in its archive. */
  | { readonly op: "stored" }
  /** Service node: its counters (`ServiceNode.stats()`). */
  | { readonly op: "stats" }
  /** Service node: its WebSocket (default) or plain TCP multiaddr. */
  | { readonly op: "address"; readonly transport?: "ws" | "tcp" }
  /**
   * Client: closes its client and transport and starts them again on the same store, on a relay
   * transport that listens on a WebSocket (or TCP) port of 127.0.0.1, dials `peers` and has no store
   * peer, with the production gossipsub heartbeat (1 s, not the setup's 100 ms); answers with its
   * new multiaddr (without waiting for any peer). An `auto-accept` does not carry over.
   */
  | {
      readonly op: "restart";
      readonly peers: readonly string[];
      /** What the restarted transport listens on (and so what the next ones dial). @default "ws" */
      readonly transport?: "ws" | "tcp";
    }
  /**
   * Client: resolves once `count` relay peers are in its mesh on every shard (what forwarding
   * needs), at most the node's safety timeout.
   */
  | { readonly op: "mesh-peers"; readonly count: number }
  /** Client: a method of `@orgchat/client`'s `Client` with structured-cloneable arguments. */
  | { readonly op: "call"; readonly method: string; readonly args: readonly unknown[] }
  /** Client: envelopes its transport published so far. */
  | { readonly op: "published" }
  /** Client: publishes, deliveries to its subscriptions, diagnostics and status changes so far. */
  | { readonly op: "diagnostics" }
  /** Client: the organization's role and epoch, or undefined when unknown. */
  | { readonly op: "view"; readonly orgId: string }
  /** Client (owner): accept every request to join `orgId` as it arrives. */
  | { readonly op: "auto-accept"; readonly orgId: string }
  /**
   * Client: answer once `count` distinct messages of others in `orgId` have been decrypted since
   * this request (the answer is the time the last arrived, ms since the request, by this process's
   * clock).
   */
  | { readonly op: "expect"; readonly orgId: string; readonly count: number }
  /** Client: send every text at once to `channelId`; answers when every send resolved. */
  | {
      readonly op: "send-all";
      readonly orgId: string;
      readonly channelId: string;
      readonly texts: readonly string[];
    }
  /** Either: CPU time this process has used so far (user + system), µs. */
  | { readonly op: "cpu" }
  /** Either: stop everything and exit. */
  | { readonly op: "stop" };

/** A request with its id, as sent. */
export type NodeRequestMessage = NodeRequest & { readonly id: number };

/** The answer to request `id`: a value or an error message. */
export type NodeReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The first message a child sends once its node is started (and, for a client, online). */
export interface NodeReady {
  readonly ready: true;
}
