/**
 * The browser build of `@orgchat/crypto` (chosen by the `browser` export condition): the same API as
 * the Node build, without `nodeProvider` and without any `node:` import, plus `webCryptoProvider`;
 * `defaultProvider()` is `webCryptoProvider()` (noble for every synchronous operation, key pairs
 * generated ahead by the browser's Web Crypto where it has X25519 / Ed25519).
 *
 * @packageDocumentation
 */
import type { CryptoProvider } from "./provider.js";
import { webCryptoProvider } from "./providers/web.js";

export * from "./common.js";
export {
  type WebCryptoProvider,
  type WebCryptoProviderInit,
  type WebCryptoSubtle,
  type WebCryptoSupport,
  webCryptoProvider,
} from "./providers/web.js";

let shared: CryptoProvider | undefined;

/**
 * The provider this build defaults to: one shared `webCryptoProvider()` (its key pools and start-up
 * probe are made once). `nobleProvider()` stays exported for pure-JavaScript use.
 *
 * @returns the shared browser provider
 * @example
 * ```ts
 * import { defaultProvider } from "@orgchat/crypto";
 * const { publicKey } = defaultProvider().ed25519KeyPair();
 * ```
 */
export function defaultProvider(): CryptoProvider {
  shared ??= webCryptoProvider();
  return shared;
}
