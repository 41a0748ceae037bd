/**
 * The page in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core, never a
 * downloaded browser) against an `orgchat serve` this test starts: the page creates an organization,
 * the CLI joins with the share link the page shows, the page accepts, and one message goes each way
 * (page → CLI `read`, CLI `send` → page); then the other way round: the CLI owns, the page opens its
 * link, asks to join, is accepted and chats; a passphrase seals a page's identity; and the story of
 * issue #16 (two pages and a CLI member: restricted channel, service node restart, ban, offline), then
 * issue #17's delegates (the owner's page makes Dana an admin and closes; her page accepts a CLI
 * newcomer who reads her next message, and bans him: he reads nothing after it), each step's
 * duration printed. Everything stays on 127.0.0.1. Every wait is for an event (a process's
 * output or exit, an element on the page); the timeouts are only nets for a hang.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chromiumLaunchOptions } from "../../../chromium.shared.ts";
import { serveStatic } from "../scripts/static-server.ts";
import { killAll, orgchatJson, type Run, start, waitForOutput } from "./cli-process.ts";

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const artifacts = join(appDir, "test-artifacts");
const hang = 300_000;

let browser: Browser | undefined;
let page: { url: string; close: () => Promise<void> } | undefined;
let node: { run: Run; peer: string } | undefined;
const home = mkdtempSync(join(tmpdir(), "orgchat-web-smoke-"));

/**
 * Starts `orgchat serve` on `listen` with the test's node data directory (the same one each time:
 * a restart keeps the node's key, so its address, and its Store).
 * @param listen - the multiaddr to listen on
 * @returns the running command and its WebSocket multiaddr
 */
async function startNode(listen: string): Promise<{ run: Run; peer: string }> {
  const serve = start(["serve", "--json", "--data", join(home, "node"), "--listen", listen]);
  await waitForOutput(serve, "stdout", "\n");
  const info = JSON.parse(serve.stdout.slice(0, serve.stdout.indexOf("\n"))) as {
    multiaddrs: string[];
  };
  return { run: serve, peer: info.multiaddrs.find((a) => a.includes("/ws/")) ?? "" };
}

beforeAll(async () => {
  // Before anything starts: no Chromium fails here, saying what to install.
  const launch = chromiumLaunchOptions("the web smoke test");
  const outDir = join(home, "page");
  await build({ root: appDir, logLevel: "silent", build: { outDir, emptyOutDir: true } });
  page = await serveStatic(outDir);
  node = await startNode("/ip4/127.0.0.1/tcp/0/ws");
  browser = await chromium.launch(launch);
});

afterAll(async () => {
  await browser?.close();
  await page?.close();
  await killAll();
  rmSync(home, { recursive: true, force: true });
});

