import type { Payload } from "./gen/taskwire/v1/task_run.js";

export const JSON_CONTENT_TYPE = "application/json";

/**
 * The positional arguments of a run. Parameters are the JSON object
 * `{"args": [...], "kwargs": {...}}` so that every language can call every other.
 */
export function decodeArgs(parameters: Payload | undefined): unknown[] {
  const contentType = parameters?.contentType || JSON_CONTENT_TYPE;
  if (contentType !== JSON_CONTENT_TYPE) {
    throw new InvalidParametersError(`parameters of content type ${contentType} are not supported, only ${JSON_CONTENT_TYPE}`);
  }
  const data = parameters?.data ?? new Uint8Array();
  if (data.byteLength === 0) return [];
  const decoded: unknown = JSON.parse(new TextDecoder().decode(data));
  const args = (decoded as { args?: unknown } | null)?.args ?? [];
  if (!Array.isArray(args)) throw new InvalidParametersError("parameters.args must be a JSON array");
  return args;
}

/** A result as the server stores it: JSON bytes. `undefined` travels as null. */
export function encodeResult(value: unknown): Payload {
  return { contentType: JSON_CONTENT_TYPE, data: new TextEncoder().encode(JSON.stringify(value ?? null)) };
}

/** Parameters this worker cannot read: retrying would not help. */
export class InvalidParametersError extends Error {
  override name = "InvalidParameters";
  readonly retryable = false;
}
