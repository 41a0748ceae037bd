/**
 * Steps most end-to-end CLI tests share: fresh data directories, the owner's encrypted "Acme"
 * organization with #general, and a member that joins by request and is accepted.
 */
import { join } from "node:path";
import { expect } from "vitest";
import { finish, orgchatJson, start, tempDir, waitForOutput } from "./helpers.ts";

/** What `org create --json` returns of the organization. */
export interface OrgJson {
  id: string;
  name: string;
  role: string;
  encrypted: boolean;
  epoch?: string;
  members: Record<string, string[]>;
  banned: string[];
  channels: Array<{ id: string; restricted: boolean }>;
}

/**
 * The steps against one service node.
 * @param servicePeer - its multiaddr (once the suite's service node started)
 */
export function acmeSteps(servicePeer: () => string) {
  /** The data directories of one test: `dir("alice")` is `--data <a fresh directory>/alice`. */
  function profiles(): (name: string) => string[] {
    const home = tempDir();
    return (name) => ["--data", join(home, name)];
  }

  /** The owner (`dir("owner")`) creates Acme: encrypted, on request, with #general. */
  async function createAcme(
    dir: (name: string) => string[],
  ): Promise<{ organization: OrgJson; link: string }> {
    return orgchatJson<{ organization: OrgJson; link: string }>([
      "org",
      "create",
      "Acme",
      "--description",
      "Acme staff",
      "--channel",
      "general",
      "--peer",
      servicePeer(),
      ...dir("owner"),
    ]);
  }

  /**
   * `profile` asks to join with `--wait` under the display name `name`; the owner accepts it by that
   * name once the request is stored. Resolves with the new member's id.
   */
  async function joinAccepted(
    dir: (name: string) => string[],
    link: string,
    profile: string,
    name: string,
  ): Promise<string> {
    const joining = start(["join", link, "--name", name, "--wait", "--json", ...dir(profile)]);
    await waitForOutput(joining, "stderr", "waiting for the owner");
    const accepted = await orgchatJson<{ request: { requester: string } }>([
      "accept",
      name,
      ...dir("owner"),
    ]);
    const joined = await finish(joining);
    expect(joined.code, joined.stderr).toBe(0);
    expect(JSON.parse(joined.stdout)).toMatchObject({ status: "member" });
    return accepted.request.requester;
  }
  return { profiles, createAcme, joinAccepted };
}