it("page creates, CLI joins by the page's link, page accepts, one message each way", async () => {
  if (browser === undefined || page === undefined || node === undefined)
    throw new Error("setup failed");
  const tab = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const logs: string[] = [];
  tab.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  tab.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  try {
    await tab.goto(`${page.url}?peer=${encodeURIComponent(node.peer)}`);
    await tab.getByTestId("connect").click();
    await tab.getByTestId("connection").getByText("online").waitFor({ timeout: hang });
    await tab.getByTestId("org-name").fill("Acme");
    await tab.getByTestId("create-org").click();
    await tab.getByTestId("org-title").getByText("Acme").waitFor({ timeout: hang });
    const link = await tab.getByTestId("share-link").inputValue();
    expect(link).toMatch(/^orgchat:\/\/org\/[0-9a-f]{64}\?name=Acme&peer=/);

    const bob = ["--data", join(home, "bob")];
    // A name from the network is text: markup in it is shown, never parsed.
    const joining = start(["join", link, "--name", "Bob <b>x</b>", "--wait", "--json", ...bob]);
    await tab.getByTestId("accept-request").waitFor({ timeout: hang });
    await expect(tab.getByTestId("request").textContent()).resolves.toContain("Bob <b>x</b>");
    expect(await tab.getByTestId("request").locator("b").count()).toBe(0);
    await tab.getByTestId("accept-request").click();
    expect(await joining.exited, `${joining.stdout}\n${joining.stderr}`).toBe(0);
    expect((JSON.parse(joining.stdout) as { status: string }).status).toBe("member");

    await tab.getByTestId("composer").fill("hello from the page");
    await tab.getByTestId("send").click();
    await tab
      .getByTestId("message-text")
      .getByText("hello from the page", { exact: true })
      .waitFor({ timeout: hang });
    const read = await orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      ...bob,
    ]);
    expect(read.messages.map((m) => m.text)).toContain("hello from the page");

    await orgchatJson(["send", "general", "hello from the CLI", ...bob]);
    await tab
      .getByTestId("message-text")
      .getByText("hello from the CLI", { exact: true })
      .waitFor({ timeout: hang });
    await expect(tab.getByTestId("messages").textContent()).resolves.toContain("Bob <b>x</b>");
    mkdirSync(artifacts, { recursive: true });
    await tab.screenshot({ path: join(artifacts, "smoke.png") });

    // An unread post in a channel not on screen: its count outlives the reload (IndexedDB).
    const form = tab.getByTestId("channel-form");
    await form.getByTestId("new-channel-id").fill("random");
    await form.getByTestId("create-channel").click();
    await tab.getByTestId("channel-random").waitFor({ timeout: hang });
    // A category, renamed on the page (a prompt asks for the name): the CLI member reads the new name.
    await tab.getByTestId("new-category-id").fill("eng");
    await tab.getByTestId("new-category-name").fill("Engineering");
    await tab.getByTestId("create-category").click();
    const category = tab.getByTestId("admin-category-eng");
    await category.getByText("Engineering").waitFor({ timeout: hang });
    tab.once("dialog", (dialog) => void dialog.accept("R&D <i>"));
    await category.getByTestId("rename-category").click();
    await category
      .getByTestId("category-name")
      .getByText("R&D <i>", { exact: true })
      .waitFor({ timeout: hang });
    const listed = await orgchatJson<{ categories: Record<string, string> }>([
      "category",
      "list",
      ...bob,
    ]);
    expect(listed.categories).toEqual({ eng: "R&D <i>" });

    await orgchatJson(["send", "random", "unread across the reload", ...bob]);
    await tab
      .getByTestId("unread-random")
      .getByText("1", { exact: true })
      .waitFor({ timeout: hang });

    // A reload keeps the identity, the organization and its history (IndexedDB): the owner is
    // still the owner, and what the CLI sends meanwhile is caught up from the service node's Store.
    await orgchatJson(["send", "general", "while the page reloads", ...bob]);
    await tab.reload();
    await tab.getByTestId("connect").click();
    await tab.getByTestId("org-title").getByText("Acme").waitFor({ timeout: hang });
    for (const text of ["hello from the page", "hello from the CLI", "while the page reloads"]) {
      await tab
        .getByTestId("message-text")
        .getByText(text, { exact: true })
        .waitFor({ timeout: hang });
    }
    await expect(tab.getByTestId("unread-random").textContent()).resolves.toBe("1");
    await tab.getByTestId("composer").fill("after the reload");
    await tab.getByTestId("send").click();
    await tab
      .getByTestId("message-text")
      .getByText("after the reload", { exact: true })
      .waitFor({ timeout: hang });
    const after = await orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      ...bob,
    ]);
    expect(after.messages.map((m) => m.text)).toContain("after the reload");
  } catch (error) {
    mkdirSync(artifacts, { recursive: true });
    await tab.screenshot({ path: join(artifacts, "smoke-failed.png") }).catch(() => undefined);
    throw new Error(`${String(error)}\npage console:\n${logs.join("\n")}`, { cause: error });
  } finally {
    await tab.close();
  }
});

