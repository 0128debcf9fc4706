import type pg from "pg";

/**
 * Runs `work` on a connection of the pool that holds its transaction (`work` begins and
 * commits it). On error the transaction is rolled back and the connection discarded: one
 * that failed mid-transaction is not trusted again.
 */
export async function onPooledConnection<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const result = await work(client);
    client.release();
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    client.release(error as Error);
    throw error;
  }
}
