import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import type { BenchSystem } from "../bench-system.js";
import { startProcess } from "../processes.js";
import { startRedis } from "./redis-server.js";
import { createWaiters } from "./waiters.js";

const workerScript = fileURLToPath(new URL("./bullmq-worker.js", import.meta.url));
const bullmqVersion = (JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("bullmq/package.json")), "utf8")) as { version: string }).version;

/**
 * BullMQ as the workloads measure it: one Redis (persistence off) for all workloads,
 * emptied before each, queue "bench" with BullMQ's defaults (completed jobs kept). The
 * producer learns that jobs finished from one QueueEvents stream, as `waitUntilFinished`
 * does, without a listener per job.
 */
export async function createBullmqContender(): Promise<BenchSystem<Job>> {
  const redis = await startRedis();
  const connection = { host: "127.0.0.1", port: redis.port };
  return {
    label: `BullMQ ${bullmqVersion} (Redis ${redis.version}, persistence off)`,
    close: () => redis.stop(),
    async open() {
      const admin = new Redis(connection);
      await admin.flushall();
      await admin.quit();
      const queue = new Queue("bench", { connection });
      const events = new QueueEvents("bench", { connection });
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      const waiters = createWaiters();
      events.on("completed", ({ jobId }) => waiters.done(jobId));
      events.on("failed", ({ jobId, failedReason }) => waiters.failed(jobId, new Error(failedReason)));
      return {
        serverPids: [redis.pid],
        databaseCpuSeconds: () => undefined,
        delay: (n, padding) => queue.add("noop", padding ? { n, padding } : { n }),
        result: (job) => waiters.wait(job.id ?? ""),
        allDone: async (jobs) => void (await Promise.all(jobs.map((job) => waiters.wait(job.id ?? "")))),
        startWorker: () => startProcess([workerScript, String(redis.port), "50"], {}, "bench worker ready"),
        completedBetween: () => queue.getCompletedCount(),
        async close() {
          await events.close();
          await queue.close();
        },
      };
    },
  };
}
