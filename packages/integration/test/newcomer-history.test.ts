/**
 * A newcomer and the messages of epochs before it joined (issue #12, found by the crash test under
 * load): a newcomer's first history sweep reads its channels from the beginning of history, so it
 * meets the ciphertexts of every epoch before it joined. The client used to announce each one as
 * `message:waiting-for-key` and keep it waiting until `maxPendingAgeMs` (7 days) made it
 * "undecryptable", although the owner-signed roster of the message's epoch, which the member holds,
 * shows that the key is not and never will be its own (docs/CLIENT.md, "No missing keys").
 *
 * On a quiet machine the crash test (client-crash.test.ts) used to finish before any newcomer's
 * first sweep (`syncIntervalMs`, 5 s, then 10 s…) fired; under load it did not, and dave was left
 * with 13 messages of epochs 2 and 3 "waiting for a key" after joining at epoch 5.
 *
 * The smallest deterministic cases (virtual clock: the sweep runs when the test advances time).
 */
import { type Client, type ClientEvents, createClient } from "@orgchat/client";
import { memoryStore } from "@orgchat/store";
import { type MemoryTransport, memoryNetwork, virtualClock } from "@orgchat/transport";
import { afterEach, describe, expect, it } from "vitest";

interface Peer {
  readonly client: Client;
  readonly waiting: string[];
  readonly received: string[];
  readonly undecryptable: Array<ClientEvents["message:undecryptable"]>;
}

describe("a newcomer and the messages of epochs before it joined", () => {
  const clock = virtualClock();
  const network = memoryNetwork({ seed: 1 }, clock);
  const peers: Peer[] = [];

  /** Runs deliveries and client work to rest (the network has no latency: no timer involved). */
  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await network.idle();
      await Promise.all(peers.map((p) => p.client.idle()));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A newcomer asks, the owner accepts. */
  async function join(owner: Peer, newcomer: Peer, orgId: string): Promise<void> {
    await newcomer.client.discover(orgId);
    const requestId = await newcomer.client.requestToJoin(orgId);
    await settle();
    await owner.client.acceptRequest(orgId, requestId);
    await settle();
    expect(newcomer.client.getOrganization(orgId).role).toBe("member");
  }

  const transports = new Map<Client, MemoryTransport>();
  const daveTransport = (p: Peer) => transports.get(p.client) as MemoryTransport;

  async function peer(): Promise<Peer> {
    const transport = network.transport();
    const client = await createClient({
      transport,
      store: memoryStore(),
      now: clock.now,
      timers: {
        setTimeout: (task, delayMs) => clock.schedule(task, delayMs),
        clearTimeout: (handle) => (handle as () => void)(),
      },
      config: { rekeyWindowMs: 0, addWindowMs: 0, republishIntervalMs: 0, scryptN: 16 },
    });
    transports.set(client, transport);
    const out: Peer = { client, waiting: [], received: [], undecryptable: [] };
    client.on("message:waiting-for-key", ({ pendingId }) => out.waiting.push(pendingId));
    client.on("message:received", ({ message }) => {
      if (!message.own) out.received.push(message.id);
    });
    client.on("message:undecryptable", (event) => out.undecryptable.push(event));
    peers.push(out);
    await settle();
    return out;
  }

  afterEach(async () => {
    for (const p of peers) await p.client.close();
    await network.stop();
  });

  it("is told nothing it will never read: no message stays waiting for a key", async () => {
    const owner = await peer();
    const orgId = await owner.client.createOrganization({ name: "Org", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    const alice = await peer();
    await join(owner, alice, orgId);
    const before = [
      (await alice.client.sendMessage(orgId, "general", "before dave 1")).id,
      (await alice.client.sendMessage(orgId, "general", "before dave 2")).id,
    ];
    await settle();
    const dave = await peer();
    await join(owner, dave, orgId);
    const after = (await alice.client.sendMessage(orgId, "general", "after dave")).id;
    await settle();
    // Dave's history sweeps run (5 s, then 10 s…), and any recovery they start.
    for (let i = 0; i < 12; i++) {
      clock.advance(10_000);
      await settle();
    }
    // What dave is entitled to, it read; the epochs before its join are not its own.
    expect(dave.received).toEqual([after]);
    expect(dave.undecryptable).toEqual([]);
    // Alice's earlier messages are not dave's: never announced as waiting for a key.
    expect(dave.waiting.filter((id) => before.includes(id))).toEqual([]);
  });

  it("a message of an epoch whose roster is unknown is never announced, and ends silently once the roster shows it is not the member's", async () => {
    const owner = await peer();
    const orgId = await owner.client.createOrganization({ name: "Org", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    // Dave asks to join first: as a requester it listens on the channel.
    const dave = await peer();
    await dave.client.discover(orgId);
    const requestId = await dave.client.requestToJoin(orgId);
    await settle();
    // Alice is accepted while dave hears nothing live: dave misses the new epoch's roster.
    network.partition([[daveTransport(dave)]]);
    const alice = await peer();
    await join(owner, alice, orgId);
    network.heal();
    const early = (await alice.client.sendMessage(orgId, "general", "before dave is in")).id;
    await settle();
    // Its key id is in no owner-signed roster dave holds: foreign (issue #13, RULES R3), kept in
    // the bounded foreign buffer, never announced as waiting (junk looks the same).
    expect(dave.waiting, "announced while its roster was unknown").toEqual([]);
    await owner.client.acceptRequest(orgId, requestId);
    await settle();
    expect(dave.client.getOrganization(orgId).role).toBe("member");
    for (let i = 0; i < 12; i++) {
      clock.advance(10_000);
      await settle();
    }
    // It was never dave's (its roster, which dave now holds, does not list it): never shown, and
    // nothing to end, since it was never announced.
    expect(dave.received).toEqual([]);
    expect(dave.waiting).toEqual([]);
    expect(dave.undecryptable.filter((e) => e.pendingId === early)).toEqual([]);
  });
});
