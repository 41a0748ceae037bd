/**
 * One organization on screen: its channels (restricted ones marked, unread counts), the messages of
 * the channel on screen, members with their ranks, the owner's requests panel and actions (or a
 * delegate's: `delegate-panel.tsx`), and its share link with a QR code. Every string from the network is rendered as text (JSX escapes it).
 */
import type { ChannelView, MessageView, OrganizationView } from "@orgchat/client";
import { useEffect, useState } from "preact/hooks";
import { isLimited, LockIcon } from "./channel-admin.tsx";
import { DelegatePanel } from "./delegate-panel.tsx";
import { OwnerPanel } from "./owner-panel.tsx";
import { QrCode } from "./qr-code.tsx";
import { isDelegate, mayDeleteOf, moderates, rankIn } from "./ranks.ts";
import type { ChatSession } from "./session.ts";
import { formatShareLink, pageUrlFor } from "./share-link.ts";
import { TextField } from "./text-field.tsx";
import { actionRunner, useSessionVersion } from "./use-session.ts";

/**
 * Who an id is, for the screen: the name the owner admitted it with, and a prefix of its id (two
 * members may choose one name).
 * @param view - the organization
 * @param id - a member id
 * @returns e.g. `Alice (3f2a9c1b)`
 */
export function memberLabel(view: OrganizationView, id: string): string {
  const name = view.memberNames.get(id);
  return name === undefined || name === "" ? id.slice(0, 8) : `${name} (${id.slice(0, 8)})`;
}

/**
 * Whether a member entry is the organization's owner: the organization key itself, or this client's
 * own identity when it owns the organization.
 * @param view - the organization
 * @param id - a member id
 * @param memberId - this client's identity
 * @returns true for the owner's entry
 */
export function isOwnerKey(view: OrganizationView, id: string, memberId: string): boolean {
  return rankIn(view, id, memberId) === "owner";
}

/** The screen of one organization. @param props - session and organization */
export function OrganizationScreen(props: {
  readonly session: ChatSession;
  readonly organizationId: string;
}) {
  const { session, organizationId } = props;
  useSessionVersion(session);
  const view = session.client.getOrganization(organizationId);
  const [channelId, setChannelId] = useState<string | undefined>(undefined);
  const channel = view.channels.find((c) => c.id === channelId) ?? view.channels[0];
  useEffect(() => {
    if (channel !== undefined) session.markRead(organizationId, channel.id);
  });
  const waitingForKeys = view.encrypted && view.role === "member" && view.epoch === undefined;
  const delegate = view.role === "member" && isDelegate(view, session.client.memberId);
  return (
    <div class="org">
      <aside class="channels">
        <h2 data-testid="org-title">{view.identity.displayName}</h2>
        <p class="role">
          you are {view.role}
          {delegate && (
            <span data-testid="delegate-rank"> · {rankIn(view, session.client.memberId)}</span>
          )}
          {waitingForKeys && (
            <span class="waiting" data-testid="waiting-for-keys">
              {" "}
              · waiting for keys
            </span>
          )}
        </p>
        <ChannelList session={session} view={view} current={channel?.id} onSelect={setChannelId} />
        <Members view={view} memberId={session.client.memberId} />
        <ShareBox view={view} peers={session.peers} />
      </aside>
      <div class="chat">
        {channel === undefined ? (
          <p class="hint">No channel yet.</p>
        ) : (
          <Channel session={session} view={view} channelId={channel.id} />
        )}
      </div>
      {view.role === "owner" && <OwnerPanel session={session} view={view} />}
      {delegate && <DelegatePanel session={session} view={view} />}
    </div>
  );
}

