import { spawn } from "node:child_process";
import { NonRetryableError, type Worker, createWorker, currentRun, task } from "taskwire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type TestServer, eventually, startTestServer } from "./support/test-server.js";
import { cliPath, runTaskwire } from "./support/taskwire-cli.js";

let test: TestServer;
let worker: Worker | undefined;

beforeEach(async () => {
  test = await startTestServer();
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await test.stop();
});

function taskwire(args: string[], input?: string) {
  return runTaskwire(args, { TASKWIRE_HOME: test.home, TASKWIRE_API_URL: test.server.url }, input);
}

function serveTasks(...tasks: Parameters<typeof createWorker>[0]["tasks"]): void {
  worker = createWorker({ tasks, client: test.client, limit: 4 });
  void worker.start();
}

describe("taskwire task-run ls", () => {
  it("shows scheduled time, worker, duration and tags, and says how many more there are", async () => {
    const idle = task("idle", () => "unused", { client: test.client, tags: ["emails"] });
    for (let i = 0; i < 5; i++) await idle.delay();
    const result = await taskwire(["task-run", "ls", "--limit", "2"]);
    expect(result.status).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split("\n");
    expect(header.split(/\s{2,}/)).toEqual(["ID", "TASK KEY", "STATE", "SCHEDULED", "WORKER", "DURATION", "TAGS"]);
    expect(rows.filter((row) => row.includes("idle"))).toHaveLength(2);
    expect(rows[0]).toMatch(/idle\s+SCHEDULED\s+\d{4}-\d\d-\d\dT\S+Z\s+-\s+-\s+emails$/);
    expect(result.stdout).toContain("2 of 5 shown; 3 more (--limit N or --all).");

    const all = await taskwire(["task-run", "ls", "--all"]);
    expect(all.stdout.trimEnd().split("\n").filter((row) => row.includes("idle"))).toHaveLength(5);
    expect(all.stdout).not.toContain("more");
  });

  it("filters by --tag, --worker and --since, and --json prints one run per line", async () => {
    const greet = task("greet", (name: string) => `Hello, ${name}!`, { client: test.client, tags: ["hello"] });
    const other = task("other", () => 1, { client: test.client });
    await other.delay();
    serveTasks(greet);
    const done = await greet.delay("Arthur");
    const finished = await done.wait(10_000);
    expect(finished.state).toBe("COMPLETED");
    const workerId = finished.workerId ?? "";
    expect(workerId).not.toBe("");

    const json = await taskwire(["task-run", "ls", "--worker", workerId, "--json"]);
    expect(json.status).toBe(0);
    const lines = json.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const run = JSON.parse(lines[0]) as { id: string; taskKey: string; state: string; workerId: string };
    expect(run).toMatchObject({ id: done.id, taskKey: "greet", state: "TASK_RUN_STATE_COMPLETED", workerId });

    const tagged = await taskwire(["task-run", "ls", "--tag", "hello", "--json"]);
    expect(tagged.stdout.trimEnd().split("\n").map((line) => (JSON.parse(line) as { id: string }).id)).toEqual([done.id]);

    const future = await taskwire(["task-run", "ls", "--since", new Date(Date.now() + 60_000).toISOString()]);
    expect(future.stdout).toBe("No task runs found.\n");
    const recent = await taskwire(["task-run", "ls", "--since", "1h", "--json"]);
    expect(recent.stdout.trimEnd().split("\n")).toHaveLength(2);

    const wrong = await taskwire(["task-run", "ls", "--since", "yesterday"]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain("--since must be a time ago like 30m");
  });
});

describe("taskwire task-run inspect", () => {
  it("reads as text by default (state as ls shows it, history, last log lines) and as one JSON line with --json", async () => {
    const greet = task("greet", (name: string) => {
      currentRun()?.log(`greeting ${name}`);
      return `Hello, ${name}!`;
    }, { client: test.client });
    serveTasks(greet);
    const run = await greet.delay("Ford");
    await run.result(10_000);
    // The log line is stored with the result, in the same commit or an earlier one.
    const text = await taskwire(["task-run", "inspect", run.id]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`Task run ${run.id}`);
    expect(text.stdout).toMatch(/^ {2}state\s+COMPLETED$/m);
    expect(text.stdout).not.toContain("TASK_RUN_STATE_");
    expect(text.stdout).toMatch(/^ {2}parameters\s+\{"args":\["Ford"\],"kwargs":\{\}\}$/m);
    expect(text.stdout).toMatch(/^ {2}result\s+"Hello, Ford!"$/m);
    expect(text.stdout).toMatch(/History:\n.*SCHEDULED.*\n.*PENDING|History:\n.*SCHEDULED/);
    expect(text.stdout).toMatch(/^ {2}\S+Z\s+COMPLETED\s+attempt 1/m);
    expect(text.stdout).toMatch(/Log lines:\n {2}\S+Z {2}info {3}#1 {2}greeting Ford/);

    const json = await taskwire(["task-run", "inspect", run.id, "--json"]);
    expect(json.stdout.trimEnd().split("\n")).toHaveLength(1);
    const record = JSON.parse(json.stdout) as { id: string; history: unknown[]; result: { json: unknown } };
    expect(record.id).toBe(run.id);
    expect(record.result.json).toBe("Hello, Ford!");
    expect(record.history.length).toBeGreaterThanOrEqual(3);
  });
});

describe("taskwire task-run logs", () => {
  it("prints a run's lines, and with --follow streams new ones as they come until the run ends", async () => {
    let releaseSecondLine!: () => void;
    const secondLine = new Promise<void>((resolve) => (releaseSecondLine = resolve));
    const chatty = task("chatty", async () => {
      currentRun()?.log("first line");
      // The second line waits until the follower printed the first: a follower that only
      // printed at the end would never see it, and this test would time out.
      await secondLine;
      currentRun()?.log("second line", "warn");
      return "done";
    }, { client: test.client });
    const run = await chatty.delay();

    const follow = spawn(process.execPath, [cliPath, "task-run", "logs", run.id, "--follow"], {
      env: { ...process.env, TASKWIRE_HOME: test.home, TASKWIRE_API_URL: test.server.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    follow.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    follow.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => follow.on("close", resolve));

    serveTasks(chatty);
    await eventually(() => stdout.includes("first line"));
    expect(stdout).not.toContain("second line");
    releaseSecondLine();
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/info {3}#1 {2}first line\n.*warn {3}#1 {2}second line\n$/);
    expect(stderr).toContain(`task run ${run.id} ended COMPLETED`);

    const all = await taskwire(["task-run", "logs", run.id]);
    expect(all.stdout.trimEnd().split("\n").map((line) => line.split("  ").at(-1))).toEqual(["first line", "second line"]);
    const json = await taskwire(["task-run", "logs", run.id, "--json"]);
    expect(json.stdout.trimEnd().split("\n").map((line) => (JSON.parse(line) as { message: string }).message)).toEqual([
      "first line",
      "second line",
    ]);
  });

  it("--follow on a run that has ended prints its lines and exits", async () => {
    const quick = task("quick", () => {
      currentRun()?.log("only line");
    }, { client: test.client });
    serveTasks(quick);
    const run = await quick.delay();
    await run.wait(10_000);
    const result = await taskwire(["task-run", "logs", run.id, "--follow"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("only line");
    expect(result.stderr).toContain("ended COMPLETED");
  });

  it("says NOT_FOUND for an unknown run", async () => {
    const result = await taskwire(["task-run", "logs", "no-such-run", "--follow"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("NOT_FOUND");
  });
});

describe("taskwire task-run retry", () => {
  it("schedules a new run with the same parameters, linked both ways to the old one", async () => {
    let calls = 0;
    const flaky = task("flaky", (to: string) => {
      calls++;
      if (calls === 1) throw new NonRetryableError(`mail server down for ${to}`);
      return `sent to ${to}`;
    }, { client: test.client });
    serveTasks(flaky);
    const failed = await flaky.delay("zaphod@example.com");
    expect((await failed.wait(10_000)).state).toBe("FAILED");

    const result = await taskwire(["task-run", "retry", failed.id]);
    expect(result.status).toBe(0);
    const newId = /as (\S+)\.$/m.exec(result.stdout)?.[1] ?? "";
    expect(newId).not.toBe(failed.id);
    const retried = await eventually(async () => {
      const { taskRun } = await test.client.taskRuns.getTaskRun({ id: newId });
      return taskRun?.endTime ? taskRun : undefined;
    });
    expect(retried.history[0].message).toBe(`retry of ${failed.id}`);
    const inspect = await taskwire(["task-run", "inspect", newId]);
    expect(inspect.stdout).toMatch(/^ {2}result\s+"sent to zaphod@example.com"$/m);
    expect(inspect.stdout).toContain(`retry of ${failed.id}`);
    const oldLogs = await taskwire(["task-run", "logs", failed.id]);
    expect(oldLogs.stdout).toContain(`retried as ${newId}`);
  });

  it("refuses a run that has not ended, saying why", async () => {
    const idle = task("idle", () => 1, { client: test.client });
    const run = await idle.delay();
    const result = await taskwire(["task-run", "retry", run.id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`FAILED_PRECONDITION: task run ${run.id} is SCHEDULED`);
  });
});

describe("taskwire task-run cancel by filter", () => {
  it("counts the matching runs, asks, and cancels only those when the answer is yes", async () => {
    const report = task("report", () => 1, { client: test.client });
    const other = task("other", () => 1, { client: test.client });
    const reports = await Promise.all([report.delay(), report.delay(), report.delay()]);
    const kept = await other.delay();

    const declined = await taskwire(["task-run", "cancel", "--state", "SCHEDULED", "--task", "report"], "n\n");
    expect(declined.status).toBe(0);
    expect(declined.stderr).toContain("Cancel 3 task runs (state SCHEDULED, task report)? [y/N]");
    expect(declined.stdout).toBe("Nothing cancelled.\n");
    expect((await reports[0].wait(0)).state).toBe("SCHEDULED");

    const accepted = await taskwire(["task-run", "cancel", "--state", "SCHEDULED", "--task", "report"], "y\n");
    expect(accepted.status).toBe(0);
    expect(accepted.stdout).toBe("Cancelled 3 of 3 task runs (state SCHEDULED, task report).\n");
    for (const run of reports) expect((await run.wait(0)).state).toBe("CANCELLED");
    expect((await kept.wait(0)).state).toBe("SCHEDULED");

    const none = await taskwire(["task-run", "cancel", "--task", "report", "--yes"]);
    expect(none.stdout).toBe("No task runs match; nothing to cancel.\n");
    const yes = await taskwire(["task-run", "cancel", "--task", "other", "--yes"]);
    expect(yes.stdout).toContain("Cancelled 1 of 1 task run ");
    expect(yes.stderr).toBe("");
  });

  it("refuses a final state as a filter and an ID together with filters", async () => {
    const finished = await taskwire(["task-run", "cancel", "--state", "COMPLETED"]);
    expect(finished.status).toBe(2);
    expect(finished.stderr).toContain("COMPLETED runs have ended and cannot be cancelled");
    const both = await taskwire(["task-run", "cancel", "some-id", "--task", "x"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("give one ID or filters, not both");
  });
});
