import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

// Date.UTC maps years 0-99 to 1900-1999, hence the setUTCFullYear.
const MIN_MS = new Date(0).setUTCFullYear(1, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * A request Timestamp as milliseconds, refusing what timestamp.proto calls invalid (outside
 * 0001-01-01..9999-12-31): stored, such a time could not be encoded again, and every
 * listing that held the run would fail. Sub-millisecond parts are cut, never rounded up
 * past the last valid instant.
 */
export function timestampFieldMs(field: string, timestamp: Timestamp): number {
  const ms = Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000);
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS || timestamp.nanos < 0 || timestamp.nanos > 999_999_999) {
    throw new ConnectError(`${field}: a time from 0001-01-01 to 9999-12-31 is required`, Code.InvalidArgument);
  }
  return ms;
}
