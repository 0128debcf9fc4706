// Schedule background runs and wait for their results.
//   npx tsx task_scheduler.ts                          # one run, for "Agrajag"
//   npx tsx task_scheduler.ts Ford Prefect Slartibartfast
import { myBackgroundTask } from "./tasks.js";

const names = process.argv.length > 2 ? process.argv.slice(2) : ["Agrajag"];
const runs = await Promise.all(names.map((name) => myBackgroundTask.delay(name)));
for (const run of runs) console.log(`scheduled task run ${run.id}`);
for (const run of runs) {
  const result = await run.result();
  const { workerId } = await run.wait();
  console.log(`task run ${run.id}: ${result} (worker ${workerId})`);
}
