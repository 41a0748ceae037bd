/**
 * The foundations every orgchat package shares, so that there is one of each: the error base and its
 * guards, bytes/hex/UTF-8 helpers, and abort-aware waiting. Browser-safe (no `node:` imports).
 *
 * @example
 * ```ts
 * import { OrgchatError, errorGuard, toHex, sleep } from "@orgchat/base";
 *
 * class QuotaError extends OrgchatError {
 *   constructor(used: number) {
 *     super("QuotaError", `Quota of ${used} bytes used up.`, { hint: "Delete old messages." });
 *   }
 * }
 * const isQuotaError = errorGuard<QuotaError>("QuotaError");
 * ```
 *
 * @packageDocumentation
 */
export { type AbortErrorFactory, raceAbort, sleep } from "./abort.js";
export {
  concatBytes,
  encodedUtf8Length,
  equalBytes,
  fromHex,
  isHex,
  toHex,
  utf8Length,
} from "./bytes.js";
export {
  type Diagnostic,
  type DiagnosticSink,
  ignoreDiagnostic,
  reportDiagnostic,
} from "./diagnostic.js";
export {
  describeError,
  errorGuard,
  hasErrorName,
  OrgchatError,
  type OrgchatErrorOptions,
} from "./errors.js";
export { TypedEventEmitter } from "./event-emitter.js";
export { maxLamportClock } from "./limits.js";
