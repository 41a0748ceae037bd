/**
 * A chat session of the page: one store, one light Waku transport to the service nodes, one client,
 * and what the screen shows that the client does not keep (unread counts, kept in the store's
 * `web/unread` space so they outlive a reload; messages being sent; the connection status). Views
 * subscribe with {@link ChatSession.subscribe} and read the client again on each change: the client
 * is the truth, this only says when to look.
 */
import {
  type Client,
  type ClientConfig,
  clientEventNames,
  createClient,
  isFreshKeysPendingError,
  isKeysNotReadyError,
  type MessageView,
} from "@orgchat/client";
import type { Store } from "@orgchat/store";
import type { Transport, TransportStatus } from "@orgchat/transport";
import { wakuTransport } from "@orgchat/transport-waku/light";
import { openStore } from "./open-store.ts";

/** A message the page is sending (committed or not yet), shown as "sending…". */
export interface SendingMessage {
  readonly localId: number;
  readonly organizationId: string;
  readonly channelId: string;
  readonly text: string;
  /** Why it is not sent yet, when known. */
  readonly waiting?: "keys" | "network";
}

/** What {@link openChatSession} needs. */
export interface ChatSessionInit {
  /** Service node multiaddrs (ws). */
  readonly peers: readonly string[];
  /** The profile's name (one store per identity). @default "default" */
  readonly profile?: string;
  /** Replaces the transport (tests). @default a light Waku transport to `peers` */
  readonly transport?: Transport;
  /** Replaces the store (tests under Node). @default the profile's IndexedDB store (`open-store.ts`) */
  readonly store?: Store;
  /** The client's tunables (tests). @default the client's defaults */
  readonly config?: ClientConfig;
  /**
   * Seals the identity's secrets in the store (the client's `passphrase`): chosen when the profile's
   * identity is created, asked for at every later connect. @default none (not sealed)
   */
  readonly passphrase?: string;
}

/** One running session; see the module's summary. */
export interface ChatSession {
  readonly client: Client;
  readonly peers: readonly string[];
  readonly status: { readonly state: TransportStatus; readonly peers: number };
  /** Messages being sent, oldest first. */
  readonly sending: readonly SendingMessage[];
  /** The last background error worth showing (a publish that failed, keys that did not come). */
  readonly notice: string | undefined;
  /** Unread posts of a channel (not own), since it was last shown. */
  unread(organizationId: string, channelId: string): number;
  /** Marks a channel read (the one on screen). */
  markRead(organizationId: string, channelId: string): void;
  /** Sends a post; shows it as "sending…" until the client resolved it. */
  send(organizationId: string, channelId: string, text: string, replyTo?: string): Promise<void>;
  /** Calls `listener` after every change; returns the function that removes it. */
  subscribe(listener: () => void): () => void;
  /**
   * Tells every view to read the client again: after the page's own action (the client announces
   * what it hears, not always what this identity did, e.g. a channel the owner removed).
   */
  refresh(): void;
  close(): Promise<void>;
}

/**
 * The events after which the screen reads the client again: all but `message:received` (counted
 * below), `error` (a notice) and `diagnostic` (dropped network input changes nothing on screen).
 */
const changeEvents = clientEventNames.filter(
  (name) => name !== "message:received" && name !== "error" && name !== "diagnostic",
);

/** The store space of the page's unread counts: key `<organization>/<channel>`, a decimal count. */
export const unreadSpace = "web/unread";
const utf8 = new TextEncoder();

/**
 * The unread counts a previous session of this profile left in its store. A value that is not a
 * positive decimal count (a store edited by hand, or written by something else) is skipped.
 * @param store - the profile's store
 * @returns the counts by `<organization>/<channel>`
 */
async function loadUnread(store: Store): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const decoder = new TextDecoder();
  for (const key of await store.keys(unreadSpace)) {
    const value = await store.get(unreadSpace, key);
    const text = value === undefined ? "" : decoder.decode(value);
    const count = /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : 0;
    if (count > 0) counts.set(key, count);
  }
  return counts;
}

