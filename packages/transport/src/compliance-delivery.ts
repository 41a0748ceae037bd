/**
 * Compliance cases of live delivery: byte for byte, self delivery, topic isolation, several subscribers, at-least-once, parallel publishes, order, unsubscribe, failing handlers.
 */

import { equalBytes, toHex } from "@orgchat/base";
import { expect } from "vitest";
import {
  type ComplianceCase,
  changeNotifier,
  checkDelivered,
  checkPublishResult,
  concat,
  decoder,
  encoder,
  idsOf,
  listen,
  pairOnTopic,
  patternBytes,
  publishAll,
  publishAndAwait,
  textOf,
  waitFor,
  waitForIds,
} from "./compliance-kit.js";
import type { PublishResult, Transport, TransportEvents, TransportMessage } from "./types.js";

export const deliveryCases: readonly ComplianceCase[] = [
  {
    id: "delivery/byte-for-byte",
    title:
      "a subscriber on another peer receives each payload byte for byte, with the published id and timestamp",
    async run(env) {
      const { publisher, topic, inbox } = await pairOnTopic(env);
      const payloads = [
        Uint8Array.of(0),
        Uint8Array.from({ length: 256 }, (_, i) => i),
        patternBytes(1000, 7),
        encoder.encode(`héllo wörld ✓ 🌍 ${toHex(env.payload("utf8"))}`),
        Uint8Array.of(0, 0, 0, 0),
      ];
      // Two of the payloads are the same every run: make each unique to this run where possible.
      const unique = payloads.map((p, i) => (i === 0 || i === 4 ? p : concat(p, env.payload(i))));
      const results = await publishAll(publisher, topic, unique);
      expect(new Set(idsOf(results)).size, "distinct messages get distinct ids").toBe(
        results.length,
      );
      await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, "the subscriber");
      for (const [i, result] of results.entries()) {
        for (const message of inbox.messages.filter((m) => m.id === result.id)) {
          checkDelivered(message, {
            contentTopic: topic,
            payload: unique[i] as Uint8Array,
            result,
          });
        }
      }
    },
  },
  {
    id: "delivery/self",
    title: "a transport receives its own publishes (capabilities.selfDelivery)",
    requires: "selfDelivery",
    async run(env) {
      const [publisher] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const inbox = await listen(publisher, [topic]);
      const payload = env.payload("self");
      const [result] = (await publishAll(publisher, topic, [payload])) as [PublishResult];
      await waitForIds(inbox, [result.id], env.deliveryTimeoutMs, "the publisher itself");
      for (const message of inbox.messages)
        checkDelivered(message, { contentTopic: topic, payload, result });
    },
  },
  {
    id: "delivery/topic-isolation",
    title: "a subscription receives only its own content topics",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const wanted = env.topic("wanted");
      const other = env.topic("other");
      const inbox = await listen(subscriber, [wanted]);
      const probe = await listen(subscriber, [other]);
      const [onOther] = (await publishAll(publisher, other, [env.payload("other")])) as [
        PublishResult,
      ];
      const [onWanted] = (await publishAll(publisher, wanted, [env.payload("wanted")])) as [
        PublishResult,
      ];
      await waitForIds(probe, [onOther.id], env.deliveryTimeoutMs, "the probe on the other topic");
      await waitForIds(inbox, [onWanted.id], env.deliveryTimeoutMs, "the subscriber");
      expect(
        inbox.messages.every((m) => m.contentTopic === wanted),
        "only the subscribed topic",
      ).toBe(true);
      expect(inbox.has(onOther.id), "the other topic's message did not leak").toBe(false);
      expect(probe.has(onWanted.id), "nor the other way round").toBe(false);
    },
  },
  {
    id: "delivery/multiple-topics",
    title: "one subscription on several content topics receives each with its topic",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const first = env.topic("first");
      const second = env.topic("second");
      const inbox = await listen(subscriber, [first, second]);
      expect([...inbox.subscription.contentTopics].sort()).toEqual([first, second].sort());
      const [a] = (await publishAll(publisher, first, [env.payload("first")])) as [PublishResult];
      const [b] = (await publishAll(publisher, second, [env.payload("second")])) as [PublishResult];
      await waitForIds(inbox, [a.id, b.id], env.deliveryTimeoutMs, "the subscriber");
      for (const message of inbox.messages) {
        expect(message.contentTopic).toBe(message.id === a.id ? first : second);
      }
    },
  },
  {
    id: "delivery/subscribers",
    title: "every subscribed peer receives every message",
    async run(env) {
      const [publisher, second, third] = (await env.peers(3)) as [Transport, Transport, Transport];
      const topic = env.topic();
      const inboxes = [await listen(second, [topic]), await listen(third, [topic])];
      const results = await publishAll(
        publisher,
        topic,
        [1, 2, 3].map((i) => env.payload(i)),
      );
      for (const [i, inbox] of inboxes.entries()) {
        await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, `peer ${i + 1}`);
      }
    },
  },
  {
    id: "delivery/at-least-once",
    title:
      "30 messages: the set received covers the set published (duplicates allowed, ids consistent)",
    async run(env) {
      const { publisher, topic, inbox } = await pairOnTopic(env);
      const payloads = Array.from({ length: 30 }, (_, i) => env.payload(i));
      const results = await publishAndAwait(
        env,
        publisher,
        topic,
        payloads,
        inbox,
        "the subscriber",
      );
      const byText = new Map(
        payloads.map((p, i) => [decoder.decode(p), results[i] as PublishResult]),
      );
      for (const message of inbox.messages) {
        const result = byText.get(textOf(message));
        expect(result, `received payload ${textOf(message)} was published`).toBeDefined();
        expect(message.id, "the same message always has the same id").toBe(result?.id);
        expect(message.timestamp).toBe(result?.timestamp);
      }
    },
  },
  {
    id: "delivery/parallel-publishes",
    title: "200 publishes in parallel all resolve and all arrive",
    async run(env) {
      const { publisher, topic, inbox } = await pairOnTopic(env);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => publisher.publish(topic, env.payload(i))),
      );
      for (const result of results) checkPublishResult(result);
      expect(new Set(idsOf(results)).size, "200 distinct ids").toBe(200);
      await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, "the subscriber");
    },
  },
  {
    id: "delivery/ordered",
    title: "messages from one publisher arrive in publish order (capabilities.ordered)",
    requires: "ordered",
    async run(env) {
      const { publisher, topic, inbox } = await pairOnTopic(env);
      const results = await publishAll(
        publisher,
        topic,
        Array.from({ length: 20 }, (_, i) => env.payload(i)),
      );
      await waitForIds(inbox, idsOf(results), env.deliveryTimeoutMs, "the subscriber");
      const firstArrivals = [...new Set(idsOf(inbox.messages))];
      expect(firstArrivals).toEqual(idsOf(results));
    },
  },
  {
    id: "unsubscribe/stops-delivery",
    title:
      "after unsubscribe() resolves nothing more arrives; other subscriptions on the topic keep theirs",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const leaving = await listen(subscriber, [topic]);
      const staying = await listen(subscriber, [topic]);
      const [first] = (await publishAll(publisher, topic, [env.payload("first")])) as [
        PublishResult,
      ];
      await waitForIds(leaving, [first.id], env.deliveryTimeoutMs, "the leaving subscription");
      await waitForIds(staying, [first.id], env.deliveryTimeoutMs, "the staying subscription");
      await leaving.subscription.unsubscribe();
      const countAtUnsubscribe = leaving.messages.length;
      await leaving.subscription.unsubscribe();
      const later = await publishAll(publisher, topic, [
        env.payload("second"),
        env.payload("third"),
      ]);
      await waitForIds(staying, idsOf(later), env.deliveryTimeoutMs, "the staying subscription");
      expect(leaving.messages.length, "no delivery after unsubscribe() resolved").toBe(
        countAtUnsubscribe,
      );
    },
  },
  {
    id: "handler/failure-isolated",
    title:
      "a throwing or rejecting handler is reported through handler:failed and keeps its subscription",
    async run(env) {
      const [publisher, subscriber] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const failures: TransportEvents["handler:failed"][] = [];
      subscriber.on("handler:failed", (event) => failures.push(event));
      const throws = env.payload("throws");
      const rejects = env.payload("rejects");
      const fine = env.payload("fine");
      const thrown = new Error("compliance: handler throws on purpose");
      const rejected = new Error("compliance: handler rejects on purpose");
      const seen: TransportMessage[] = [];
      const seenChanges = changeNotifier();
      await subscriber.subscribe([topic], (message) => {
        seen.push(message);
        seenChanges.notify();
        if (equalBytes(message.payload, throws)) throw thrown;
        if (equalBytes(message.payload, rejects)) return Promise.reject(rejected);
        return undefined;
      });
      const bystander = await listen(subscriber, [topic]);
      const results = await publishAll(publisher, topic, [throws, rejects, fine]);
      const [throwsResult, rejectsResult] = results as [
        PublishResult,
        PublishResult,
        PublishResult,
      ];
      const seenBox = {
        has: (id: string) => seen.some((m) => m.id === id),
        changes: seenChanges.on,
      };
      await waitForIds(seenBox, idsOf(results), env.deliveryTimeoutMs, "the failing handler");
      await waitForIds(
        bystander,
        idsOf(results),
        env.deliveryTimeoutMs,
        "another subscription on the topic",
      );
      await waitFor(
        () =>
          failures.some((f) => f.messageId === throwsResult.id) &&
          failures.some((f) => f.messageId === rejectsResult.id),
        env.deliveryTimeoutMs,
        () =>
          `handler:failed reported ${failures.length} failures, expected the throw and the rejection`,
        (changed) => subscriber.on("handler:failed", changed),
      );
      for (const failure of failures) {
        expect(failure.contentTopic).toBe(topic);
        expect([throwsResult.id, rejectsResult.id]).toContain(failure.messageId);
        expect(failure.error).toBe(failure.messageId === throwsResult.id ? thrown : rejected);
      }
    },
  },
];
