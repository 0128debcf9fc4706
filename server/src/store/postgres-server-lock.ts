import pg from "pg";
import { postgresLocation } from "./postgres-store.js";

export interface PostgresServerLock {
  release(): Promise<void>;
}

/** Thrown when another live server serves the database already. */
export class DatabaseInUseError extends Error {
  override name = "DatabaseInUseError";
}

/**
 * Leases still live in the memory of the server that granted them, so only one server may
 * serve a PostgreSQL database for now: a second one would hand the same runs out again and
 * re-queue the first one's runs at start. The server holds a session-level advisory lock
 * on a connection of its own for as long as it runs; PostgreSQL releases it when that
 * session ends, also when the server is killed. The key is per schema, so servers in
 * different schemas of one database do not exclude each other.
 *
 * @throws DatabaseInUseError when another server holds the lock.
 */
export async function lockPostgresDatabase(
  connectionString: string,
  onLost: (error: Error) => void,
): Promise<PostgresServerLock> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  let released = false;
  client.on("error", (error) => {
    if (!released) onLost(error);
  });
  try {
    const { rows } = await client.query<{ locked: boolean; schema: string }>(
      `SELECT pg_try_advisory_lock(hashtextextended('taskwire server ' || current_schema(), 0)) AS locked,
         current_schema() AS schema`,
    );
    if (!rows[0].locked) {
      throw new DatabaseInUseError(
        `another taskwire server is serving ${postgresLocation(connectionString)} (schema ${rows[0].schema}): ` +
          "only one server per PostgreSQL database for now, since leases live in that server's memory; " +
          "stop the other server or give this one another database",
      );
    }
  } catch (error) {
    released = true;
    await client.end().catch(() => {});
    throw error;
  }
  return {
    async release() {
      if (released) return;
      released = true;
      await client.end();
    },
  };
}
