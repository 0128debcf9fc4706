import { Logger, run } from "graphile-worker";

/**
 * A graphile-worker process for the benchmark: `node graphile-worker-worker.js URL CONCURRENCY`
 * runs task "noop" (which does nothing) from the database at URL, then prints "bench worker
 * ready". Its log is silenced: by default it logs a line per job.
 */
const [connectionString, concurrency] = process.argv.slice(2);
const runner = await run({
  connectionString,
  concurrency: Number(concurrency),
  noHandleSignals: true,
  logger: new Logger(() => () => {}),
  taskList: { noop: async () => {} },
});
console.log("bench worker ready");
process.once("SIGTERM", () => void runner.stop().then(() => process.exit(0)));
