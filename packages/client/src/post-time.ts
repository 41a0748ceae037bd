/**
 * How far a post's claimed `sentAt` may be from the time it reached the network before views show
 * the time received instead: 2 minutes either way (sender clock skew, relay and store latency;
 * the same bound a request to join's `sentAt` gets). Beyond it the author's clock is wrong or
 * lying — a post cannot be backdated into history's past, nor dated in the future.
 */
export const postTimeSkewMs = 2 * 60_000;

/**
 * The time to show for a post: its claimed `sentAt` when it lies within {@link postTimeSkewMs} of
 * `receivedAt` (when it reached the network: live arrival, or its store's timestamp for a post read
 * from history), else `receivedAt`. Both stay available on `MessageView`.
 *
 * @param sentAt - the author's claim (ms)
 * @param receivedAt - when it arrived (ms), or `undefined` when unknown (records stored before this
 *   rule: the claim is shown)
 * @returns the time to show (ms)
 */
export function shownTime(sentAt: number, receivedAt: number | undefined): number {
  if (receivedAt === undefined) return sentAt;
  return Math.abs(sentAt - receivedAt) <= postTimeSkewMs ? sentAt : receivedAt;
}