/**
 * Opens the store, the transport and the client.
 * @param init - service nodes, profile
 * @returns the running session
 * @throws TransportStartError (from the transport: a bad address), or what `createClient` throws
 *   (`PassphraseRequiredError` for a sealed store opened without a passphrase or the reverse,
 *   `WrongPassphraseError`)
 */
export async function openChatSession(init: ChatSessionInit): Promise<ChatSession> {
  const store: Store = init.store ?? (await openStore(init.profile ?? "default"));
  // Before the client starts catching up (its first events must find the counts loaded); counts
  // that cannot be read start at zero rather than keep the page from opening.
  const unread = await loadUnread(store).catch(() => new Map<string, number>());
  const transport =
    init.transport ??
    wakuTransport({ mode: "light", peers: [...init.peers], publishTimeoutMs: 30_000 });
  let status: ChatSession["status"] = { state: "connecting", peers: 0 };
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  transport.on("status:changed", ({ status: state, peers }) => {
    status = { state, peers };
    changed();
  });
  let client: Client;
  try {
    client = await createClient({
      transport,
      store,
      config: init.config ?? {},
      ...(init.passphrase === undefined || init.passphrase === ""
        ? {}
        : { passphrase: init.passphrase }),
    });
  } catch (error) {
    await transport.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
  // Unread counts outlive a reload: each change is written to the store's `web/unread` space, in
  // order (a failed write is a notice; the count on screen stays right until the next reload).
  let writes = Promise.resolve();
  const keepUnread = (key: string) => {
    const count = unread.get(key) ?? 0;
    writes = writes
      .then(async () => {
        if (count > 0) await store.put(unreadSpace, key, utf8.encode(String(count)));
        else await store.delete(unreadSpace, key);
      })
      .catch((error: unknown) => {
        notice = `unread counts not saved: ${error instanceof Error ? error.message : String(error)}`;
        changed();
      });
  };
  const onScreen = { key: "" };
  let sending: SendingMessage[] = [];
  let notice: string | undefined;
  let nextLocalId = 1;
  const keyOf = (org: string, channel: string) => `${org}/${channel}`;
  client.on("message:received", ({ message }: { message: MessageView }) => {
    const key = keyOf(message.organizationId, message.channelId);
    if (!message.own && key !== onScreen.key) {
      unread.set(key, (unread.get(key) ?? 0) + 1);
      keepUnread(key);
    }
    changed();
  });
  for (const event of changeEvents) client.on(event, changed);
  client.on("error", ({ error }) => {
    notice = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    changed();
  });
  const session: ChatSession = {
    client,
    peers: init.peers,
    get status() {
      return status;
    },
    get sending() {
      return sending;
    },
    get notice() {
      return notice;
    },
    unread: (org, channel) => unread.get(keyOf(org, channel)) ?? 0,
    markRead(org, channel) {
      onScreen.key = keyOf(org, channel);
      if (unread.delete(onScreen.key)) {
        keepUnread(onScreen.key);
        changed();
      }
    },
    async send(org, channel, text, replyTo) {
      const item: SendingMessage = {
        localId: nextLocalId++,
        organizationId: org,
        channelId: channel,
        text,
        ...(status.peers === 0 ? { waiting: "network" as const } : {}),
      };
      sending = [...sending, item];
      changed();
      try {
        await client.sendMessage(org, channel, text, replyTo === undefined ? {} : { replyTo });
      } catch (error) {
        if (isKeysNotReadyError(error) || isFreshKeysPendingError(error)) {
          notice =
            "waiting for keys: the owner has not sent this device the group's key yet; try again in a moment";
        } else {
          notice = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        }
        throw error;
      } finally {
        sending = sending.filter((s) => s.localId !== item.localId);
        changed();
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh: changed,
    async close() {
      await writes;
      await client.close().catch(() => undefined);
      await transport.stop().catch(() => undefined);
      await store.close().catch(() => undefined);
    },
  };
  return session;
}
