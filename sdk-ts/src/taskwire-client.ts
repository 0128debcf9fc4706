import { readFileSync } from "node:fs";
import { connect, isIP } from "node:net";
import { connect as tlsConnect, rootCertificates } from "node:tls";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { type ScheduleTaskRunResponse, type TaskRun, TaskRunService, type TaskRunSpecSchema, WorkerService } from "@taskwire/proto";
import { createRunWatcher } from "./run-watcher.js";
import { createScheduleBatcher } from "./schedule-batcher.js";
import { createScheduleStream } from "./schedule-stream.js";
import { serverUnreachableError, unreachableCode } from "./server-unreachable-error.js";
import { loadSettings } from "./settings.js";

export interface TaskwireClientOptions {
  /** The server; default TASKWIRE_API_URL from the environment or profile, else http://127.0.0.1:7070. */
  apiUrl?: string;
  /** Sent as `authorization: Bearer <key>`; default TASKWIRE_API_KEY. */
  apiKey?: string;
  /** A PEM CA file to trust besides the system's, for an https:// server; default TASKWIRE_TLS_CA. */
  tlsCaFile?: string;
}

/**
 * A connection to one taskwire server: the generated gRPC clients, plus batched scheduling
 * and one shared stream for waiting on results.
 *
 * @example
 * const client = createTaskwireClient({ apiUrl: "http://127.0.0.1:7070" });
 * const { taskRun } = await client.taskRuns.getTaskRun({ id });
 */
export interface TaskwireClient {
  readonly apiUrl: string;
  /**
   * Every server address given (TASKWIRE_API_URL may list several, comma-separated, for
   * servers sharing one database): calls go to the first; a worker takes them in turn,
   * moving to the next each time it reconnects.
   */
  readonly apiUrls: readonly string[];
  /** What it connects with, to open another connection like it (from another thread). */
  readonly connection: { apiUrl: string; apiKey?: string; tlsCaFile?: string };
  readonly taskRuns: Client<typeof TaskRunService>;
  readonly workers: Client<typeof WorkerService>;
  /** Schedules a run, batched with the other calls of this tick; resolves once it is durable. */
  schedule(spec: MessageInitShape<typeof TaskRunSpecSchema>): Promise<ScheduleTaskRunResponse>;
  /** Resolves with the run once it is final. */
  whenFinal(runId: string, signal?: AbortSignal): Promise<TaskRun>;
  close(): void;
}

export function createTaskwireClient(options: TaskwireClientOptions = {}): TaskwireClient {
  const settings = options.apiUrl && options.apiKey !== undefined ? undefined : loadSettings();
  const apiUrls = (options.apiUrl ?? settings?.apiUrl ?? "http://127.0.0.1:7070").split(",").map((url) => url.trim());
  const apiUrl = apiUrls[0];
  const apiKey = options.apiKey ?? settings?.apiKey;
  const caFile = options.tlsCaFile ?? settings?.tlsCa;
  const ca = caFile ? [...rootCertificates, readFileSync(caFile, "utf8")] : undefined;
  const interceptors: Interceptor[] = [connectionLossAsUnavailable, unreachableServer(apiUrl)];
  if (apiKey) {
    interceptors.push((next) => (request) => {
      request.header.set("authorization", `Bearer ${apiKey}`);
      return next(request);
    });
  }
  const transport = createGrpcTransport({
    baseUrl: apiUrl,
    interceptors,
    // Small messages on a long-lived stream: compressing them costs more CPU than it saves.
    acceptCompression: [],
    nodeOptions: {
      // nghttp2's default of 10 MB per session resets every stream at once (an internal
      // error to the caller) when a worker takes in a few dispatches of large runs, each
      // up to 8 MiB, faster than it reads them.
      maxSessionMemory: 64,
      // Without noDelay, each small stream message can wait ~40 ms for Nagle's algorithm.
      createConnection: (authority: URL) => {
        const host = authority.hostname.replace(/^\[|\]$/g, "");
        const socket =
          authority.protocol === "https:"
            ? tlsConnect({
                host,
                port: Number(authority.port || 443),
                servername: isIP(host) ? undefined : host,
                ALPNProtocols: ["h2"],
                ca,
              })
            : connect(Number(authority.port || 80), host);
        socket.setNoDelay(true);
        return socket;
      },
    },
  });
  const taskRuns = createClient(TaskRunService, transport);
  const scheduleStream = createScheduleStream(taskRuns, (error) => readableError(error, apiUrl));
  const batcher = createScheduleBatcher(scheduleStream.send);
  const watcher = createRunWatcher(taskRuns, apiUrl);
  return {
    apiUrl,
    apiUrls,
    connection: { apiUrl, apiKey, tlsCaFile: caFile },
    taskRuns,
    workers: createClient(WorkerService, transport),
    schedule: batcher.schedule,
    whenFinal: watcher.whenFinal,
    close() {
      scheduleStream.close();
      watcher.close();
    },
  };
}

/**
 * A server that dies mid-call surfaces from the HTTP/2 stack as ABORTED ("read
 * ECONNRESET") or CANCELED ("stream closed with error code CANCEL") as well as UNAVAILABLE.
 * All three mean the same to a caller (the server went away; retry later, with an
 * idempotency key if the call was a schedule), so they are reported as UNAVAILABLE.
 */
const connectionLossAsUnavailable: Interceptor = (next) => async (request) => {
  try {
    return await next(request);
  } catch (error) {
    throw connectionLoss(error);
  }
};

function connectionLoss(error: unknown): unknown {
  const lost =
    error instanceof ConnectError &&
    ((error.code === Code.Aborted && /ECONNRESET|EPIPE|socket hang up/.test(error.rawMessage)) ||
      (error.code === Code.Canceled && /stream closed with error code/.test(error.rawMessage)));
  if (!lost) return error;
  return new ConnectError(`the connection to the server was lost: ${(error as ConnectError).rawMessage}`, Code.Unavailable, undefined, undefined, error);
}

/** A refused connection (no server at the URL) becomes one readable error naming the URL. */
function unreachableServer(apiUrl: string): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      throw unreachable(error, apiUrl);
    }
  };
}

function unreachable(error: unknown, apiUrl: string): unknown {
  const code = unreachableCode(error);
  return code === undefined ? error : serverUnreachableError(apiUrl, code);
}

/**
 * What the interceptors make of an error, for errors they do not see: those a stream
 * throws while its messages are read, after the call itself began.
 */
function readableError(error: unknown, apiUrl: string): unknown {
  return connectionLoss(unreachable(error, apiUrl));
}
