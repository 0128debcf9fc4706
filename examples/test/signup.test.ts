import { join } from "node:path";
import Database from "better-sqlite3";
import { createTaskRunFuture, createTaskwireClient, type TaskRunSnapshot, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../server/src/bench/processes.js";
import { isAlive, type LaunchedExample, launchExample } from "./launch-example.js";

// examples/signup as a user runs it: `npm run example:signup` (examples/dist/signup/main.js)
// starts the taskwire server, the mail and marketing stand-ins, two TypeScript workers, the
// Python worker and the API as real processes. 100 signups go through the API while one
// TypeScript worker is killed with SIGKILL. Needs `npx tsc -b` and sdk-python/.venv.

const USERS = 100;
// Signups in flight at once: a few clients at a time, as a web front end would send them.
const CONCURRENCY = 4;

let example: LaunchedExample;
let mailUrl: string;
let marketingUrl: string;
let client: TaskwireClient;

interface Signup {
  id: string;
  email: string;
  runs: { email: string; onboarding: string; workspace: string };
}

beforeAll(async () => {
  const mailPort = await freePort();
  const marketingPort = await freePort();
  mailUrl = `http://127.0.0.1:${mailPort}`;
  marketingUrl = `http://127.0.0.1:${marketingPort}`;
  example = await launchExample("signup", (home) => ({
    SIGNUP_DATA_DIR: home,
    MAIL_SERVICE_PORT: String(mailPort),
    MARKETING_SERVICE_PORT: String(marketingPort),
  }));
  client = createTaskwireClient({ apiUrl: example.taskwireUrl, apiKey: "" });
}, 90_000);

afterAll(async () => {
  client?.close();
  await example?.cleanUp();
});

async function signUp(body: unknown) {
  const response = await fetch(`${example.appUrl}/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The worker id a process of the launcher printed in its "worker <id> serving" line. */
function workerIdOf(name: string): string {
  const id = new RegExp(`\\[${name}\\] .*worker (\\S+) serving`).exec(example.output())?.[1];
  if (!id) throw new Error(`no "serving" line from ${name} in:\n${example.output()}`);
  return id;
}

/** Kills the worker with SIGKILL once it holds a running run, so that work is surely lost. */
async function killWhileBusy(name: string): Promise<void> {
  const workerId = workerIdOf(name);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { taskRuns } = await client.taskRuns.listTaskRuns({ states: [TaskRunState.RUNNING], pageSize: 1000 });
    if (taskRuns.some((run) => run.workerId === workerId)) break;
    if (Date.now() > deadline) throw new Error(`${name} (${workerId}) held no running run for 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const pid = example.pids.get(name) ?? 0;
  process.kill(pid, "SIGKILL");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe("the signup example", () => {
  it("refuses a bad signup with 400 naming the field, and a second signup of an email with 409", async () => {
    expect(await signUp({ name: "Ada" })).toEqual({
      status: 400,
      body: { field: "email", error: "email: must be an email address, like ada@example.com" },
    });
    expect(await signUp({ email: "ada@example.com", name: "  " })).toEqual({
      status: 400,
      body: { field: "name", error: "name: must be a non-empty string" },
    });
    const first = await signUp({ email: "grace@example.com", name: "Grace" });
    expect(first.status).toBe(201);
    const again = await signUp({ email: "Grace@example.com", name: "Grace" });
    expect(again.status).toBe(409);
    expect(again.body.field).toBe("email");
  });

  it(
    "100 signups while a TypeScript worker is killed: one mail, one enrolment, ten items each",
    { timeout: 120_000 },
    async () => {
      const signups: Signup[] = [];
      const latencies: number[] = [];
      let next = 0;
      let killed: Promise<void> | undefined;
      const client_ = async () => {
        while (next < USERS) {
          const i = next++;
          const started = performance.now();
          const { status, body } = await signUp({ email: `user${i}@example.com`, name: `User ${i}` });
          latencies.push(performance.now() - started);
          expect(status, JSON.stringify(body)).toBe(201);
          signups.push(body as unknown as Signup);
          if (signups.length === USERS / 2) killed = killWhileBusy("worker-ts-1");
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, client_));
      await killed;

      const runIds = signups.flatMap((signup) => [signup.runs.email, signup.runs.onboarding, signup.runs.workspace]);
      const runs = new Map<string, TaskRunSnapshot>();
      await Promise.all(runIds.map(async (id) => runs.set(id, await createTaskRunFuture(client, id, false).wait(60_000))));

      expect(isAlive(example.pids.get("worker-ts-1") ?? 0)).toBe(false);
      expect([...runs.values()].filter((run) => run.state !== "COMPLETED")).toEqual([]);

      // Exactly one mail per user: the mail stand-in keeps every POST, duplicates included.
      const mails = (await (await fetch(`${mailUrl}/messages`)).json()) as { to: string }[];
      const mailsPerUser = countBy(mails, (mail) => mail.to);
      for (const signup of signups) expect(mailsPerUser.get(signup.email), signup.email).toBe(1);
      const contacts = (await (await fetch(`${marketingUrl}/contacts`)).json()) as { email: string }[];
      const contactsPerUser = countBy(contacts, (contact) => contact.email);
      for (const signup of signups) expect(contactsPerUser.get(signup.email), signup.email).toBe(1);

      // Exactly ten workspace items per user, in the Python worker's own database.
      const workspace = new Database(join(example.home, "workspace.db"), { readonly: true });
      const items = new Map(
        workspace
          .prepare<[], { user_id: string; n: number }>("SELECT user_id, count(*) AS n FROM items GROUP BY user_id")
          .all()
          .map((row) => [row.user_id, row.n]),
      );
      workspace.close();
      for (const signup of signups) expect(items.get(signup.id), signup.id).toBe(10);

      // The provider's seeded failures were retried; the kill cost attempts that were redelivered.
      const details = await Promise.all(runIds.map(async (id) => (await client.taskRuns.getTaskRun({ id })).taskRun));
      const retries = details.reduce((sum, run) => sum + (run?.retriesUsed ?? 0), 0);
      const redelivered = details.filter((run) => (run?.redeliveries ?? 0) > 0).length;
      expect(retries).toBeGreaterThan(0);
      expect(redelivered).toBeGreaterThan(0);

      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        `signup API over ${USERS} signups (${CONCURRENCY} at a time): p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms; ` +
          `${retries} retries, ${redelivered} runs redelivered after the SIGKILL`,
      );
    },
  );

  it("populateWorkspace is one run per user: scheduling it again returns that run", async () => {
    const { body } = await signUp({ email: "linus@example.com", name: "Linus" });
    const signup = body as unknown as Signup;
    const { task } = await import("taskwire");
    const populateWorkspace = task("populateWorkspace", (user: unknown) => user, { client });

    const again = await populateWorkspace.applyAsync([{ id: signup.id, email: signup.email, name: "Linus" }], {
      idempotencyKey: `workspace:${signup.id}`,
    });

    expect(again.existing).toBe(true);
    expect(again.id).toBe(signup.runs.workspace);
  });

  it("Ctrl-C stops every process", async () => {
    expect([...example.pids.keys()].sort()).toEqual(
      ["api", "mail-service", "marketing-service", "taskwire", "worker-python", "worker-ts-1", "worker-ts-2"].sort(),
    );
    expect(await example.interrupt()).toBe(0);
    for (const [name, pid] of example.pids) expect(isAlive(pid), `${name} (pid ${pid}) is still alive`).toBe(false);
  });
});
