/**
 * Paging helper for apps: walks a history query page by page.
 */
import type { CallOptions, HistoryPage, HistoryQuery, Transport } from "./types.js";

/**
 * Walks every page of a history query, following cursors until the transport says there is no more.
 *
 * @param transport - any transport (only `queryHistory` is used)
 * @param query - the query of the first page (its `cursor`, if any, is where paging starts)
 * @param options - `signal` cancels the walk
 * @returns an async generator of pages
 * @throws whatever `queryHistory` throws (`HistoryUnsupportedError`, `InvalidQueryError`, …)
 * @example
 * ```ts
 * for await (const page of historyPages(transport, { contentTopics: [topic] })) render(page.messages);
 * ```
 */
export async function* historyPages(
  transport: Pick<Transport, "queryHistory">,
  query: HistoryQuery,
  options?: CallOptions,
): AsyncGenerator<HistoryPage, void, undefined> {
  let cursor = query.cursor;
  for (;;) {
    const page = await transport.queryHistory(
      cursor === undefined ? { ...query } : { ...query, cursor },
      options,
    );
    yield page;
    if (page.cursor === undefined) return;
    cursor = page.cursor;
  }
}
