import { useEffect, useRef } from "react";

/**
 * Calls `action` each time the page becomes visible again (its tab brought back, the
 * window restored): what changed while nobody looked is read once then, not polled for.
 */
export function useOnVisible(action: () => void): void {
  const latest = useRef(action);
  latest.current = action;
  useEffect(() => {
    const changed = () => {
      if (document.visibilityState === "visible") latest.current();
    };
    document.addEventListener("visibilitychange", changed);
    return () => document.removeEventListener("visibilitychange", changed);
  }, []);
}
