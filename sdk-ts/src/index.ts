export { task } from "./task.js";
export type { AnyTask, DelayOptions, RunOptions, Task, TaskOptions } from "./task.js";
export { serve } from "./serve.js";
export type { ServeOptions } from "./serve.js";
export type { TaskRunFuture } from "./task-run-future.js";
export { createTaskRunFuture } from "./task-run-future.js";
export { TaskRunError, TaskRunTimeoutError } from "./task-run-error.js";
export type { TaskRunSnapshot, TaskRunStateName } from "./task-run-snapshot.js";
export { NonRetryableError } from "./error-info.js";
export { exponentialBackoff } from "./exponential-backoff.js";
export { currentRun } from "./run-context.js";
export type { RunContext } from "./run-context.js";
export { UnserializableValueError } from "./json-payload.js";
export { isServerUnreachable } from "./server-unreachable-error.js";
export { createWorker } from "./worker.js";
export { RunCancelledError, RunTimeoutError } from "./run-abort-reasons.js";
export type { Worker, WorkerOptions } from "./worker.js";
export { createTaskwireClient } from "./taskwire-client.js";
export type { TaskwireClient, TaskwireClientOptions } from "./taskwire-client.js";
export { defaultClient, setDefaultClient } from "./default-client.js";
export { loadSettings, SETTING_DEFINITIONS, SETTING_KEYS } from "./settings.js";
export type { SettingKey, Settings } from "./settings.js";
export { loadSettingValues, taskwireHome } from "./settings-loader.js";
export type {
  ResolvedSettings,
  SettingDefinition,
  SettingDefinitions,
  SettingSource,
  SettingValues,
} from "./settings-loader.js";
export { readProfiles, setProfileValues, unsetProfileValues } from "./profiles-file.js";
export type { Profiles } from "./profiles-file.js";
