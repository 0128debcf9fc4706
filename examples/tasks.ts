import { task } from "taskwire";

/** A task for a background worker: `task_worker.ts` serves it, `task_scheduler.ts` delays it. */
export const myBackgroundTask = task(
  async function myBackgroundTask(name: string) {
    console.log(`Hello, ${name}!`);
    // Long enough that several runs overlap and spread across workers.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return `Hello, ${name}!`;
  },
  { logPrints: true },
);
