import type { Client } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TaskRun, TaskRunService, TaskRunState } from "@taskwire/proto";

export interface TaskRunFilter {
  taskKeys: string[];
  states: TaskRunState[];
  tag: string;
  workerId: string;
  /** Created at or after this time (ms); undefined for any. */
  since?: number;
}

// The server's page limit: longer listings take several pages.
const maxPageSize = 1000;

/**
 * The newest runs that match `filter`, at most `limit` (Infinity for all), read page by
 * page, and how many match in all (counted by the server with the first page).
 */
export async function listTaskRuns(
  client: Client<typeof TaskRunService>,
  filter: TaskRunFilter,
  limit: number,
): Promise<{ runs: TaskRun[]; total: number }> {
  const runs: TaskRun[] = [];
  let total = 0;
  let pageToken = "";
  do {
    const page = await client.listTaskRuns({
      taskKeys: filter.taskKeys,
      states: filter.states,
      tag: filter.tag,
      workerId: filter.workerId,
      createdAfter: filter.since === undefined ? undefined : timestampFromMs(filter.since),
      pageSize: Math.min(limit - runs.length, maxPageSize),
      pageToken,
      includeTotalSize: pageToken === "",
    });
    if (pageToken === "") total = page.totalSize;
    runs.push(...page.taskRuns);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && runs.length < limit);
  // Runs created while paging make the count grow, never the listing wrong.
  return { runs: runs.slice(0, limit), total: Math.max(total, runs.length) };
}
