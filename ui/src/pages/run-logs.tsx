import { useEffect, useRef, useState } from "react";
import type { LogLine } from "@taskwire/proto";
import { ms } from "../components/time-format.js";
import { noteQueryError } from "../auth-state.js";
import { taskRuns } from "../transport.js";

/**
 * The run's log lines, followed live over WatchTaskRunLogs until the run is final;
 * `onLines` hears all lines read so far after each message.
 */
export function LiveLogs({ runId, onLines }: { runId: string; onLines?: (lines: LogLine[]) => void }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const listener = useRef(onLines);
  listener.current = onLines;
  useEffect(() => listener.current?.(lines), [lines]);
  const [error, setError] = useState<string>();
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const abort = new AbortController();
    setLines([]);
    void (async () => {
      try {
        for await (const message of taskRuns.watchTaskRunLogs({ runId }, { signal: abort.signal })) {
          setLines((before) => [...before, ...message.lines]);
        }
      } catch (caught) {
        if (abort.signal.aborted) return;
        noteQueryError(caught);
        setError(caught instanceof Error ? caught.message : String(caught));
      }
    })();
    return () => abort.abort();
  }, [runId]);
  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [lines.length]);
  if (error) return <p className="error-text">Could not read the logs: {error}</p>;
  if (lines.length === 0) return <p className="muted" data-testid="logs-empty">No log lines yet.</p>;
  return (
    <pre className="code logs" id="logs" ref={box}>
      {lines.map((line, i) => (
        <div key={i} className={`log-line level-${line.level}`}>
          <span className="log-time">{new Date(ms(line.time) ?? 0).toISOString().slice(11, 23)}</span>{" "}
          <span className="log-level">{line.level.toUpperCase().padEnd(5)}</span> {line.message}
        </div>
      ))}
    </pre>
  );
}
