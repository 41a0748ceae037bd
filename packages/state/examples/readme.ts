import { canPost, type OrgEvent, OrgLog, requestStatus } from "@orgchat/state";

// Member ids are lowercase hex public keys; the organization id is the owner's key.
const owner = "aa".repeat(32);
const alice = "bb".repeat(32);
const now = 1_700_000_000_000;

// Events as the client produces them after verifying and decrypting the wire messages.
const received: OrgEvent[] = [
  {
    id: "request-1",
    type: "request.sent",
    author: alice,
    clock: 2n,
    sentAt: now,
    body: { chatId: "", ensName: "", displayName: "alice" },
  },
  // Arrives out of order: the log sorts by (clock, author, id), so this still applies first.
  {
    id: "created",
    type: "org.created",
    author: owner,
    clock: 1n,
    sentAt: now,
    body: {
      identity: { displayName: "Acme", description: "", ensName: "", images: {} },
      permissions: { access: "on-request", ensOnly: false, private: false },
      pinMessageAllMembersEnabled: false,
      tags: [],
      encrypted: true,
    },
  },
  {
    id: "accepted-1",
    type: "request.accepted",
    author: owner,
    clock: 3n,
    sentAt: now + 1_000,
    body: { requestId: "request-1" },
  },
];

const log = new OrgLog({ organizationId: owner });
for (const event of received) {
  // Never throws for remote input. A refused event that a later one may explain is held in a
  // bounded buffer and re-tried: here the request arrives before the organization exists.
  const { rejected } = log.add(event);
  if (rejected) console.log(`held ${rejected.id}: ${rejected.reason}`); // held request-1: malformed
}
console.log(log.state.members.size); // 2: the owner and alice
console.log(requestStatus(log.state, "request-1", now + 2_000)); // "accepted"
console.log(canPost(log.state, alice, "general")); // false: there is no #general yet
