import { randomBytes } from "node:crypto";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pino } from "pino";
import { TaskRunService, WorkerService } from "@taskwire/proto";
import { apiKeyInterceptor, hasApiKey } from "./auth.js";
import { type BrokerLimits, createBroker } from "./broker/broker.js";
import { catchHandlerErrors } from "./http/catch-handler-errors.js";
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from "./http/connection-limits.js";
import { createDualProtocolServer } from "./http/dual-protocol-server.js";
import { createHostCheck, hostCheckInterceptor } from "./http/host-check.js";
import { renderMetrics } from "./http/metrics.js";
import { sendReadableGrpcMessages } from "./http/readable-grpc-message.js";
import { requestContextValues, requestHost } from "./http/request-context.js";
import { createTlsServer } from "./http/tls-server.js";
import { createRunChangeFeed } from "./rpc/run-change-feed.js";
import { createTaskRunService } from "./rpc/task-run-service.js";
import { createWorkerService } from "./rpc/worker-service.js";
import { SERVER_VERSION } from "./server-version.js";
import { openStore } from "./store/open-store.js";
import type { Store } from "./store/store.js";
import { startRetention } from "./store/retention.js";
import { createUiHandler } from "./ui/ui-handler.js";

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Holds taskwire.db unless databaseUrl says otherwise. */
  home: string;
  databaseUrl?: string;
  apiKey?: string;
  logLevel?: string;
  limits?: Partial<BrokerLimits>;
  /** How long workers get to finish their runs when the server shuts down. */
  shutdownGraceMs?: number;
  /** PEM certificate and key: serve HTTPS only (HTTP/2 and HTTP/1.1 negotiated by ALPN). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Finished runs are deleted this long after they end; default 7 days. */
  retentionMs?: number;
  /** Timeouts and caps of connections; see DEFAULT_CONNECTION_LIMITS. */
  connectionLimits?: Partial<ConnectionLimits>;
  /**
   * Host names clients may use besides loopback names, IP addresses, the machine's name
   * and a named `host` (`*.example.com` for subdomains, `*` for any name).
   */
  allowedHosts?: string[];
  /** The built web UI; default `ui-dist` of the server package (built there from `ui/`). */
  uiDirectory?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

/** Starts the taskwire server: gRPC, Connect, the web UI and /healthz on one port. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = pino({ level: options.logLevel ?? "info", base: { service: "taskwire" } });
  // New at every start: leases granted by an earlier process of this server are a dead server's.
  const serverId = randomBytes(8).toString("hex");
  const { store, unlock, recordUrl, deadServers } = await openStore({ databaseUrl: options.databaseUrl, home: options.home, logger, serverId });
  const requeued = await store.requeueAbandoned(Date.now(), await deadServers(await store.leaseServerIds()));
  await store.forgetWorkerSessions(await deadServers((await store.listWorkerSessions()).map((w) => w.serverId)), serverId);
  if (requeued > 0) logger.warn({ requeued }, "requeued runs whose server died or whose lease ran out");
  const concurrencyLimits = await store.listConcurrencyLimits();
  const feed = createRunChangeFeed({ store, logger });
  const broker = createBroker({
    store,
    logger,
    limits: options.limits,
    concurrencyLimits,
    serverId,
    deadServers,
    onCommitted: feed.committed,
    onPeerChanged: feed.changedElsewhere,
  });
  await broker.ready();
  const retention = startRetention({ store, logger, retentionMs: options.retentionMs ?? 7 * 24 * 3_600_000 });
  const ui = createUiHandler({ apiKey: options.apiKey, secure: options.tls !== undefined, directory: options.uiDirectory });
  const hostCheck = createHostCheck({ allowedHosts: options.allowedHosts ?? [], listenHost: options.host });
  // Payloads are checked against the broker's limit; leave room for the envelope.
  const maxMessageBytes = broker.limits.maxPayloadBytes * 4 + 64 * 1024;
  const rpc = connectNodeAdapter({
    contextValues: requestContextValues,
    interceptors: [hostCheckInterceptor(hostCheck), ...(options.apiKey ? [apiKeyInterceptor(options.apiKey)] : [])],
    // Runs are small and the link is usually local: gzip cost more CPU than it saved.
    acceptCompression: [],
    readMaxBytes: maxMessageBytes,
    routes(router) {
      router.service(TaskRunService, createTaskRunService({ broker, store, feed }));
      router.service(WorkerService, createWorkerService({ broker, logger, serverVersion: SERVER_VERSION }));
    },
    fallback: catchHandlerErrors(logger, async (req, res) => {
      if (!URL.canParse(req.url ?? "/", "http://localhost")) {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(`the request target ${JSON.stringify(req.url)} is not a URL path\n`);
        return;
      }
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/healthz") {
        const fatal = store.fatalError();
        res.writeHead(fatal ? 503 : 200, { "content-type": "text/plain" });
        res.end(fatal ? `unhealthy: ${fatal}\n` : "ok\n");
        return;
      }
      const host = requestHost(req);
      if (host !== undefined && !hostCheck.allows(host)) {
        res.writeHead(403, { "content-type": "text/plain" });
        res.end(`${hostCheck.refusal(host)}\n`);
        return;
      }
      try {
        if (await ui(req, res, url)) return;
        if (url.pathname === "/metrics") {
          if (options.apiKey && !hasApiKey(req.headers.authorization, options.apiKey)) {
            res.writeHead(401, { "content-type": "text/plain" });
            res.end("missing or wrong API key: send the header 'authorization: Bearer <TASKWIRE_API_KEY>'\n");
            return;
          }
          // Read first: once the header is out, a failed read could only cut the body short.
          const metrics = await renderMetrics(broker, store).catch((error: unknown) => {
            throw new Error(`could not read from the store: ${error instanceof Error ? error.message : String(error)}`);
          });
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
          res.end(metrics);
          return;
        }
      } catch (error) {
        logger.error({ err: error, path: url.pathname }, "answering an HTTP request failed");
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`${error instanceof Error ? error.message : String(error)}\n`);
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }),
  });
  const handler: typeof rpc = (req, res) => {
    sendReadableGrpcMessages(res);
    rpc(req, res);
  };
  const connectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
  const http = options.tls
    ? createTlsServer(handler, options.tls, connectionLimits, maxMessageBytes)
    : createDualProtocolServer(handler, connectionLimits, maxMessageBytes);
  let port: number;
  try {
    port = await http.listen(options.port, options.host);
  } catch (error) {
    retention.stop();
    await broker.close(0);
    await store.close();
    await unlock();
    throw error;
  }
  const scheme = options.tls ? "https" : "http";
  const url = `${scheme}://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  recordUrl(url);
  logger.info({ url, database: store.location }, "taskwire server listening");
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    store,
    close() {
      closing ??= (async () => {
        retention.stop();
        feed.close();
        await broker.close(options.shutdownGraceMs ?? 10_000);
        await http.close();
        await store.close();
        await unlock();
        logger.info("taskwire server stopped");
      })();
      return closing;
    },
  };
}
