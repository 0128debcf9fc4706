import { useSyncExternalStore } from "react";
import { formatAbsolute, formatRelative } from "./time-format.js";

// One shared ticker: every relative time on the page moves on together, every 10 s.
let now = Date.now();
const listeners = new Set<() => void>();
setInterval(() => {
  now = Date.now();
  listeners.forEach((listener) => listener());
}, 10_000);

function useNow(): number {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => now,
  );
}

/** "3 minutes ago", with the absolute time on hover. */
export function RelativeTime({ at }: { at: number | undefined }) {
  // The ticker only re-renders; the time itself is read now, so nothing lags behind it.
  useNow();
  const current = Date.now();
  if (at === undefined) return <span className="muted">—</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatAbsolute(at)}>
      {formatRelative(at, current)}
    </time>
  );
}
