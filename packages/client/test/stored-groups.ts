/**
 * Tests only: a group's state read back from a peer's store (unsealed: no passphrase), as
 * `Persistence.load` restores it (group-records.ts), with the rosters the store holds. For tests
 * that inspect what was persisted (the epoch reached, the keys a removed member kept).
 */
import { defaultProvider, type MemberGroup, type OwnerGroup } from "@orgchat/crypto";
import type { Store } from "@orgchat/store";
import { loadGroupRecords, StoredGroupRecords } from "../src/group-records.js";
import { RosterBook } from "../src/roster-book.js";
import { loadRosterRecords } from "../src/roster-records.js";
import { Vault } from "../src/vault.js";

/**
 * Every group of an organization, restored from `store`.
 *
 * @param store - the peer's store (no passphrase)
 * @param orgId - the organization (hex)
 * @param role - "owner" for the owner's groups, else "member"
 * @returns the groups by channel id ("" for the organization's)
 */
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "owner",
): Promise<Map<string, OwnerGroup>>;
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "member",
): Promise<Map<string, MemberGroup>>;
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "owner" | "member",
): Promise<Map<string, OwnerGroup | MemberGroup>>;
export async function storedGroups(
  store: Store,
  orgId: string,
  role: "owner" | "member",
): Promise<Map<string, OwnerGroup | MemberGroup>> {
  const provider = defaultProvider();
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
