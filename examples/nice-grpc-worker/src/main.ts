// A taskwire worker written with nice-grpc on @grpc/grpc-js, from stubs that ts-proto
// generated from proto/: no taskwire SDK involved, only the protocol.
//
//   TASKWIRE_API_URL=http://127.0.0.1:7070 node dist/main.js --limit 4
//
// Serves reverse_text(text, seconds = 0). SIGTERM or Ctrl-C: stops taking work, lets runs
// in flight finish for up to --grace-seconds, hands the rest back, exits 0; a second
// signal exits at once.
import { parseArgs } from "node:util";
import { createChannel } from "nice-grpc";
import { reverseText } from "./reverse-text.js";
import { createTaskWorker } from "./task-worker.js";

const { values } = parseArgs({
  options: {
    limit: { type: "string", default: process.env.TASKWIRE_WORKER_LIMIT ?? "10" },
    "grace-seconds": { type: "string", default: "10" },
  },
});
const apiUrl = process.env.TASKWIRE_API_URL || "http://127.0.0.1:7070";
const channel = createChannel(apiUrl, undefined, {
  // With its default payload limit the server sends no message over grpc-js's default 4 MiB;
  // this also serves a server configured with TASKWIRE_MAX_PAYLOAD_BYTES up to 64 MiB - 64 KiB.
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  // grpc-js backs off up to 120 s between reconnects by default: too slow for a worker.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 5_000,
});
const worker = createTaskWorker({
  channel,
  tasks: { reverse_text: reverseText },
  limit: Number(values.limit),
  graceMs: Number(values["grace-seconds"]) * 1000,
  apiKey: process.env.TASKWIRE_API_KEY,
  onServing: (taskKeys) => console.log(`serving ${taskKeys.join(", ")} at ${apiUrl} (limit ${values.limit})`),
});

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  if (++signals > 1) {
    worker.kill();
    process.exit(130);
  }
  process.stderr.write(`nice-grpc-worker: ${signal}: finishing runs in flight, then stopping (again to exit now)\n`);
  worker.stop();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

await worker.run();
channel.close();
console.log("stopped");
