import { TaskRunState } from "@taskwire/proto";

/** "RUNNING" for TaskRunState.RUNNING. */
export function stateName(state: TaskRunState): string {
  return TaskRunState[state] ?? "UNSPECIFIED";
}

export function StateBadge({ state }: { state: TaskRunState }) {
  const name = stateName(state);
  return (
    <span className={`badge state-${name.toLowerCase()}`} data-state={name}>
      {name.toLowerCase()}
    </span>
  );
}
