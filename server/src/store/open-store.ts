import { join } from "node:path";
import type { Logger } from "pino";
import { lockPostgresDatabase } from "./postgres-server-lock.js";
import { createPostgresStore } from "./postgres-store.js";
import { createSqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

export interface OpenStoreOptions {
  /** TASKWIRE_DATABASE_URL: sqlite:<path>, postgresql://… or postgres://…; unset is SQLite in `home`. */
  databaseUrl?: string;
  home: string;
  logger: Logger;
}

export interface OpenedStore {
  store: Store;
  /** Lets another server serve the database (PostgreSQL); call after `store.close()`. */
  unlock(): Promise<void>;
}

/**
 * The store a database URL names, ready to serve: on PostgreSQL, the schema migrated and
 * the single-server lock held (see postgres-server-lock.ts).
 *
 * @throws DatabaseInUseError when another server serves that PostgreSQL database.
 * @throws Error for a URL of another kind, or a database that cannot be reached.
 */
export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const url = options.databaseUrl;
  const unlocked = async () => {};
  if (!url) return { store: createSqliteStore({ path: join(options.home, "taskwire.db") }), unlock: unlocked };
  if (url.startsWith("sqlite:")) return { store: createSqliteStore({ path: url.slice("sqlite:".length) }), unlock: unlocked };
  if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
    const lock = await lockPostgresDatabase(url, (error) =>
      options.logger.error({ err: error }, "lost the connection holding the single-server lock on the database"),
    );
    try {
      return { store: await createPostgresStore({ connectionString: url }), unlock: () => lock.release() };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  const shown = url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:****@");
  throw new Error(`TASKWIRE_DATABASE_URL ${JSON.stringify(shown)}: expected sqlite:<path>, postgresql://… or postgres://…`);
}
