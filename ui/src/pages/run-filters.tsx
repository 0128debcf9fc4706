import { type FormEvent, useState } from "react";
import { navigate } from "../router.js";

const STATES = ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];
const FIELDS = ["id", "task", "tag", "worker", "from", "to"] as const;

/** The filters of the runs list; they live in the query string, so a filtered list is a link. */
export function RunFilters({ query }: { query: URLSearchParams }) {
  const [draft, setDraft] = useState(() => Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? ""])));
  const state = query.get("state") ?? "";

  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams(query);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    navigate(`/task-runs${next.size ? `?${next}` : ""}`);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    go(draft);
  };
  const field = (name: (typeof FIELDS)[number], label: string, placeholder: string, type = "text") => (
    <label>
      <span>{label}</span>
      <input
        name={name}
        type={type}
        placeholder={placeholder}
        value={draft[name]}
        onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
      />
    </label>
  );

  return (
    <form className="filters" onSubmit={submit}>
      <div className="state-chips" role="group" aria-label="State">
        <button type="button" className={state === "" ? "chip selected" : "chip"} onClick={() => go({ state: "" })}>
          all
        </button>
        {STATES.map((name) => (
          <button
            key={name}
            type="button"
            data-filter-state={name}
            className={state === name ? `chip selected state-${name.toLowerCase()}` : "chip"}
            onClick={() => go({ state: name })}
          >
            {name.toLowerCase()}
          </button>
        ))}
      </div>
      <div className="filter-fields">
        {field("id", "Run id", "id or its start")}
        {field("task", "Task", "task key")}
        {field("tag", "Tag", "tag")}
        {field("worker", "Worker", "worker id")}
        {field("from", "Created from", "", "datetime-local")}
        {field("to", "to", "", "datetime-local")}
        <div className="filter-actions">
          <button type="submit" className="primary">
            Apply
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(Object.fromEntries(FIELDS.map((f) => [f, ""])));
              navigate("/task-runs");
            }}
          >
            Clear
          </button>
        </div>
      </div>
    </form>
  );
}
