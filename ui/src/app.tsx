import { lazy, Suspense } from "react";
import { useSignInNeeded } from "./auth-state.js";
import { ConcurrencyLimitsPage } from "./pages/concurrency-limits-page.js";
import { RunPage } from "./pages/run-page.js";
import { RunsPage } from "./pages/runs-page.js";
import { SignInPage } from "./pages/sign-in-page.js";
import { WorkersPage } from "./pages/workers-page.js";
import { Link, useLocation } from "./router.js";

// The Tasks page's charts (Recharts, some 105 kB gzipped) load with that page only: the
// runs list, the page most opened, stays as quick to load as without them.
const TasksPage = lazy(async () => ({ default: (await import("./pages/tasks-page.js")).TasksPage }));

const NAV = [
  { to: "/task-runs", label: "Runs" },
  { to: "/tasks", label: "Tasks" },
  { to: "/workers", label: "Workers" },
  { to: "/concurrency-limits", label: "Concurrency limits" },
];

export function App() {
  const { path } = useLocation();
  const signInNeeded = useSignInNeeded();
  const runId = /^\/task-runs\/task-run\/([^/]+)$/.exec(path)?.[1];
  let page;
  if (signInNeeded || path === "/sign-in") page = <SignInPage />;
  else if (runId) page = <RunPage key={runId} id={decodeURIComponent(runId)} />;
  else if (path === "/tasks") page = <TasksPage />;
  else if (path === "/workers") page = <WorkersPage />;
  else if (path === "/concurrency-limits") page = <ConcurrencyLimitsPage />;
  else page = <RunsPage />;
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/task-runs" className="brand">
          <span className="logo" aria-hidden="true" />
          taskwire
        </Link>
        <nav>
          {NAV.map((item) => (
            <Link key={item.to} to={item.to} className={path.startsWith(item.to) ? "active" : ""}>
              {item.label}
            </Link>
          ))}
        </nav>
      </header>
      <main>
        <Suspense fallback={<p className="muted">Loading…</p>}>{page}</Suspense>
      </main>
    </div>
  );
}
