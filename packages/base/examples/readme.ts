// The example of README.md, kept here so that it typechecks (tsc) and runs:
//   tsx --conditions=@orgchat/source examples/readme.ts
import { errorGuard, OrgchatError, sleep, toHex, utf8Length } from "@orgchat/base";

class QuotaExceededError extends OrgchatError {
  static readonly errorName = "QuotaExceededError";
  constructor(used: number, options: { cause?: unknown } = {}) {
    super("QuotaExceededError", `The quota of ${used} bytes is used up.`, {
      ...options,
      hint: "Delete old messages, then try again.",
    });
  }
}
const isQuotaExceededError = errorGuard<QuotaExceededError>(QuotaExceededError.errorName);

try {
  throw new QuotaExceededError(utf8Length("héllo"));
} catch (error) {
  if (isQuotaExceededError(error)) console.log(error.name, error.hint);
}

const controller = new AbortController();
setTimeout(() => controller.abort(), 10);
await sleep(60_000, controller.signal).catch(() => console.log("aborted early"));
console.log(toHex(new Uint8Array([0xde, 0xad])));
