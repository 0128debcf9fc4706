/**
 * The SQL of lease expiry, shared by SQLite and PostgreSQL: what happens to a run whose
 * lease ran out, as expressions over its row (the values before the expiry), so that one
 * UPDATE decides every run of a pass. In the order the broker decided it before:
 *
 * 1. cancel asked for (`cancel_reason`): CANCELLED; its error is the timeout's when the
 *    attempt timed out, else Cancelled with the reason.
 * 2. the attempt timed out (`timeout_at` passed): a retry (SCHEDULED after the retry delay,
 *    one retry used) while retries are left, else FAILED with TimeoutError.
 * 3. the lease ran out: a redelivery (SCHEDULED now, `redeliveries` + 1), or FAILED with
 *    MaxRedeliveriesExceeded once that count passes max_redeliveries (0: the server's).
 *
 * The retry delay is the configured delay for this retry (the last repeating), spread by
 * the run's jitter factor. Its draw is the fractional part of a seed drawn once per pass
 * plus the run's `seq` times the golden ratio: spread evenly over the runs of a pass (runs
 * failing together do not come back in the same millisecond), and the same number wherever
 * the expression appears, so the history row written by one statement states the delay
 * that the UPDATE sets.
 */
export interface ExpiryDialect {
  /** A named parameter: now, ackTimeoutMs, leaseDurationMs, defaultMaxRedeliveries, seed. */
  param(name: "now" | "ackTimeoutMs" | "leaseDurationMs" | "defaultMaxRedeliveries" | "seed"): string;
  /** A number of the run's options JSON. */
  option(name: "retries" | "retryJitterFactor" | "timeoutSeconds" | "maxRedeliveries"): string;
  /** The configured delay in seconds of the retry after `retries_used` (0 with none). */
  retryDelaySeconds: string;
  /** The fractional part of a non-negative number. */
  fraction(x: string): string;
  greatest(a: string, b: string): string;
  least(a: string, b: string): string;
  /** A number as JavaScript prints it (1, not 1.0). */
  text(x: string): string;
  /** A stored error (JSON) of this type and message. */
  error(type: string, message: string, retryable: boolean): string;
  /** A whole number of milliseconds. */
  integer(x: string): string;
}

export interface ExpirySql {
  /** The leased runs a pass may take: ran out by now, not kept alive by the expiring server. */
  expired(keep: string): string;
  /** The state the run goes to. */
  state: string;
  /** The SET list of the UPDATE (the lease columns cleared too). */
  sets: string;
  /** The history row's message. */
  message: string;
}

export function expirySql(d: ExpiryDialect): ExpirySql {
  const now = d.param("now");
  const timedOut = `(timeout_at IS NOT NULL AND timeout_at <= ${now})`;
  const retries = `coalesce(${d.option("retries")}, 0)`;
  const retry = `(${timedOut} AND retries_used < ${retries})`;
  const maxOption = `coalesce(${d.option("maxRedeliveries")}, 0)`;
  const max = `(CASE WHEN ${maxOption} > 0 THEN ${maxOption} ELSE ${d.param("defaultMaxRedeliveries")} END)`;
  const exceeded = `(redeliveries + 1 > ${max})`;
  const jitter = d.least(d.greatest(`coalesce(${d.option("retryJitterFactor")}, 0)`, "0"), "1");
  const draw = d.fraction(`${d.param("seed")} + seq * 0.6180339887498949`);
  const delayMs = d.integer(d.greatest("0", `round(${d.retryDelaySeconds} * 1000 * (1 + ${jitter} * (2 * ${draw} - 1)))`));
  const state = `(CASE WHEN cancel_reason IS NOT NULL THEN 'CANCELLED'
    WHEN ${timedOut} THEN (CASE WHEN ${retry} THEN 'SCHEDULED' ELSE 'FAILED' END)
    WHEN ${exceeded} THEN 'FAILED' ELSE 'SCHEDULED' END)`;
  const timeoutMessage = `'the attempt exceeded its timeout of ' || ${d.text(`coalesce(${d.option("timeoutSeconds")}, 0)`)} || 's'`;
  const timeoutError = d.error("'TimeoutError'", timeoutMessage, true);
  const reason = `(CASE WHEN state = 'PENDING' THEN 'not acknowledged within ' || ${d.param("ackTimeoutMs")} || ' ms'
    ELSE 'lease expired: no heartbeat for ' || ${d.param("leaseDurationMs")} || ' ms' END
    || ' (server ' || coalesce(lease_server_id, 'unknown') || ')')`;
  const lostMessage = `'the run was lost ' || (redeliveries + 1) || ' times (max_redeliveries ' || ${max} || '); last: ' || ${reason}`;
  const message = `(CASE WHEN cancel_reason IS NOT NULL THEN cancel_reason
    WHEN ${retry} THEN 'retry ' || (retries_used + 1) || ' of ' || ${retries} || ' in ' || ${d.text(`${delayMs} / 1000.0`)}
      || 's after TimeoutError: ' || ${timeoutMessage}
    WHEN ${timedOut} THEN 'TimeoutError: ' || ${timeoutMessage}
    WHEN ${exceeded} THEN ${lostMessage}
    ELSE 'requeued: ' || ${reason} END)`;
  const sets = `
    state = ${state},
    redeliveries = CASE WHEN cancel_reason IS NULL AND NOT ${timedOut} THEN redeliveries + 1 ELSE redeliveries END,
    retries_used = CASE WHEN cancel_reason IS NULL AND ${retry} THEN retries_used + 1 ELSE retries_used END,
    scheduled_at = CASE WHEN cancel_reason IS NOT NULL THEN scheduled_at
      WHEN ${retry} THEN ${now} + ${delayMs}
      WHEN NOT ${timedOut} AND NOT ${exceeded} THEN ${now} ELSE scheduled_at END,
    ended_at = CASE WHEN ${state} = 'SCHEDULED' THEN ended_at ELSE ${now} END,
    error = CASE WHEN cancel_reason IS NOT NULL THEN
        (CASE WHEN ${timedOut} THEN ${timeoutError} ELSE ${d.error("'Cancelled'", "cancel_reason", false)} END)
      WHEN ${timedOut} THEN ${timeoutError}
      WHEN ${exceeded} THEN ${d.error("'MaxRedeliveriesExceeded'", lostMessage, false)}
      ELSE error END,
    worker_id = CASE WHEN ${state} = 'SCHEDULED' THEN NULL ELSE worker_id END,
    lease_token = NULL, lease_server_id = NULL, lease_session_id = NULL,
    lease_deadline = NULL, timeout_at = NULL, cancel_reason = NULL`;
  return {
    expired: (keep) => `state IN ('PENDING', 'RUNNING')
      AND (lease_deadline IS NULL OR lease_deadline <= ${now} OR timeout_at <= ${now})
      AND (lease_token IS NULL OR NOT (${keep}))`,
    state,
    sets,
    message,
  };
}
