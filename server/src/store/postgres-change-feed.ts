import pg from "pg";
import { type ChangeFeed, type Changes, decodeChanges, encodeChanges } from "./change-feed.js";

/** The channel of one schema's servers: servers in other schemas of the database hear nothing. */
export function changeChannel(schema: string): string {
  return `taskwire_changes_${schema}`;
}

export interface PostgresChangeFeedOptions {
  connectionString: string;
  pool: pg.Pool;
  /** The schema's channel (changeChannel). */
  channel: string;
}

/**
 * LISTEN/NOTIFY between the servers of one database. Each subscriber holds a connection of
 * its own for LISTEN (a pooled one would be handed to queries). When that connection
 * breaks, notifications sent meanwhile are lost: the subscriber reconnects (1 s, doubling
 * to 10 s) and is told to resync.
 */
export function createPostgresChangeFeed(options: PostgresChangeFeedOptions): ChangeFeed {
  const { pool, channel } = options;
  return {
    async publish(origin, changes) {
      const payloads = encodeChanges(origin, changes);
      if (payloads.length === 0) return;
      await pool.query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", [channel, payloads]);
    },
    async subscribe(self, listener) {
      let closed = false;
      let client: pg.Client | undefined;
      let retryMs = 1_000;
      let retryTimer: NodeJS.Timeout | undefined;
      const connect = async (): Promise<void> => {
        const next = new pg.Client({ connectionString: options.connectionString });
        next.on("notification", (message) => {
          const changes: Changes | undefined = message.payload === undefined ? undefined : decodeChanges(self, message.payload);
          if (changes) listener(changes);
        });
        next.on("error", () => {
          if (closed || client !== next) return;
          client = undefined;
          next.end().catch(() => {});
          reconnectLater();
        });
        await next.connect();
        await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = next;
        retryMs = 1_000;
      };
      const reconnectLater = () => {
        retryTimer = setTimeout(() => {
          connect().then(
            () => listener({ resync: true }),
            () => {
              retryMs = Math.min(retryMs * 2, 10_000);
              reconnectLater();
            },
          );
        }, retryMs);
        retryTimer.unref();
      };
      await connect();
      return async () => {
        closed = true;
        clearTimeout(retryTimer);
        await client?.end().catch(() => {});
      };
    },
  };
}
