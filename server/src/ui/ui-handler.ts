import type { Store } from "../store/store.js";
import { renderRunList, renderRunPage } from "./pages.js";

/** The part of a Node response (HTTP/1.1 or HTTP/2) the UI writes to. */
interface Response {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

/**
 * The pages have no scripts and one inline stylesheet: the policy allows exactly that, so
 * injected markup can neither run nor load anything, and no other site may frame them.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

/** The read-only web UI: the list of runs and one page per run, rendered on the server. */
export function createUiHandler(store: Store) {
  return async (res: Response, url: URL): Promise<boolean> => {
    const send = (status: number, html: string) => {
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...UI_SECURITY_HEADERS });
      res.end(html);
    };
    if (url.pathname === "/" || url.pathname === "/task-runs") {
      const { runs } = await store.listRuns({ taskKeys: [], states: [], tag: url.searchParams.get("tag") ?? "", limit: 200 });
      send(200, renderRunList(runs));
      return true;
    }
    const match = /^\/task-runs\/task-run\/([^/]+)$/.exec(url.pathname);
    if (match) {
      const id = decodeURIComponent(match[1]);
      const [run] = await store.getRuns([id]);
      if (!run) {
        send(404, renderRunPage(undefined, [], [], id));
        return true;
      }
      send(200, renderRunPage(run, await store.getHistory(id), await store.listLogs(id, -1, 1000), id));
      return true;
    }
    return false;
  };
}
