import type { LogRecord, RunRecord, StoredPayload, TransitionRecord } from "../store/store.js";

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const time = (ms?: number) => (ms ? new Date(ms).toISOString() : "");

function payloadText(payload?: StoredPayload): string {
  if (!payload) return "";
  if (payload.contentType === "application/json") return new TextDecoder().decode(payload.data);
  return `${payload.data.byteLength} bytes of ${payload.contentType}`;
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)} · taskwire</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}pre{background:#f6f6f6;padding:.8rem;overflow:auto}
.COMPLETED{color:#1a7f37}.FAILED{color:#cf222e}.CANCELLED{color:#777}.RUNNING,.PENDING{color:#0969da}</style>
</head><body><p><a href="/task-runs">taskwire · task runs</a></p>${body}</body></html>`;
}

export function renderRunList(runs: RunRecord[]): string {
  const rows = runs
    .map(
      (run) => `<tr><td><a href="/task-runs/task-run/${run.id}">${run.id}</a></td><td>${escape(run.taskKey)}</td>
<td class="${run.state}" data-state="${run.state}">${run.state}</td><td>${run.attempts}</td><td>${time(run.createdAt)}</td><td>${time(run.endedAt)}</td></tr>`,
    )
    .join("");
  return page(
    "Task runs",
    `<h1>Task runs</h1><table id="task-runs"><tr><th>id</th><th>task</th><th>state</th><th>attempts</th><th>created</th><th>ended</th></tr>${rows}</table>`,
  );
}

export function renderRunPage(run: RunRecord | undefined, history: TransitionRecord[], logs: LogRecord[], id: string): string {
  if (!run) return page("Not found", `<h1>Task run ${escape(id)} not found</h1>`);
  const transitions = history
    .map((h) => `<tr><td class="${h.state}">${h.state}</td><td>${time(h.at)}</td><td>${h.attempt}</td><td>${escape(h.message)}</td></tr>`)
    .join("");
  const lines = logs.map((l) => `${time(l.at)} ${l.level.toUpperCase()} ${l.message}`).join("\n");
  const error = run.error ? `<h2>Error</h2><pre>${escape(`${run.error.type}: ${run.error.message}\n${run.error.stack}`)}</pre>` : "";
  return page(
    `${run.taskKey} ${run.id}`,
    `<h1>${escape(run.taskKey)}</h1>
<p>Run <code id="run-id">${run.id}</code> is <strong id="state" class="${run.state}">${run.state}</strong>
after ${run.attempts} attempt(s)${run.foreground ? ", run in the caller's process" : ""}.</p>
<h2>Parameters</h2><pre id="parameters">${escape(payloadText(run.parameters))}</pre>
${run.result ? `<h2>Result</h2><pre id="result">${escape(payloadText(run.result))}</pre>` : ""}${error}
<h2>History</h2><table id="history"><tr><th>state</th><th>time</th><th>attempt</th><th>note</th></tr>${transitions}</table>
<h2>Logs</h2><pre id="logs">${escape(lines)}</pre>`,
  );
}
