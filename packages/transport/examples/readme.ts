// The example of README.md, kept here so that it typechecks (tsc) and runs:
//   tsx --conditions=@orgchat/source examples/readme.ts
import { isPayloadTooLargeError, memoryNetwork } from "@orgchat/transport";

const topic = "/orgchat/1/c-demo/proto"; // real code gets topics from @orgchat/wire
const network = memoryNetwork({ seed: 7, duplicateRate: 0.2 });
const alice = network.transport({ name: "alice" });
const bob = network.transport({ name: "bob" });
await Promise.all([alice.start(), bob.start()]);

// Delivery is at least once: drop duplicates by id.
const seen = new Set<string>();
const subscription = await bob.subscribe([topic], (message) => {
  if (seen.has(message.id)) return;
  seen.add(message.id);
  console.log(new TextDecoder().decode(message.payload));
});
await alice.publish(topic, new TextEncoder().encode("hello bob"));
await network.idle(); // every delivery has landed

// History: newest first by default, paged with cursors.
const page = await bob.queryHistory({ contentTopics: [topic], pageSize: 10 });
console.log(page.messages.length, page.cursor);

try {
  await alice.publish(topic, new Uint8Array(alice.capabilities.maxPayloadBytes + 1));
} catch (error) {
  if (isPayloadTooLargeError(error)) console.log("too large: split it");
}
await subscription.unsubscribe();
await network.stop();
