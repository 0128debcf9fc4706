import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { type Settings, createTaskwireClient, isServerUnreachable, type TaskwireClient } from "taskwire";
import type { TaskRunService } from "@taskwire/proto";
import { CliError } from "./cli-error.js";

/**
 * Calls the server at `settings.apiUrl` through a TaskRunService client and turns the
 * failures a user can act on into a CliError: a server that cannot be reached, and an
 * RPC error (printed with its gRPC code).
 */
export function withTaskRunClient<T>(
  settings: Pick<Settings, "apiUrl" | "apiKey" | "tlsCa">,
  call: (client: Client<typeof TaskRunService>) => Promise<T>,
): Promise<T> {
  return withTaskwireClient(settings, (client) => call(client.taskRuns));
}

/** As withTaskRunClient, with the SDK's whole client (its WorkerService client too). */
export async function withTaskwireClient<T>(
  settings: Pick<Settings, "apiUrl" | "apiKey" | "tlsCa">,
  call: (client: TaskwireClient) => Promise<T>,
): Promise<T> {
  const { apiUrl, apiKey } = settings;
  // The SDK's client: it sends the API key as `authorization: Bearer <key>`. "" rather than
  // undefined for no key, since these settings are resolved already and must not be again.
  const client = createTaskwireClient({ apiUrl, apiKey: apiKey ?? "", tlsCaFile: settings.tlsCa });
  try {
    return await call(client);
  } catch (error) {
    throw describeFailure(error);
  } finally {
    client.close();
  }
}

function describeFailure(error: unknown): unknown {
  if (!(error instanceof ConnectError)) {
    return error;
  }
  if (isServerUnreachable(error)) {
    return new CliError(`${error.rawMessage} Start one with \`taskwire server start\`.`, { cause: error });
  }
  const code = Code[error.code].replace(/(?<=[a-z])(?=[A-Z])/g, "_").toUpperCase();
  const hint =
    error.code === Code.Unauthenticated
      ? " (set the server's key with `taskwire config set TASKWIRE_API_KEY=…`)"
      : "";
  return new CliError(`${code}: ${error.rawMessage}${hint}`, { cause: error });
}
