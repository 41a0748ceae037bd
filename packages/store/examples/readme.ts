// The example of README.md, kept here so that it typechecks (tsc) and runs:
//   tsx --conditions=@orgchat/source examples/readme.ts
import { isRecordNotFoundError, memoryStore } from "@orgchat/store";

const store = memoryStore();
const orgId = "org-1";
const encoder = new TextEncoder();

// Persist before sending: the next chain state, the generation counter and the message to (re)send
// commit together, or not at all.
await store.batch([
  { type: "put", space: "ratchet", key: `${orgId}/general`, value: encoder.encode("chain state") },
  { type: "put", space: "generation", key: `${orgId}/general`, value: encoder.encode("8") },
  {
    type: "append",
    log: "outbox",
    entries: [{ id: "m8", sortKey: 8n, value: encoder.encode("…") }],
  },
]);
// …publish, then:
await store.deleteEntries("outbox", ["m8"]);

const latest = await store.range(`messages/${orgId}/general`, { reverse: true, limit: 50 });
console.log(`${latest.length} messages to show`);
try {
  await store.getOrThrow("identity", "signing-key");
} catch (error) {
  if (isRecordNotFoundError(error)) console.log("first run: create an identity");
}
await store.close();
