import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTaskwireClient, task, type TaskwireClient } from "taskwire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../server/src/bench/processes.js";

// Keyword arguments across languages, with real processes: a Python caller and a
// TypeScript worker, a TypeScript caller and a Python worker, on one real server.

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "server/dist/cli/main.js");
const python = join(root, "sdk-python/.venv/bin/python");
const execFileAsync = promisify(execFile);

let home: string;
let url: string;
let client: TaskwireClient;
const children: ChildProcess[] = [];

function env(): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  return { ...clean, TASKWIRE_HOME: home, TASKWIRE_API_URL: url, PYTHONUNBUFFERED: "1", TASKWIRE_LOG_LEVEL: "warn" };
}

function start(command: string, args: string[], ready: string): Promise<void> {
  const child = spawn(command, args, { cwd: root, env: env(), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(ready)) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${command} ${args.join(" ")} exited ${code} before "${ready}":\n${output}`)));
  });
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`the server build is missing at ${cli}: run \`npx tsc -b\` first`);
  if (!existsSync(python)) throw new Error(`the Python SDK's venv is missing at ${python}: run \`node scripts/test.mjs python\``);
  home = mkdtempSync(join(tmpdir(), "taskwire-kwargs-"));
  url = `http://127.0.0.1:${await freePort()}`;
  await start(process.execPath, [cli, "server", "start", "--port", url.split(":").at(-1) ?? ""], "listening on");
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
  await Promise.all([
    start(process.execPath, [cli, "task", "serve", "examples/polyglot/tasks.ts:greetPolitely", "examples/polyglot/tasks.ts:describeBook"], "serving"),
    start(python, ["-m", "taskwire", "serve", "examples/polyglot/tasks.py:format_name"], "serving"),
  ]);
});

afterAll(() => {
  client?.close();
  for (const child of children) child.kill("SIGKILL");
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("keyword arguments across languages", () => {
  it("from Python to TypeScript: onto declared parameter names, or as one typed object", async () => {
    const script = `
from taskwire import task

@task(name="greet_politely")
def greet_politely(name: str, greeting: str = "Hello") -> str: ...

@task(name="describe_book")
def describe_book(*, title: str, year: int) -> str: ...

print(greet_politely.delay(name="Ford", greeting="Hi").result(timeout=30))
print(greet_politely.delay("Arthur").result(timeout=30))
print(greet_politely.delay(greeting="Hey", name="Trillian").result(timeout=30))
print(describe_book.delay(title="The Restaurant at the End of the Universe", year=1980).result(timeout=30))
`;
    const { stdout } = await execFileAsync(python, ["-c", script], { env: env(), timeout: 60_000 });
    expect(stdout.trim().split("\n")).toEqual([
      "Hi, Ford!",
      "Hello, Arthur!",
      "Hey, Trillian!",
      "The Restaurant at the End of the Universe (1980)",
    ]);
  });

  it("a keyword that names no declared parameter fails the run, naming it", async () => {
    const greetPolitely = task("greet_politely", (_name: string) => "", { client });
    const run = await greetPolitely.applyAsync(["Zaphod"], { kwargs: { title: "President" } });
    const error = await run.result(30_000).then(() => undefined, (caught: unknown) => caught as { remoteMessage: string });
    expect(error?.remoteMessage).toBe("task greet_politely got the keyword argument 'title', but its parameters are 'name', 'greeting'");
  });

  it("from TypeScript to Python: applyAsync(args, { kwargs })", async () => {
    const formatName = task("format_name", (_first: string) => "", { client });
    const run = await formatName.applyAsync(["ford"], { kwargs: { last: "prefect", upper: true } });
    expect(await run.result(30_000)).toBe("FORD PREFECT");
  });
});
