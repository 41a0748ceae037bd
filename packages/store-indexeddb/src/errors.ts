/**
 * The one error of this package beyond the store contract's: the page lacks what the store needs.
 * Every other failure is one of `@orgchat/store`'s typed errors.
 */
import { errorGuard, OrgchatError } from "@orgchat/base";

/** What the page lacks. */
export type MissingBrowserFeature = "indexedDB" | "navigator.locks";

/**
 * Thrown by `openIndexedDbStore` when the page has no IndexedDB (a browser's private mode may
 * disable it; Node has none) or no Web Locks (`navigator.locks` exists only in a secure context:
 * `https://` or `http://localhost`). Without the lock a second tab could write the same store and
 * corrupt its ratchet state, so the store refuses to open rather than run unprotected.
 */
export class BrowserStorageUnavailableError extends OrgchatError {
  static readonly errorName = "BrowserStorageUnavailableError";
  declare readonly name: "BrowserStorageUnavailableError";
  /** The missing feature. */
  readonly missing: MissingBrowserFeature;
  /**
   * @param missing - the feature the page lacks
   */
  constructor(missing: MissingBrowserFeature) {
    super(
      BrowserStorageUnavailableError.errorName,
      `This page has no ${missing}, which the IndexedDB store needs.`,
      {
        hint:
          missing === "indexedDB"
            ? "Open the page in a browser window with storage enabled (not a private window that disables IndexedDB), or use another store outside browsers."
            : "Serve the page from https:// or http://localhost (Web Locks exist only in secure contexts).",
      },
    );
    this.missing = missing;
  }
}

/** True when `error` is a {@link BrowserStorageUnavailableError} (checked by `name`). */
export const isBrowserStorageUnavailableError = errorGuard<BrowserStorageUnavailableError>(
  BrowserStorageUnavailableError.errorName,
);
