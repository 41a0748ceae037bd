/**
 * `@orgchat/transport/compliance`: the suite every transport passes. One call defines Vitest
 * `describe` / `it` blocks that check a transport against the contract of `Transport` (lifecycle,
 * delivery byte for byte, topic isolation, unsubscribe, failing handlers, at-least-once delivery,
 * payload limits, topic checks, abort, parallel publishes, history ranges and paging).
 *
 * Cases have stable ids (`[history/paging] …` in the test name, {@link transportComplianceCases}).
 * A case a transport cannot support is skipped visibly, with the reason in its name, by capability
 * (`capabilities.history`, `selfDelivery`, `ordered`) or through `ComplianceOptions.skip`; a case is
 * never left out.
 *
 * @example
 * ```ts
 * // test/compliance.test.ts
 * import { type MemoryNetwork, memoryNetwork } from "@orgchat/transport";
 * import { runTransportCompliance } from "@orgchat/transport/compliance";
 *
 * let network: MemoryNetwork | undefined;
 * const current = () => (network ??= memoryNetwork());
 * runTransportCompliance({
 *   name: "memory",
 *   async createPeers(count) {
 *     const peers = Array.from({ length: count }, () => current().transport());
 *     await Promise.all(peers.map((peer) => peer.start()));
 *     return peers;
 *   },
 *   createUnstarted: async () => current().transport(),
 *   async cleanup() {
 *     await network?.stop();
 *     network = undefined;
 *   },
 * });
 * ```
 *
 * @packageDocumentation
 */
import { afterEach, describe, expect, it } from "vitest";
import { deliveryCases } from "./compliance-delivery.js";
import { historyCases } from "./compliance-history.js";
import { inputCases } from "./compliance-inputs.js";
import {
  type CaseEnvironment,
  type ComplianceCase,
  type ComplianceOptions,
  encoder,
  randomNonce,
  type TransportFixture,
  transportComplianceCases,
} from "./compliance-kit.js";
import { lifecycleCases } from "./compliance-lifecycle.js";
import type { TransportCapabilities } from "./types.js";

export {
  type ComplianceOptions,
  type TransportComplianceCase,
  type TransportFixture,
  transportComplianceCases,
} from "./compliance-kit.js";

/** Every case, in the order of {@link transportComplianceCases}. */
const cases: readonly ComplianceCase[] = [
  ...lifecycleCases,
  ...deliveryCases,
  ...inputCases,
  ...historyCases,
];

function parseSkips(skip: readonly string[] | undefined): Map<string, string> {
  const reasons = new Map<string, string>();
  const known = new Set<string>(transportComplianceCases);
  for (const entry of skip ?? []) {
    const separator = entry.indexOf(":");
    const id = (separator === -1 ? entry : entry.slice(0, separator)).trim();
    const reason = separator === -1 ? "" : entry.slice(separator + 1).trim();
    if (!known.has(id)) {
      throw new RangeError(
        `ComplianceOptions.skip: unknown case id ${JSON.stringify(id)}; the ids are: ${transportComplianceCases.join(", ")}`,
      );
    }
    if (reason === "") {
      throw new RangeError(
        `ComplianceOptions.skip: give a reason, as "${id}: <why this transport cannot pass it>"`,
      );
    }
    reasons.set(id, reason);
  }
  return reasons;
}

/**
 * Defines the compliance suite for one transport as Vitest blocks: call it at the top level of a test
 * file. While collecting, the suite makes one `createUnstarted()` transport (then `cleanup()`) to read
 * the capabilities that decide which cases are skipped; each case then makes what it needs and
 * `cleanup()` runs after each.
 *
 * Every case uses fresh content topics of the shape `/orgchat-compliance/1/<case>-<nonce>/proto`
 * (one application and version, so Waku auto-sharding puts every case on one shard) and waits for
 * deliveries by polling up to `deliveryTimeoutMs`.
 *
 * @param fixture - how to make transports; see {@link TransportFixture}
 * @param options - cases to skip, each with its reason
 * @throws RangeError (while defining) when `options.skip` names an unknown case or gives no reason
 * @example
 * ```ts
 * runTransportCompliance(myFixture, { skip: ["delivery/parallel-publishes: rate-limited test relay"] });
 * ```
 */
export function runTransportCompliance(
  fixture: TransportFixture,
  options: ComplianceOptions = {},
): void {
  const skips = parseSkips(options.skip);
  const deliveryTimeoutMs = fixture.deliveryTimeoutMs ?? 5_000;
  const historySettleMs = fixture.historySettleMs ?? 0;
  const timeoutMs = 4 * deliveryTimeoutMs + 2 * historySettleMs + 30_000;

  describe(`transport compliance: ${fixture.name}`, async () => {
    const probe = await fixture.createUnstarted();
    const capabilities: TransportCapabilities = { ...probe.capabilities };
    await fixture.cleanup();

    afterEach(() => fixture.cleanup(), timeoutMs);

    const groups = new Map<string, ComplianceCase[]>();
    for (const spec of cases) {
      const group = spec.id.split("/")[0] as string;
      groups.set(group, [...(groups.get(group) ?? []), spec]);
    }
    for (const [group, specs] of groups) {
      describe(group, () => {
        for (const spec of specs) {
          const name = `[${spec.id}] ${spec.title}`;
          const fixtureReason = skips.get(spec.id);
          if (fixtureReason !== undefined) {
            it.skip(`${name} (skipped by the fixture: ${fixtureReason})`, () => {});
            continue;
          }
          if (spec.requires !== undefined && !capabilities[spec.requires]) {
            it.skip(`${name} (skipped: capabilities.${spec.requires} is false)`, () => {});
            continue;
          }
          it(
            name,
            async () => {
              const nonce = randomNonce();
              let topics = 0;
              let payloads = 0;
              const slug = spec.id.replace(/\//g, "-");
              const env: CaseEnvironment = {
                fixture,
                capabilities,
                deliveryTimeoutMs,
                historySettleMs,
                topic: (label) =>
                  `/orgchat-compliance/1/${slug}-${label ?? "t"}${topics++}-${nonce}/proto`,
                payload: (label) => encoder.encode(`${spec.id}#${label}#${payloads++}#${nonce}`),
                async peers(count) {
                  const peers = await fixture.createPeers(count);
                  expect(peers.length, `createPeers(${count}) made ${count} transports`).toBe(
                    count,
                  );
                  for (const peer of peers) {
                    expect(peer.status, "createPeers returns started transports").not.toBe(
                      "stopped",
                    );
                  }
                  return peers;
                },
              };
              await spec.run(env);
            },
            timeoutMs,
          );
        }
      });
    }
  });
}
