import { Code, ConnectError } from "@connectrpc/connect";
import type { TaskRun } from "@taskwire/proto";
import type { TaskwireClient } from "taskwire";

/**
 * The run with this id if it is a run of `taskKey`; undefined for an id that is no run (or
 * not even a run id: the client's mistake, not the server's) and for a run of another task,
 * so that an endpoint cannot be used to read arbitrary runs (their parameters, their
 * results) by id.
 */
export async function runOfTask(client: TaskwireClient, id: string, taskKey: string): Promise<TaskRun | undefined> {
  const run = await client.taskRuns.getTaskRun({ id }).then(
    (response) => response.taskRun,
    (error: unknown) => {
      const code = ConnectError.from(error).code;
      if (code === Code.NotFound || code === Code.InvalidArgument) return undefined;
      throw error;
    },
  );
  return run?.taskKey === taskKey ? run : undefined;
}
