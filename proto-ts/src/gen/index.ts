export * from "./taskwire/v1/task_run_pb.js";
export * from "./taskwire/v1/task_run_service_pb.js";
export * from "./taskwire/v1/worker_service_pb.js";
