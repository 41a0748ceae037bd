import type { ClientEvents } from "./types.js";

/**
 * Every event the client emits (`ClientEvents`), for apps that listen to all of them (an event log,
 * a bot's stream) without keeping their own copy of the list.
 * @example
 * ```ts
 * for (const name of clientEventNames) client.on(name, (payload) => log(name, payload));
 * ```
 */
export const clientEventNames = Object.freeze([
  "org:discovered",
  "org:updated",
  "request:received",
  "request:cancelled",
  "request:accepted",
  "request:rejected",
  "invitation:received",
  "member:joined",
  "member:left",
  "member:removed",
  "member:banned",
  "member:unbanned",
  "member:roles-changed",
  "owner:fork-detected",
  "epoch:changed",
  "message:received",
  "message:edited",
  "message:deleted",
  "message:pinned",
  "message:waiting-for-key",
  "message:undecryptable",
  "resync:requested",
  "error",
  "diagnostic",
] as const satisfies ReadonlyArray<keyof ClientEvents>);

// A new event of `ClientEvents` must be listed above: this fails to compile otherwise.
const listsEveryEvent: [Exclude<keyof ClientEvents, (typeof clientEventNames)[number]>] extends [
  never,
]
  ? true
  : false = true;
void listsEveryEvent;
