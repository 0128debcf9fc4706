import type { LeasedRun } from "../broker/worker-channel.js";

/**
 * The size of Assignments on the wire, so that no message the server sends is larger than
 * a worker accepts. grpc-js, grpc-go, grpcio and grpc-java refuse to receive a message over
 * 4 MiB unless told otherwise, and a refused message kills the worker's stream (every run
 * on it is redelivered): Assignments are split to stay within that, and the payload limit
 * leaves ASSIGNMENT_ENVELOPE_BYTES for the rest of an Assignment.
 */

/** The receive limit of gRPC libraries by default: 4 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Room in one message for everything of an Assignment but its parameters: run id, task key
 * (256 characters at most), lease token, tags, content type, and the message framing.
 * 64 KiB is over 100 times what these take in practice; a run whose tags take more is
 * refused at schedule time.
 */
export const ASSIGNMENT_ENVELOPE_BYTES = 64 * 1024;

/** The default payload limit: an Assignment carrying it fits in 4 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = DEFAULT_MAX_MESSAGE_BYTES - ASSIGNMENT_ENVELOPE_BYTES;

/**
 * The largest message the server sends a worker for a payload limit: 4 MiB, or more when
 * the payload limit was configured above its default (then workers must accept as much).
 */
export function maxMessageBytes(maxPayloadBytes: number): number {
  return Math.max(DEFAULT_MAX_MESSAGE_BYTES, maxPayloadBytes + ASSIGNMENT_ENVELOPE_BYTES);
}

/** Bytes of one Assignment inside an Assignments message, framing included (an upper bound). */
export function assignmentBytes({ run, leaseToken }: Pick<LeasedRun, "run" | "leaseToken">): number {
  const body =
    field(utf8(run.id)) +
    field(utf8(run.taskKey)) +
    VARINT_FIELD + // attempt
    field(utf8(leaseToken)) +
    field(field(utf8(run.parameters.contentType)) + field(run.parameters.data.byteLength)) +
    TIMESTAMP_FIELD + // lease_deadline
    VARINT_FIELD + // timeout_ms
    run.options.tags.reduce((sum, tag) => sum + field(utf8(tag)), 0);
  return field(body);
}

/**
 * Splits assignments into groups whose Assignments message stays within `maxBytes`, in
 * order, each with its size. An assignment too big for any message goes alone (refused at
 * schedule time since its limit applies; only a run stored under a larger limit can be one).
 */
export function splitAssignments(runs: LeasedRun[], maxBytes: number): { runs: LeasedRun[]; bytes: number }[] {
  // The response's oneof field and the gRPC frame (5 bytes) around the Assignments.
  const budget = maxBytes - 16;
  const groups: { runs: LeasedRun[]; bytes: number }[] = [];
  let group = { runs: [] as LeasedRun[], bytes: 0 };
  for (const leased of runs) {
    const bytes = assignmentBytes(leased);
    if (group.runs.length > 0 && group.bytes + bytes > budget) {
      groups.push(group);
      group = { runs: [], bytes: 0 };
    }
    group.runs.push(leased);
    group.bytes += bytes;
  }
  if (group.runs.length > 0) groups.push(group);
  return groups;
}

/** A length-delimited field of `length` bytes: tag, length, content. */
function field(length: number): number {
  return 1 + varintBytes(length) + length;
}

function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

function utf8(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** A uint32 field: tag and up to 5 bytes. */
const VARINT_FIELD = 6;
/** A Timestamp field: tag, length, seconds (up to 10 bytes) and nanos (up to 5), tagged. */
const TIMESTAMP_FIELD = 2 + 11 + 6;
