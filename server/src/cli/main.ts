import { runCli } from "./cli.js";

const exitCode = await runCli(process.argv.slice(2));
// Exit explicitly: idle client connections or a worker's reconnect timer must not keep a
// finished command alive. Flush first, since stdout to a pipe may still be buffered.
process.stdout.write("", () => {
  process.stderr.write("", () => process.exit(exitCode));
});
