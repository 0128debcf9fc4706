import { createTaskwireClient, task } from "taskwire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, type LaunchedExample, launchExample } from "./launch-example.js";

// examples/web-app as a user runs it: `npm run example:web-app` (examples/dist/web-app/main.js)
// starts a taskwire server, a worker and the Fastify app as real processes; the test is the
// README's curl calls. Needs `npx tsc -b` first.

let example: LaunchedExample;

beforeAll(async () => {
  example = await launchExample("web-app");
});

afterAll(async () => {
  await example?.cleanUp();
});

async function postTask(body: unknown) {
  const response = await fetch(`${example.appUrl}/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { response, body: (await response.json()) as Record<string, unknown> };
}

/** Polls GET /tasks/:id as a client would, until the run is final. */
async function untilFinished(location: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  for (;;) {
    const response = await fetch(`${example.appUrl}${location}`);
    const body = (await response.json()) as Record<string, unknown>;
    seen.add(String(body.state));
    if (["COMPLETED", "FAILED", "CANCELLED"].includes(String(body.state))) return { response, body, seen };
    if (Date.now() > deadline) throw new Error(`${location} is still ${body.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the web app example", () => {
  it("POST /tasks answers 202 with the run id and a Location; GET shows the state, then the result", async () => {
    const { response, body } = await postTask({ text: "To be, or not to be: that is the question" });

    expect(response.status).toBe(202);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("location")).toBe(`/tasks/${body.id}`);
    expect(body.ui).toBe(`${example.taskwireUrl}/task-runs/task-run/${body.id}`);
    // The task takes 500 ms, so the first look finds it not yet finished.
    const first = await fetch(`${example.appUrl}/tasks/${body.id}`);
    expect(first.status).toBe(200);
    expect(["SCHEDULED", "PENDING", "RUNNING"]).toContain(((await first.json()) as { state: string }).state);

    const finished = await untilFinished(response.headers.get("location") ?? "");
    expect(finished.response.status).toBe(200);
    expect(finished.body).toEqual({
      id: body.id,
      state: "COMPLETED",
      attempts: 1,
      result: { words: 10, characters: 41, topWords: ["to", "be", "or"] },
    });
  });

  it("a run that fails shows its error", async () => {
    const { response, body } = await postTask({ text: "   " });
    expect(response.status).toBe(202);

    const finished = await untilFinished(`/tasks/${body.id}`);

    expect(finished.body.state).toBe("FAILED");
    expect(finished.body.error).toEqual({ type: "NonRetryableError", message: "there is no text to analyze: send some words" });
    expect(finished.body.result).toBeUndefined();
  });

  it("the run's page in the UI is where the 202 says", async () => {
    const { body } = await postTask({ text: "hello" });

    expect(new URL(String(body.ui)).pathname).toBe(`/task-runs/task-run/${String(body.id)}`);
    const page = await fetch(String(body.ui));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    // The page is the web UI's app; what it shows of the run comes from this call.
    const api = await fetch(new URL("/taskwire.v1.TaskRunService/GetTaskRun", String(body.ui)), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: body.id }),
    });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { taskRun: { id: string } }).taskRun.id).toBe(body.id);
  });

  it("a body without text is 400 naming the field; an unknown id is 404", async () => {
    const bad = await postTask({ txt: "hello" });
    expect(bad.response.status).toBe(400);
    expect(bad.body.error).toMatch(/^text: /);
    expect((await fetch(`${example.appUrl}/tasks/00000000-0000-7000-8000-000000000000`)).status).toBe(404);
    expect((await fetch(`${example.appUrl}/tasks/not-a-run`)).status).toBe(404);
  });

  it("the id of another task's run is 404: the app does not read other tasks' runs", async () => {
    const client = createTaskwireClient({ apiUrl: example.taskwireUrl, apiKey: "" });
    try {
      const other = await task("chargeCreditCard", (amount: number) => amount, { client }).delay(42);

      const response = await fetch(`${example.appUrl}/tasks/${other.id}`);

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: `no task ${other.id}` });
    } finally {
      client.close();
    }
  });

  it("Ctrl-C stops every process", async () => {
    expect(example.pids.size).toBe(3);
    expect(await example.interrupt()).toBe(0);
    for (const [name, pid] of example.pids) expect(isAlive(pid), `${name} (pid ${pid}) is still alive`).toBe(false);
  });
});
