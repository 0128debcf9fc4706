import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTaskwireClient, type TaskwireClient } from "taskwire";
import { TaskRunState, type WatchTaskRunListResponse } from "@taskwire/proto";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/server.js";
import { usePostgres } from "./support/postgres-database.js";
import { eventually } from "./support/test-server.js";

// The web UI's live views on one server of a PostgreSQL database, while runs are created
// and changed through another: what one server commits reaches the other's views through
// the change feed (LISTEN/NOTIFY), not only its own commits.
const postgres = usePostgres();
const homes: string[] = [];
const servers: RunningServer[] = [];
const clients: TaskwireClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

async function startPeer(databaseUrl: string): Promise<TaskwireClient> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-peer-dashboard-"));
  homes.push(home);
  const server = await startServer({ host: "127.0.0.1", port: 0, home, databaseUrl, logLevel: "silent", shutdownGraceMs: 500 });
  servers.push(server);
  const client = createTaskwireClient({ apiUrl: server.url, apiKey: "" });
  clients.push(client);
  return client;
}

describe("dashboard RPCs with two servers on one PostgreSQL", () => {
  it("shows on one server's live list and log stream the runs created and cancelled through the other", async () => {
    const databaseUrl = await postgres.newSchema();
    const watching = await startPeer(databaseUrl);
    const writing = await startPeer(databaseUrl);

    const abort = new AbortController();
    const messages: WatchTaskRunListResponse[] = [];
    const stream = watching.taskRuns.watchTaskRunList({ taskKeys: ["peer_listed"] }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.taskRuns).toEqual([]);
    void (async () => {
      try {
        for (let next = await stream.next(); !next.done; next = await stream.next()) messages.push(next.value);
      } catch {
        // Aborted at the end of the test.
      }
    })();

    const { id } = await writing.taskRuns.scheduleTaskRun({ run: { taskKey: "peer_listed" } });
    await eventually(() => messages.some((m) => m.taskRuns.some((run) => run.id === id && run.state === TaskRunState.SCHEDULED)));

    const logs = (async () => {
      const states: TaskRunState[] = [];
      for await (const message of watching.taskRuns.watchTaskRunLogs({ runId: id })) {
        if (message.finalTaskRun) states.push(message.finalTaskRun.state);
      }
      return states;
    })();
    await writing.taskRuns.cancelTaskRun({ id });
    await eventually(() => messages.some((m) => m.taskRuns.some((run) => run.id === id && run.state === TaskRunState.CANCELLED)));
    // The log stream ends once the run is final, though another server ended it.
    expect(await logs).toEqual([TaskRunState.CANCELLED]);
    abort.abort();
  });
});
