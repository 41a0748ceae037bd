/**
 * The owner's channel actions: create a channel (restricted ones with the roster of who reads it),
 * edit a restricted channel's roster, rename, move to a category, remove; and the categories
 * (create, rename, remove). Everything goes through the client (`createChannel`, `setChannelMembers`,
 * `editChannel`, `removeChannel`, `createCategory`, `editCategory`, `removeCategory`).
 */
import type { ChannelView, Client, OrganizationView } from "@orgchat/client";
import { useState } from "preact/hooks";
import { isOwnerKey, memberLabel } from "./org-screen.tsx";
import { TextField } from "./text-field.tsx";

/**
 * Whether a channel is closed to part of the organization: its access is narrower than
 * "every member" (a roster, grants), whether or not the organization encrypts.
 * @param channel - the channel
 * @returns true for a channel that only its roster reads
 */
export function isLimited(channel: ChannelView): boolean {
  return channel.restricted || channel.access !== "no-membership" || channel.private;
}

/**
 * The mark of a restricted channel: a padlock drawn as SVG (an emoji needs a font the machine may
 * lack; headless Chromium showed a box).
 * @returns the icon, labelled for screen readers
 */
export function LockIcon() {
  return (
    <svg class="lock" viewBox="0 0 16 16" width="12" height="12" role="img" aria-label="restricted">
      <path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7zm2 0h4V5a2 2 0 0 0-4 0z" fill="currentColor" />
    </svg>
  );
}

/**
 * Who may be put on a channel's roster: every member but the owner (who reads every channel).
 * @param view - the organization
 * @param memberId - this client's identity
 * @returns member ids
 */
function rosterCandidates(view: OrganizationView, memberId: string): string[] {
  return [...view.members.keys()].filter((id) => !isOwnerKey(view, id, memberId));
}

/** Checkboxes of members: the roster being chosen. */
function RosterPicker(props: {
  readonly view: OrganizationView;
  readonly memberId: string;
  readonly chosen: readonly string[];
  readonly onChange: (chosen: string[]) => void;
}) {
  const candidates = rosterCandidates(props.view, props.memberId);
  if (candidates.length === 0) return <p class="hint">no members to list yet</p>;
  return (
    <fieldset class="roster" data-testid="roster-picker">
      <legend>who reads it (besides you)</legend>
      {candidates.map((id) => (
        <label key={id} class="pick">
          <input
            type="checkbox"
            data-testid="roster-pick"
            checked={props.chosen.includes(id)}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              props.onChange(
                on ? [...props.chosen, id] : props.chosen.filter((other) => other !== id),
              );
            }}
          />{" "}
          {memberLabel(props.view, id)}
        </label>
      ))}
    </fieldset>
  );
}

/** A category picker (nothing when the organization has no category). */
function CategorySelect(props: {
  readonly categories: readonly (readonly [string, string])[];
  readonly value: string;
  readonly onChange: (categoryId: string) => void;
}) {
  if (props.categories.length === 0) return null;
  return (
    <select
      title="category"
      value={props.value}
      onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
    >
      <option value="">no category</option>
      {props.categories.map(([id, name]) => (
        <option key={id} value={id}>
          {name}
        </option>
      ))}
    </select>
  );
}

/** The id and name fields of a new channel or category (test ids `new-<what>-id`, `-name`). */
function IdAndName(props: {
  readonly what: "channel" | "category";
  readonly value: { readonly id: string; readonly name: string };
  readonly onChange: (next: { id: string; name: string }) => void;
}) {
  const { what, value } = props;
  return (
    <>
      <TextField
        class="short"
        testId={`new-${what}-id`}
        placeholder={`${what} id (a-z 0-9 _ -)`}
        value={value.id}
        onValue={(id) => props.onChange({ id, name: value.name })}
      />
      <TextField
        class="short"
        testId={`new-${what}-name`}
        placeholder="name"
        value={value.name}
        onValue={(name) => props.onChange({ id: value.id, name })}
      />
    </>
  );
}

/** The roster as an argument of `setChannelMembers` (no per-channel roles). */
function asRoster(ids: readonly string[]): Record<string, readonly []> {
  return Object.fromEntries(ids.map((id) => [id, [] as const]));
}

/**
 * The owner's channels and categories.
 * @param props - the client, the organization, and the runner that shows an action's error
 * @returns the channels section of the owner's panel
 */
