// The README's minimal example: an owner creates an organization, a member joins and sends.
// Type-checked with the package (tsconfig includes examples/); run with `node --experimental-strip-types`.
import { createClient } from "@orgchat/client";
import { memoryStore } from "@orgchat/store";
import { memoryNetwork } from "@orgchat/transport";

const network = memoryNetwork();

// The owner: its organization's id is the public half of a new key pair.
const owner = await createClient({ transport: network.transport(), store: memoryStore() });
const orgId = await owner.createOrganization({ name: "Acme", access: "on-request" });
await owner.createChannel(orgId, { id: "general", name: "General" });
owner.on("request:received", ({ requestId }) => {
  void owner.acceptRequest(orgId, requestId);
});
const heard = new Promise<void>((resolve) => {
  owner.on("message:received", ({ message }) => {
    if (message.own) return;
    console.log(`${message.author.slice(0, 8)}: ${message.text}`);
    resolve();
  });
});

// A newcomer knows only the organization's public key.
const alice = await createClient({ transport: network.transport(), store: memoryStore() });
await alice.discover(orgId);
alice.on("epoch:changed", () => {
  // Welcomed into the group: encrypted messages can flow.
  void alice.sendMessage(orgId, "general", "hello, Acme");
});
await alice.requestToJoin(orgId, { displayName: "Alice" });

// Accepted at once; the keys follow with the owner's next add step (`addWindowMs`, 200 ms).
await heard;
await Promise.all([owner.close(), alice.close()]);
await network.stop();
