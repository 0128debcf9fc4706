import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { signedIn } from "../auth-state.js";
import { navigate, useLocation } from "../router.js";

/**
 * Asks for the server's API key once. The key goes in the body of a POST, never in a URL;
 * the server answers with an HttpOnly, SameSite=Strict cookie that the app's API calls
 * carry for the rest of the browser session.
 */
export function SignInPage() {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const queryClient = useQueryClient();
  const { path } = useLocation();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const response = await fetch("/ui/sign-in", {
        method: "POST",
        headers: { "content-type": "text/plain", "x-taskwire-ui": "1" },
        body: key,
      });
      if (response.status === 401) setError("That is not this server's API key.");
      else if (!response.ok) setError(`The server answered ${response.status}: ${await response.text()}`);
      else {
        signedIn();
        if (path === "/sign-in") navigate("/task-runs", { replace: true });
        await queryClient.invalidateQueries();
      }
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="sign-in">
      <form className="card" onSubmit={(event) => void submit(event)}>
        <h1>Sign in</h1>
        <p className="muted">This server needs its API key (TASKWIRE_API_KEY). It is kept for this browser session only.</p>
        <label>
          <span>API key</span>
          <input name="api-key" type="password" autoComplete="current-password" autoFocus required value={key} onChange={(e) => setKey(e.target.value)} />
        </label>
        {error ? <p className="error-text">{error}</p> : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </section>
  );
}
