import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, launchChromium, startDashboard } from "./support/dashboard-harness.js";

// A server started with --api-key: the UI asks for the key once and keeps it in an
// HttpOnly, SameSite=Strict cookie; the key never appears in a URL.
const KEY = "s3cret-key";

let dashboard: Dashboard;
let browser: Browser;

beforeAll(async () => {
  dashboard = await startDashboard({ apiKey: KEY });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
});

describe("signing in with an API key", () => {
  it("asks for the key, refuses a wrong one, then shows the runs; the cookie is HttpOnly and SameSite=Strict", async () => {
    const { id } = await dashboard.client.taskRuns.scheduleTaskRun({ run: { taskKey: "queued_for_nobody" } });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const urls: string[] = [];
    page.on("request", (request) => urls.push(request.url()));
    await page.goto(`${dashboard.url}/task-runs`);
    const key = page.locator('input[name="api-key"]');
    await key.waitFor();
    if (process.env.TASKWIRE_SCREENSHOTS === "1") {
      await page.screenshot({ path: new URL("../../docs/screenshots/sign-in.png", import.meta.url).pathname });
    }

    await key.fill("not-the-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That is not this server's API key.").waitFor();
    expect(await context.cookies()).toEqual([]);

    await key.fill(KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(`tr[data-run-id="${id}"]`).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "taskwire_api_key", httpOnly: true, sameSite: "Strict" });
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(urls.filter((url) => url.includes(KEY) || url.includes(encodeURIComponent(KEY)))).toEqual([]);

    // Another tab of the same session needs no second sign-in.
    const again = await context.newPage();
    await again.goto(`${dashboard.url}/task-runs/task-run/${id}`);
    await again.locator('#state [data-state="SCHEDULED"]').waitFor();
    // The Workers page calls the other service (WorkerService) with the same cookie.
    await again.goto(`${dashboard.url}/workers`);
    await again.locator("#workers td.empty", { hasText: "No worker is connected" }).waitFor();
    await context.close();
  });

  it("takes the cookie only on calls that carry the UI's header, so another site cannot use it", async () => {
    const signIn = await fetch(`${dashboard.url}/ui/sign-in`, { method: "POST", headers: { "x-taskwire-ui": "1" }, body: KEY });
    expect(signIn.status).toBe(204);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0];
    const call = (headers: Record<string, string>) =>
      fetch(`${dashboard.url}/taskwire.v1.TaskRunService/ListConcurrencyLimits`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, ...headers },
        body: "{}",
      });
    expect((await call({ "x-taskwire-ui": "1" })).status).toBe(200);
    expect((await call({})).status).toBe(401);
    // A cross-site form cannot set the header either: the sign-in endpoint refuses without it.
    expect((await fetch(`${dashboard.url}/ui/sign-in`, { method: "POST", body: KEY })).status).toBe(403);
  });
});
