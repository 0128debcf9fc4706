import { task } from "taskwire";

/** What the Python worker answers (answer_tasks.py). */
export interface Answer {
  question: string;
  /** The passage of the docs that ranked first. */
  answer: string;
  /** Where it is: `docs/protocol.md › 6.7 Cancel`. */
  source: string;
  /** Its BM25 score: higher is a closer match. */
  score: number;
  /** The next best passages' places. */
  seeAlso: string[];
}

/**
 * Answers a question from taskwire's docs. Served by the Python worker (answer_tasks.py);
 * this side only schedules it by its task key, so the body never runs here.
 */
export const answerQuestion = task("answerQuestion", (question: string): Answer => {
  throw new Error(`answerQuestion(${JSON.stringify(question)}) runs in the Python worker (ask/answer_tasks.py)`);
});