export function ChannelAdmin(props: {
  readonly client: Client;
  readonly view: OrganizationView;
  readonly run: (action: () => Promise<unknown>) => Promise<boolean>;
}) {
  const { client, view, run } = props;
  const empty = { id: "", name: "", categoryId: "", restricted: false, roster: [] as string[] };
  const [channel, setChannel] = useState(empty);
  const [editing, setEditing] = useState<{ id: string; roster: string[] } | undefined>(undefined);
  const [category, setCategory] = useState({ id: "", name: "" });
  const categories = [...view.categories];
  return (
    <>
      <h2>Channels</h2>
      <ul data-testid="channel-admin">
        {view.channels.map((c) => (
          <li key={c.id} data-testid={`admin-channel-${c.id}`}>
            # {c.name || c.id}
            {isLimited(c) && (
              <span class="roster-line">
                {" "}
                <LockIcon /> {c.members.length === 0 ? "nobody yet" : c.members.length} on its
                roster
              </span>
            )}
            <div class="actions">
              {isLimited(c) && (
                <button
                  type="button"
                  data-testid="edit-roster"
                  onClick={() =>
                    setEditing(
                      editing?.id === c.id ? undefined : { id: c.id, roster: [...c.members] },
                    )
                  }
                >
                  Roster
                </button>
              )}
              <button
                type="button"
                onClick={() => {
                  const name = window.prompt(`New name of #${c.id}`, c.name);
                  if (name !== null && name.trim() !== "")
                    void run(() => client.editChannel(view.id, c.id, { name: name.trim() }));
                }}
              >
                Rename
              </button>
              <CategorySelect
                categories={categories}
                value={c.categoryId}
                onChange={(categoryId) =>
                  void run(() => client.editChannel(view.id, c.id, { categoryId }))
                }
              />
              <button
                type="button"
                data-testid="remove-channel"
                onClick={() => void run(() => client.removeChannel(view.id, c.id))}
              >
                Remove
              </button>
            </div>
            {editing?.id === c.id && (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  const roster = editing.roster;
                  void run(async () => {
                    await client.setChannelMembers(view.id, c.id, asRoster(roster));
                    setEditing(undefined);
                  });
                }}
              >
                <RosterPicker
                  view={view}
                  memberId={client.memberId}
                  chosen={editing.roster}
                  onChange={(roster) => setEditing({ id: c.id, roster })}
                />
                <button type="submit" data-testid="save-roster">
                  Save roster
                </button>
              </form>
            )}
          </li>
        ))}
      </ul>
      <form
        data-testid="channel-form"
        onSubmit={(e) => {
          e.preventDefault();
          const id = channel.id.trim();
          if (id === "") return;
          void run(async () => {
            await client.createChannel(view.id, {
              id,
              name: channel.name.trim() || id,
              ...(channel.categoryId === "" ? {} : { categoryId: channel.categoryId }),
              ...(channel.restricted ? { access: "invitation-only" as const } : {}),
            });
            // Like `orgchat channel create --restricted --member …`: the roster right after.
            if (channel.restricted && channel.roster.length > 0)
              await client.setChannelMembers(view.id, id, asRoster(channel.roster));
            setChannel(empty);
          });
        }}
      >
        <IdAndName
          what="channel"
          value={channel}
          onChange={(next) => setChannel({ ...channel, ...next })}
        />
        <CategorySelect
          categories={categories}
          value={channel.categoryId}
          onChange={(categoryId) => setChannel({ ...channel, categoryId })}
        />
        <label>
          <input
            type="checkbox"
            data-testid="new-channel-restricted"
            checked={channel.restricted}
            onChange={(e) =>
              setChannel({ ...channel, restricted: (e.target as HTMLInputElement).checked })
            }
          />{" "}
          restricted
        </label>
        {channel.restricted && (
          <RosterPicker
            view={view}
            memberId={client.memberId}
            chosen={channel.roster}
            onChange={(roster) => setChannel({ ...channel, roster })}
          />
        )}
        <button type="submit" data-testid="create-channel">
          Create channel
        </button>
      </form>
      <h3>Categories</h3>
      <ul>
        {categories.map(([id, name]) => (
          <li key={id} data-testid={`admin-category-${id}`}>
            <span data-testid="category-name">{name}</span>{" "}
            <button
              type="button"
              data-testid="rename-category"
              onClick={() => {
                const next = window.prompt(`New name of the category ${id}`, name);
                if (next !== null && next.trim() !== "")
                  void run(() => client.editCategory(view.id, id, next.trim()));
              }}
            >
              Rename
            </button>
            <button
              type="button"
              onClick={() => void run(() => client.removeCategory(view.id, id))}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const id = category.id.trim();
          if (id === "") return;
          void run(async () => {
            await client.createCategory(view.id, id, category.name.trim() || id);
            setCategory({ id: "", name: "" });
          });
        }}
      >
        <IdAndName what="category" value={category} onChange={setCategory} />
        <button type="submit" data-testid="create-category">
          Create category
        </button>
      </form>
    </>
  );
}
