/**
 * Compliance cases of the transport's shape and lifecycle: capabilities, start/stop, restart, an aborted start.
 */

import { expect } from "vitest";
import {
  type ComplianceCase,
  expectNotStarted,
  idsOf,
  listen,
  publishAll,
  rejectsWith,
  waitForIds,
  waitForStatus,
} from "./compliance-kit.js";
import type { Transport, TransportStatus } from "./types.js";

export const lifecycleCases: readonly ComplianceCase[] = [
  {
    id: "capabilities/shape",
    title: "capabilities are well-formed and the same on every transport of the fixture",
    async run(env) {
      const caps = env.capabilities;
      for (const flag of ["history", "selfDelivery", "ordered"] as const) {
        expect(typeof caps[flag], `capabilities.${flag} is a boolean`).toBe("boolean");
      }
      expect(
        Number.isSafeInteger(caps.maxPayloadBytes) && caps.maxPayloadBytes > 0,
        "capabilities.maxPayloadBytes is a positive integer",
      ).toBe(true);
      const unstarted = await env.fixture.createUnstarted();
      expect({ ...unstarted.capabilities }).toEqual({ ...caps });
      for (const peer of await env.peers(2)) expect({ ...peer.capabilities }).toEqual({ ...caps });
    },
  },
  {
    id: "lifecycle/idempotent",
    title: "start() and stop() are idempotent, status follows them and stop reports 'stopped'",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      expect(transport.status).toBe("stopped");
      const statuses: TransportStatus[] = [];
      const off = transport.on("status:changed", (event) => statuses.push(event.status));
      await Promise.all([transport.start(), transport.start()]);
      await transport.start();
      expect(transport.status).not.toBe("stopped");
      expect({ ...transport.capabilities }, "capabilities are constant").toEqual({
        ...env.capabilities,
      });
      await transport.stop();
      await transport.stop();
      await Promise.all([transport.stop(), transport.stop()]);
      expect(transport.status).toBe("stopped");
      expect(statuses.at(-1), "the last status:changed after stop() says 'stopped'").toBe(
        "stopped",
      );
      expect({ ...transport.capabilities }, "capabilities are constant").toEqual({
        ...env.capabilities,
      });
      off();
    },
  },
  {
    id: "lifecycle/not-started",
    title: "publish, subscribe and queryHistory reject with NotStartedError before start()",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      const topic = env.topic();
      await expectNotStarted(transport, env, topic);
    },
  },
  {
    id: "lifecycle/stopped",
    title:
      "after stop(), calls reject with NotStartedError and ended subscriptions unsubscribe quietly",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      const topic = env.topic();
      await transport.start();
      const subscription = await transport.subscribe([topic], () => {});
      await transport.stop();
      await expectNotStarted(transport, env, topic);
      await subscription.unsubscribe();
      await subscription.unsubscribe();
    },
  },
  {
    id: "lifecycle/restart",
    title:
      "a stopped transport starts again and carries messages; its old subscriptions stay ended",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const beforeRestart = await listen(publisher, [topic]);
      const inbox = await listen(subscriber, [topic]);
      await publisher.stop();
      await publisher.start();
      expect(publisher.status).not.toBe("stopped");
      const own = env.capabilities.selfDelivery ? await listen(publisher, [topic]) : undefined;
      // Once the restarted transport is online again, one publish must arrive: no retries (a retry
      // would hide a message lost after a restart).
      await waitForStatus(publisher, "online", 2 * env.deliveryTimeoutMs);
      const published = await publishAll(publisher, topic, [env.payload("after-restart")]);
      await waitForIds(inbox, idsOf(published), env.deliveryTimeoutMs, "the subscriber");
      if (own !== undefined) {
        await waitForIds(own, idsOf(published), env.deliveryTimeoutMs, "the restarted publisher");
      }
      const after = new Set(idsOf(published));
      expect(
        beforeRestart.messages.filter((m) => after.has(m.id)),
        "a subscription made before stop() receives nothing after the restart",
      ).toEqual([]);
    },
  },
  {
    id: "lifecycle/aborted-start",
    title:
      "start() with an aborted signal rejects with AbortError and leaves the transport stopped",
    async run(env) {
      const transport = await env.fixture.createUnstarted();
      const controller = new AbortController();
      controller.abort(new Error("compliance: aborted on purpose"));
      await rejectsWith("AbortError", () => transport.start({ signal: controller.signal }));
      expect(transport.status).toBe("stopped");
      await rejectsWith("NotStartedError", () => transport.publish(env.topic(), env.payload(1)));
      await transport.start();
      expect(transport.status).not.toBe("stopped");
      await transport.stop();
    },
  },
];
