#!/usr/bin/env node
// `npm test`: every suite of the repository, then one line with the totals.
// TypeScript (vitest), Python (pytest, in a venv this script creates), Go (go test),
// eslint, and the checks of generated code.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, stopPostgres } from "./postgres.mjs";

const root = new URL("..", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "taskwire-test-results-"));
const totals = { passed: 0, failed: 0, skipped: 0 };
const only = process.argv.slice(2);
const wanted = (suite) => only.length === 0 || only.includes(suite);

function run(command, args, options = {}) {
  console.log(`\n$ ${command} ${args.join(" ")}`);
  return spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
}

function count(suite, passed, failed, skipped, crashed) {
  // A suite that could not report (crashed before its results) counts as one failure.
  if (crashed && failed === 0) failed = 1;
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  console.log(`${suite}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
}

// The Python SDK's venv comes first: the cross-language tests in vitest use it too.
const python = join(root, "sdk-python/.venv/bin/python");
{
  const venv = join(root, "sdk-python/.venv");
  const stamp = join(venv, ".installed");
  const pyproject = join(root, "sdk-python/pyproject.toml");
  // The examples' Python workers need a few packages of their own (the ask example's BM25).
  const exampleRequirements = join(root, "examples/ask/requirements.txt");
  const newest = Math.max(statSync(pyproject).mtimeMs, statSync(exampleRequirements).mtimeMs);
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newest) {
    run("python3", ["-m", "venv", venv]);
    run(python, ["-m", "pip", "install", "--quiet", "-e", `${join(root, "sdk-python")}[dev]`]);
    run(python, ["-m", "pip", "install", "--quiet", "-r", exampleRequirements]);
    run("touch", [stamp]);
  }
}

// Go first: its build cache then serves the Go worker the cross-language tests build.
if (wanted("go") && existsSync(join(root, "examples/go-worker/go.mod"))) {
  const result = run("go", ["test", "-json", "-count=1", "./..."], {
    cwd: join(root, "examples/go-worker"),
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const events = (result.stdout ?? "")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((event) => event.Test);
  for (const event of events) if (event.Action === "output") process.stdout.write(event.Output);
  const of = (action) => events.filter((event) => event.Action === action).length;
  count("go", of("pass"), of("fail"), of("skip"), result.status !== 0);
}

if (wanted("ts")) {
  const file = join(out, "vitest.json");
  // One private PostgreSQL cluster for the whole run; each test file makes its own database.
  // If it cannot start, the PostgreSQL tests try themselves and fail with the reason.
  let postgres;
  try {
    postgres = await startPostgres();
    console.log(`PostgreSQL for the tests: ${postgres.url}`);
  } catch (error) {
    console.log(`could not start PostgreSQL for the tests: ${error.message}`);
  }
  let result;
  try {
    result = run("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile=${file}`], {
      env: postgres ? { ...process.env, TASKWIRE_TEST_DATABASE_URL: postgres.url } : process.env,
    });
  } finally {
    if (postgres) stopPostgres(postgres.dir);
  }
  const report = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
  count(
    "typescript",
    report?.numPassedTests ?? 0,
    (report?.numFailedTests ?? 0) + (report?.numRuntimeErrorTestSuites ?? 0),
    (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0),
    result.status !== 0,
  );
}

if (wanted("python")) {
  const file = join(out, "pytest.xml");
  const result = run(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", `--junitxml=${file}`, "sdk-python/tests"]);
  const xml = existsSync(file) ? readFileSync(file, "utf8") : "";
  const attr = (name) => Number(new RegExp(`<testsuite[^>]* ${name}="(\\d+)"`).exec(xml)?.[1] ?? 0);
  const failed = attr("failures") + attr("errors");
  count("python", attr("tests") - failed - attr("skipped"), failed, attr("skipped"), result.status !== 0);
}

if (wanted("lint")) {
  // eslint (eslint.config.js): one pass per file linted clean, one failure per file with a
  // finding, so a finding shows in the totals like a failed test.
  const file = join(out, "eslint.json");
  const result = run("npx", ["eslint", "--format", "json", "--output-file", file, "."]);
  const files = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : [];
  let passed = 0;
  let failed = 0;
  for (const { filePath, messages } of files) {
    if (messages.length === 0) {
      passed++;
      continue;
    }
    failed++;
    for (const m of messages) console.log(`${filePath}:${m.line}:${m.column}  ${m.message}  ${m.ruleId ?? ""}`);
  }
  count("lint", passed, failed, 0, result.status !== 0);
}

if (wanted("checks")) {
  // Generated code is committed and never edited: regenerating must change nothing.
  const checks = [
    ["buf lint", "npx", ["buf", "lint"]],
    ["TypeScript stubs match proto/", "npx", ["buf", "generate"], "proto-ts/src/gen"],
    ["Python stubs match proto/", "bash", ["sdk-python/scripts/generate.sh"], "sdk-python/taskwire/v1"],
    ["Go stubs match proto/", "bash", ["examples/go-worker/generate.sh"], "examples/go-worker/gen"],
    ["nice-grpc stubs match proto/", "npm", ["run", "generate", "--workspace", "examples/nice-grpc-worker"], "examples/nice-grpc-worker/src/gen"],
  ];
  let passed = 0;
  let failed = 0;
  for (const [name, command, args, generated] of checks) {
    let ok = run(command, args).status === 0;
    if (ok && generated) {
      const changed = spawnSync("git", ["status", "--porcelain", "--", generated], { cwd: root, encoding: "utf8" }).stdout;
      if (changed.trim()) console.log(`${generated} differs from what proto/ generates:\n${changed}`);
      ok = !changed.trim();
    }
    console.log(`${ok ? "ok" : "FAILED"}: ${name}`);
    if (ok) passed++;
    else failed++;
  }
  count("checks", passed, failed, 0, false);
}

if (totals.skipped > 0) console.log(`${totals.skipped} skipped (a skipped test is not a pass)`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 || totals.skipped > 0 ? 1 : 0);
