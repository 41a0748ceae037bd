/**
 * Compliance cases of history (`queryHistory`): capability, content, time ranges, directions, paging, several topics, bad cursors and queries.
 */

import { expect } from "vitest";
import {
  type ComplianceCase,
  checkDelivered,
  concat,
  expectMonotone,
  expectSameIdSet,
  idsOf,
  publishAll,
  publishedHistory,
  rejectsWith,
  waitForHistory,
  walkHistory,
} from "./compliance-kit.js";
import type { HistoryQuery, PublishResult, Transport } from "./types.js";

export const historyCases: readonly ComplianceCase[] = [
  {
    id: "history/capability",
    title: "queryHistory agrees with capabilities.history (a page, or HistoryUnsupportedError)",
    async run(env) {
      const [transport] = (await env.peers(1)) as [Transport];
      const query = { contentTopics: [env.topic()] };
      if (env.capabilities.history) {
        const page = await transport.queryHistory(query);
        expect(page.messages, "an unused topic has no history").toEqual([]);
      } else {
        await rejectsWith("HistoryUnsupportedError", () => transport.queryHistory(query));
      }
    },
  },
  {
    id: "history/messages",
    title:
      "another peer finds published messages in history byte for byte, with their ids and timestamps",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topic = env.topic();
      const payloads = [
        Uint8Array.of(0),
        concat(
          Uint8Array.from({ length: 256 }, (_, i) => i),
          env.payload(1),
        ),
        env.payload(2),
      ];
      const results = await publishAll(publisher, topic, payloads);
      const messages = await waitForHistory(env, reader, [topic], idsOf(results));
      expectSameIdSet(
        idsOf(messages),
        idsOf(results),
        "history holds exactly the published messages",
      );
      for (const message of messages) {
        const i = results.findIndex((r) => r.id === message.id);
        checkDelivered(message, {
          contentTopic: topic,
          payload: payloads[i] as Uint8Array,
          result: results[i] as PublishResult,
        });
      }
    },
  },
  {
    id: "history/time-range",
    title: "from and to are inclusive bounds on the message timestamp",
    requires: "history",
    async run(env) {
      // Spaced so that real clocks give distinct timestamps; expectations come from the timestamps
      // the transport reports, so equal ones still give a right answer.
      const { reader, topic, results } = await publishedHistory(env, 5, 3);
      const stamps = results.map((r) => r.timestamp);
      const [, t1, t2, t3] = stamps as [number, number, number, number, number];
      const ranges: { from?: number; to?: number; label: string }[] = [
        { from: t1, to: t3, label: "from t1 to t3" },
        { from: t3, label: "from t3 on" },
        { to: t1, label: "up to t1" },
        { from: t2, to: t2, label: "exactly t2" },
      ];
      for (const { label, ...range } of ranges) {
        const { messages } = await walkHistory(reader, {
          contentTopics: [topic],
          direction: "forward",
          pageSize: 100,
          ...range,
        });
        const expected = results.filter(
          (r) =>
            (range.from === undefined || r.timestamp >= range.from) &&
            (range.to === undefined || r.timestamp <= range.to),
        );
        expectSameIdSet(idsOf(messages), idsOf(expected), `time range ${label}`);
      }
    },
  },
  {
    id: "history/directions",
    title: "forward pages run oldest first, backward pages newest first",
    requires: "history",
    async run(env) {
      const { reader, topic, results } = await publishedHistory(env, 6, 3);
      for (const direction of ["forward", "backward"] as const) {
        const { messages } = await walkHistory(reader, {
          contentTopics: [topic],
          direction,
          pageSize: 100,
        });
        expectSameIdSet(idsOf(messages), idsOf(results), `${direction} history`);
        expectMonotone(messages, direction);
        const first = await reader.queryHistory({ contentTopics: [topic], direction, pageSize: 2 });
        expect(first.messages.length, `${direction}: a first page of 2`).toBe(2);
        const firstIds = new Set(idsOf(first.messages));
        const rest = results.filter((r) => !firstIds.has(r.id)).map((r) => r.timestamp);
        for (const message of first.messages) {
          if (direction === "forward") {
            expect(message.timestamp, "forward starts with the oldest").toBeLessThanOrEqual(
              Math.min(...rest),
            );
          } else {
            expect(message.timestamp, "backward starts with the newest").toBeGreaterThanOrEqual(
              Math.max(...rest),
            );
          }
        }
      }
      const defaultPage = await reader.queryHistory({ contentTopics: [topic], pageSize: 1 });
      expect(
        defaultPage.messages[0]?.timestamp,
        "the default direction is backward (newest first)",
      ).toBe(Math.max(...results.map((r) => r.timestamp)));
    },
  },
  {
    id: "history/paging",
    title: "pages of 4 over 25 messages: no duplicates, no gaps, in order, both directions",
    requires: "history",
    async run(env) {
      const { reader, topic, results } = await publishedHistory(env, 25);
      for (const direction of ["forward", "backward"] as const) {
        const { pages, messages } = await walkHistory(reader, {
          contentTopics: [topic],
          direction,
          pageSize: 4,
        });
        expect(
          pages.filter((page) => page.length > 0).length,
          `${direction}: at least 7 pages`,
        ).toBeGreaterThanOrEqual(7);
        expectSameIdSet(idsOf(messages), idsOf(results), `${direction} paging`);
        expectMonotone(messages, direction);
      }
    },
  },
  {
    id: "history/multiple-topics",
    title: "a query on several content topics returns the messages of those topics only",
    requires: "history",
    async run(env) {
      const [publisher, reader] = (await env.peers(2)) as [Transport, Transport];
      const topics = [env.topic("a"), env.topic("b"), env.topic("c")] as const;
      const byTopic = new Map<string, PublishResult[]>();
      for (const topic of topics) {
        byTopic.set(
          topic,
          await publishAll(publisher, topic, [
            env.payload(`${topic}-1`),
            env.payload(`${topic}-2`),
          ]),
        );
      }
      const [a, b, c] = topics;
      const wanted = [...(byTopic.get(a) ?? []), ...(byTopic.get(b) ?? [])];
      const messages = await waitForHistory(env, reader, [a, b], idsOf(wanted));
      expectSameIdSet(idsOf(messages), idsOf(wanted), "history of two topics");
      for (const message of messages) {
        expect(
          byTopic.get(message.contentTopic)?.some((r) => r.id === message.id),
          "topic matches",
        ).toBe(true);
      }
      const only = await waitForHistory(env, reader, [c], idsOf(byTopic.get(c) ?? []));
      expectSameIdSet(idsOf(only), idsOf(byTopic.get(c) ?? []), "history of the third topic");
    },
  },
  {
    id: "history/invalid-cursor",
    title: "a bogus cursor rejects with InvalidCursorError or HistoryQueryFailedError",
    requires: "history",
    async run(env) {
      const { reader, topic } = await publishedHistory(env, 2);
      for (const cursor of ["not-a-cursor", "%%%"]) {
        await rejectsWith(
          ["InvalidCursorError", "HistoryQueryFailedError"],
          () => reader.queryHistory({ contentTopics: [topic], pageSize: 1, cursor }),
          `cursor ${JSON.stringify(cursor)}`,
        );
      }
    },
  },
  {
    id: "history/invalid-query",
    title: "malformed history queries reject with InvalidQueryError",
    requires: "history",
    async run(env) {
      const [transport] = (await env.peers(1)) as [Transport];
      const topic = env.topic();
      const queries: [string, HistoryQuery][] = [
        ["no content topic", { contentTopics: [] }],
        ["pageSize 0", { contentTopics: [topic], pageSize: 0 }],
        ["pageSize 101", { contentTopics: [topic], pageSize: 101 }],
        ["pageSize 2.5", { contentTopics: [topic], pageSize: 2.5 }],
        ["from after to", { contentTopics: [topic], from: 2_000, to: 1_000 }],
        ["negative from", { contentTopics: [topic], from: -1 }],
        ["direction sideways", { contentTopics: [topic], direction: "sideways" as "forward" }],
        ["empty cursor", { contentTopics: [topic], cursor: "" }],
      ];
      for (const [label, query] of queries) {
        await rejectsWith("InvalidQueryError", () => transport.queryHistory(query), label);
      }
    },
  },
];
