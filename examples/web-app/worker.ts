// The worker: runs what the web app defers. Start several to share the load.
//   TASKWIRE_API_URL=http://127.0.0.1:7070 node examples/dist/web-app/worker.js
import { serve } from "taskwire";
import { analyzeText } from "./tasks.js";

await serve(analyzeText, { limit: 10 });
