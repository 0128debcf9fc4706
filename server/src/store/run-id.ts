import { randomBytesFromPool } from "../random-pool.js";

/**
 * A UUIDv7: time-ordered, so new ids land at the end of the id index instead of at random
 * places in it (random UUIDv4 ids made each insert touch a different B-tree page).
 */
export function newRunId(now: number = Date.now()): string {
  const bytes = randomBytesFromPool(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
