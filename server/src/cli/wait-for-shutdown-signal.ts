/**
 * Resolves on the first SIGINT or SIGTERM, so that a long-running command can shut down
 * gracefully. A second signal while that shutdown is under way exits at once (130, as a
 * shell reports Ctrl-C), for when the graceful path hangs.
 */
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off("SIGINT", first);
      process.off("SIGTERM", first);
      process.once("SIGINT", forceExit);
      process.once("SIGTERM", forceExit);
      resolve(signal);
    };
    process.on("SIGINT", first);
    process.on("SIGTERM", first);
  });
}

function forceExit(signal: NodeJS.Signals): void {
  process.stderr.write(`\n${signal} again: exiting without waiting for the shutdown to finish.\n`);
  process.exit(130);
}
