/**
 * The story `pnpm demo` tells (issue #8): one in-process service node (SQLite in a temporary
 * directory) and three identities, owner, alice and bob, each with its own data directory and its own
 * light transport, over real Waku on 127.0.0.1. Every step is verified; the run exits 0 only if every
 * check passed. Nothing here reaches beyond loopback.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, type ClientEvents, createClient, type MessageView } from "@orgchat/client";
import { createServiceNode, type ServiceNode } from "@orgchat/service-node";
import type { Store } from "@orgchat/store";
import { openSqliteStore } from "@orgchat/store-sqlite";
import { memoryNetwork, type TransportMessage } from "@orgchat/transport";
import { wakuTransport } from "@orgchat/transport-waku";
import { channelTopic } from "@orgchat/wire";
import { jsonReplacer, type Output, short, table } from "./format.js";
import { type CountingTransport, clientConfig, countingTransport } from "./session.js";
import { outputText } from "./terminal-text.js";

/**
 * How long one wait of the story may take before its check fails: generous, so that a busy machine
 * slows the demo down instead of failing it (on an idle one each wait takes milliseconds).
 */
const waitMs = 120_000;

interface Peer {
  readonly name: string;
  readonly dir: string;
  client: Client;
  store: Store;
  transport: CountingTransport;
  /** Texts of `message:received` from others, per channel, in arrival order. */
  readonly received: Map<string, string[]>;
  readonly events: string[];
}

interface Check {
  readonly ok: boolean;
  readonly text: string;
}

interface StepReport {
  readonly step: number;
  readonly label: string;
  readonly title: string;
  readonly ms: number;
  /** Bytes the three identities published during the step (payloads, as sent to the service node). */
  readonly bytes: number;
  readonly messages: number;
  readonly checks: readonly Check[];
  readonly ok: boolean;
}

export interface DemoOptions {
  readonly output: Output;
  readonly json: boolean;
  readonly signal: AbortSignal;
  /** Keep the temporary directory (its path is printed). */
  readonly keep?: boolean;
}

class StepFailed extends Error {}

