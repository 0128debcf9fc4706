import { type Worker, createWorker, task } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runTaskwire } from "./support/taskwire-cli.js";
import { type TestServer, eventually, startTestServer } from "./support/test-server.js";

let test: TestServer;
let worker: Worker | undefined;
/** Ends the run the worker holds, so that it stops at the end of a test, even a failed one. */
let release = () => {};

beforeEach(async () => {
  test = await startTestServer();
});

afterEach(async () => {
  release();
  await worker?.stop();
  worker = undefined;
  await test.stop();
});

function taskwire(args: string[]) {
  return runTaskwire(args, { TASKWIRE_HOME: test.home, TASKWIRE_API_URL: test.server.url });
}

describe("taskwire worker ls", () => {
  it("lists each connected worker with its keys, limit, runs in flight, language, version and host; --json for scripts", async () => {
    const none = await taskwire(["worker", "ls"]);
    expect(none.status).toBe(0);
    expect(none.stdout).toBe("No workers connected.\n");

    const held = new Promise<void>((resolve) => (release = resolve));
    const hold = task("hold", () => held, { client: test.client });
    const idle = task("idle_key", () => 1, { client: test.client });
    worker = createWorker({ tasks: [hold, idle], client: test.client, limit: 3 });
    void worker.start();
    const run = await hold.delay();
    await eventually(async () => (await test.client.taskRuns.getTaskRun({ id: run.id })).taskRun?.state === TaskRunState.RUNNING);

    const table = await taskwire(["worker", "ls"]);
    expect(table.status).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header.split(/\s{2,}/)).toEqual(["WORKER", "TASK KEYS", "LIMIT", "IN FLIGHT", "LANGUAGE", "VERSION", "HOST", "LAST HEARTBEAT"]);
    expect(rows).toHaveLength(1);
    const cells = rows[0].split(/\s{2,}/);
    expect(cells.slice(0, 3)).toEqual([worker.workerId, "hold,idle_key", "3"]);
    expect(cells[3]).toBe("1");
    expect(cells[4]).toBe("typescript");
    expect(cells[6]).toContain(`(pid ${process.pid})`);

    const json = await taskwire(["worker", "ls", "--json"]);
    expect(json.status).toBe(0);
    const lines = json.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const listed = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(listed).toMatchObject({ workerId: worker.workerId, taskKeys: ["hold", "idle_key"], limit: 3, runsInFlight: 1, pid: process.pid });
    expect(typeof listed.connectedAt).toBe("string");
  });

  it("says what to do when no server answers", async () => {
    const result = await runTaskwire(["worker", "ls"], { TASKWIRE_HOME: test.home, TASKWIRE_API_URL: "http://127.0.0.1:9" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("taskwire server start");
  });
});
