/**
 * The client configuration of the integration benches (bench/run.ts, bench/delegation.ts): the
 * production defaults (`defaultClientConfig` of `@orgchat/client`), not the test worlds' fast
 * settings, but `rekeyWindowMs: 0` and `addWindowMs: 0`, so that a removal re-keys inside
 * `removeMember` (a delegate's: inside `banMember`) and an accept adds inside `acceptRequest`.
 *
 * @module
 */
import { type ClientConfig, defaultClientConfig } from "@orgchat/client";

/** Production defaults but the batching windows (see the module): what every bench client runs. */
export const benchClientConfig: Required<ClientConfig> = {
  ...defaultClientConfig,
  rekeyWindowMs: 0,
  addWindowMs: 0,
};

/** {@link benchClientConfig} in words, printed with the results. */
export const benchConfigNote =
  "production defaults (defaultClientConfig of @orgchat/client) except rekeyWindowMs 0 and addWindowMs 0: a removal re-keys inside removeMember and an accept adds inside acceptRequest, so the removal and join figures leave out the batching windows (2 s and 200 ms in production); no passphrase, so scryptN is unused";