/**
 * Runs the story.
 * @returns the exit code: 0 when every step was verified
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { output, json, signal } = options;
  // Names and texts come back over the network: printed through `outputText` like every command's.
  const say = (line = "") => {
    const text = `${outputText(line)}\n`;
    if (json) output.stderr(text);
    else output.stdout(text);
  };
  const root = mkdtempSync(join(tmpdir(), "orgchat-demo-"));
  const peers: Peer[] = [];
  const reports: StepReport[] = [];
  let node: ServiceNode | undefined;
  const started = performance.now();
  let serviceAddress = "";
  let stepStart = started;

  // Counters of transports already stopped (a restart makes a new transport).
  const retired = { sentBytes: 0, sentMessages: 0 };
  const sentBytes = () =>
    peers.reduce((sum, p) => sum + p.transport.counters.sentBytes, retired.sentBytes);
  const sentMessages = () =>
    peers.reduce((sum, p) => sum + p.transport.counters.sentMessages, retired.sentMessages);

  async function openPeer(name: string, dir: string): Promise<Peer> {
    const store = await openSqliteStore({ path: join(dir, "store.db") });
    const transport = countingTransport(
      wakuTransport({ mode: "light", peers: [serviceAddress], publishTimeoutMs: waitMs }),
    );
    const client = await createClient({ transport, store, config: clientConfig(false) });
    const peer: Peer = { name, dir, client, store, transport, received: new Map(), events: [] };
    listen(peer);
    return peer;
  }

  /** Restarts a peer on its data directory (a new process would do the same). */
  async function reopen(peer: Peer): Promise<void> {
    retired.sentBytes += peer.transport.counters.sentBytes;
    retired.sentMessages += peer.transport.counters.sentMessages;
    peer.transport.counters.sentBytes = 0;
    peer.transport.counters.sentMessages = 0;
    const store = await openSqliteStore({ path: join(peer.dir, "store.db") });
    const transport = countingTransport(
      wakuTransport({ mode: "light", peers: [serviceAddress], publishTimeoutMs: waitMs }),
    );
    peer.store = store;
    peer.transport = transport;
    peer.client = await createClient({ transport, store, config: clientConfig(false) });
    listen(peer);
  }

  function listen(peer: Peer): void {
    peer.client.on("error", ({ error }) => {
      output.stderr(
        `    ! ${peer.name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
      );
    });
    peer.client.on("message:received", ({ message }) => {
      if (message.own) return;
      const list = peer.received.get(message.channelId) ?? [];
      list.push(message.text);
      peer.received.set(message.channelId, list);
    });
    const names: Array<keyof ClientEvents> = [
      "request:received",
      "request:accepted",
      "invitation:received",
      "member:joined",
      "member:left",
      "member:banned",
      "epoch:changed",
    ];
    for (const name of names) peer.client.on(name, () => peer.events.push(name));
  }

  async function closePeer(peer: Peer): Promise<void> {
    await peer.client.close().catch(() => undefined);
    await peer.transport.stop().catch(() => undefined);
    await peer.store.close().catch(() => undefined);
  }

  /** Polls `predicate` (after letting clients settle) until true or the wait runs out. */
  async function until(predicate: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (signal.aborted) throw new StepFailed("interrupted");
      if (predicate()) return;
      if (performance.now() > deadline) throw new StepFailed(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function step(
    label: string,
    title: string,
    body: (
      check: (ok: boolean, text: string) => void,
      log: (line: string) => void,
    ) => Promise<void>,
  ): Promise<boolean> {
    const number = reports.length + 1;
    say(`[${number}] ${title}`);
    const checks: Check[] = [];
    const t0 = performance.now();
    stepStart = t0;
    const bytes0 = sentBytes();
    const messages0 = sentMessages();
    const at = () => `+${(performance.now() - stepStart).toFixed(0)} ms`.padStart(9);
    const check = (ok: boolean, text: string) => {
      checks.push({ ok, text });
      say(`  ${at()}  ${ok ? "✓" : "✗"} ${text}`);
    };
    const log = (line: string) => say(`  ${at()}    ${line}`);
    try {
      await body(check, log);
    } catch (error) {
      check(false, error instanceof Error ? error.message : String(error));
    }
    const ms = performance.now() - t0;
    const ok = checks.length > 0 && checks.every((c) => c.ok);
    reports.push({
      step: number,
      label,
      title,
      ms,
      bytes: sentBytes() - bytes0,
      messages: sentMessages() - messages0,
      checks,
      ok,
    });
    say(`  ${ok ? "verified" : "FAILED"} in ${ms.toFixed(0)} ms`);
    say();
    return ok;
  }

  const texts = (peer: Peer, orgId: string, channel: string) =>
    peer.client.history(orgId, channel).map((m: MessageView) => m.text);

  try {
    say("orgchat demo: one service node and three identities over real Waku on 127.0.0.1");
    node = await createServiceNode({
      dataDir: join(root, "service-node"),
      listen: ["/ip4/127.0.0.1/tcp/0/ws"],
    });
    serviceAddress = node.multiaddrs()[0] ?? "";
    say(`service node  ${serviceAddress}`);
    say(`              Store v3 in SQLite under ${join(root, "service-node")}`);
    for (const name of ["owner", "alice", "bob"]) {
      peers.push(await openPeer(name, join(root, name)));
    }
    const [owner, alice, bob] = peers as [Peer, Peer, Peer];
    for (const peer of peers) {
      say(
        `${peer.name.padEnd(6)}        ${peer.client.memberId}  (light node, data in ${peer.dir})`,
      );
    }
    say();
    let orgId = "";
    let orgKey = new Uint8Array(0);

    let ok = await step(
      "create",
      "owner creates an encrypted organization with #general and a restricted #core",
      async (check, log) => {
        orgId = await owner.client.createOrganization({
          name: "Acme",
          description: "the demo organization",
          access: "on-request",
          encrypted: true,
        });
        orgKey = Uint8Array.from(Buffer.from(orgId, "hex"));
        await owner.client.createChannel(orgId, { id: "general", name: "General" });
        await owner.client.createChannel(orgId, {
          id: "core",
          name: "Core team",
          access: "invitation-only",
        });
        await owner.client.idle();
        log(`organization Acme, key ${orgId}`);
        const org = owner.client.getOrganization(orgId);
        check(org.encrypted && org.epoch !== undefined, `encrypted, group epoch ${org.epoch}`);
        check(
          org.channels.some((c) => c.id === "general" && !c.restricted) &&
            org.channels.some((c) => c.id === "core" && c.restricted),
          "#general open to members, #core restricted (own group)",
        );
        const outbox = await owner.store.range(`outbox/${orgId}`);
        check(
          outbox.length === 0 && (node?.stats().storedMessages ?? 0) > 0,
          `description, prekey bundle and keys published: the service node stores ${node?.stats().storedMessages} messages`,
        );
      },
    );

    ok &&= await step(
      "discover, request, invite",
      "alice finds Acme from its key alone and asks to join; owner accepts; bob is invited",
      async (check, log) => {
        owner.client.on("request:received", ({ requestId, displayName }) => {
          log(`owner ← request to join from ${displayName} (${short(requestId)}); accepting`);
          owner.client.acceptRequest(orgId, requestId).catch((error: unknown) => {
            log(
              `owner could not accept: ${error instanceof Error ? error.message : String(error)}`,
            );
          });
        });
        const found = await alice.client.discover(orgId);
        check(
          found.identity.displayName === "Acme",
          `alice discovered "${found.identity.displayName}" from the key (description verified against it)`,
        );
        await alice.client.requestToJoin(orgId, { displayName: "alice" });
        await until(
          () =>
            alice.client.getOrganization(orgId).role === "member" &&
            alice.client.getOrganization(orgId).epoch !== undefined,
          "alice's Welcome",
        );
        check(
          true,
          `alice is a member, holds the group keys (epoch ${alice.client.getOrganization(orgId).epoch})`,
        );
        await owner.client.invite(orgId, bob.client.memberId);
        log(`owner → invitation to bob's key ${short(bob.client.memberId)}`);
        await until(() => bob.events.includes("invitation:received"), "bob's invitation");
        await bob.client.acceptInvitation(orgId, { displayName: "bob" });
        await until(
          () =>
            bob.client.getOrganization(orgId).role === "member" &&
            bob.client.getOrganization(orgId).epoch !== undefined,
          "bob's Welcome",
        );
        check(true, "bob accepted the invitation and is a member with the group keys");
        await owner.client.setChannelMembers(orgId, "core", { [bob.client.memberId]: [] });
        await until(
          () =>
            bob.client.getOrganization(orgId).channels.some((c) => c.id === "core" && c.canPost),
          "bob's access to #core",
        );
        await until(
          () => bob.events.filter((e) => e === "epoch:changed").length >= 2,
          "the #core keys for bob",
        );
        const members = owner.client.getOrganization(orgId).members;
        check(
          members.has(alice.client.memberId) && members.has(bob.client.memberId),
          `owner sees ${members.size} members; bob is on #core's roster`,
        );
      },
    );

    ok &&= await step(
      "#general, restricted #core",
      "messages flow in #general; only bob and owner read #core",
      async (check, log) => {
        await owner.client.sendMessage(orgId, "general", "welcome to Acme, everyone");
        await alice.client.sendMessage(orgId, "general", "hi, alice here");
        await bob.client.sendMessage(orgId, "general", "bob here, hello");
        log("owner, alice and bob each post to #general");
        const all = ["welcome to Acme, everyone", "hi, alice here", "bob here, hello"];
        await until(
          () => peers.every((p) => all.every((t) => texts(p, orgId, "general").includes(t))),
          "#general to reach everyone",
        );
        check(true, "each identity has all 3 #general messages (decrypted with the group keys)");
        await owner.client.sendMessage(orgId, "core", "core: release on friday");
        await bob.client.sendMessage(orgId, "core", "core: ack from bob");
        log("owner and bob post to #core");
        await until(
          () =>
            texts(bob, orgId, "core").includes("core: release on friday") &&
            texts(owner, orgId, "core").includes("core: ack from bob"),
          "#core between owner and bob",
        );
        check(true, "owner and bob read each other in #core");
        const stored = await owner.transport.queryHistory({
          contentTopics: [channelTopic(orgKey, "core")],
          pageSize: 100,
        });
        await alice.client.idle();
        check(
          stored.messages.length >= 2 && texts(alice, orgId, "core").length === 0,
          `alice opened none of the ${stored.messages.length} #core ciphertexts the service node holds`,
        );
        let refused = false;
        try {
          await alice.client.sendMessage(orgId, "core", "let me in");
        } catch (error) {
          refused = (error as { name?: string }).name === "ChannelAccessError";
        }
        check(refused, "alice cannot post to #core (ChannelAccessError)");
      },
    );

    let retainedDir = "";
    let snapshotAt = 0;
    ok &&= await step(
      "leave, rejoin, ban, re-key",
      "alice leaves and rejoins; owner bans alice; re-key; her keys open nothing after it",
      async (check, log) => {
        const epoch0 = owner.client.getOrganization(orgId).epoch ?? 0n;
        await alice.client.leave(orgId);
        log("alice → request to leave");
        await until(
          () => !owner.client.getOrganization(orgId).members.has(alice.client.memberId),
          "the owner to process alice's leave",
        );
        await until(
          () => (bob.client.getOrganization(orgId).epoch ?? 0n) > epoch0,
          "bob to get the new epoch",
        );
        const epoch1 = owner.client.getOrganization(orgId).epoch ?? 0n;
        check(epoch1 > epoch0, `alice left; the owner re-keyed (epoch ${epoch0} → ${epoch1})`);
        // A request must come after the owner's description that records the leave: the state orders
        // events by clock, and a request clocked before the leave would be refused as a conflict.
        await until(
          () => !alice.client.getOrganization(orgId).members.has(alice.client.memberId),
          "alice to see her leave in the owner's description",
        );
        await alice.client.requestToJoin(orgId, { displayName: "alice" });
        await until(
          () =>
            alice.client.getOrganization(orgId).role === "member" &&
            (alice.client.getOrganization(orgId).epoch ?? 0n) > epoch1,
          "alice's second Welcome",
        );
        check(
          true,
          `alice rejoined (request accepted, epoch ${alice.client.getOrganization(orgId).epoch})`,
        );
        // Keep a copy of alice's keys as they are now (what a banned member walks away with).
        await closePeer(alice);
        retainedDir = join(root, "alice-retained-keys");
        cpSync(alice.dir, retainedDir, { recursive: true });
        snapshotAt = Date.now();
        await reopen(alice);
        await alice.client.idle();
        log(`alice's keys copied aside (${retainedDir})`);
        await owner.client.sendMessage(orgId, "general", "last message before the ban");
        await until(
          () => texts(alice, orgId, "general").includes("last message before the ban"),
          "alice to read the last message before the ban",
        );
        const epochBefore = owner.client.getOrganization(orgId).epoch ?? 0n;
        await owner.client.banMember(orgId, alice.client.memberId, { deleteMessages: false });
        log("owner bans alice");
        await until(
          () => (bob.client.getOrganization(orgId).epoch ?? 0n) > epochBefore,
          "bob to get the post-ban epoch",
        );
        const epochAfter = owner.client.getOrganization(orgId).epoch ?? 0n;
        check(
          epochAfter > epochBefore,
          `re-key: epoch ${epochBefore} → ${epochAfter}; bob follows, alice is not in the KeyUpdate`,
        );
        await owner.client.sendMessage(orgId, "general", "after the ban: secret plan A");
        await bob.client.sendMessage(orgId, "general", "after the ban: secret plan B");
        await until(
          () =>
            texts(bob, orgId, "general").includes("after the ban: secret plan A") &&
            texts(owner, orgId, "general").includes("after the ban: secret plan B"),
          "the post-ban messages between owner and bob",
        );
        await alice.client.idle();
        check(
          !texts(alice, orgId, "general").some((t) => t.startsWith("after the ban")) &&
            alice.client.getOrganization(orgId).banned.includes(alice.client.memberId),
          "alice's client knows she is banned and shows none of the later messages",
        );
        // Feed every #general ciphertext published since the copy to alice's retained keys, offline.
        const later: TransportMessage[] = [];
        let cursor: string | undefined;
        do {
          const page = await owner.transport.queryHistory({
            contentTopics: [channelTopic(orgKey, "general")],
            from: snapshotAt - 1,
            direction: "forward",
            pageSize: 100,
            ...(cursor === undefined ? {} : { cursor }),
          });
          later.push(...page.messages);
          cursor = page.cursor;
        } while (cursor !== undefined);
        const opened = await openWithRetainedKeys(retainedDir, orgId, later);
        const control = opened.includes("last message before the ban");
        const leaked = opened.filter((t) => t.startsWith("after the ban"));
        check(
          control && leaked.length === 0 && later.length >= 3,
          `her retained keys opened ${control ? "the" : "NOT the"} message sent before the ban (control) and ${leaked.length} of the ${later.length - 1} ciphertexts sent after it`,
        );
      },
    );

    ok &&= await step(
      "offline catch-up",
      "bob stops, misses messages, restarts and catches up from the store",
      async (check, log) => {
        await closePeer(bob);
        log("bob's client stopped (data directory closed)");
        const missed = ["while bob was away 1", "while bob was away 2", "while bob was away 3"];
        for (const text of missed) await owner.client.sendMessage(orgId, "general", text);
        await owner.client.sendMessage(orgId, "core", "core: bob, read this when back");
        log(`owner posts ${missed.length} messages to #general and 1 to #core`);
        await owner.client.idle();
        const t0 = performance.now();
        bob.received.clear();
        await reopen(bob);
        await until(
          () =>
            missed.every((t) => texts(bob, orgId, "general").includes(t)) &&
            texts(bob, orgId, "core").includes("core: bob, read this when back"),
          "bob's catch-up",
        );
        const ms = performance.now() - t0;
        const arrived = bob.received.get("general") ?? [];
        check(
          missed.every((t) => arrived.filter((a) => a === t).length === 1),
          `bob restarted and caught up from Store v3 in ${ms.toFixed(0)} ms: each missed message reported exactly once`,
        );
        check(true, "bob also caught up on #core");
      },
    );

    say("[6] summary");
    const rows = reports.map((r) => [
      String(r.step),
      r.label,
      r.ms.toFixed(0),
      String(r.bytes),
      String(r.messages),
      r.ok ? "✓" : "✗",
    ]);
    const totalMs = performance.now() - started;
    say(
      table(
        ["step", "what", "ms", "bytes", "msgs", "ok"],
        [
          ...rows,
          [
            "",
            "total (including start-up)",
            totalMs.toFixed(0),
            String(sentBytes()),
            String(sentMessages()),
            reports.length === 5 && reports.every((r) => r.ok) ? "✓" : "✗",
          ],
        ],
      ),
    );
    say(
      "bytes/msgs: payloads the three identities published through the service node during the step.",
    );
    const allOk = ok && reports.length === 5 && reports.every((r) => r.ok);
    say(allOk ? "every step verified" : "NOT every step was verified");
    if (json) {
      output.stdout(
        `${JSON.stringify(
          {
            ok: allOk,
            serviceNode: serviceAddress,
            identities: Object.fromEntries(peers.map((p) => [p.name, p.client.memberId])),
            organizationId: orgId,
            steps: reports,
            totalMs: Math.round(totalMs),
            storedMessages: node.stats().storedMessages,
          },
          jsonReplacer,
          2,
        )}\n`,
      );
    }
    return allOk ? 0 : 1;
  } catch (error) {
    output.stderr(`orgchat demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return signal.aborted ? 130 : 1;
  } finally {
    for (const peer of peers) await closePeer(peer);
    await node?.stop().catch(() => undefined);
    if (options.keep === true) output.stderr(`orgchat demo: data kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Opens a copy of a member's data directory with an isolated, in-process network (nothing reaches the
 * service node, so no later description or KeyUpdate can help), publishes `messages` to it, and
 * returns the texts its keys could open.
 */
async function openWithRetainedKeys(
  dir: string,
  orgId: string,
  messages: readonly TransportMessage[],
): Promise<string[]> {
  const network = memoryNetwork();
  const store = await openSqliteStore({ path: join(dir, "store.db") });
  const client = await createClient({
    transport: network.transport({ name: "retained" }),
    store,
    config: clientConfig(false),
  });
  const opened: string[] = [];
  client.on("message:received", ({ message }) => {
    if (message.organizationId === orgId) opened.push(message.text);
  });
  const feeder = network.transport({ name: "feeder" });
  await feeder.start();
  await client.idle();
  for (const message of messages) await feeder.publish(message.contentTopic, message.payload);
  await network.idle();
  await client.idle();
  await client.close();
  await feeder.stop();
  await network.stop();
  await store.close();
  return opened;
}
