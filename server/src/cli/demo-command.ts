import { type AnyTask, type TaskwireClient, type Worker, createTaskwireClient, createWorker, task } from "taskwire";
import { UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { resolveSettings } from "./resolve-settings.js";
import { startConfiguredServer } from "./start-configured-server.js";
import { waitForShutdownSignal } from "./wait-for-shutdown-signal.js";

/** `taskwire demo` (what `npm start` runs): a server, a worker and one run, in one process. */
export const demoCommand = createCommand({
  name: "demo",
  summary: "Start a server and a worker, and run one task (what `npm start` runs)",
  usage: `Usage: taskwire demo [--host HOST] [--port PORT]

Starts a taskwire server (SQLite in $TASKWIRE_HOME), serves a demo task \`greet\` from this
process, delays one run of it and prints its id, its result and its page in the web UI.
The server keeps running until Ctrl-C, so you can try the CLI and the examples against it.

Options:
  --host HOST   Address to listen on (TASKWIRE_SERVER_HOST, default 127.0.0.1)
  --port PORT   Port to listen on (TASKWIRE_SERVER_PORT, default 7070)`,
  flags: {
    host: { type: "string" },
    port: { type: "string" },
  },
  async run(flags, positionals, usage) {
    if (positionals.length > 0) {
      throw new UsageError(`taskwire demo: unexpected argument '${positionals[0]}'`, usage);
    }
    const given = { TASKWIRE_SERVER_HOST: flags.host, TASKWIRE_SERVER_PORT: flags.port };
    let settings = resolveSettings(given);
    // The demo speaks for itself; the server's JSON log lines only when asked for.
    if (settings.source("TASKWIRE_LOG_LEVEL") === "default") settings = resolveSettings({ ...given, TASKWIRE_LOG_LEVEL: "warn" });
    const server = await startConfiguredServer(settings);
    // This server's own URL, not TASKWIRE_API_URL: a profile may name another server, and
    // the demo must not schedule runs there.
    const client = createTaskwireClient({ apiUrl: server.url, apiKey: settings.apiKey ?? "" });

    const shutdown = waitForShutdownSignal();
    const greet = task(
      function greet(name: string) {
        return `Hello, ${name}!`;
      },
      { client },
    );
    const worker = startDemoWorker([greet], client);
    try {
      const run = await greet.delay("Arthur");
      process.stdout.write(`delayed greet("Arthur"): task run ${run.id}\n`);
      const result = await run.result();
      process.stdout.write(`result: ${JSON.stringify(result)}\n`);
      process.stdout.write(`see it at ${server.url}/task-runs/task-run/${run.id}\n\n`);
      process.stdout.write(`${nextSteps(server.url, settings.apiUrl)}\n`);
    } catch (error) {
      await worker.stop();
      client.close();
      await server.close();
      throw error;
    }

    await shutdown;
    // The worker first, so a run in flight finishes while the server can still record it.
    await worker.stop();
    client.close();
    await server.close();
    return 0;
  },
});

/**
 * The single spot where the demo runs a worker inside this process: the SDK's
 * `createWorker`, since `serve` would install its own SIGINT handling, and the demo's
 * shutdown stops the worker and then the server.
 */
function startDemoWorker(tasks: AnyTask[], client: TaskwireClient): Worker {
  const worker = createWorker({ tasks, client });
  worker.start().catch((error: unknown) => {
    process.stderr.write(`taskwire demo: the worker stopped: ${(error as Error).message}\n`);
  });
  return worker;
}

/**
 * What to try next, pointed at this server: when it is not where TASKWIRE_API_URL points
 * (another --port, say), each command names its URL, or they would ask another server.
 */
function nextSteps(url: string, apiUrl: string): string {
  const npx = url === apiUrl.replace(/\/+$/, "") ? "npx" : `TASKWIRE_API_URL=${url} npx`;
  const steps: [command: string, what: string][] = [
    [`${npx} taskwire task-run ls`, "list the runs"],
    [`${npx} taskwire task-run inspect <id>`, "one run, with parameters, result and history"],
    [`${npx} taskwire task serve ./tasks.ts:myTask`, "serve your own tasks, from another terminal"],
    [`open ${url}`, "the web UI"],
  ];
  const width = Math.max(...steps.map(([command]) => command.length)) + 3;
  return [
    "Try more while this server runs (Ctrl-C stops it):",
    ...steps.map(([command, what]) => `  ${command.padEnd(width)}${what}`),
    "See README.md for more examples.",
  ].join("\n");
}
