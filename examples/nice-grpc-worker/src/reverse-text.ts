import { setTimeout as sleep } from "node:timers/promises";

/**
 * The task this worker serves, `reverse_text(text, seconds = 0)`: waits `seconds` (to
 * show limits, cancel and drain at work; the wait ends early when the run is cancelled),
 * then returns the text reversed. Reverses user-perceived characters, so "👍🏽" and "é"
 * written as e + accent survive.
 */
export async function reverseText(args: unknown[], signal: AbortSignal): Promise<string> {
  const [text, seconds = 0] = args;
  if (typeof text !== "string") throw new BadArgumentError(`reverse_text(text): text must be a string, got ${JSON.stringify(text)}`);
  if (typeof seconds !== "number" || !(seconds >= 0)) {
    throw new BadArgumentError(`reverse_text(text, seconds): seconds must be a number >= 0, got ${JSON.stringify(seconds)}`);
  }
  if (seconds > 0) await sleep(seconds * 1000, undefined, { signal });
  const characters = [...new Intl.Segmenter().segment(text)].map((part) => part.segment);
  return characters.reverse().join("");
}

/** Arguments the task cannot work with: fails the run without using its retries. */
export class BadArgumentError extends TypeError {
  override name = "TypeError";
  readonly retryable = false;
}
