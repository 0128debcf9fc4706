import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "react";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TaskRun, WatchTaskRunListRequestSchema } from "@taskwire/proto";
import { noteQueryError } from "./auth-state.js";
import { taskRuns } from "./transport.js";

export interface LiveChanges {
  /** Runs as the stream last sent them, by id. */
  runs: Map<string, TaskRun>;
  /** Runs that changed and no longer match the filter. */
  gone: Set<string>;
}

/**
 * Runs remembered from the stream at most; older changes are dropped first. A page shows
 * 50 runs, so a screen left open for a day under load keeps a bounded memory.
 */
const MAX_REMEMBERED = 1_000;

/** A dropped stream (server restart, network) is opened again after this long. */
const RECONNECT_MS = 2_000;

/**
 * Follows WatchTaskRunList for a filter: the changes since the stream opened. `onOpen` is
 * called each time the stream is in place, so the caller reads its list again then and
 * misses nothing that happened before.
 */
export function useLiveRunList(filter: MessageInitShape<typeof WatchTaskRunListRequestSchema>, key: string, onOpen: () => void): LiveChanges {
  const [changes, setChanges] = useState<LiveChanges>({ runs: new Map(), gone: new Set() });
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    setChanges({ runs: new Map(), gone: new Set() });
    const follow = async () => {
      try {
        for await (const message of taskRuns.watchTaskRunList(filter, { signal: abort.signal })) {
          if (message.taskRuns.length === 0 && message.unmatchedRunIds.length === 0) {
            setChanges({ runs: new Map(), gone: new Set() });
            onOpen();
            continue;
          }
          setChanges((before) => {
            const runs = new Map(before.runs);
            const gone = new Set(before.gone);
            for (const run of message.taskRuns) {
              // Deleted first so the map's order stays the order of the latest changes.
              runs.delete(run.id);
              runs.set(run.id, run);
              gone.delete(run.id);
            }
            for (const id of runs.keys()) {
              if (runs.size <= MAX_REMEMBERED) break;
              runs.delete(id);
            }
            for (const id of message.unmatchedRunIds) {
              gone.add(id);
              runs.delete(id);
            }
            return { runs, gone };
          });
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        noteQueryError(error);
        // A filter the server refuses stays refused: trying again would only repeat it.
        if (ConnectError.from(error).code === Code.InvalidArgument) return;
      }
      if (!abort.signal.aborted) timer = setTimeout(() => void follow(), RECONNECT_MS);
    };
    void follow();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
    // The filter is keyed by `key`: a new object with the same fields is the same stream.
  }, [key]);
  return changes;
}
