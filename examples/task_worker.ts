// A task worker: the server pushes runs of myBackgroundTask to it.
//   npx tsx task_worker.ts
// Start several to share the load; stop one with Ctrl-C (it finishes what it holds first).
import { myBackgroundTask } from "./tasks.js";

await myBackgroundTask.serve({ limit: 10 });
