/** How long connections may stay silent or slow, and how many may be open. */
export interface ConnectionLimits {
  /** Connections open at once; more are closed as soon as they are accepted. */
  maxConnections: number;
  /** A new connection must show its protocol (or finish its TLS handshake) within this. */
  handshakeTimeoutMs: number;
  /** HTTP/1.1: a request's headers must arrive within this. */
  headersTimeoutMs: number;
  /**
   * HTTP/1.1: a whole request must arrive within this. Only the request: a response that
   * streams for longer (a WaitTaskRun holding for 60 s) is not cut.
   */
  requestTimeoutMs: number;
  /** A connection with no request or stream in progress is closed after this. */
  idleTimeoutMs: number;
  /** HTTP/2 streams (calls) in progress at once on one connection. */
  maxConcurrentStreams: number;
}

/**
 * Each connection is a file descriptor: 10,000 leaves room for the database and the logs
 * under a limit of 20,000 (`ulimit -n` on our machines; Node raises its soft limit to the
 * hard one), where 20,000 silent sockets made /healthz fail. A worker or a client needs
 * one. 10 s is ample for a handshake on any network a worker would use, and a slowloris
 * client holds a slot for no longer than that. 1,000 streams: every call a process makes
 * shares one connection. 65 s idle: longer than the 60 s load balancers usually keep an
 * idle connection, so that they, not the server, close it first.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 10_000,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  idleTimeoutMs: 65_000,
  maxConcurrentStreams: 1_000,
};
