/**
 * A send without async functions of its own (docs/SCALE.md, session 14): `Messages.send` and the
 * outbox's publish are promise chains, so what an async function did for free is checked here: a
 * refused send is a rejected promise, never a throw; a transport that throws (synchronously or
 * not) leaves the send committed, an `error` event, and the entry in the outbox.
 */
import { memoryStore } from "@orgchat/store";
import { NoPeersError } from "@orgchat/transport";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientCore } from "../src/core.js";
import { AbortError, NotMemberError } from "../src/errors.js";
import { Messages } from "../src/messages.js";
import type { Org } from "../src/org.js";
import { encryptedOrg, received, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const body = { case: "post" as const, value: { text: "hello", replyTo: "" } };

describe("a send's promise", () => {
  it("a send refused by its checks is a rejected promise, not a throw", async () => {
    // The checks run before anything of the core is read: an empty core is enough.
    const messages = new Messages({} as ClientCore);
    const org = { hex: "ab".repeat(32), role: "none" } as unknown as Org;
    const aborted = AbortSignal.abort(new Error("gone"));
    let sent: Promise<string> | undefined;
    expect(() => {
      sent = messages.send(org, "general", aborted, body);
    }).not.toThrow();
    await expect(sent).rejects.toBeInstanceOf(AbortError);
    expect(() => {
      sent = messages.send(org, "general", undefined, body);
    }).not.toThrow();
    await expect(sent).rejects.toBeInstanceOf(NotMemberError);
  });

  for (const how of ["synchronously", "asynchronously"] as const) {
    it(`a publish that fails ${how}: the send resolves, an error event, the outbox keeps it`, async () => {
      world = new World();
      const { owner, alice, orgId } = await encryptedOrg(world, memoryStore());
      const errors: unknown[] = [];
      alice.client.on("error", ({ error }) => errors.push(error));
      const publish = alice.transport.publish.bind(alice.transport);
      const failure = new NoPeersError("no service node (test)");
      alice.transport.publish = () => {
        if (how === "synchronously") throw failure;
        return Promise.reject(failure);
      };
      const view = await alice.client.sendMessage(orgId, "general", "kept");
      expect(view.text).toBe("kept");
      expect(errors).toEqual([failure]);
      const outbox = await alice.store.range(`outbox/${orgId}`);
      expect(outbox).toHaveLength(1);
      await world.settle();
      expect(received(owner)).not.toContain("kept");
      // Back: the next commit keeps the failed entry (only published ones are deleted).
      alice.transport.publish = publish;
      await alice.client.sendMessage(orgId, "general", "next");
      await world.settle();
      expect(received(owner)).toContain("next");
      expect((await alice.store.range(`outbox/${orgId}`)).map((entry) => entry.id)).toContain(
        outbox[0]?.id,
      );
    });
  }
});
