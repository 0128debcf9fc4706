import { shortWorkerId } from "./short-worker-id.js";

/** A worker id, shortened in the middle when long, the whole id in its tooltip. */
export function WorkerId({ id }: { id: string }) {
  return (
    <span className="mono worker-id" title={id}>
      {shortWorkerId(id)}
    </span>
  );
}
