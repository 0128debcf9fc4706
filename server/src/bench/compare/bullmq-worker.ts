import { Worker } from "bullmq";

/**
 * A BullMQ worker process for the benchmark: `node bullmq-worker.js PORT CONCURRENCY`
 * processes queue "bench" on the Redis at PORT, returning each job's number as the
 * taskwire worker returns its run's, then prints "bench worker ready".
 */
const [port, concurrency] = process.argv.slice(2).map(Number);
const worker = new Worker<{ n: number }, number>("bench", async (job) => job.data.n, {
  connection: { host: "127.0.0.1", port },
  concurrency,
});
worker.on("error", (error) => process.stderr.write(`bullmq worker: ${error.message}\n`));
await worker.waitUntilReady();
console.log("bench worker ready");
process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
