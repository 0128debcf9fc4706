import { serve } from "taskwire";
import { noop } from "./bench-tasks.js";

// A worker process of its own, as in production: `limit` from the command line.
await serve(noop, { limit: Number(process.argv[2] ?? 50) });
