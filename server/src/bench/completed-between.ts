import { timestampMs } from "@bufbuild/protobuf/wkt";
import { TaskRunState } from "@taskwire/proto";
import type { TaskwireClient } from "taskwire";

/**
 * How many runs of `taskKey` completed between `start` and `end` (ms since the epoch), read
 * through the API, so that it counts the same on SQLite and PostgreSQL. Pages of 1,000.
 */
export async function completedBetween(client: TaskwireClient, taskKey: string, start: number, end: number): Promise<number> {
  let count = 0;
  let pageToken = "";
  do {
    const page = await client.taskRuns.listTaskRuns({
      taskKeys: [taskKey],
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
