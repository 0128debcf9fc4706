import pg from "pg";

/**
 * A server's presence on a PostgreSQL database that several servers share. Each server
 * holds a session-level advisory lock on its own id, on a connection of its own, for as
 * long as it runs; PostgreSQL releases it when that session ends, also when the server is
 * killed (the kernel closes the socket; a host that vanishes is noticed by TCP keepalive).
 * So a server whose lock can be taken is dead, and its leases can be re-queued at once,
 * while a live server's are never touched before they expire. The key includes the
 * schema, so servers in different schemas of one database know nothing of each other.
 */
export interface PostgresServerPresence {
  /** Of these server ids, the ones no live server holds. */
  deadServers(serverIds: readonly string[]): Promise<string[]>;
  release(): Promise<void>;
}

const KEY = "hashtextextended('taskwire server ' || current_schema() || ' ' || id, 0)";

export async function announcePostgresServer(
  connectionString: string,
  serverId: string,
  onLost: (error: Error) => void,
): Promise<PostgresServerPresence> {
  let released = false;
  let client = await connect();

  async function connect(): Promise<pg.Client> {
    const next = new pg.Client({ connectionString, keepAlive: true });
    await next.connect();
    next.on("error", (error) => {
      if (released || client !== next) return;
      // Without the lock, a server starting now would take this one for dead: take it again.
      onLost(error);
      next.end().catch(() => {});
      const retry = (): void => {
        connect().then(
          (again) => {
            client = again;
          },
          () => {
            setTimeout(retry, 1_000).unref();
          },
        );
      };
      retry();
    });
    try {
      await next.query(`SELECT pg_advisory_lock(${KEY}) FROM (SELECT $1::text AS id) AS s`, [serverId]);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    return next;
  }

  return {
    async deadServers(serverIds) {
      const others = serverIds.filter((id) => id !== serverId);
      if (others.length === 0) return [];
      // Taken here means nobody holds it: that server is gone. Let go of it at once.
      const { rows } = await client.query<{ id: string }>(
        `SELECT id FROM unnest($1::text[]) AS id WHERE pg_try_advisory_lock(${KEY})`,
        [others],
      );
      const dead = rows.map((row) => row.id);
      if (dead.length > 0) await client.query(`SELECT pg_advisory_unlock(${KEY}) FROM unnest($1::text[]) AS id`, [dead]);
      return dead;
    },
    async release() {
      if (released) return;
      released = true;
      await client.end();
    },
  };
}
