import { timestampMs } from "@bufbuild/protobuf/wkt";
import { TaskRunState } from "@taskwire/proto";
import type { TaskwireClient } from "taskwire";

/**
 * How many runs completed between `start` and `end` (ms since the epoch), read through the
 * API, so that it counts the same on SQLite and PostgreSQL. Every task key (the workload's
 * database holds only its runs; a filter would name up to 10,000 keys). Pages of 1,000.
 */
export async function completedBetween(client: TaskwireClient, start: number, end: number): Promise<number> {
  let count = 0;
  let pageToken = "";
  do {
    const page = await client.taskRuns.listTaskRuns({
      states: [TaskRunState.COMPLETED],
      pageSize: 1000,
      pageToken,
    });
    for (const run of page.taskRuns) {
      const endedAt = run.endTime ? timestampMs(run.endTime) : 0;
      if (endedAt >= start && endedAt <= end) count++;
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return count;
}
