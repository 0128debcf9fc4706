// TypeScript tasks for the cross-language tests (examples/test/cross-language.test.ts),
// served with the CLI:
//   node server/dist/cli/main.js task serve examples/polyglot/tasks.ts:greet --limit 2
import { task } from "taskwire";

/** Scheduled from Python: `@task(name="greet")` there, run here. */
export const greet = task(function greet(name: string) {
  return `Hello, ${name}!`;
});

/** The fast TypeScript version of a task a Python worker serves too (tasks.py). */
export const resizeImage = task(function resize_image(name: string) {
  return `${name} resized by TypeScript`;
});

/**
 * Called from Python with keyword arguments, `greet_politely.delay(name="Ford", greeting="Hi")`:
 * `parameterNames` puts each keyword at its parameter's position.
 */
export const greetPolitely = task(
  function greet_politely(name: string, greeting = "Hello") {
    return `${greeting}, ${name}!`;
  },
  { parameterNames: ["name", "greeting"] },
);

/** Without `parameterNames`, keyword arguments from Python arrive as one typed object. */
export const describeBook = task(function describe_book({ title, year }: { title: string; year: number }) {
  return `${title} (${year})`;
});
