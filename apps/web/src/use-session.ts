/** Re-renders a component on every change of a chat session. */
import { useEffect, useState } from "preact/hooks";
import type { ChatSession } from "./session.ts";

/**
 * Subscribes the calling component to a session's changes.
 * @param session - the session
 * @returns a number that changes on every change (to key memoised values on)
 */
export function useSessionVersion(session: ChatSession): number {
  const [version, setVersion] = useState(0);
  useEffect(() => session.subscribe(() => setVersion((v) => v + 1)), [session]);
  return version;
}

/**
 * Runs an action, showing its error instead of throwing it.
 * @param setError - where the error's text goes
 * @param session - when given, its views read the client again once the action ended
 * @returns a runner for async actions; `describe` (optional) says an action's error in words
 */
export function actionRunner(
  setError: (text: string | undefined) => void,
  session?: Pick<ChatSession, "refresh">,
) {
  return async (
    action: () => Promise<unknown>,
    describe?: (error: unknown) => string,
  ): Promise<boolean> => {
    setError(undefined);
    try {
      await action();
      return true;
    } catch (error) {
      setError(
        describe !== undefined
          ? describe(error)
          : error instanceof Error
            ? `${error.name}: ${error.message}`
            : String(error),
      );
      return false;
    } finally {
      session?.refresh();
    }
  };
}
