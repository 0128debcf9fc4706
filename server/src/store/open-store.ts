import { join } from "node:path";
import type { Logger } from "pino";
import { lockPostgresDatabase } from "./postgres-server-lock.js";
import { createPostgresStore } from "./postgres-store.js";
import { acquireSqliteFileLock } from "./sqlite-file-lock.js";
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
  /** Lets another server serve the database; call after `store.close()`. */
  unlock(): Promise<void>;
  /** Tells a server refused by the lock where this one listens (SQLite). */
  recordUrl(url: string): void;
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
  if (!url) return openSqlite(join(options.home, "taskwire.db"), options.logger);
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length), options.logger);
  if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
    const lock = await lockPostgresDatabase(url, (error) =>
      options.logger.error({ err: error }, "lost the connection holding the single-server lock on the database"),
    );
    try {
      return { store: await createPostgresStore({ connectionString: url }), unlock: () => lock.release(), recordUrl() {} };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  const shown = url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:****@");
  throw new Error(`TASKWIRE_DATABASE_URL ${JSON.stringify(shown)}: expected sqlite:<path>, postgresql://… or postgres://…`);
}

/**
 * SQLite, once this process is the only server on the file: a second server would re-queue
 * the first one's runs in flight, and both would run them.
 *
 * @throws DatabaseInUseError when another live server holds the database.
 */
function openSqlite(path: string, logger: Logger): OpenedStore {
  const lock = path === ":memory:" ? undefined : acquireSqliteFileLock(path);
  try {
    const store = createSqliteStore({
      path,
      onFileLost: (error) => logger.fatal({ err: error }, "the database file is gone: refusing every write"),
    });
    return { store, unlock: async () => lock?.release(), recordUrl: (url) => lock?.recordUrl(url) };
  } catch (error) {
    lock?.release();
    throw error;
  }
}
