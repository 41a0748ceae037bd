/**
 * Two copies of an owner's data directory over real Waku (docs/RESTORE.md, "Two owner devices at
 * once"): a copy made with `cp -r` is another device; once it sees the original write as owner it
 * refuses to (in words: which device, what to run); `owner resume` on the copy takes over, and
 * then the original stops and says so.
 */
import { cpSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { acmeSteps } from "./acme.ts";
import { orgchat, orgchatJson, sharedServiceNode } from "./helpers.ts";

const servicePeer = sharedServiceNode();
const { profiles, createAcme } = acmeSteps(servicePeer);

describe("orgchat with two copies of an owner's data directory", () => {
  it("the copy stops writing as owner, says what to run, and takes over with owner resume", async () => {
    const dir = profiles();
    const { organization } = await createAcme(dir);
    const key = organization.id;
    // Copied as files: another device (another store origin).
    cpSync(dir("owner")[1] as string, dir("copy")[1] as string, { recursive: true });

    // The original writes as owner; the copy reads it, stops, and says so.
    const created = await orgchat(["channel", "create", "news", "--org", key, ...dir("owner")]);
    expect(created.code, created.stderr).toBe(0);
    const refused = await orgchat(["channel", "create", "ops", "--org", key, ...dir("copy")]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("another device also runs");
    expect(refused.stderr).toContain(`orgchat owner resume --org ${key}`);
    const listed = await orgchat(["orgs", ...dir("copy")]);
    expect(listed.stdout).toContain("halted: device");

    // The copy is kept: it takes over; the original then stops and says so.
    const resumed = await orgchatJson<{ device: string }>([
      "owner",
      "resume",
      "--org",
      key,
      ...dir("copy"),
    ]);
    expect(resumed.device).toMatch(/^[0-9a-f]{32}$/);
    const made = await orgchat(["channel", "create", "ops", "--org", key, ...dir("copy")]);
    expect(made.code, made.stderr).toBe(0);
    const original = await orgchat(["channel", "create", "misc", "--org", key, ...dir("owner")]);
    expect(original.code).not.toBe(0);
    expect(original.stderr).toContain(resumed.device);
    expect(original.stderr).toContain("orgchat owner resume");
  });
});
