/**
 * Ids up to this long are shown whole: a TypeScript worker's `host-pid-1a2b3c4d` on a short
 * host name fits. Longer ones (a Python worker's 36-character UUID, a long host name) keep
 * their first 10 and last 8 characters: the start names the host, the end tells apart the
 * workers of one host.
 */
const WHOLE_UP_TO = 24;
const HEAD = 10;
const TAIL = 8;

export function shortWorkerId(id: string): string {
  return id.length <= WHOLE_UP_TO ? id : `${id.slice(0, HEAD)}…${id.slice(-TAIL)}`;
}
