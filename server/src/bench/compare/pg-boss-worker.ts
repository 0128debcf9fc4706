import PgBoss from "pg-boss";

/**
 * A pg-boss worker process for the benchmark: `node pg-boss-worker.js URL BATCH` fetches
 * up to BATCH jobs of queue "bench" at a time (pg-boss 10 has no concurrency setting: a
 * batch is how one worker runs many jobs at once) and fetches again after its polling
 * interval, at the 0.5 s it allows at least. Prints "bench worker ready".
 */
const [connectionString, batchSize] = process.argv.slice(2);
const boss = new PgBoss({ connectionString, schedule: false });
boss.on("error", (error: Error) => process.stderr.write(`pg-boss worker: ${error.message}\n`));
await boss.start();
await boss.work<{ n: number }>("bench", { batchSize: Number(batchSize), pollingIntervalSeconds: 0.5 }, async () => {});
console.log("bench worker ready");
process.once("SIGTERM", () => void boss.stop({ graceful: true, wait: true }).then(() => process.exit(0)));
