// The TypeScript SDK's worker for the conformance suite:
//   npm run conformance -- --worker "node conformance/dist/workers/ts-worker.js"
//   npm run conformance -- --worker "node --import tsx conformance/workers/ts-worker.ts"
// It is a plain SDK worker: what it passes, every SDK user's worker does.
import { setTimeout as sleep } from "node:timers/promises";
import { currentRun, serve, task } from "taskwire";

export const conformanceEcho = task("conformance_echo", (value: unknown) => value);

export const conformanceSleep = task("conformance_sleep", async (seconds: number) => {
  // The run's signal fires on Cancel: the sleep ends at once instead of holding the slot.
  await sleep(seconds * 1000, undefined, { signal: currentRun()?.signal });
  return "done";
});

await serve(conformanceEcho, conformanceSleep, { limit: Number(process.env.TASKWIRE_WORKER_LIMIT ?? 10) });
