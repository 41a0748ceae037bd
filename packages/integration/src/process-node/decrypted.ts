/**
 * Counting what a client decrypted, for benchmarks: distinct texts of others' messages in one
 * organization, and a promise that resolves when a number is reached. Listening to the client's
 * event costs O(1) per message (a condition re-evaluated over the whole event list on every event
 * would cost the bench O(n²) and show up in its figures).
 */
import type { Client } from "@orgchat/client";

/** The texts `client` decrypted in an organization since {@link decryptedCounter} was called. */
export interface DecryptedCounter {
  /** Distinct texts of others' messages decrypted so far. */
  readonly texts: ReadonlySet<string>;
  /** Messages decrypted so far (a duplicate counts twice). */
  readonly messages: number;
  /**
   * Resolves once `count` distinct texts were decrypted, with `performance.now()` at that moment.
   * @throws Error after `timeoutMs` (a safety net against a hang; no figure depends on it)
   */
  reached(count: number, timeoutMs: number): Promise<number>;
  /** Stops listening. */
  stop(): void;
}

/**
 * Starts counting the messages `client` decrypts in `orgId` (its own excepted).
 * @param client - the client to listen to
 * @param orgId - the organization
 */
export function decryptedCounter(client: Client, orgId: string): DecryptedCounter {
  const texts = new Set<string>();
  let messages = 0;
  const waiters = new Set<{ count: number; resolve: (at: number) => void }>();
  const off = client.on("message:received", ({ message }) => {
    if (message.own || message.organizationId !== orgId) return;
    messages += 1;
    texts.add(message.text);
    for (const waiter of [...waiters]) {
      if (texts.size >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve(performance.now());
      }
    }
  });
  return {
    texts,
    get messages() {
      return messages;
    },
    reached(count, timeoutMs) {
      if (texts.size >= count) return Promise.resolve(performance.now());
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${texts.size} of ${count} messages decrypted after ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          count,
          resolve: (at: number) => {
            clearTimeout(timer);
            resolve(at);
          },
        };
        waiters.add(waiter);
      });
    },
    stop: off,
  };
}
