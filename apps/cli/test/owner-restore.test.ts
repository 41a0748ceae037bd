/**
 * `orgchat owner restore FILE` over real Waku (docs/RESTORE.md, "Owner continuity: built"): the
 * owner backs up, goes on (accepts bob, sends), its machine is lost; a new profile restored from
 * the backup carries the organization on: bob, accepted after the backup, and alice read it, and it
 * reads them.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acmeSteps } from "./acme.ts";
import { orgchat, orgchatJson, sharedServiceNode, tempDir } from "./helpers.ts";

const servicePeer = sharedServiceNode();
const { profiles, createAcme, joinAccepted } = acmeSteps(servicePeer);
const withPassphrase = { ORGCHAT_BACKUP_PASSPHRASE: "a long enough passphrase" };

async function texts(dir: string[]): Promise<string[]> {
  const read = await orgchatJson<{ messages: Array<{ text: string }> }>([
    "read",
    "general",
    ...dir,
  ]);
  return read.messages.map((message) => message.text);
}

describe("orgchat owner restore", () => {
  it("carries the organization on from a backup: a member accepted after it reads the restored owner", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    await joinAccepted(dir, link, "alice", "Alice");
    const file = join(tempDir(), "owner.backup");
    const backup = await orgchat(["owner", "backup", file, ...dir("owner")], withPassphrase);
    expect(backup.code, backup.stderr).toBe(0);
    // The owner goes on after the backup, then its machine is lost (its profile is never run again).
    await joinAccepted(dir, link, "bob", "Bob");
    await orgchatJson(["send", "general", "after the backup", ...dir("owner")]);
    expect(await texts(dir("bob"))).toContain("after the backup");

    const restored = await orgchat(
      ["owner", "restore", file, "--json", ...dir("laptop")],
      withPassphrase,
    );
    expect(restored.code, restored.stderr).toBe(0);
    const made = JSON.parse(restored.stdout) as { resumed: Array<{ device: string }> };
    expect(made.resumed).toHaveLength(1);
    expect(made.resumed[0]?.device).toMatch(/^[0-9a-f]{32}$/);

    // Members see the new device and ask for the new epoch's keys; the owner answers as it runs.
    await texts(dir("bob"));
    await texts(dir("alice"));
    await orgchatJson(["send", "general", "the restored owner speaks", ...dir("laptop")]);
    expect(await texts(dir("bob"))).toContain("the restored owner speaks");
    expect(await texts(dir("alice"))).toContain("the restored owner speaks");
    await orgchatJson(["send", "general", "bob answers", ...dir("bob")]);
    expect(await texts(dir("laptop"))).toContain("bob answers");
  });
});
