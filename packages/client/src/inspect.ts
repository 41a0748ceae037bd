/**
 * `@orgchat/client/inspect`, for tests and tools, not apps: a group's state read back from a peer's
 * store (unsealed: no passphrase), as the client restores it on start (group state in pieces,
 * docs/CLIENT.md "Group state records"), with the rosters the store holds. For tests that inspect
 * what was persisted (the epoch reached, the keys a removed member kept).
 *
 * @module
 */
import {
  type CryptoProvider,
  defaultProvider,
  type MemberGroup,
  type OwnerGroup,
} from "@orgchat/crypto";
import type { Store } from "@orgchat/store";
import { loadGroupRecords, StoredGroupRecords } from "./group-records.js";
import { RosterBook } from "./roster-book.js";
import { loadRosterRecords } from "./roster-records.js";
import { Vault } from "./vault.js";

/**
 * Every group of an organization, restored from `store`.
 *
 * @param store - the peer's store (no passphrase)
 * @param orgId - the organization (hex)
 * @param role - "owner" for the owner's groups, else "member"
 * @param provider - the crypto provider the groups use (default: `defaultProvider()`)
 * @returns the groups by channel id ("" for the organization's)
 */
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "owner",
  provider?: CryptoProvider,
): Promise<Map<string, OwnerGroup>>;
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "member",
  provider?: CryptoProvider,
): Promise<Map<string, MemberGroup>>;
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "owner" | "member",
  provider?: CryptoProvider,
): Promise<Map<string, OwnerGroup | MemberGroup>>;
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "owner" | "member",
  provider: CryptoProvider = defaultProvider(),
): Promise<Map<string, OwnerGroup | MemberGroup>> {
  const space = `org/${orgId}`;
  // Both roster record formats (roster-records.ts), as the client loads them.
  const rosters = new RosterBook(provider);
  await loadRosterRecords(store, space, rosters);
  const { vault } = await Vault.open({
    provider,
    random: (n) => provider.randomBytes(n),
    passphrase: undefined,
    stored: undefined,
    scryptN: 16,
  });
  const init = {
    store,
    provider,
    vault,
    space,
    roster: (keyIdHex: string) => rosters.get(keyIdHex)?.roster,
    stored: new StoredGroupRecords(),
  };
  return role === "owner"
    ? loadGroupRecords({ ...init, role: "owner" })
    : loadGroupRecords({ ...init, role: "member" });
}
