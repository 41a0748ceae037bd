/**
 * How the CLI explains errors: one line and an exit code for every SDK, store and transport error it
 * knows (built here from the real classes, so a renamed error fails this test), its own `CliError`,
 * and an unreadable `config.json`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { raceAbort } from "@orgchat/base";
import * as client from "@orgchat/client";
import * as store from "@orgchat/store";
import { NoPeersError, TransportStartError } from "@orgchat/transport";
import { afterAll, describe, expect, it } from "vitest";
import { CliError, exitCodes, explain, interruptedError, isCliError } from "../src/errors.ts";
import { knownPeers, readProfileConfig } from "../src/session.ts";
import { killAll, tempDir } from "./helpers.ts";

const org = "ab".repeat(32);
const context = { dataDir: "/data/alice", peers: ["/ip4/127.0.0.1/tcp/1/ws"] };

afterAll(killAll);

describe("explain", () => {
  it.each([
    [new store.StoreLockedError("/data/alice/store.db"), /^data directory \/data\/alice is in use/],
    [
      new client.UnknownOrganizationError(org),
      /^unknown organization abababababab…: join it first/,
    ],
    [
      new client.OrganizationNotFoundError(org),
      /^organization abababababab… was not found on the service node \(\/ip4\/127\.0\.0\.1\/tcp\/1\/ws\)/,
    ],
    [
      new client.NotMemberError(org),
      // The hint's command holds the whole key: a shortened one would not run.
      new RegExp(
        `^you are not a member of organization abababababab…: request to join with \`orgchat join ${org} --wait\``,
      ),
    ],
    [new client.NotOwnerError(org), /^only the owner of organization abababababab… can do this/],
    [new client.ForgetRefusedError(org, "owner"), /^you own abababababab…: an owner cannot forget/],
    [
      new client.ForgetRefusedError(org, "member"),
      new RegExp(
        `^you are a member of abababababab…: leave it first \\(\`orgchat leave --org ${org}\`\\)`,
      ),
    ],
    [
      new client.ForgetRefusedError(org, "requester"),
      new RegExp(
        `^your request to join abababababab… is pending: cancel it first \\(\`orgchat cancel --org ${org}\`\\)`,
      ),
    ],
    [new client.ChannelAccessError(org, "core"), /^channel #core of abababababab… does not exist/],
    [new client.OwnerUnreachableError(org), /^the owner of abababababab… is offline/],
    [
      new client.LeaveNotResolvedError(org),
      /^the owner of abababababab… has not processed your leave/,
    ],
    [
      new client.KeysNotReadyError(org, ""),
      new RegExp(
        `^the group keys of abababababab… have not arrived yet .*\`orgchat join ${org} --wait\``,
      ),
    ],
    [
      new client.FreshKeysPendingError(org, ""),
      /^this identity was restored from a backup: abababababab… sends only with fresh keys/,
    ],
    [
      new client.FreshKeysPendingError(org, "", "removal"),
      /^a member of abababababab… was just removed and the owner's re-key has not arrived/,
    ],
    [
      new client.OwnerRestoredError(org),
      /^you own abababababab…, and this data directory was restored from a backup.*orgchat owner resume --org/,
    ],
    [
      new client.OwnerHistoryGapError(org, "Store holds no complete owner-signed description"),
      /^abababababab… cannot be carried on from this backup: Store holds no complete owner-signed description; nothing was sent.*orgchat owner resume --org/,
    ],
    [
      new client.EventRejectedError("ban", "not-a-member"),
      /^refused by the organization's rules \(not-a-member\): check the current state/,
    ],
    [
      new client.EventRejectedError("category.edited", "unknown-target"),
      /^refused by the organization's rules \(unknown-target: no such channel, category, request, invitation or message\)/,
    ],
    [new client.UnknownTargetError("request", "1234"), /request/i],
    [new client.WrongPassphraseError(), /^wrong passphrase for this data directory/],
    [new client.PassphraseRequiredError(true), /^this data directory is sealed with a passphrase/],
    [
      new client.StoreCorruptedError("meta"),
      /^a record of the data directory \/data\/alice \(meta\) is damaged or from a newer orgchat/,
    ],
    [
      new store.StoreCorruptError("file is not a database"),
      /^the store of \/data\/alice is damaged \(not a readable orgchat store\): move the directory aside/,
    ],
    [
      new store.SchemaVersionError(9, 4),
      /^the data directory \/data\/alice was written by a newer orgchat \(store schema 9, this one reads up to 4\)/,
    ],
    [
      new NoPeersError("none"),
      /^no service node reachable \(--peer \/ip4\/127\.0\.0\.1\/tcp\/1\/ws\)/,
    ],
    [new TransportStartError("bad multiaddr /x"), /^bad --peer address: .*Use the address/],
    [new TransportStartError("port in use"), /^the network could not start: /],
  ])("%s", (error, line) => {
    const explained = explain(error, context);
    expect(explained.line).toMatch(line);
    expect(explained.line).not.toContain("\n");
    expect(explained.code).toBe(exitCodes.failed);
  });

  it("an aborted SDK call is an interruption (130)", () => {
    expect(explain(new client.AbortError())).toEqual({ line: "interrupted", code: 130 });
  });

  it("any other error prints its message on one line", () => {
    expect(explain(new Error("something\n  broke"))).toEqual({
      line: "something broke",
      code: exitCodes.failed,
    });
    expect(explain("a string")).toEqual({ line: "a string", code: exitCodes.failed });
  });

  it("a CliError keeps its message and exit code, and is an OrgchatError with a guard", () => {
    const error = new CliError("bad thing: do this", exitCodes.usage, { cause: new Error("x") });
    expect(explain(error)).toEqual({ line: "bad thing: do this", code: exitCodes.usage });
    expect(error.name).toBe("CliError");
    expect(error.message).toBe("bad thing: do this");
    expect(isCliError(error)).toBe(true);
    expect(isCliError(new Error("bad thing"))).toBe(false);
  });

  it("an interrupted wait rejects with the CLI's interruption (130)", async () => {
    const controller = new AbortController();
    const waiting = raceAbort(new Promise(() => {}), controller.signal, interruptedError);
    controller.abort();
    const error = await waiting.catch((e: unknown) => e);
    expect(explain(error)).toEqual({
      line: "interrupted: stopped cleanly, nothing half-done was left behind",
      code: exitCodes.interrupted,
    });
  });
});

describe("config.json", () => {
  it("none yet: no peers remembered", () => {
    expect(readProfileConfig(join(tempDir(), "nothing-here"))).toEqual({ peers: [] });
  });

  it("not JSON: an error that names the file and says what to do; error messages list no peers", () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), "{ not json");
    const error = (() => {
      try {
        readProfileConfig(dir);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isCliError(error)).toBe(true);
    expect(explain(error).line).toMatch(
      /config\.json is not valid JSON \(.*\): fix it, or delete it and pass --peer again$/,
    );
    expect(knownPeers(dir, { json: false })).toEqual([]);
    expect(knownPeers(dir, { json: false, peer: ["/ip4/127.0.0.1/tcp/1/ws"] })).toEqual([
      "/ip4/127.0.0.1/tcp/1/ws",
    ]);
  });
});
