import { setTimeout as sleep } from "node:timers/promises";
import { NonRetryableError, task } from "taskwire";

export interface TextReport {
  words: number;
  characters: number;
  /** The most frequent words, most frequent first (ties in order of first use). */
  topWords: string[];
}

/**
 * The slow work the web app defers: a report on a text. Blank text fails the run, so the
 * app's `GET /tasks/:id` has an error to show too.
 */
export const analyzeText = task(async function analyzeText(text: string): Promise<TextReport> {
  // Stands in for work too slow for a request: a model call, a PDF, an upload to resize.
  await sleep(500);
  const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  if (words.length === 0) throw new NonRetryableError("there is no text to analyze: send some words");
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  const topWords = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([word]) => word);
  return { words: words.length, characters: text.length, topWords };
});
