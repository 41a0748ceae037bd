/**
 * The browser build of `@orgchat/crypto` (chosen by the `browser` export condition): the same API as
 * the Node build, without `nodeProvider` and without any `node:` import; `defaultProvider()` is the
 * pure-JavaScript `nobleProvider()`.
 *
 * @packageDocumentation
 */
import type { CryptoProvider } from "./provider.js";
import { nobleProvider } from "./providers/noble.js";

export * from "./common.js";

let shared: CryptoProvider | undefined;

/** The provider this build defaults to: `nobleProvider()` (pure JavaScript). */
export function defaultProvider(): CryptoProvider {
  shared ??= nobleProvider();
  return shared;
}
