import { describe, expect, it } from "vitest";
import { ClientEmitter } from "../src/emitter.ts";
import type { ClientEventEntry } from "../src/org.ts";

describe("ClientEmitter", () => {
  it("reports a throwing app listener once as an error event and keeps delivering", () => {
    const emitter = new ClientEmitter();
    const boom = new Error("app bug");
    const delivered: string[] = [];
    const errors: unknown[] = [];
    emitter.on("diagnostic", () => {
      throw boom;
    });
    emitter.on("diagnostic", (d) => delivered.push(d.reason));
    emitter.on("error", ({ error }) => errors.push(error));
    emitter.emit("diagnostic", { component: "client/test", reason: "undecodable" });
    expect(delivered).toEqual(["undecodable"]);
    expect(errors).toEqual([boom]);
  });

  it("does not loop when an error listener throws", () => {
    const emitter = new ClientEmitter();
    let calls = 0;
    emitter.on("error", () => {
      calls++;
      throw new Error("error listener bug");
    });
    expect(() => emitter.emit("error", { error: new Error("x") })).not.toThrow();
    expect(calls).toBe(1);
  });

  it("emits a prepared [name, payload] entry, and nothing after clear()", () => {
    const emitter = new ClientEmitter();
    const seen: string[] = [];
    emitter.on("message:undecryptable", (e) => seen.push(e.reason));
    const entry: ClientEventEntry = [
      "message:undecryptable",
      { organizationId: "o", channelId: "c", keyId: "k", pendingId: "p", reason: "expired" },
    ];
    emitter.emitEntry(entry);
    emitter.clear();
    emitter.emitEntry(entry);
    expect(seen).toEqual(["expired"]);
  });
});
