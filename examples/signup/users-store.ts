import Database from "better-sqlite3";
import type { User } from "./user.js";

export interface UsersStore {
  /** Stores the user; false when the email is taken already. */
  insert(user: User): boolean;
  get(id: string): User | undefined;
  remove(id: string): void;
  close(): void;
}

/** The API's own database (SQLite): the users, and nothing of the tasks' side effects. */
export function createUsersStore(path: string): UsersStore {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  )`);
  const insert = db.prepare("INSERT INTO users (id, email, name) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING");
  const get = db.prepare<[string], User>("SELECT id, email, name FROM users WHERE id = ?");
  const remove = db.prepare("DELETE FROM users WHERE id = ?");
  return {
    insert: (user) => insert.run(user.id, user.email, user.name).changes === 1,
    get: (id) => get.get(id),
    remove: (id) => void remove.run(id),
    close: () => db.close(),
  };
}
