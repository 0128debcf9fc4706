import { type ChildProcess, execFile, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/bench/processes.js";

// The packages as a user gets them: `npm pack` of the SDK (`taskwire`), of the generated
// protocol code both depend on (`@taskwire/proto`) and of the server/CLI
// (`@taskwire/server`), installed into a fresh project outside this repository
// and used there; and `pip install ./sdk-python` into a fresh venv.

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

let dir: string;
let project: string;
let url: string;
const children: ChildProcess[] = [];

function env(): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_") && !key.startsWith("npm_")));
  return { ...clean, TASKWIRE_HOME: join(project, "home"), TASKWIRE_API_URL: url, TASKWIRE_LOG_LEVEL: "warn" };
}

/** Starts `npx …` in the project in a process group of its own, to stop npx and its child together. */
function start(args: string[], ready: string): Promise<void> {
  const child = spawn("npx", args, { cwd: project, env: env(), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(ready)) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npx ${args.join(" ")} exited ${code} before "${ready}":\n${output}`)));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskwire-packages-"));
  project = join(dir, "project");
  mkdirSync(join(project, "home"), { recursive: true });
  url = `http://127.0.0.1:${await freePort()}`;

  const packs = join(dir, "packs");
  mkdirSync(packs);
  await run("npm", ["pack", "--workspace", "proto-ts", "--workspace", "sdk-ts", "--workspace", "server", "--pack-destination", packs, "--silent"], {
    cwd: root,
  });
  const tarballs = readdirSync(packs).map((name) => join(packs, name));
  expect(tarballs.map((path) => path.split("/").at(-1)).sort()).toEqual([
    "taskwire-0.1.0.tgz",
    "taskwire-proto-0.1.0.tgz",
    "taskwire-server-0.1.0.tgz",
  ]);

  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "a-user-project", private: true, type: "module" }));
  // From npm's cache, as a user's second project would. Scripts off: better-sqlite3 would
  // compile from source again (2.5 min on this machine); its binary from this
  // repository's install is the same code built for the same Node, so it is copied in.
  await run("npm", ["install", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", ...tarballs], {
    cwd: project,
    env: env(),
    timeout: 170_000,
  });
  const release = join(project, "node_modules/better-sqlite3/build/Release");
  mkdirSync(release, { recursive: true });
  copyFileSync(join(root, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"), join(release, "better_sqlite3.node"));

  writeFileSync(
    join(project, "tasks.ts"),
    `import { task } from "taskwire";\nexport const greet = task(function greet(name: string) { return \`Hello, \${name}!\`; });\n`,
  );
  writeFileSync(
    join(project, "app.mjs"),
    `import { task } from "taskwire";\nconst greet = task(function greet(name) { return name; });\nconst run = await greet.delay("Arthur");\nconsole.log(await run.result());\nprocess.exit(0);\n`,
  );
  await start(["taskwire", "server", "start", "--port", url.split(":").at(-1) ?? ""], "listening on");
  await start(["taskwire", "task", "serve", "./tasks.ts:greet"], "serving");
}, 240_000);

afterAll(() => {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the npm packages, installed outside the repository", () => {
  it("serve `npx taskwire server start`, `npx taskwire task serve` and `import { task } from \"taskwire\"`", async () => {
    const health = await fetch(`${url}/healthz`);
    expect(await health.text()).toBe("ok\n");
    const { stdout } = await run(process.execPath, ["app.mjs"], { cwd: project, env: env(), timeout: 30_000 });
    expect(stdout).toBe("Hello, Arthur!\n");
    // The project's own copies, not this repository's.
    const { stdout: resolved } = await run(process.execPath, ["--input-type=module", "-e", 'console.log(import.meta.resolve("taskwire"))'], { cwd: project });
    expect(resolved).toContain(`${project}/node_modules/taskwire/`);
    const { stdout: proto } = await run(process.execPath, ["--input-type=module", "-e", 'console.log(import.meta.resolve("@taskwire/proto"))'], {
      cwd: project,
    });
    expect(proto).toContain(`${project}/node_modules/@taskwire/proto/`);
  });

  it("serve the web UI from the installed server package", async () => {
    const page = await fetch(`${url}/task-runs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"><\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await asset.text()).toContain("watchTaskRunList");
    // Served from the project's copy of the package, not from this repository.
    const { stdout } = await run("npm", ["ls", "--parseable", "@taskwire/server"], { cwd: project, env: env() });
    expect(readdirSync(join(stdout.trim(), "ui-dist"))).toContain("index.html");
  });
});

describe("pip install ./sdk-python", () => {
  it("installs taskwire-sdk into a fresh venv, whose import taskwire calls the TypeScript task", async () => {
    const venv = join(dir, "venv");
    await run("python3", ["-m", "venv", venv], { timeout: 60_000 });
    const python = join(venv, "bin/python");
    await run(python, ["-m", "pip", "install", "--quiet", join(root, "sdk-python")], { timeout: 170_000 });
    const script = [
      "import taskwire",
      "from taskwire import task",
      "print(taskwire.__file__)",
      '@task(name="greet")',
      "def greet(name: str) -> str: ...",
      'print(greet.delay("Ford").result(timeout=30))',
    ].join("\n");
    const { stdout } = await run(python, ["-c", script], { cwd: dir, env: env(), timeout: 60_000 });
    const [file, result] = stdout.trim().split("\n");
    expect(file.startsWith(join(venv, "lib"))).toBe(true);
    expect(result).toBe("Hello, Ford!");
    const { stdout: help } = await run(join(venv, "bin/taskwire-py"), ["task", "serve", "--help"]);
    expect(help).toContain("usage: taskwire-py task serve");
    const { stdout: shown } = await run(python, ["-m", "pip", "show", "taskwire-sdk"]);
    expect(shown).toContain("Name: taskwire-sdk");
  }, 240_000);
});
