import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { TaskRunState } from "@taskwire/proto";
import { formatDuration, ms } from "../src/components/time-format.js";
import { shortWorkerId } from "../src/components/short-worker-id.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { args, type Dashboard, launchChromium, startDashboard } from "./support/dashboard-harness.js";

// The dashboard in real Chromium against a real server process and a real worker process.
// With TASKWIRE_SCREENSHOTS=1 each page is also saved under docs/screenshots/.
const screenshots = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;

let dashboard: Dashboard;
let browser: Browser;
let page: Page;
/** What the browser reported as errors: CSP violations, failed scripts, React errors. */
const consoleErrors: string[] = [];

async function schedule(taskKey: string, parameters: ReturnType<typeof args>, options: Record<string, unknown> = {}) {
  const { id } = await dashboard.client.taskRuns.scheduleTaskRun({ run: { taskKey, parameters, options } });
  return id;
}

async function waitForState(id: string, state: TaskRunState) {
  for (;;) {
    const { taskRun } = await dashboard.client.taskRuns.waitTaskRun({ id, timeoutMs: 1000 });
    if (taskRun?.state === state) return;
  }
}

async function screenshot(name: string, variants: { dark?: boolean; phone?: boolean } = {}) {
  if (process.env.TASKWIRE_SCREENSHOTS !== "1") return;
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: `${screenshots}${name}.png`, fullPage: true });
  if (variants.dark) {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: `${screenshots}${name}-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
  }
  if (variants.phone) {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${screenshots}${name}-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  }
}

/** The state badge shown in the runs table for one run. */
const rowState = (id: string) => page.locator(`tr[data-run-id="${id}"] [data-state]`);

beforeAll(async () => {
  dashboard = await startDashboard({ worker: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("console", (message) => {
    // The API answers NOT_FOUND with HTTP 404, which Chromium logs: the not-found page's.
    if (message.type() === "error" && !/status of 404/.test(message.text())) consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
});

describe("the runs list", () => {
  it("shows a run scheduled after the page loaded, and its state changes, without reloading", async () => {
    await page.goto(`${dashboard.url}/task-runs`);
    await page.locator("table#task-runs").waitFor();
    await page.evaluate(() => ((window as unknown as { loaded: string }).loaded = "this page"));
    await page.locator(".live.on").waitFor();
    const id = await schedule("greet", args(XSS));
    await rowState(id).waitFor();
    await page.locator(`tr[data-run-id="${id}"] [data-state="COMPLETED"]`).waitFor();
    expect(await page.evaluate(() => (window as unknown as { loaded?: string }).loaded)).toBe("this page");
    // The worker's id is shortened in the middle at most, the whole of it in the tooltip.
    const { taskRun: greeted } = await dashboard.client.taskRuns.getTaskRun({ id });
    const worker = page.locator(`tr[data-run-id="${id}"] td.worker [title]`);
    expect(await worker.getAttribute("title")).toBe(greeted?.workerId);
    expect(await worker.textContent()).toBe(shortWorkerId(greeted?.workerId ?? ""));

    const slow = await schedule("slow", args(60));
    await page.locator(`tr[data-run-id="${slow}"] [data-state="RUNNING"]`).waitFor();
    await dashboard.client.taskRuns.cancelTaskRun({ id: slow });
    await page.locator(`tr[data-run-id="${slow}"] [data-state="CANCELLED"]`).waitFor();
    expect(await page.evaluate(() => (window as unknown as { loaded?: string }).loaded)).toBe("this page");
  });

  it("filters by state and by task key", async () => {
    const failed = await schedule("flaky", args("no luck"), { retries: 1 });
    const greeted = await schedule("greet", args("Marvin"), { tags: ["team:web", "welcome"] });
    await waitForState(failed, TaskRunState.FAILED);
    await waitForState(greeted, TaskRunState.COMPLETED);
    await schedule("slow", args(3600), { scheduledTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 } });
    await schedule("chatty", args(3, 50));
    await page.goto(`${dashboard.url}/task-runs`);
    await rowState(failed).waitFor();
    await screenshot("runs", { dark: true, phone: true });

    await page.locator('button[data-filter-state="FAILED"]').click();
    await page.waitForURL(/state=FAILED/);
    await rowState(failed).waitFor();
    await page.locator(`tr[data-run-id="${greeted}"]`).waitFor({ state: "detached" });
    const states = await page.locator("#task-runs tbody [data-state]").allTextContents();
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(["failed"]));

    await page.getByRole("button", { name: "all", exact: true }).click();
    await page.locator('input[name="task"]').fill("greet");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/task=greet/);
    await rowState(greeted).waitFor();
    await page.locator(`tr[data-run-id="${failed}"]`).waitFor({ state: "detached" });
    const keys = await page.locator("#task-runs tbody td.task-key").allTextContents();
    expect(new Set(keys)).toEqual(new Set(["greet"]));

    await page.locator('input[name="task"]').fill("");
    await page.locator('input[name="id"]').fill(failed.slice(0, 13));
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/id=/);
    await page.locator(`tr[data-run-id="${greeted}"]`).waitFor({ state: "detached" });
    expect(await page.locator("#task-runs tbody tr[data-run-id]").count()).toBe(1);
  });
});

describe("a run's page", () => {
  it("shows state, history, parameters as text (an HTML payload is never run), result", async () => {
    const id = await schedule("greet", args(XSS));
    await waitForState(id, TaskRunState.COMPLETED);
    await page.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    await page.locator('#state [data-state="COMPLETED"]').waitFor();
    const parameters = page.getByTestId("parameters");
    expect(await parameters.textContent()).toContain(JSON.stringify(XSS));
    expect(await parameters.locator("img, script").count()).toBe(0);
    expect(await page.getByTestId("result").textContent()).toContain(JSON.stringify(`Hello, ${XSS}!`));
    expect(await page.locator("#history [data-state]").allTextContents()).toEqual(["scheduled", "pending", "running", "completed"]);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await screenshot("run-completed");
  });

  it("shows the error with its stack, and the attempts of a run that failed after a retry", async () => {
    const id = await schedule("flaky", args("<b>bold</b> excuse"), { retries: 1 });
    await waitForState(id, TaskRunState.FAILED);
    await page.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    const error = page.getByTestId("error");
    await error.waitFor();
    expect(await error.textContent()).toContain("TypeError: flaky gave up: <b>bold</b> excuse");
    expect(await error.locator("pre.stack").textContent()).toContain("at ");
    expect(await page.locator("table.attempts tbody tr").count()).toBe(2);
    expect(await error.locator("h2").textContent()).toBe("Error");
    expect((await error.getAttribute("class"))?.split(" ")).toContain("error-card");
    await screenshot("run-failed", { dark: true });
  });

  it("shows the error a completed run kept from an earlier attempt as that, not in red as the run's own", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "taskwire-ui-earlier-")), "failed-once");
    const id = await schedule("fails_once", args(marker), { retries: 1 });
    await waitForState(id, TaskRunState.COMPLETED);
    await page.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    await page.locator('#state [data-state="COMPLETED"]').waitFor();
    const error = page.getByTestId("error");
    expect(await error.locator("h2").textContent()).toBe("Error of an earlier attempt");
    expect(await page.locator('[data-fact="attempts"] dd').textContent()).toBe("2 (1 retry, 0 redeliveries)");
    expect(await error.textContent()).toContain("fails the first time");
    expect((await error.getAttribute("class"))?.split(" ")).not.toContain("error-card");
    await screenshot("run-completed-after-retry");
  });

  it("shows each attempt's worker only where the API knows it, and Took agreeing with Duration", async () => {
    const id = await schedule("flaky", args("twice"), { retries: 1 });
    await waitForState(id, TaskRunState.FAILED);
    const { taskRun: run } = await dashboard.client.taskRuns.getTaskRun({ id });
    await page.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    const rows = page.locator("table.attempts tbody tr");
    await rows.nth(1).waitFor();
    // The run keeps the worker of its last attempt only: the first one's is not known.
    expect(await rows.nth(0).locator("td.worker").textContent()).toBe("unknown");
    expect(await rows.nth(1).locator("td.worker [title]").getAttribute("title")).toBe(run?.workerId);
    // Took counts from each attempt's RUNNING step to its end, as the history has them.
    const at = (state: TaskRunState, attempt: number) => ms(run?.history.find((s) => s.state === state && s.attempt === attempt)?.time) ?? NaN;
    const took = (attempt: number, end: TaskRunState) => formatDuration(at(end, attempt) - at(TaskRunState.RUNNING, attempt));
    expect(await rows.nth(0).locator("td.took").textContent()).toBe(took(1, TaskRunState.SCHEDULED));
    expect(await rows.nth(1).locator("td.took").textContent()).toBe(took(2, TaskRunState.FAILED));
    // Duration is the run's start (its last attempt's RUNNING) to its end: that attempt's Took.
    const duration = page.locator('[data-fact="duration"]');
    expect(await duration.locator("dd").textContent()).toBe(took(2, TaskRunState.FAILED));
    expect(await duration.getAttribute("title")).toMatch(/latest attempt started running/);
    expect(await page.locator("table.attempts th", { hasText: "Took" }).getAttribute("title")).toMatch(/RUNNING/);
  });

  it("follows the logs while the run runs", async () => {
    const id = await schedule("chatty", args(4, 1500));
    await page.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    await page.locator("#logs", { hasText: "step 1 of 4" }).waitFor();
    expect(await page.locator("#logs").textContent()).not.toContain("step 4 of 4");
    await page.locator("#logs", { hasText: "step 2 of 4" }).waitFor();
    await screenshot("run-running");
    await page.locator("#logs", { hasText: "step 4 of 4" }).waitFor();
    await page.locator('#state [data-state="COMPLETED"]').waitFor();
  });

  it("retries a failed run from its page: the new run completes, and each page links to the other", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "taskwire-ui-retry-")), "failed-once");
    const id = await schedule("fails_once", args(marker), { tags: ["retried"] });
    await waitForState(id, TaskRunState.FAILED);
    await page.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    await page.locator('#state [data-state="FAILED"]').waitFor();
    await page.getByRole("button", { name: "Retry", exact: true }).click();
    await page.waitForURL((url) => /\/task-runs\/task-run\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith(id));
    const retryId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop() ?? "");
    await page.locator('#state [data-state="COMPLETED"]').waitFor();
    expect(await page.locator("#run-id").textContent()).toBe(retryId);
    expect(await page.getByTestId("parameters").textContent()).toContain(JSON.stringify(marker));
    expect(await page.getByTestId("result").textContent()).toContain(JSON.stringify("second time lucky"));
    const { taskRun: retried } = await dashboard.client.taskRuns.getTaskRun({ id: retryId });
    expect([retried?.taskKey, retried?.options?.tags]).toEqual(["fails_once", ["retried"]]);

    await page.locator("a.retry-of").click();
    await page.waitForURL((url) => url.pathname.endsWith(id));
    await page.locator('#state [data-state="FAILED"]').waitFor();
    await page.locator("a.retried-as", { hasText: retryId }).waitFor();
    await screenshot("run-retried");
    await page.locator("a.retried-as").click();
    await page.waitForURL((url) => url.pathname.endsWith(retryId));
    await page.locator('#state [data-state="COMPLETED"]').waitFor();
  });

  it("cancels a running run from its page", async () => {
    const id = await schedule("slow", args(600));
    await page.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    await page.locator('#state [data-state="RUNNING"]').waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator('#state [data-state="CANCELLED"]').waitFor();
    const { taskRun } = await dashboard.client.taskRuns.getTaskRun({ id });
    expect(taskRun?.state).toBe(TaskRunState.CANCELLED);
  });
});

describe("a run that does not exist", () => {
  it("says so on its page", async () => {
    await page.goto(`${dashboard.url}/task-runs/task-run/01a22800-0000-7000-8000-000000000000`);
    await page.getByRole("heading", { name: "Run not found" }).waitFor();
    expect(await page.locator(".error-text").textContent()).toContain("not found");
  });
});

describe("the tasks page", () => {
  it("shows each task key's queue and what finished in the last hour", async () => {
    await page.goto(`${dashboard.url}/tasks`);
    const greet = page.locator('[data-task-key="greet"]');
    await greet.waitFor();
    const completed = Number(/(\d+) completed/.exec((await greet.locator(".legend").textContent()) ?? "")?.[1]);
    expect(completed).toBeGreaterThan(0);
    // Recharts draws the minutes as an SVG surface with a bar path per non-empty minute.
    const perMinute = greet.getByRole("figure", { name: "greet: runs finished per minute, completed and failed" });
    const bars = perMinute.locator("svg.recharts-surface .bar-completed path.recharts-rectangle");
    await bars.first().waitFor();
    expect(await perMinute.locator(".recharts-xAxis .recharts-cartesian-axis-tick").count()).toBeGreaterThan(1);
    // Hovering a bar shows that minute's counts; the minutes add up to the legend's total.
    let hovered = 0;
    for (const bar of await bars.all()) {
      await bar.hover();
      const tooltip = perMinute.locator(".chart-tooltip");
      await tooltip.waitFor();
      hovered += Number(/completed\s*(\d+)/.exec((await tooltip.textContent()) ?? "")?.[1]);
    }
    expect(hovered).toBe(completed);
    const slow = page.locator('[data-task-key="slow"]');
    expect(await slow.locator(".depth").textContent()).toContain("1 scheduled");
    const depth = slow.getByRole("figure", { name: "slow: queue depth now, runs scheduled, pending and running" });
    await depth.locator(".bar-scheduled").hover();
    expect(await depth.locator(".chart-tooltip").textContent()).toMatch(/scheduled\s*1$/);
    // Only long-running slow runs: no completed run, no duration chart, and it says so.
    expect(await slow.locator(".duration-percentiles .chart-empty").textContent()).toBe("No run completed in the window.");
    expect(await greet.locator(".duration-percentiles path.recharts-rectangle").count()).toBe(3);
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot("tasks");
  });

  it("shows a p50 of 0 ms as 0 ms, and no data as —", async () => {
    // A run recorded as started and ended in the same millisecond: it took 0 ms.
    const now = { seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: 0 };
    await dashboard.client.taskRuns.recordTaskRun({ taskKey: "instant", state: TaskRunState.COMPLETED, startTime: now, endTime: now });
    await page.goto(`${dashboard.url}/tasks`);
    const p50 = (taskKey: string) => page.locator(`[data-task-key="${taskKey}"] dl.percentiles > div`, { has: page.locator("dt", { hasText: "p50" }) }).locator("dd");
    await p50("instant").waitFor();
    expect(await p50("instant").textContent()).toBe("0 ms");
    expect(await p50("slow").textContent()).toBe("—");
  });
});

describe("the tasks page without polling", () => {
  it("reads the stats again when runs change, and only then", async () => {
    // A page of its own whose clock the test moves: its timers fire only when told to.
    const tasksPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      const statsReads: string[] = [];
      let statsAnswered = 0;
      let listOpen = false;
      tasksPage.on("request", (request) => {
        if (request.url().endsWith("/GetTaskStats")) statsReads.push(request.url());
      });
      tasksPage.on("requestfinished", (request) => {
        if (request.url().endsWith("/GetTaskStats")) statsAnswered++;
      });
      tasksPage.on("response", (response) => {
        if (response.url().endsWith("/WatchTaskRunList")) listOpen = true;
      });
      const inAnHour = () => ({ scheduledTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 } });
      await schedule("slow", args(3600), inAnHour());
      await tasksPage.clock.install();
      await tasksPage.goto(`${dashboard.url}/tasks`);
      const depth = tasksPage.locator('[data-task-key="slow"] .depth');
      await depth.waitFor();
      const scheduled = Number(/(\d+) scheduled/.exec((await depth.textContent()) ?? "")?.[1]);
      // The live run list is open (it reads the stats again then) and every read answered.
      await expect.poll(() => listOpen && statsAnswered === statsReads.length, { timeout: 30_000 }).toBe(true);
      await tasksPage.clock.pauseAt(Date.now() + 2_000);
      // A read held back by the once-a-second throttle happens now, within the second;
      // the round trip after it delivers its request event to the test.
      await tasksPage.clock.runFor(1_000);
      await tasksPage.evaluate(() => 0);
      const reads = statsReads.length;
      // Ten minutes of the page's time pass with no run changing: no read.
      await tasksPage.clock.runFor(600_000);
      expect(statsReads.length).toBe(reads);
      // A run changes: the live run list says so, and the stats are read again.
      await schedule("slow", args(3600), inAnHour());
      await expect.poll(() => statsReads.length, { timeout: 30_000 }).toBeGreaterThan(reads);
      // The answer reaches the page through timers of its own (TanStack Query batches
      // renders with setTimeout): move its clock on until the page shows the new run.
      const updated = tasksPage.locator('[data-task-key="slow"] .depth', { hasText: `${scheduled + 1} scheduled` });
      while ((await updated.count()) === 0) await tasksPage.clock.runFor(100);
    } finally {
      await tasksPage.close();
    }
  });
});

describe("the concurrency limits page", () => {
  it("creates, changes and deletes a limit", async () => {
    await page.goto(`${dashboard.url}/concurrency-limits`);
    await page.locator('#new-limit input[name="tag"]').fill("task_key:greet");
    await page.locator('#new-limit input[name="limit"]').fill("3");
    await page.getByRole("button", { name: "Add limit" }).click();
    const row = page.locator('tr[data-tag="task_key:greet"]');
    await row.waitFor();
    expect((await dashboard.client.taskRuns.listConcurrencyLimits({})).concurrencyLimits.map((l) => [l.tag, l.limit])).toEqual([["task_key:greet", 3]]);
    await row.locator("input").fill("5");
    await row.getByRole("button", { name: "Save" }).click();
    // Save is disabled while the change is sent too: wait for the server to have it.
    await expect.poll(async () => (await dashboard.client.taskRuns.listConcurrencyLimits({})).concurrencyLimits[0]?.limit).toBe(5);
    await row.getByRole("button", { name: "Save" }).and(page.locator(":disabled")).waitFor();
    await screenshot("concurrency-limits");
    await row.getByRole("button", { name: "Delete" }).click();
    await row.waitFor({ state: "detached" });
    expect((await dashboard.client.taskRuns.listConcurrencyLimits({})).concurrencyLimits).toEqual([]);
  });
});

describe("what the server sends the browser", () => {
  it("answers page paths with the app, under a CSP without inline scripts, and hashed assets as immutable", async () => {
    const response = await fetch(`${dashboard.url}/task-runs/task-run/anything`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self';");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const html = await response.text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"><\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
    const asset = await fetch(`${dashboard.url}${script}`);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await fetch(`${dashboard.url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${dashboard.url}/nothing-here`)).status).toBe(404);
  });

  it("left nothing the browser refused (the CSP) or failed on, on any page the tests opened", () => {
    expect(consoleErrors).toEqual([]);
  });
});
