/** What a stand-in service answers for a record it has stored. */
export interface Delivered {
  id: string;
  /** False when an earlier attempt of the run had delivered it already. */
  sentNow: boolean;
}

/**
 * POSTs `body` to `<serviceUrl>/<collection>` unless a record with the same `reference` is
 * there already: check, then send.
 *
 * taskwire runs a task at least once: a worker killed after the POST but before its
 * result reached the server has its run redelivered, and a blind retry would send a second
 * welcome mail. The reference names the side effect (`welcome:<user id>`), not the attempt,
 * so the next attempt finds what the dead one sent and sends nothing. This is safe when
 * the earlier attempt is dead (a crash, SIGKILL, a lost connection: its worker stops the
 * task), which is when redelivery happens. Two attempts alive at once (a worker stalled
 * past its lease that wakes up) could both pass the check; a provider that de-duplicates
 * by an idempotency key closes that gap too, and this reference is the key to give it.
 */
export async function deliverOnce(
  serviceUrl: string,
  collection: string,
  reference: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Delivered> {
  const found = await fetch(`${serviceUrl}/${collection}?reference=${encodeURIComponent(reference)}`, { signal });
  if (!found.ok) throw new Error(`${serviceUrl}/${collection} answered ${found.status} to a lookup`);
  const existing = (await found.json()) as { id: string }[];
  if (existing.length > 0) return { id: existing[0].id, sentNow: false };
  const sent = await fetch(`${serviceUrl}/${collection}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, reference }),
    signal,
  });
  if (!sent.ok) throw new Error(`${serviceUrl}/${collection} answered ${sent.status}: ${await sent.text()}`);
  const { id } = (await sent.json()) as { id: string };
  return { id, sentNow: true };
}
