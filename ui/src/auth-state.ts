import { Code, ConnectError } from "@connectrpc/connect";
import { useSyncExternalStore } from "react";

/** Whether the server asked for an API key that this session has not given yet. */
let signInNeeded = false;
const listeners = new Set<() => void>();

function set(value: boolean): void {
  if (signInNeeded === value) return;
  signInNeeded = value;
  for (const listener of listeners) listener();
}

/** Any API call refused as UNAUTHENTICATED shows the sign-in page instead of the page. */
export function noteQueryError(error: unknown): void {
  if (ConnectError.from(error).code === Code.Unauthenticated) set(true);
}

export function signedIn(): void {
  set(false);
}

export function useSignInNeeded(): boolean {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => signInNeeded,
  );
}
