import { Code, ConnectError } from "@connectrpc/connect";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { TaskRunState } from "@taskwire/proto";
import type { ListFilter, RunRecord } from "../store/store.js";
import { stateFromProto } from "./run-codec.js";
import { timestampFieldMs } from "./timestamp-field.js";

/** The filter fields ListTaskRuns and WatchTaskRunList share. */
export interface RunFilterFields {
  taskKeys: string[];
  states: TaskRunState[];
  tag: string;
  workerId: string;
  idPrefix: string;
  createdAfter?: Timestamp;
  createdBefore?: Timestamp;
}

/** A request's filter as the store takes it (without limit and cursor). */
export function runFilterFromRequest(request: RunFilterFields): Omit<ListFilter, "limit" | "before"> {
  const idPrefix = request.idPrefix.trim().toLowerCase();
  if (idPrefix && !/^[0-9a-f-]{1,36}$/.test(idPrefix)) {
    throw new ConnectError(`id_prefix: ${JSON.stringify(request.idPrefix)} is not the start of a run id (hex digits and dashes)`, Code.InvalidArgument);
  }
  return {
    taskKeys: request.taskKeys,
    states: request.states.map((s, i) => stateFromProto(s, `states[${i}]`)),
    tag: request.tag,
    workerId: request.workerId || undefined,
    idPrefix: idPrefix || undefined,
    createdAfter: request.createdAfter ? timestampFieldMs("created_after", request.createdAfter) : undefined,
    createdBefore: request.createdBefore ? timestampFieldMs("created_before", request.createdBefore) : undefined,
  };
}

/** True when the store's listRuns would return this run for this filter. */
export function runMatchesFilter(run: RunRecord, filter: Omit<ListFilter, "limit" | "before">): boolean {
  return (
    (filter.taskKeys.length === 0 || filter.taskKeys.includes(run.taskKey)) &&
    (filter.states.length === 0 || filter.states.includes(run.state)) &&
    (!filter.tag || run.options.tags.includes(filter.tag)) &&
    (!filter.workerId || run.workerId === filter.workerId) &&
    (!filter.idPrefix || run.id.startsWith(filter.idPrefix)) &&
    (filter.createdAfter === undefined || run.createdAt >= filter.createdAfter) &&
    (filter.createdBefore === undefined || run.createdAt < filter.createdBefore)
  );
}
