// One command for the ask example: a taskwire server, the Python worker that answers, the app.
//   npm run example:ask        (ports: TASKWIRE_SERVER_PORT=7070, PORT=3000)
import { exampleDir, pythonCommand, taskwireCommand } from "../shared/paths.js";
import { runProcessGroup } from "../shared/process-group.js";

const taskwirePort = process.env.TASKWIRE_SERVER_PORT ?? "7070";
const appPort = process.env.PORT ?? "3000";
const taskwire = taskwireCommand();
const env = { TASKWIRE_API_URL: `http://127.0.0.1:${taskwirePort}`, PORT: appPort, PYTHONUNBUFFERED: "1" };

await runProcessGroup(
  [
    { name: "taskwire", ...taskwire, args: [...taskwire.args, "server", "start", "--port", taskwirePort], ready: "listening on" },
    {
      name: "worker-python",
      command: pythonCommand(),
      args: ["-m", "taskwire", "serve", "ask.answer_tasks:answer_question", "--limit", "4"],
      cwd: exampleDir(""),
      env,
      ready: "serving",
    },
    { name: "app", command: process.execPath, args: [new URL("app.js", import.meta.url).pathname], env, ready: "ask app listening" },
  ],
  `try: curl -si localhost:${appPort}/question --data-binary 'How do I cancel a run?' -H 'content-type: text/plain'\n` +
    `or:  node examples/dist/ask/ask.js "How do I cancel a run?"`,
);
