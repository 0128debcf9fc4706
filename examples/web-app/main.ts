// One command for the whole web-app example: a taskwire server, a worker, the web app.
//   npm run example:web-app        (ports: TASKWIRE_SERVER_PORT=7070, PORT=3000)
import { runProcessGroup } from "../shared/process-group.js";
import { taskwireCommand } from "../shared/paths.js";

const taskwirePort = process.env.TASKWIRE_SERVER_PORT ?? "7070";
const appPort = process.env.PORT ?? "3000";
const taskwire = taskwireCommand();
const env = { TASKWIRE_API_URL: `http://127.0.0.1:${taskwirePort}`, PORT: appPort };
const sibling = (file: string) => new URL(file, import.meta.url).pathname;

await runProcessGroup(
  [
    { name: "taskwire", ...taskwire, args: [...taskwire.args, "server", "start", "--port", taskwirePort], ready: "listening on" },
    { name: "worker", command: process.execPath, args: [sibling("worker.js")], env, ready: "serving" },
    { name: "app", command: process.execPath, args: [sibling("app.js")], env, ready: "web app listening" },
  ],
  `try: curl -si -X POST localhost:${appPort}/tasks -H 'content-type: application/json' -d '{"text": "to be or not to be"}'`,
);