it("CLI creates, the page opens its link (#join=), asks to join, the CLI accepts, a message each way", async () => {
  if (browser === undefined || page === undefined || node === undefined)
    throw new Error("setup failed");
  const owner = ["--data", join(home, "owner")];
  const created = await orgchatJson<{ link: string; organization: { id: string } }>([
    "org",
    "create",
    "Globex",
    "--channel",
    "general",
    "--peer",
    node.peer,
    ...owner,
  ]);
  const tab = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const logs: string[] = [];
  tab.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  tab.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  try {
    // The link alone: the page takes the service node from it.
    await tab.goto(`${page.url}#join=${encodeURIComponent(created.link)}`);
    await expect(tab.getByTestId("peer-input").inputValue()).resolves.toBe(node.peer);
    await tab.getByTestId("connect").click();
    await tab.getByTestId("display-name").fill("Carol");
    await tab.getByTestId("request-join").click();
    await tab.getByTestId("request-status").getByText("pending").waitFor({ timeout: hang });

    const listed = await orgchatJson<{ requests: Array<{ id: string; displayName: string }> }>([
      "requests",
      ...owner,
    ]);
    expect(listed.requests.map((r) => r.displayName)).toEqual(["Carol"]);
    await orgchatJson(["accept", listed.requests[0]?.id.slice(0, 8) ?? "", ...owner]);
    await tab
      .getByTestId("org-title")
      .getByText("Globex", { exact: true })
      .waitFor({ timeout: hang });
    await tab.getByTestId("waiting-for-keys").waitFor({ state: "detached", timeout: hang });

    await tab.getByTestId("composer").fill("hello from a member's page");
    await tab.getByTestId("send").click();
    await tab
      .getByTestId("message-text")
      .getByText("hello from a member's page", { exact: true })
      .waitFor({ timeout: hang });
    const read = await orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      ...owner,
    ]);
    expect(read.messages.map((m) => m.text)).toContain("hello from a member's page");

    await orgchatJson(["send", "general", "welcome, Carol", ...owner]);
    await tab
      .getByTestId("message-text")
      .getByText("welcome, Carol", { exact: true })
      .waitFor({ timeout: hang });
    mkdirSync(artifacts, { recursive: true });
    await tab.screenshot({ path: join(artifacts, "smoke-member.png") });
  } catch (error) {
    mkdirSync(artifacts, { recursive: true });
    await tab
      .screenshot({ path: join(artifacts, "smoke-member-failed.png") })
      .catch(() => undefined);
    throw new Error(`${String(error)}\npage console:\n${logs.join("\n")}`, { cause: error });
  } finally {
    await tab.close();
  }
});

it("a passphrase seals the page's identity: asked for after a reload, a wrong one refused", async () => {
  if (browser === undefined || page === undefined || node === undefined)
    throw new Error("setup failed");
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const tab = await context.newPage();
  const logs: string[] = [];
  tab.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  tab.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  try {
    await tab.goto(`${page.url}?peer=${encodeURIComponent(node.peer)}`);
    await tab.getByTestId("passphrase").fill("correct horse");
    await tab.getByTestId("connect").click();
    await tab.getByTestId("org-name").fill("Sealed Inc");
    await tab.getByTestId("create-org").click();
    await tab.getByTestId("org-title").getByText("Sealed Inc").waitFor({ timeout: hang });

    await tab.reload();
    await tab.getByTestId("connect").click();
    await tab.getByTestId("connect-error").getByText("sealed").waitFor({ timeout: hang });
    await expect(tab.getByTestId("connect").textContent()).resolves.toBe("Unlock");
    await tab.getByTestId("passphrase").fill("wrong horse");
    await tab.getByTestId("connect").click();
    await tab.getByTestId("connect-error").getByText("wrong passphrase").waitFor({ timeout: hang });
    await tab.getByTestId("passphrase").fill("correct horse");
    await tab.getByTestId("connect").click();
    await tab.getByTestId("org-title").getByText("Sealed Inc").waitFor({ timeout: hang });
    await expect(tab.getByTestId("status").textContent()).resolves.toContain("you:");
  } catch (error) {
    mkdirSync(artifacts, { recursive: true });
    await tab.screenshot({ path: join(artifacts, "passphrase-failed.png") }).catch(() => undefined);
    throw new Error(`${String(error)}\npage console:\n${logs.join("\n")}`, { cause: error });
  } finally {
    await context.close();
  }
});

