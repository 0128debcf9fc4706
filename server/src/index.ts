export { startServer } from "./server.js";
export type { RunningServer, ServerOptions } from "./server.js";
export { createSqliteStore } from "./store/sqlite-store.js";
export { createPostgresStore } from "./store/postgres-store.js";
export type { PostgresStoreOptions } from "./store/postgres-store.js";
export type { Store } from "./store/store.js";
