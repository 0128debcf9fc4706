import pg from "pg";
import { describe, expect, it } from "vitest";
import { POSTGRES_MIGRATIONS } from "../src/store/postgres-migrations.js";
import { createPostgresStore } from "../src/store/postgres-store.js";
import { usePostgres } from "./support/postgres-database.js";

const postgres = usePostgres();

async function appliedVersions(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: number }>("SELECT version FROM taskwire_migrations ORDER BY version");
    return rows.map((row) => row.version);
  } finally {
    await client.end();
  }
}

describe("PostgreSQL migrations", () => {
  it("let several servers start at once on an empty database", async () => {
    const url = await postgres.newSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => createPostgresStore({ connectionString: url })));
    try {
      const all = POSTGRES_MIGRATIONS.map((_, i) => i + 1);
      expect(await appliedVersions(url)).toEqual(all);
      expect(await stores[0].countByState()).toEqual({});
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
    // Started again on an up-to-date schema: nothing to apply, nothing fails.
    const again = await createPostgresStore({ connectionString: url });
    await again.close();
    expect(await appliedVersions(url)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
  });
});