it("the story: two pages and a CLI member chat; a restricted channel; the service node restarts; a ban re-keys; a page offline queues and delivers when back; with the owner offline, an admin's page accepts and bans", async () => {
  if (browser === undefined || page === undefined || node === undefined)
    throw new Error("setup failed");
  // Two browser profiles (contexts share nothing: two identities), and a CLI member.
  const viewport = { width: 1280, height: 760 };
  const contexts = [await browser.newContext({ viewport }), await browser.newContext({ viewport })];
  const [owner, dana] = await Promise.all(contexts.map((c) => c.newPage()));
  if (owner === undefined || dana === undefined) throw new Error("no page");
  const logs: string[] = [];
  for (const [name, tab] of [
    ["owner", owner],
    ["dana", dana],
  ] as const) {
    tab.on("console", (m) => logs.push(`${name} ${m.type()}: ${m.text()}`));
    tab.on("pageerror", (e) => logs.push(`${name} pageerror: ${e.message}`));
  }
  const erin = ["--data", join(home, "erin")];
  const shows = (tab: typeof owner, text: string) =>
    tab.getByTestId("message-text").getByText(text, { exact: true }).waitFor({ timeout: hang });
  const send = async (tab: typeof owner, text: string) => {
    await tab.getByTestId("composer").fill(text);
    await tab.getByTestId("send").click();
  };
  const open = (tab: typeof owner, channel: string) =>
    tab.getByTestId(`channel-${channel}`).click();
  /** Erin's `read` (a banned member still reads what its kept keys open, from local history). */
  const cliRead = async (channel = "general") => {
    const run = start(["read", channel, "--json", ...erin]);
    expect(await run.exited, run.stderr).toBe(0);
    return run.stdout;
  };
  // Each step's duration, printed at the end (the closing note of #16 quotes them): measured,
  // never compared with anything.
  const timings: Array<{ step: string; ms: number }> = [];
  const step = async (name: string, body: () => Promise<void>) => {
    const started = performance.now();
    await body();
    timings.push({ step: name, ms: Math.round(performance.now() - started) });
  };
  // Set once the owner's page is closed (its context with it): the delegates' part runs without it.
  let ownerGone = false;
  try {
    let link = "";
    await step("owner's page connects and creates Initech", async () => {
      await owner.goto(`${page?.url}?peer=${encodeURIComponent(node?.peer ?? "")}`);
      await owner.getByTestId("connect").click();
      await owner.getByTestId("org-name").fill("Initech");
      await owner.getByTestId("create-org").click();
      await owner.getByTestId("org-title").getByText("Initech").waitFor({ timeout: hang });
      link = await owner.getByTestId("share-link").inputValue();
    });

    await step("a second page joins by the link, the owner's page accepts", async () => {
      await dana.goto(`${page?.url}#join=${encodeURIComponent(link)}`);
      await dana.getByTestId("connect").click();
      await dana.getByTestId("display-name").fill("Dana");
      await dana.getByTestId("request-join").click();
      await owner.getByTestId("request").getByText("Dana").waitFor({ timeout: hang });
      await owner.getByTestId("accept-request").click();
      await dana.getByTestId("org-title").getByText("Initech").waitFor({ timeout: hang });
      await dana.getByTestId("waiting-for-keys").waitFor({ state: "detached", timeout: hang });
    });

    await step("a CLI member joins by the link, the owner's page accepts", async () => {
      const joining = start(["join", link, "--name", "Erin", "--wait", ...erin]);
      await waitForOutput(joining, "stderr", "waiting for the owner");
      await owner.getByTestId("request").getByText("Erin").waitFor({ timeout: hang });
      await owner.getByTestId("accept-request").click();
      expect(await joining.exited).toBe(0);
    });

    await step("chat page ↔ page and page ↔ CLI", async () => {
      await send(owner, "hello Dana and Erin");
      await shows(dana, "hello Dana and Erin");
      expect(await cliRead()).toContain("hello Dana and Erin");
      await send(dana, "hi from Dana's page");
      await shows(owner, "hi from Dana's page");
      await orgchatJson(["send", "general", "hi from Erin's CLI", ...erin]);
      await shows(owner, "hi from Erin's CLI");
      await shows(dana, "hi from Erin's CLI");
      await expect(dana.getByTestId("messages").textContent()).resolves.toContain("Erin");
    });

    await step("the owner's page pins a message: Dana's page shows it pinned", async () => {
      await owner
        .getByTestId("message")
        .filter({ hasText: "hi from Dana's page" })
        .getByTestId("pin")
        .click();
      await dana
        .getByTestId("message")
        .filter({ hasText: "hi from Dana's page" })
        .getByTestId("pinned-mark")
        .waitFor({ timeout: hang });
      await expect(dana.getByTestId("pinned").textContent()).resolves.toContain("Pinned (1)");
    });

    await step(
      "restricted #core (roster: the CLI member): Dana's page cannot read it",
      async () => {
        // The owner's page creates #core restricted to Erin: the channel has its own keys.
        const form = owner.getByTestId("channel-form");
        await form.getByTestId("new-channel-id").fill("core");
        await form.getByTestId("new-channel-restricted").check();
        await form.locator("label", { hasText: "Erin" }).getByTestId("roster-pick").check();
        await form.getByTestId("create-channel").click();
        await owner
          .getByTestId("admin-channel-core")
          .getByText("1 on its roster")
          .waitFor({ timeout: hang });
        await open(owner, "core");
        await owner.getByTestId("roster-line").getByText("Erin").waitFor({ timeout: hang });
        await send(owner, "core: for Erin only");
        await shows(owner, "core: for Erin only");
        expect(await cliRead("core")).toContain("core: for Erin only");
        // Dana sees #core marked restricted, and the page says why it shows her nothing.
        await dana.getByTestId("restricted-core").waitFor({ timeout: hang });
        await open(dana, "core");
        await dana.getByTestId("not-on-roster").waitFor({ timeout: hang });
        expect(await dana.getByTestId("composer").count()).toBe(0);
        // What the owner posts after it reaches Dana: #core's message had its chance, unread.
        await open(owner, "general");
        await send(owner, "after #core's message");
        await open(dana, "general");
        await shows(dana, "after #core's message");
        await open(dana, "core");
        await dana.getByTestId("not-on-roster").waitFor({ timeout: hang });
        expect(await dana.getByTestId("message").count()).toBe(0);
        mkdirSync(artifacts, { recursive: true });
        await dana.screenshot({ path: join(artifacts, "story-not-on-roster.png") });
      },
    );

    await step("the owner's page adds Dana to #core's roster: she reads what follows", async () => {
      await owner.getByTestId("admin-channel-core").getByTestId("edit-roster").click();
      await owner
        .getByTestId("admin-channel-core")
        .locator("label", { hasText: "Dana" })
        .getByTestId("roster-pick")
        .check();
      await owner.getByTestId("admin-channel-core").getByTestId("save-roster").click();
      await dana.getByTestId("not-on-roster").waitFor({ state: "detached", timeout: hang });
      await dana.getByTestId("roster-line").getByText("you").waitFor({ timeout: hang });
      await open(owner, "core");
      await send(owner, "core: welcome Dana");
      await shows(dana, "core: welcome Dana");
      await send(dana, "core: Dana here");
      await shows(owner, "core: Dana here");
      expect(await cliRead("core")).toContain("core: Dana here");
      // Joining #core's group opened its epochs from then on, not the one before.
      await expect(dana.getByTestId("messages").textContent()).resolves.not.toContain(
        "core: for Erin only",
      );
      mkdirSync(artifacts, { recursive: true });
      await owner.screenshot({ path: join(artifacts, "story-restricted-owner.png") });
      await open(owner, "general");
      await open(dana, "general");
    });

    await step("the service node restarts; both pages and the CLI chat again", async () => {
      const before = node;
      if (before === undefined) throw new Error("no node");
      const port = /\/tcp\/(\d+)\/ws/.exec(before.peer)?.[1];
      if (port === undefined) throw new Error(`no port in ${before.peer}`);
      before.run.child.kill("SIGTERM");
      expect(await before.run.exited).not.toBeNull();
      await owner.getByTestId("connection").getByText("online").waitFor({
        state: "detached",
        timeout: hang,
      });
      // Written while no service node runs: marked, kept, delivered after the restart.
      await send(dana, "written while the node was down");
      await dana.getByTestId("sending").first().waitFor({ timeout: hang });
      node = await startNode(`/ip4/127.0.0.1/tcp/${port}/ws`);
      expect(node.peer).toBe(before.peer);
      await owner.getByTestId("connection").getByText("online").waitFor({ timeout: hang });
      await shows(owner, "written while the node was down");
      await dana.getByTestId("sending").waitFor({ state: "detached", timeout: hang });
      await send(owner, "after the restart");
      await shows(dana, "after the restart");
      expect(await cliRead()).toContain("after the restart");
      await orgchatJson(["send", "general", "Erin's CLI after the restart", ...erin]);
      await shows(owner, "Erin's CLI after the restart");
      await shows(dana, "Erin's CLI after the restart");
    });

    await step("the owner's page bans the CLI member: a re-key closes what follows", async () => {
      await owner
        .getByTestId("owner-panel")
        .locator("li", { hasText: "Erin" })
        .getByRole("button", { name: "Ban" })
        .click();
      await owner
        .getByTestId("members")
        .getByText("Erin", { exact: false })
        .waitFor({ state: "detached", timeout: hang });
      await send(owner, "after the ban");
      await shows(dana, "after the ban");
      const banned = await cliRead();
      expect(banned).toContain("hi from Dana's page");
      expect(banned).not.toContain("after the ban");
    });

    await step("Dana's page offline: her message waits, goes out when back", async () => {
      await contexts[1]?.setOffline(true);
      await send(dana, "written while offline");
      await dana.getByTestId("sending").first().waitFor({ timeout: hang });
      await contexts[1]?.setOffline(false);
      await shows(owner, "written while offline");
      await dana.getByTestId("sending").waitFor({ state: "detached", timeout: hang });
    });

    await step("the owner's page removes #core", async () => {
      await owner.getByTestId("admin-channel-core").getByTestId("remove-channel").click();
      // The owner's own page too (the client announces what it hears, not what the owner did).
      await owner.getByTestId("channel-core").waitFor({ state: "detached", timeout: hang });
      await dana.getByTestId("channel-core").waitFor({ state: "detached", timeout: hang });
    });
    mkdirSync(artifacts, { recursive: true });
    await owner.screenshot({ path: join(artifacts, "story-owner.png") });
    await dana.screenshot({ path: join(artifacts, "story-member.png") });

    await step("the owner's page makes Dana an admin, then goes offline for good", async () => {
      await owner
        .getByTestId("owner-panel")
        .locator("li", { hasText: "Dana" })
        .getByTestId("role-select")
        .selectOption("all");
      await dana.getByTestId("delegate-panel").waitFor({ timeout: hang });
      await expect(dana.getByTestId("delegate-rank").textContent()).resolves.toContain("admin");
      // What stays with the owner is not on her page: roles, channels, unbans.
      expect(await dana.getByTestId("owner-panel").count()).toBe(0);
      expect(await dana.getByTestId("role-select").count()).toBe(0);
      expect(await dana.getByTestId("channel-form").count()).toBe(0);
      // The owner gets no buttons, and the page says why.
      const ownerRow = dana.getByTestId("delegate-member").filter({ hasText: "owner" });
      await expect(ownerRow.getByTestId("no-action").textContent()).resolves.toContain(
        "nobody removes or bans the owner",
      );
      expect(await ownerRow.getByRole("button").count()).toBe(0);
      // Her client published its delegate bundle in the commit that gave her the rank; her next
      // post is published after it (one operation queue), so the service node holds the bundle.
      await send(dana, "Dana is an admin now");
      await shows(owner, "Dana is an admin now");
      await contexts[0]?.close();
      ownerGone = true;
    });

    const frank = ["--data", join(home, "frank")];
    const frankRead = async () => {
      const run = start(["read", "general", "--json", ...frank]);
      expect(await run.exited, run.stderr).toBe(0);
      return run.stdout;
    };
    await step(
      "owner offline: a CLI user asks to join, Dana's (admin) page accepts, he reads her next message",
      async () => {
        const joining = start(["join", link, "--name", "Frank", "--wait", ...frank]);
        await waitForOutput(joining, "stderr", "waiting for the owner");
        // The request shows as it arrives, with its name.
        await dana
          .getByTestId("delegate-panel")
          .getByTestId("request")
          .getByText("Frank")
          .waitFor({ timeout: hang });
        mkdirSync(artifacts, { recursive: true });
        await dana.screenshot({ path: join(artifacts, "delegate-requests.png") });
        await dana.getByTestId("delegate-panel").getByTestId("accept-request").click();
        expect(await joining.exited, `${joining.stdout}\n${joining.stderr}`).toBe(0);
        await dana
          .getByTestId("delegate-panel")
          .getByTestId("request")
          .waitFor({ state: "detached", timeout: hang });
        await send(dana, "welcome, Frank");
        await shows(dana, "welcome, Frank");
        expect(await frankRead()).toContain("welcome, Frank");
        // Frank is below her rank: remove and ban; the owner still has none.
        await dana
          .getByTestId("delegate-member")
          .filter({ hasText: "Frank" })
          .getByRole("button", { name: "Ban" })
          .waitFor({ timeout: hang });
        await dana.screenshot({ path: join(artifacts, "delegate-members.png") });
      },
    );

    await step(
      "owner offline: Dana's page bans Frank: his kept keys open nothing after it",
      async () => {
        await dana
          .getByTestId("delegate-member")
          .filter({ hasText: "Frank" })
          .getByRole("button", { name: "Ban" })
          .click();
        await dana
          .getByTestId("delegate-member")
          .filter({ hasText: "Frank" })
          .waitFor({ state: "detached", timeout: hang });
        expect(await dana.getByTestId("delegate-error").count()).toBe(0);
        await send(dana, "after Frank's ban");
        await shows(dana, "after Frank's ban");
        const banned = await frankRead();
        expect(banned).toContain("welcome, Frank");
        expect(banned).not.toContain("after Frank's ban");
        mkdirSync(artifacts, { recursive: true });
        await dana.screenshot({ path: join(artifacts, "delegate-ban.png") });
      },
    );
  } catch (error) {
    mkdirSync(artifacts, { recursive: true });
    if (!ownerGone) {
      await owner
        .screenshot({ path: join(artifacts, "story-failed-owner.png") })
        .catch(() => undefined);
    }
    await dana
      .screenshot({ path: join(artifacts, "story-failed-member.png") })
      .catch(() => undefined);
    throw new Error(`${String(error)}\npage console:\n${logs.slice(-60).join("\n")}`, {
      cause: error,
    });
  } finally {
    const width = Math.max(...timings.map((t) => t.step.length));
    console.log(
      `story steps:\n${timings.map((t) => `  ${t.step.padEnd(width)}  ${(t.ms / 1000).toFixed(1)} s`).join("\n")}`,
    );
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, "story-timings.json"), `${JSON.stringify(timings, null, 2)}\n`);
    for (const [i, context] of contexts.entries()) {
      if (i > 0 || !ownerGone) await context.close();
    }
  }
});
