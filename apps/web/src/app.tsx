/**
 * The page: connect to service nodes, then the list of organizations (create one, open a share link,
 * answer invitations) and the one on screen.
 */
import { useState } from "preact/hooks";
import { storeIsPersistent } from "./open-store.ts";
import { OrganizationScreen } from "./org-screen.tsx";
import type { ChatSession } from "./session.ts";
import {
  isDialableAddress,
  type PageRequest,
  parseShareLink,
  type ShareLink,
} from "./share-link.ts";
import { TextField, TextForm } from "./text-field.tsx";
import { actionRunner, useSessionVersion } from "./use-session.ts";

/** The page's root. @param props - what the page's URL asks for */
export function App(props: { readonly request: PageRequest }) {
  const [session, setSession] = useState<ChatSession | undefined>(undefined);
  const initialPeers = [...props.request.peers, ...(props.request.join?.peers ?? [])];
  const [peerText, setPeerText] = useState(initialPeers.join("\n"));
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [passphrase, setPassphrase] = useState("");
  // Set once the store said it is sealed: the form then asks for the passphrase.
  const [sealed, setSealed] = useState(false);
  if (session !== undefined) {
    return <Home session={session} join={props.request.join} />;
  }
  const connect = async (event: Event) => {
    event.preventDefault();
    const peers = peerText
      .split(/\s+/)
      .map((p) => p.trim())
      .filter((p) => p !== "");
    const broken = peers.find((p) => !isDialableAddress(p));
    if (peers.length === 0 || broken !== undefined) {
      setError(
        broken === undefined
          ? "paste the address `orgchat serve` prints, e.g. /ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…"
          : `${JSON.stringify(broken)} is not a WebSocket multiaddr (/ip4/…/tcp/…/ws/p2p/…): a page can only dial ws or wss`,
      );
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      // The network stack (client, crypto, libp2p, Waku) is its own chunk, loaded on connect: the
      // address form paints from the small shell (scripts/bundle-size.ts prints both).
      const { openChatSession } = await import("./session.ts");
      setSession(await openChatSession({ peers, passphrase }));
    } catch (e) {
      // By name, not with the client's guards: the client loads with the network chunk.
      const name = e instanceof Error ? e.name : "";
      if (name === "PassphraseRequiredError" && passphrase === "") setSealed(true);
      setError(
        name === "StoreLockedError"
          ? "this profile is open in another tab or window: close it there (or use it there), then connect again"
          : name === "PassphraseRequiredError"
            ? passphrase === ""
              ? "this browser's identity is sealed with a passphrase: enter it to unlock"
              : "this browser's identity was saved without a passphrase: leave the passphrase empty (one cannot be added to an existing identity)"
            : name === "WrongPassphraseError"
              ? "wrong passphrase: it does not open this browser's identity (a passphrase cannot be recovered)"
              : e instanceof Error
                ? `${e.name}: ${e.message}`
                : String(e),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="connect">
      <h1>orgchat</h1>
      <p>Waku organization chats in the browser, through one or more service nodes.</p>
      <form onSubmit={connect}>
        <label>
          Service node address (one per line, as <code>orgchat serve</code> prints it)
          <textarea
            data-testid="peer-input"
            rows={3}
            value={peerText}
            onInput={(e) => setPeerText((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <label class={sealed ? "passphrase sealed" : "passphrase"} data-testid="passphrase-label">
          {sealed
            ? "Passphrase of this browser's identity"
            : "Passphrase (optional: seals a new identity's keys here; asked for at every connect, cannot be added later)"}
          <input
            type="password"
            data-testid="passphrase"
            autocomplete="current-password"
            value={passphrase}
            onInput={(e) => setPassphrase((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" data-testid="connect" disabled={busy}>
          {busy
            ? passphrase === ""
              ? "Connecting…"
              : "Unlocking…"
            : sealed
              ? "Unlock"
              : "Connect"}
        </button>
      </form>
      {error !== undefined && (
        <p class="error" data-testid="connect-error">
          {error}
        </p>
      )}
      <p class="note">
        {storeIsPersistent
          ? "Your identity, keys and messages stay in this browser (IndexedDB) for this site."
          : "This build keeps the identity in memory: it lasts as long as this tab."}
      </p>
    </main>
  );
}

function StatusBar(props: { readonly session: ChatSession }) {
  const { state, peers } = props.session.status;
  const sending = props.session.sending.length;
  return (
    <header class="status" data-testid="status">
      <strong>orgchat</strong>
      <span class={`conn conn-${state}`} data-testid="connection">
        {state === "online"
          ? `online · ${peers} service node${peers === 1 ? "" : "s"}`
          : state === "connecting"
            ? "connecting…"
            : state}
      </span>
      {sending > 0 && <span class="sending">sending {sending}…</span>}
      <span class="me" title={props.session.client.memberId}>
        you: {props.session.client.memberId.slice(0, 8)}
      </span>
      {props.session.notice !== undefined && <span class="notice">{props.session.notice}</span>}
    </header>
  );
}

function Home(props: { readonly session: ChatSession; readonly join: ShareLink | undefined }) {
  const { session } = props;
  useSessionVersion(session);
  const { client } = session;
  const orgs = client.listOrganizations();
  const [selected, setSelected] = useState<string | undefined>(props.join?.organizationId);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = actionRunner(setError, session);
  const [orgName, setOrgName] = useState("");
  const [linkText, setLinkText] = useState("");
  const [link, setLink] = useState<ShareLink | undefined>(props.join);
  // After a reload (or with one organization), land in the first one rather than on an empty pane.
  const current = selected === undefined ? orgs[0] : orgs.find((o) => o.id === selected);
  return (
    <div class="page">
      <StatusBar session={session} />
      <div class="layout">
        <nav class="orgs">
          <h2>Organizations</h2>
          <ul>
            {orgs.map((o) => (
              <li key={o.id}>
                <button
                  type="button"
                  class={o.id === current?.id ? "item active" : "item"}
                  onClick={() => setSelected(o.id)}
                >
                  {o.identity.displayName || o.id.slice(0, 8)} <small>({o.role})</small>
                </button>
              </li>
            ))}
          </ul>
          <TextForm
            class="grow"
            testId="org-name"
            placeholder="New organization's name"
            value={orgName}
            onValue={setOrgName}
            button="Create"
            buttonTestId="create-org"
            onSubmit={(name) =>
              void run(async () => {
                const id = await client.createOrganization({ name });
                // Like `orgchat org create`: a new organization starts with #general.
                await client.createChannel(id, { id: "general", name: "general" });
                setOrgName("");
                setSelected(id);
              })
            }
          />
          <TextForm
            class="grow"
            testId="link-input"
            placeholder="orgchat://org/… share link"
            value={linkText}
            onValue={setLinkText}
            button="Open link"
            onSubmit={(text) => {
              try {
                const parsed = parseShareLink(text);
                setLink(parsed);
                setSelected(parsed.organizationId);
                setError(undefined);
              } catch (err) {
                setError(err instanceof Error ? err.message : String(err));
              }
            }}
          />
          <Invitations session={session} onError={setError} onOpen={setSelected} />
        </nav>
        <section class="main">
          {error !== undefined && (
            <p class="error" data-testid="error">
              {error}
            </p>
          )}
          {current !== undefined && (current.role === "owner" || current.role === "member") ? (
            <OrganizationScreen key={current.id} session={session} organizationId={current.id} />
          ) : selected !== undefined &&
            (current !== undefined || link?.organizationId === selected) ? (
            <JoinPanel
              key={selected}
              session={session}
              organizationId={selected}
              claimedName={link?.organizationId === selected ? link.name : undefined}
            />
          ) : (
            <p class="hint">Create an organization, or open a share link.</p>
          )}
        </section>
      </div>
    </div>
  );
}

function Invitations(props: {
  readonly session: ChatSession;
  readonly onError: (text: string | undefined) => void;
  readonly onOpen: (organizationId: string) => void;
}) {
  const { client } = props.session;
  const invitations = client.listInvitations();
  const [name, setName] = useState("");
  const run = actionRunner(props.onError, props.session);
  if (invitations.length === 0) return null;
  return (
    <div class="invitations">
      <h2>Invitations</h2>
      <TextField placeholder="Your display name" value={name} onValue={setName} />
      <ul>
        {invitations.map((inv) => (
          <li key={inv.invitationId}>
            {inv.name ?? `${inv.organizationId.slice(0, 12)}…`}
            <button
              type="button"
              onClick={() =>
                void run(async () => {
                  await client.acceptInvitation(inv.organizationId, { displayName: name });
                  props.onOpen(inv.organizationId);
                })
              }
            >
              Accept
            </button>
            <button
              type="button"
              onClick={() => void run(() => client.declineInvitation(inv.organizationId))}
            >
              Decline
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Joining one organization: discover it, request with a display name, then the request's status (a
 * requester waits here until the owner accepts).
 */
function JoinPanel(props: {
  readonly session: ChatSession;
  readonly organizationId: string;
  readonly claimedName: string | undefined;
}) {
  const { session, organizationId } = props;
  const { client } = session;
  const [name, setName] = useState("");
  const [state, setState] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const known = client.listOrganizations().find((o) => o.id === organizationId);
  const request = known?.request;
  const canAsk = request === undefined || !["pending", "accepted"].includes(request.status);
  const join = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      setState("looking for the organization…");
      await client.discover(organizationId);
      setState("asking the owner…");
      await client.requestToJoin(organizationId, { displayName: name.trim() });
      setState(undefined);
    } catch (e) {
      setState(undefined);
      setError(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  };
  return (
    <div class="join" data-testid="join-panel">
      <h2>Join {known?.identity.displayName ?? props.claimedName ?? "this organization"}</h2>
      <p class="mono">{organizationId}</p>
      {request !== undefined && (
        <p data-testid="request-status">
          Your request is {request.status}
          {request.reason ? `: ${request.reason}` : ""}
          {request.status === "pending" && " (the owner answers when it is online)"}
        </p>
      )}
      {canAsk && (
        <form onSubmit={join}>
          <TextField
            testId="display-name"
            placeholder="Your display name"
            value={name}
            onValue={setName}
          />
          <button type="submit" data-testid="request-join">
            Request to join
          </button>
        </form>
      )}
      {state !== undefined && <p>{state}</p>}
      {error !== undefined && <p class="error">{error}</p>}
    </div>
  );
}
