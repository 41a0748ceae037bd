/**
 * The cryptography of Waku v2 Organization Chats (spec 55), following the "OrgRatchet" design in
 * docs/PROTOCOL.md ("Cryptography"):
 *
 * - group messages: one symmetric "single ratchet" chain per sender per epoch (`EpochKeys`), the
 *   sender's signature and identity inside the ciphertext;
 * - epochs: `OwnerGroup` / `MemberGroup` — a one-way add step for joins (plus a `Welcome`), a FLAT
 *   `KeyUpdate` with unlinkable hints for removals, bans, leaves and periodic refreshes;
 * - the owner ↔ member pairwise channel: X3DH (`OwnerPrekeys`, `x3dhInitiate`) and a Double Ratchet
 *   (`PairwiseSession`);
 * - two providers with identical results: `nodeProvider()` (node:crypto, the default under Node) and
 *   `nobleProvider()` (pure JS); the browser build adds `webCryptoProvider()`, its default.
 *
 * Everything is synchronous except envelope sealing/opening; time and randomness are injected.
 *
 * @example
 * ```ts
 * import { defaultProvider, EpochKeys, EpochSecrets } from "@orgchat/crypto";
 *
 * const provider = defaultProvider();
 * const group = { organizationId, channelId: "" };
 * const keys = EpochKeys.create({
 *   provider,
 *   group,
 *   secrets: EpochSecrets.derive(provider, group, 1n, epochSecret),
 *   roster,
 * });
 * const bytes = keys.encrypt({ senderLeaf: 0, signingSecretKey, contentType: 1, content });
 * ```
 *
 * @packageDocumentation
 */
import type { CryptoProvider } from "./provider.js";
import { nodeProvider } from "./providers/node.js";

export * from "./common.js";
export { nodeProvider };

let shared: CryptoProvider | undefined;

/**
 * The provider this build defaults to: `nodeProvider()` under Node (node:crypto, ~10-30x faster on
 * curve operations), `webCryptoProvider()` in the browser build. One shared instance, so cached
 * keys are reused.
 */
export function defaultProvider(): CryptoProvider {
  shared ??= nodeProvider();
  return shared;
}
