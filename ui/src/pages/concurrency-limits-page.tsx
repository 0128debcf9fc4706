import { useMutation, useQuery } from "@connectrpc/connect-query";
import { type FormEvent, useState } from "react";
import { type ConcurrencyLimit, TaskRunService } from "@taskwire/proto";

export function ConcurrencyLimitsPage() {
  const limits = useQuery(TaskRunService.method.listConcurrencyLimits, {});
  const refresh = () => void limits.refetch();
  const set = useMutation(TaskRunService.method.setConcurrencyLimit, { onSuccess: refresh });
  const [tag, setTag] = useState("");
  const [limit, setLimit] = useState("1");
  const create = (event: FormEvent) => {
    event.preventDefault();
    set.mutate({ tag, limit: Number(limit) }, { onSuccess: () => setTag("") });
  };
  return (
    <section>
      <div className="page-head">
        <h1>Concurrency limits</h1>
      </div>
      <p className="muted intro">
        A limit caps how many runs carrying a tag are pending or running at once, across all workers. The tag{" "}
        <code>task_key:&lt;key&gt;</code> limits every run of that task; a limit of 0 holds its runs back.
      </p>
      <form className="card inline-form" onSubmit={create} id="new-limit">
        <label>
          <span>Tag</span>
          <input name="tag" required value={tag} placeholder="e.g. task_key:send_email" onChange={(e) => setTag(e.target.value)} />
        </label>
        <label>
          <span>Limit</span>
          <input name="limit" type="number" min={0} required value={limit} onChange={(e) => setLimit(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={set.isPending}>
          Add limit
        </button>
      </form>
      {set.error ? <p className="error-text">{set.error.message}</p> : null}
      <div className="table-wrap">
        <table id="concurrency-limits">
          <thead>
            <tr>
              <th>Tag</th>
              <th>Active</th>
              <th>Limit</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(limits.data?.concurrencyLimits ?? []).map((entry) => (
              <LimitRow key={entry.tag} entry={entry} onChange={refresh} />
            ))}
            {limits.data?.concurrencyLimits.length === 0 ? (
              <tr>
                <td colSpan={4} className="empty">
                  No limits set: runs start as soon as a worker has a free slot.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function LimitRow({ entry, onChange }: { entry: ConcurrencyLimit; onChange: () => void }) {
  const [value, setValue] = useState(String(entry.limit));
  const set = useMutation(TaskRunService.method.setConcurrencyLimit, { onSuccess: onChange });
  const remove = useMutation(TaskRunService.method.deleteConcurrencyLimit, { onSuccess: onChange });
  const share = entry.limit > 0 ? Math.min(1, entry.active / entry.limit) : 1;
  return (
    <tr data-tag={entry.tag}>
      <td className="mono">{entry.tag}</td>
      <td>
        <div className="meter" title={`${entry.active} of ${entry.limit} in use`}>
          <div className={share >= 1 ? "fill full" : "fill"} style={{ width: `${share * 100}%` }} />
        </div>
        <span className="muted">
          {entry.active} / {entry.limit}
        </span>
      </td>
      <td>
        <form
          className="row-form"
          onSubmit={(event) => {
            event.preventDefault();
            set.mutate({ tag: entry.tag, limit: Number(value) });
          }}
        >
          <input aria-label={`limit for ${entry.tag}`} type="number" min={0} value={value} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" disabled={value === String(entry.limit) || set.isPending}>
            Save
          </button>
        </form>
        {set.error ? <span className="error-text">{set.error.message}</span> : null}
      </td>
      <td className="actions">
        <button type="button" className="danger subtle" onClick={() => remove.mutate({ tag: entry.tag })} disabled={remove.isPending}>
          Delete
        </button>
      </td>
    </tr>
  );
}
