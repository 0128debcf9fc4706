// Ask, and fetch the answer later: the question is a task run, the answer its result.
//   PORT=3000 TASKWIRE_API_URL=http://127.0.0.1:7070 node dist/ask/app.js
import Fastify from "fastify";
import { defaultClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { runOfTask } from "../shared/run-of-task.js";
import { answerQuestion } from "./tasks.js";

const port = Number(process.env.PORT ?? 3000);
const client = defaultClient();
const app = Fastify();
// 1000 characters: a question, not a document.
const MAX_QUESTION = 1000;

// The question as plain text (`curl --data-binary`) or as JSON `{"question": "..."}`.
app.post<{ Body: unknown }>("/question", async (request, reply) => {
  const body = request.body;
  const question = typeof body === "string" ? body : (body as { question?: unknown } | undefined)?.question;
  if (typeof question !== "string" || question.trim() === "") {
    return reply.code(400).send({ error: 'question: send it as text, or as {"question": "..."}' });
  }
  if (question.length > MAX_QUESTION) {
    return reply.code(400).send({ error: `question: at most ${MAX_QUESTION} characters, got ${question.length}` });
  }
  const run = await answerQuestion.delay(question.trim());
  return reply.code(202).header("location", `/answer/${run.id}`).send({ id: run.id });
});

app.get<{ Params: { id: string } }>("/answer/:id", async (request, reply) => {
  const { id } = request.params;
  const run = await runOfTask(client, id, answerQuestion.taskKey);
  if (!run) return reply.code(404).send({ error: `no question ${id}` });
  const state = TaskRunState[run.state];
  if (run.state === TaskRunState.COMPLETED && run.result) {
    return reply.code(200).send({ id, state, ...JSON.parse(new TextDecoder().decode(run.result.data)) });
  }
  if (run.state === TaskRunState.FAILED || run.state === TaskRunState.CANCELLED) {
    return reply.code(500).send({ id, state, error: { type: run.error?.type ?? "", message: run.error?.message ?? "" } });
  }
  return reply.code(202).header("retry-after", "1").send({ id, state });
});

await app.listen({ port, host: process.env.HOST ?? "127.0.0.1" });
console.log(`ask app listening on http://127.0.0.1:${port} (taskwire at ${client.apiUrl})`);
