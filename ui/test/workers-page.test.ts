import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopProcess } from "../../server/src/bench/processes.js";
import { args, type Dashboard, launchChromium, startDashboard } from "./support/dashboard-harness.js";

// The Workers page in real Chromium against a real server process, with worker processes
// the tests start and stop. No stream reports workers: the page reads ListWorkers again
// when the live run list reports a change, and when it becomes visible.
const screenshots = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

let dashboard: Dashboard;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** The worker ids the server lists now (what `taskwire worker ls` prints). */
async function listedWorkerIds(): Promise<string[]> {
  return (await dashboard.client.workers.listWorkers({})).workers.map((w) => w.workerId);
}

async function waitForState(id: string, state: TaskRunState) {
  for (;;) {
    const { taskRun } = await dashboard.client.taskRuns.waitTaskRun({ id, timeoutMs: 1000 });
    if (taskRun?.state === state) return;
  }
}

/** A run of a task no worker serves: it stays SCHEDULED, a change the live list reports. */
const scheduleUnserved = () => dashboard.client.taskRuns.scheduleTaskRun({ run: { taskKey: "nobody_serves_this" } });

const marked = () => page.evaluate(() => (window as unknown as { loaded?: string }).loaded);

beforeAll(async () => {
  dashboard = await startDashboard();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
});

describe("the workers page", () => {
  let slowRun = "";
  let workerId = "";
  let worker: ChildProcess;

  it("says no worker is connected, then lists one with its task keys, limit and runs in flight once a run changes", async () => {
    let listOpen = false;
    page.on("response", (response) => {
      if (response.url().endsWith("/WatchTaskRunList")) listOpen = true;
    });
    await page.goto(`${dashboard.url}/task-runs`);
    await page.getByRole("link", { name: "Workers", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/workers");
    await page.locator("#workers td.empty", { hasText: "No worker is connected" }).waitFor();
    expect(await page.locator("#workers td.empty code").textContent()).toBe("npx taskwire task serve file.ts:task");
    await expect.poll(() => listOpen, { timeout: 30_000 }).toBe(true);
    await page.evaluate(() => ((window as unknown as { loaded: string }).loaded = "this page"));

    worker = dashboard.startWorker(["slow", "greet"], 3);
    await expect.poll(listedWorkerIds, { timeout: 30_000 }).toHaveLength(1);
    [workerId] = await listedWorkerIds();
    // The run starting on the worker is the change that makes the page read the list again.
    slowRun = (await dashboard.client.taskRuns.scheduleTaskRun({ run: { taskKey: "slow", parameters: args(600) } })).id;
    await waitForState(slowRun, TaskRunState.RUNNING);
    const row = page.locator(`#workers tr[data-worker-id="${workerId}"]`);
    await row.locator("td.in-flight", { hasText: "1 / 3" }).waitFor();
    expect(await row.locator("td.task-keys .tag").allTextContents()).toEqual(["slow", "greet"]);
    expect(await row.locator("td.limit").textContent()).toBe("3");
    expect(await row.locator(".worker-id").getAttribute("title")).toBe(workerId);
    expect(await row.textContent()).toContain("typescript");
    expect(await row.textContent()).toContain(`(pid ${worker.pid})`);
    // One server: no server column.
    expect(await page.locator("#workers th").allTextContents()).not.toContain("Server");
    expect(await marked()).toBe("this page");
    if (process.env.TASKWIRE_SCREENSHOTS === "1") {
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: `${screenshots}workers.png`, fullPage: true });
    }
  });

  it("drops a worker that stopped when a run changes next, without reloading", async () => {
    await dashboard.client.taskRuns.cancelTaskRun({ id: slowRun });
    await waitForState(slowRun, TaskRunState.CANCELLED);
    const row = page.locator(`#workers tr[data-worker-id="${workerId}"]`);
    await row.locator("td.in-flight", { hasText: "0 / 3" }).waitFor();
    await stopProcess(worker);
    await expect.poll(listedWorkerIds, { timeout: 30_000 }).toEqual([]);
    await scheduleUnserved();
    await row.waitFor({ state: "detached" });
    await page.locator("#workers td.empty", { hasText: "No worker is connected" }).waitFor();
    expect(await marked()).toBe("this page");
  });

  it("reads the list again when the page becomes visible, with no run changing", async () => {
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    dashboard.startWorker(["greet"], 2);
    await expect.poll(listedWorkerIds, { timeout: 30_000 }).toHaveLength(1);
    const [id] = await listedWorkerIds();
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    const row = page.locator(`#workers tr[data-worker-id="${id}"]`);
    await row.waitFor();
    expect(await row.locator("td.limit").textContent()).toBe("2");
    expect(await row.locator("td:last-child").textContent()).toBe("none yet");
    expect(await marked()).toBe("this page");
  });

  it("left nothing the browser refused (the CSP) or failed on", () => {
    expect(consoleErrors).toEqual([]);
  });
});
