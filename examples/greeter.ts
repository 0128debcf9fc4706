// Run a task in the foreground: calling it runs it now, in this process.
//   npx tsx greeter.ts
// With a taskwire server running, the run is recorded there too (state COMPLETED).
import { task } from "taskwire";

export const greet = task(
  function greet(name = "Marvin") {
    console.log(`Hello, ${name}!`);
    return `Hello, ${name}!`;
  },
  { logPrints: true },
);

greet();
greet(process.argv[2] ?? "Arthur");
