import { describe, expect, it } from "vitest";
import { sendReservation } from "../src/epoch-window.js";
import { OwnerGroup } from "../src/owner-group.js";
import { nodeProvider } from "../src/providers/node.js";

describe("OwnerGroup.sendChangedHead", () => {
  it("is set by the send that starts the chain or moves its reservation, cleared by takeParts; other sends leave the head byte-identical", () => {
    const provider = nodeProvider();
    const signing = provider.ed25519KeyPair();
    const owner = OwnerGroup.create({
      provider,
      group: { organizationId: new Uint8Array(32).fill(1), channelId: "" },
      ownLeaf: {
        identityKey: new Uint8Array(32).fill(2),
        signingKey: signing.publicKey,
        prekey: provider.x25519KeyPair().publicKey,
      },
      signingSecretKey: signing.secretKey,
      now: 0,
    });
    owner.takeParts();
    expect(owner.sendChangedHead).toBe(false);
    const content = new Uint8Array(10);
    for (let g = 0; g <= 2 * sendReservation; g++) {
      owner.encrypt({ contentType: 1, content });
      const moved = g % sendReservation === 0; // generation 0 starts the chain
      expect(owner.sendChangedHead).toBe(moved);
      const parts = owner.takeParts();
      expect(parts.headChanged).toBe(moved);
      expect(owner.sendChangedHead).toBe(false);
    }
  });
});
