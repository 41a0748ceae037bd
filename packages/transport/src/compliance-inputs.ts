/**
 * Compliance cases of what a transport refuses or cancels: payload limits, malformed topics, aborted calls.
 */

import { equalBytes } from "@orgchat/base";
import { expect } from "vitest";
import {
  type ComplianceCase,
  checkDelivered,
  describeFailure,
  invalidTopics,
  listen,
  type Outcome,
  patternBytes,
  publishAll,
  rejectsWith,
  settle,
  waitForIds,
} from "./compliance-kit.js";
import { isAbortError } from "./errors.js";
import type { PublishResult, Transport, TransportMessage } from "./types.js";

export const inputCases: readonly ComplianceCase[] = [
  {
    id: "payload/max-size",
    title:
      "a payload of exactly maxPayloadBytes is delivered; one byte more rejects with PayloadTooLargeError",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const max = env.capabilities.maxPayloadBytes;
      const inbox = await listen(subscriber, [topic]);
      const payload = patternBytes(max, max);
      payload.set(env.payload("max").subarray(0, Math.min(max, 32)));
      const [result] = (await publishAll(publisher, topic, [payload])) as [PublishResult];
      await waitForIds(inbox, [result.id], env.deliveryTimeoutMs, "the subscriber");
      for (const message of inbox.messages)
        checkDelivered(message, { contentTopic: topic, payload, result });
      const error = await rejectsWith("PayloadTooLargeError", () =>
        publisher.publish(topic, new Uint8Array(max + 1).fill(0x5a)),
      );
      expect((error as { limit?: unknown }).limit, "PayloadTooLargeError.limit").toBe(max);
      expect((error as { size?: unknown }).size, "PayloadTooLargeError.size").toBe(max + 1);
    },
  },
  {
    id: "payload/empty",
    title: "an empty payload rejects with EmptyPayloadError",
    async run(env) {
      const [publisher] = (await env.peers(1)) as [Transport];
      await rejectsWith("EmptyPayloadError", () =>
        publisher.publish(env.topic(), new Uint8Array(0)),
      );
    },
  },
  {
    id: "topic/invalid",
    title:
      "malformed content topics reject with InvalidContentTopicError on publish, subscribe and history",
    async run(env) {
      const [transport] = (await env.peers(1)) as [Transport];
      for (const topic of invalidTopics) {
        const label = `content topic ${JSON.stringify(topic)}`;
        const invalid = "InvalidContentTopicError";
        await rejectsWith(invalid, () => transport.publish(topic, env.payload(1)), label);
        await rejectsWith(invalid, () => transport.subscribe([topic], () => {}), label);
        await rejectsWith(
          invalid,
          () => transport.subscribe([env.topic(), topic], () => {}),
          `${label} (next to a valid one)`,
        );
        if (env.capabilities.history) {
          await rejectsWith(
            [invalid, "InvalidQueryError"],
            () => transport.queryHistory({ contentTopics: [topic] }),
            label,
          );
        }
      }
    },
  },
  {
    id: "abort/already-aborted",
    title:
      "an already-aborted signal makes publish, subscribe and queryHistory reject with AbortError, with no effect",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const controller = new AbortController();
      controller.abort(new Error("compliance: aborted on purpose"));
      const signal = controller.signal;
      const aborted = env.payload("aborted");
      await rejectsWith("AbortError", () => publisher.publish(topic, aborted, { signal }));
      const ghost: TransportMessage[] = [];
      await rejectsWith("AbortError", () =>
        subscriber.subscribe([topic], (message) => void ghost.push(message), { signal }),
      );
      if (env.capabilities.history) {
        await rejectsWith("AbortError", () =>
          subscriber.queryHistory({ contentTopics: [topic] }, { signal }),
        );
      }
      const probe = await listen(subscriber, [topic]);
      const [after] = (await publishAll(publisher, topic, [env.payload("after")])) as [
        PublishResult,
      ];
      await waitForIds(probe, [after.id], env.deliveryTimeoutMs, "a probe subscription");
      expect(ghost, "the aborted subscription receives nothing").toEqual([]);
      expect(
        probe.messages.some((m) => equalBytes(m.payload, aborted)),
        "the aborted publish sent nothing",
      ).toBe(false);
    },
  },
  {
    id: "abort/during-call",
    title:
      "aborting a pending call settles it (AbortError or done) and leaves no half-made subscription",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const accept = (outcome: Outcome<unknown>, what: string) => {
        if (!outcome.ok && !isAbortError(outcome.error)) {
          throw new Error(
            `${what} aborted mid-call: expected AbortError or success, got ${describeFailure(outcome.error)}`,
          );
        }
      };
      const publishAbort = new AbortController();
      const publishing = publisher.publish(topic, env.payload("mid-publish"), {
        signal: publishAbort.signal,
      });
      publishAbort.abort();
      accept(await settle(publishing, env.deliveryTimeoutMs, "publish"), "publish");

      const ghost: TransportMessage[] = [];
      const subscribeAbort = new AbortController();
      const subscribing = subscriber.subscribe([topic], (message) => void ghost.push(message), {
        signal: subscribeAbort.signal,
      });
      subscribeAbort.abort();
      const subscribed = await settle(subscribing, env.deliveryTimeoutMs, "subscribe");
      accept(subscribed, "subscribe");

      if (env.capabilities.history) {
        const queryAbort = new AbortController();
        const querying = subscriber.queryHistory(
          { contentTopics: [topic] },
          { signal: queryAbort.signal },
        );
        queryAbort.abort();
        accept(await settle(querying, env.deliveryTimeoutMs, "queryHistory"), "queryHistory");
      }

      // The transport still works, and a subscribe that rejected left nothing behind.
      const probe = await listen(subscriber, [topic]);
      const [after] = (await publishAll(publisher, topic, [env.payload("after")])) as [
        PublishResult,
      ];
      await waitForIds(probe, [after.id], env.deliveryTimeoutMs, "a probe subscription");
      if (subscribed.ok) {
        await subscribed.value.unsubscribe();
      } else {
        expect(ghost, "a subscribe that rejected with AbortError receives nothing").toEqual([]);
      }
    },
  },
];
