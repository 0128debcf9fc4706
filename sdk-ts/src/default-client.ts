import { createTaskwireClient, type TaskwireClient } from "./taskwire-client.js";

let client: TaskwireClient | undefined;

/**
 * The client that tasks use unless told otherwise, made on first use from the settings
 * (TASKWIRE_API_URL, the active profile), so that `import { task }` needs no setup.
 */
export function defaultClient(): TaskwireClient {
  client ??= createTaskwireClient();
  return client;
}

/** Points tasks at another server (tests, or several servers in one process). */
export function setDefaultClient(next: TaskwireClient): void {
  client?.close();
  client = next;
}