function ChannelList(props: {
  readonly session: ChatSession;
  readonly view: OrganizationView;
  readonly current: string | undefined;
  readonly onSelect: (id: string) => void;
}) {
  const { view, session } = props;
  const byCategory = new Map<string, typeof view.channels>();
  for (const c of view.channels)
    byCategory.set(c.categoryId, [...(byCategory.get(c.categoryId) ?? []), c]);
  return (
    <div class="channel-list">
      {[...byCategory].map(([categoryId, channels]) => (
        <div key={categoryId}>
          {categoryId !== "" && <h3>{view.categories.get(categoryId) ?? categoryId}</h3>}
          <ul>
            {channels.map((c) => {
              const unread = session.unread(view.id, c.id);
              return (
                <li key={c.id}>
                  <button
                    type="button"
                    data-testid={`channel-${c.id}`}
                    class={c.id === props.current ? "item active" : "item"}
                    onClick={() => props.onSelect(c.id)}
                  >
                    # {c.name || c.id}
                    {isLimited(c) && (
                      <span
                        class="restricted"
                        data-testid={`restricted-${c.id}`}
                        title="restricted: only its roster reads it"
                      >
                        {" "}
                        <LockIcon />
                      </span>
                    )}
                    {unread > 0 && (
                      <span class="unread" data-testid={`unread-${c.id}`}>
                        {unread}
                      </span>
                    )}
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </div>
  );
}

function Members(props: { readonly view: OrganizationView; readonly memberId: string }) {
  const { view } = props;
  return (
    <div class="members" data-testid="members">
      <h3>Members ({view.members.size})</h3>
      <ul>
        {[...view.members.keys()].map((id) => {
          const rank = rankIn(view, id, props.memberId);
          return (
            <li key={id} title={id}>
              {memberLabel(view, id)}
              {id === props.memberId && " · you"}
              {rank === "member" ? "" : ` · ${rank}`}
            </li>
          );
        })}
      </ul>
      {view.banned.length > 0 && (
        <p class="banned">banned: {view.banned.map((b) => b.slice(0, 8)).join(", ")}</p>
      )}
    </div>
  );
}

function ShareBox(props: { readonly view: OrganizationView; readonly peers: readonly string[] }) {
  const link = {
    organizationId: props.view.id,
    name: props.view.identity.displayName,
    peers: props.peers,
  };
  const text = formatShareLink(link);
  const pageUrl = pageUrlFor(window.location.href, link);
  return (
    <details class="share">
      <summary>Share</summary>
      <textarea readOnly rows={4} data-testid="share-link" value={text} />
      <a href={pageUrl}>page link</a>
      <QrCode text={pageUrl} />
    </details>
  );
}

function Channel(props: {
  readonly session: ChatSession;
  readonly view: OrganizationView;
  readonly channelId: string;
}) {
  const { session, view, channelId } = props;
  const { client } = session;
  const messages = client.history(view.id, channelId);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const [text, setText] = useState("");
  const [replyTo, setReplyTo] = useState<MessageView | undefined>(undefined);
  const [editing, setEditing] = useState<{ id: string; text: string } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = actionRunner(setError, session);
  // Who pins: the owner and moderators (spec 55), every member when the owner allows it; who
  // deletes another's message: a moderator of a higher rank (ranks.ts).
  const canPin = view.pinMessageAllMembersEnabled || moderates(view, client.memberId);
  const pinned = messages.filter((m) => m.pinned && !m.deleted);
  const info = view.channels.find((c) => c.id === channelId);
  const limited = info !== undefined && isLimited(info);
  const shut = info !== undefined && !info.canPost;
  const sending = session.sending.filter(
    (s) => s.organizationId === view.id && s.channelId === channelId,
  );
  const send = (event: Event) => {
    event.preventDefault();
    const body = text.trim();
    if (body === "") return;
    setText("");
    const reply = replyTo?.id;
    setReplyTo(undefined);
    void run(() => session.send(view.id, channelId, body, reply));
  };
  return (
    <div class="channel">
      {limited && <RosterLine view={view} channel={info} memberId={client.memberId} />}
      {limited && shut && view.role === "member" && (
        <p class="not-on-roster" data-testid="not-on-roster">
          {view.encrypted
            ? `You are not on #${info.name || info.id}'s roster. Its messages are encrypted with the channel's own keys, which only the members on its roster receive: this page cannot read them, so none show here (any you read before you left the roster stay). The owner can add you.`
            : `You are not on #${info.name || info.id}'s roster: you cannot post here. The organization is not encrypted, so its messages are not secret from members.`}
        </p>
      )}
      {pinned.length > 0 && (
        <details class="pinned-list" data-testid="pinned">
          <summary>Pinned ({pinned.length})</summary>
          <ul>
            {pinned.map((m) => (
              <li key={m.id}>
                {m.own ? "you" : memberLabel(view, m.author)}: {m.text.slice(0, 120)}
              </li>
            ))}
          </ul>
        </details>
      )}
      <ol class="messages" data-testid="messages">
        {messages.map((m) => (
          <li
            key={m.id}
            class={`message${m.own ? " own" : ""}${m.deleted ? " deleted" : ""}`}
            data-testid="message"
          >
            <div class="meta">
              <span class="author">{m.own ? "you" : memberLabel(view, m.author)}</span>{" "}
              <time dateTime={new Date(m.shownAt).toISOString()}>
                {new Date(m.shownAt).toLocaleTimeString()}
              </time>
              {m.edited && !m.deleted && <span class="edited"> (edited)</span>}
              {m.pinned && !m.deleted && (
                <span class="pin" data-testid="pinned-mark">
                  {" "}
                  · pinned
                </span>
              )}
            </div>
            {m.replyTo !== undefined && (
              <div class="reply-quote">
                ↪ {byId.get(m.replyTo)?.text.slice(0, 80) ?? "an earlier message"}
              </div>
            )}
            {editing?.id === m.id ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  const next = editing.text.trim();
                  setEditing(undefined);
                  if (next !== "" && next !== m.text)
                    void run(() => client.editMessage(view.id, m.id, next));
                }}
              >
                <TextField
                  value={editing.text}
                  onValue={(value) => setEditing({ id: m.id, text: value })}
                />
                <button type="submit">Save</button>
              </form>
            ) : (
              <div class="text" data-testid="message-text">
                {m.deleted ? "(deleted)" : m.text}
              </div>
            )}
            {!m.deleted && (
              <div class="actions">
                <button type="button" class="link" onClick={() => setReplyTo(m)}>
                  reply
                </button>
                {m.own && (
                  <button
                    type="button"
                    class="link"
                    onClick={() => setEditing({ id: m.id, text: m.text })}
                  >
                    edit
                  </button>
                )}
                {canPin && (
                  <button
                    type="button"
                    class="link"
                    data-testid="pin"
                    onClick={() => void run(() => client.pinMessage(view.id, m.id, !m.pinned))}
                  >
                    {m.pinned ? "unpin" : "pin"}
                  </button>
                )}
                {(m.own || mayDeleteOf(view, client.memberId, m.author)) && (
                  <button
                    type="button"
                    class="link"
                    onClick={() => void run(() => client.deleteMessage(view.id, m.id))}
                  >
                    delete
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
        {sending.map((s) => (
          <li key={`sending-${s.localId}`} class="message own sending" data-testid="sending">
            <div class="meta">
              you · {s.waiting === "network" ? "waiting for a service node…" : "sending…"}
            </div>
            <div class="text">{s.text}</div>
          </li>
        ))}
      </ol>
      {error !== undefined && <p class="error">{error}</p>}
      {!shut && (
        <form class="composer" onSubmit={send}>
          {replyTo !== undefined && (
            <p class="replying">
              replying to {replyTo.own ? "yourself" : memberLabel(view, replyTo.author)}:{" "}
              {replyTo.text.slice(0, 60)}{" "}
              <button type="button" onClick={() => setReplyTo(undefined)}>
                ×
              </button>
            </p>
          )}
          <TextField
            class="grow"
            testId="composer"
            placeholder="Message"
            value={text}
            onValue={setText}
          />
          <button type="submit" data-testid="send">
            Send
          </button>
        </form>
      )}
    </div>
  );
}

/** Who reads a restricted channel: the owner and its roster, by name. */
function RosterLine(props: {
  readonly view: OrganizationView;
  readonly channel: ChannelView;
  readonly memberId: string;
}) {
  const { view, channel, memberId } = props;
  const names = channel.members.map((id) => (id === memberId ? "you" : memberLabel(view, id)));
  return (
    <p class="roster-line" data-testid="roster-line">
      <LockIcon /> #{channel.name || channel.id} is restricted: read by the owner
      {view.role === "owner" ? " (you)" : ""}
      {names.length === 0 ? " only" : ` and ${names.join(", ")}`}
      {view.encrypted ? " (its own keys)" : ""}.
    </p>
  );
}
