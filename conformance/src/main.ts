#!/usr/bin/env node
// The worker conformance suite:
//   npm run conformance -- --worker "node conformance/dist/workers/ts-worker.js"
// Starts a taskwire server with short limits, runs the worker command against it, and
// reports each scenario; exits 1 when any fails.
import { parseArgs } from "node:util";
import { CONFORMANCE_LIMITS } from "./conformance-server.js";
import { runConformance, SCENARIOS } from "./run-conformance.js";

const USAGE = `usage: npm run conformance -- --worker "<command>" [options]

Starts a taskwire server (lease ${CONFORMANCE_LIMITS.leaseDurationMs} ms, heartbeat ${CONFORMANCE_LIMITS.heartbeatIntervalMs} ms, ack timeout ${CONFORMANCE_LIMITS.ackTimeoutMs} ms)
and runs <command> as the worker under test, with TASKWIRE_API_URL and TASKWIRE_WORKER_LIMIT
set. The worker must serve conformance_echo (returns its first argument) and
conformance_sleep (sleeps args[0] seconds, stops on cancel, returns "done"). The command is
started directly, not by a shell: write NAME=value words first for extra environment.

options:
  --worker <command>         the worker to test (required)
  --only <a,b>               run only these scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}
  --limit <n>                the worker's limit (default 3)
  --verbose                  print the worker's output as it comes
  --server-log-level <level> the server's log level (default silent)
  --database-url <url>       store runs in this PostgreSQL database (postgresql://…), not SQLite
`;

function parseCommandLineArgs() {
  try {
    return parseArgs({
      options: {
        worker: { type: "string" },
        only: { type: "string" },
        limit: { type: "string", default: "3" },
        verbose: { type: "boolean", default: false },
        "server-log-level": { type: "string" },
        "database-url": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const values = parseCommandLineArgs();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!values.worker) {
  process.stderr.write(`--worker is required\n\n${USAGE}`);
  process.exit(2);
}
const limit = Number(values.limit);
if (!Number.isInteger(limit) || limit < 1) {
  process.stderr.write(`--limit must be a whole number >= 1, got ${values.limit}\n`);
  process.exit(2);
}

const nameWidth = Math.max(...SCENARIOS.map((s) => s.name.length));
try {
  const report = await runConformance({
    workerCommand: values.worker,
    // `npm run` changes to the repository root; run the command where the user typed it.
    cwd: process.env.INIT_CWD ?? process.cwd(),
    only: values.only?.split(",").map((name) => name.trim()),
    limit,
    serverLogLevel: values["server-log-level"],
    databaseUrl: values["database-url"],
    onServer(server) {
      process.stdout.write(`taskwire worker conformance\n  worker: ${values.worker}\n  server: ${server.url}\n\n`);
    },
    onResult(result) {
      const mark = result.passed ? "PASS" : "FAIL";
      const seconds = (result.ms / 1000).toFixed(1);
      process.stdout.write(`  ${mark}  ${result.name.padEnd(nameWidth)}  ${result.expectation} (${seconds} s)\n`);
      process.stdout.write(`        ${result.passed ? "" : "reason: "}${result.detail}\n`);
    },
    onWorkerLine: values.verbose ? (line) => process.stdout.write(`  ${line}\n`) : undefined,
  });
  const failed = report.results.filter((r) => !r.passed).length;
  if (failed > 0 && !values.verbose) {
    process.stdout.write(`\nthe worker's last output:\n${report.workerOutput.slice(-30).map((line) => `  ${line}`).join("\n")}\n`);
  }
  process.stdout.write(`\n${report.results.length - failed} passed, ${failed} failed\n`);
  process.exitCode = failed > 0 ? 1 : 0;
} catch (error) {
  process.stderr.write(`conformance: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
