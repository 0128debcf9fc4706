import { type JsonObject, toJson } from "@bufbuild/protobuf";
import { type Payload, type TaskRun, TaskRunSchema } from "@taskwire/proto";

/**
 * A task run as protobuf JSON, except that JSON payloads (parameters and result) are
 * decoded, so `taskwire task-run inspect` shows `{"args": ["Arthur"], "kwargs": {}}`
 * rather than base64. Other payloads keep their base64 `data`.
 */
export function taskRunToJson(run: TaskRun): JsonObject {
  const json = toJson(TaskRunSchema, run) as JsonObject;
  for (const field of ["parameters", "result"] as const) {
    const payload = run[field];
    if (payload !== undefined) {
      json[field] = payloadToJson(payload, json[field] as JsonObject);
    }
  }
  return json;
}

function payloadToJson(payload: Payload, encoded: JsonObject): JsonObject {
  // An empty content type means the default, JSON.
  const isJson = payload.contentType === "" || /^application\/(.+\+)?json\b/.test(payload.contentType);
  if (!isJson) {
    return encoded;
  }
  try {
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload.data)) as JsonObject;
    return { contentType: payload.contentType || "application/json", json: value };
  } catch {
    // Shown as stored rather than hidden: a payload that does not parse is worth seeing.
    return encoded;
  }
}
