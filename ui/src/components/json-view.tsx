import { useState } from "react";
import type { Payload } from "@taskwire/proto";

/**
 * A payload as a tree of collapsible JSON. Every string a user wrote is rendered as text
 * by React (escaped), never as HTML.
 */
export function PayloadView({ payload, testId }: { payload: Payload | undefined; testId: string }) {
  if (!payload) return <p className="muted">none</p>;
  if (payload.contentType !== "application/json") {
    return <p className="muted" data-testid={testId}>{`${payload.data.byteLength} bytes of ${payload.contentType}`}</p>;
  }
  const text = new TextDecoder().decode(payload.data);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return <pre className="code" data-testid={testId}>{text}</pre>;
  }
  return (
    <div className="json code" data-testid={testId}>
      <JsonNode value={value} depth={0} />
    </div>
  );
}

function JsonNode({ value, depth }: { value: unknown; depth: number }) {
  // Deep trees start folded below the third level, so a large payload stays readable.
  const [open, setOpen] = useState(depth < 3);
  if (value === null) return <span className="json-null">null</span>;
  if (typeof value === "string") return <span className="json-string">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span className="json-number">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="json-bool">{String(value)}</span>;
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray ? value.map((v, i) => [String(i), v]) : Object.entries(value as object);
  const [start, end] = isArray ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return <span>{start + end}</span>;
  return (
    <span>
      <button type="button" className="json-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "▾" : "▸"}
      </button>
      {start}
      {open ? (
        <span className="json-children">
          {entries.map(([key, child], i) => (
            <span className="json-entry" key={key}>
              {!isArray && <span className="json-key">{JSON.stringify(key)}</span>}
              {!isArray && ": "}
              <JsonNode value={child} depth={depth + 1} />
              {i < entries.length - 1 ? "," : ""}
            </span>
          ))}
        </span>
      ) : (
        <span className="muted"> {entries.length} {isArray ? "items" : "keys"} </span>
      )}
      {end}
    </span>
  );
}
