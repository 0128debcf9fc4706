import { join } from "node:path";
import type { Logger } from "pino";
import { announcePostgresServer } from "./postgres-server-presence.js";
import { createPostgresStore } from "./postgres-store.js";
import { acquireSqliteFileLock } from "./sqlite-file-lock.js";
import { createSqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

export interface OpenStoreOptions {
  /** TASKWIRE_DATABASE_URL: sqlite:<path>, postgresql://… or postgres://…; unset is SQLite in `home`. */
  databaseUrl?: string;
  home: string;
  logger: Logger;
  /** This server's id: on PostgreSQL, the lock that shows it alive is taken on it. */
  serverId: string;
}

export interface OpenedStore {
  store: Store;
  /** Lets another server serve the database; call after `store.close()`. */
  unlock(): Promise<void>;
  /** Tells a server refused by the lock where this one listens (SQLite). */
  recordUrl(url: string): void;
  /**
   * Of these servers (that hold leases), the dead ones; "all" on SQLite, where the file
   * lock proves every other server dead.
   */
  deadServers(serverIds: readonly string[]): Promise<"all" | readonly string[]>;
}

/**
 * The store a database URL names, ready to serve: on PostgreSQL, the schema migrated and
 * this server's presence announced (see postgres-server-presence.ts); any number of
 * servers may share the database.
 *
 * @throws DatabaseInUseError when another live server holds the SQLite file.
 * @throws Error for a URL of another kind, or a database that cannot be reached.
 */
export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const url = options.databaseUrl;
  if (!url) return openSqlite(join(options.home, "taskwire.db"), options.logger);
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length), options.logger);
  if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
    const presence = await announcePostgresServer(url, options.serverId, (error) =>
      options.logger.error({ err: error }, "lost the connection that shows this server alive; taking it again"),
    );
    try {
      return {
        store: await createPostgresStore({ connectionString: url }),
        unlock: () => presence.release(),
        recordUrl() {},
        deadServers: (ids) => presence.deadServers(ids),
      };
    } catch (error) {
      await presence.release();
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
    return { store, unlock: async () => lock?.release(), recordUrl: (url) => lock?.recordUrl(url), deadServers: async () => "all" };
  } catch (error) {
    lock?.release();
    throw error;
  }
}
