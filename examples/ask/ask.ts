// Asks a question from the command line and prints the answer. It waits on the run's
// future (one server stream, no polling) instead of asking GET /answer again and again.
//   node examples/dist/ask/ask.js "How do I cancel a run?"
//   npx tsx examples/ask/ask.ts "How do I cancel a run?"
import { TaskRunError } from "taskwire";
import { answerQuestion } from "./tasks.js";

const question = process.argv.slice(2).join(" ").trim();
if (!question) {
  process.stderr.write('usage: ask.ts "How do I cancel a run?"\n');
  process.exit(2);
}

const run = await answerQuestion.delay(question);
try {
  // 60 s: the worker answers in milliseconds; longer means no Python worker is up.
  const { answer, source, seeAlso } = await run.result(60_000);
  process.stdout.write(`${answer}\n\n— ${source}\n`);
  if (seeAlso.length > 0) process.stdout.write(`see also: ${seeAlso.join("; ")}\n`);
  process.exit(0);
} catch (error) {
  const reason = error instanceof TaskRunError ? `${error.remoteType}: ${error.remoteMessage}` : (error as Error).message;
  process.stderr.write(`no answer (run ${run.id}): ${reason}\n`);
  process.exit(1);
}
