import { Code, ConnectError } from "@connectrpc/connect";
import type { StoredPayload } from "../store/store.js";

export const JSON_CONTENT_TYPE = "application/json";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks a payload before it is stored, so that a bad one is refused at schedule time
 * instead of failing at the worker: size against the limit, and for JSON that the bytes
 * parse. Parameters must also have the cross-language shape {"args": [...], "kwargs": {...}}.
 */
export function checkPayload(
  field: string,
  payload: { contentType: string; data: Uint8Array } | undefined,
  maxBytes: number,
  kind: "parameters" | "result",
): StoredPayload {
  const contentType = payload?.contentType || JSON_CONTENT_TYPE;
  const data = payload?.data ?? new Uint8Array();
  if (data.byteLength > maxBytes) {
    throw new ConnectError(
      `${field}: ${data.byteLength} bytes is over the payload limit of ${maxBytes} bytes`,
      Code.ResourceExhausted,
    );
  }
  if (contentType !== JSON_CONTENT_TYPE) return { contentType, data };
  if (data.byteLength === 0) {
    return { contentType, data: kind === "parameters" ? EMPTY_PARAMETERS : data };
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new ConnectError(
      `${field}: not valid JSON for content type ${JSON_CONTENT_TYPE} (${(error as Error).message})`,
      Code.InvalidArgument,
    );
  }
  if (kind === "parameters") checkParameterShape(field, value);
  return { contentType, data };
}

const EMPTY_PARAMETERS = new TextEncoder().encode('{"args":[],"kwargs":{}}');

function checkParameterShape(field: string, value: unknown): void {
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  const problem = !isObject(value)
    ? "must be a JSON object"
    : "args" in (value as object) && !Array.isArray((value as { args: unknown }).args)
      ? '"args" must be an array'
      : "kwargs" in (value as object) && !isObject((value as { kwargs: unknown }).kwargs)
        ? '"kwargs" must be an object'
        : undefined;
  if (problem) {
    throw new ConnectError(
      `${field}: ${problem}; parameters are {"args": [...], "kwargs": {...}}`,
      Code.InvalidArgument,
    );
  }
}
