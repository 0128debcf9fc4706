// The web app: defers work to taskwire and lets the client come back for the result.
//   PORT=3000 TASKWIRE_API_URL=http://127.0.0.1:7070 node examples/dist/web-app/app.js
import Fastify from "fastify";
import { defaultClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { runOfTask } from "../shared/run-of-task.js";
import { analyzeText } from "./tasks.js";

const port = Number(process.env.PORT ?? 3000);
const client = defaultClient();
const app = Fastify();

app.post<{ Body: { text?: unknown } }>("/tasks", async (request, reply) => {
  const text = request.body?.text;
  if (typeof text !== "string") return reply.code(400).send({ error: 'text: send {"text": "..."}, a string' });
  // Returns once the run is stored on the taskwire server: a worker runs it, now or later.
  const run = await analyzeText.delay(text);
  return reply
    .code(202)
    .header("location", `/tasks/${run.id}`)
    .send({ id: run.id, state: "SCHEDULED", ui: `${client.apiUrl}/task-runs/task-run/${run.id}` });
});

app.get<{ Params: { id: string } }>("/tasks/:id", async (request, reply) => {
  const { id } = request.params;
  const run = await runOfTask(client, id, analyzeText.taskKey);
  if (!run) return reply.code(404).send({ error: `no task ${id}` });
  const state = TaskRunState[run.state];
  const body: Record<string, unknown> = { id, state, attempts: run.attempts };
  if (run.state === TaskRunState.COMPLETED && run.result) body.result = JSON.parse(new TextDecoder().decode(run.result.data));
  if (run.error) body.error = { type: run.error.type, message: run.error.message };
  return reply.send(body);
});

await app.listen({ port, host: process.env.HOST ?? "127.0.0.1" });
console.log(`web app listening on http://127.0.0.1:${port} (taskwire at ${client.apiUrl})`);
