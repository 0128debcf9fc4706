import { createWorker } from "taskwire";
import { benchTasks } from "./bench-tasks.js";

/**
 * A worker process of its own, as in production: `node bench-worker.js LIMIT KEYS` serves
 * the benchmark's KEYS tasks with LIMIT runs in flight, then prints "bench worker ready".
 * A worker stream says Hello with at most 1,000 task keys (MAX_HELLO_TASK_KEYS), so more
 * keys take several streams in this one process, which share LIMIT between them.
 */
const MAX_KEYS_PER_STREAM = 1_000;
const limit = Number(process.argv[2] ?? 50);
const tasks = benchTasks(Number(process.argv[3] ?? 1));
const streams = Math.ceil(tasks.length / MAX_KEYS_PER_STREAM);
let serving = 0;
const workers = Array.from({ length: streams }, (_, i) =>
  createWorker({
    tasks: tasks.slice(i * MAX_KEYS_PER_STREAM, (i + 1) * MAX_KEYS_PER_STREAM),
    // 50 over 10 streams: 5 each, so that the process as a whole runs `limit` at most.
    limit: Math.max(1, Math.round(limit / streams)),
    // The "serving" line names every key (about 100 KB for 10,000): counted, not printed.
    log: (message) => {
      if (!message.includes(" serving ")) process.stderr.write(`${message}\n`);
      else if (++serving === streams) console.log("bench worker ready");
    },
  }),
);
process.once("SIGTERM", () => void Promise.all(workers.map((worker) => worker.stop())));
await Promise.all(workers.map((worker) => worker.start()));
