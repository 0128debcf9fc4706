import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { hasApiKey } from "../auth.js";
import { apiKeyCookie } from "./api-key-cookie.js";
import { readSmallBody } from "./read-small-body.js";

/** The parts of a Node request and response (HTTP/1.1 or HTTP/2) the UI uses. */
interface Request {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}
interface Response {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string | Uint8Array): unknown;
}

export interface UiHandlerOptions {
  /** The built app; default: `ui-dist` of this package, where `npm run build -w ui` puts it. */
  directory?: string;
  /** With a key, the sign-in page sets it as a cookie; see auth.ts. */
  apiKey?: string;
  /** Served over HTTPS: the cookie is marked Secure. */
  secure: boolean;
}

/** Paths the app routes itself; each is answered with index.html. */
const PAGES = [/^\/task-runs$/, /^\/task-runs\/task-run\/[^/]+$/, /^\/tasks$/, /^\/workers$/, /^\/concurrency-limits$/, /^\/sign-in$/];

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/**
 * Set on every answer of the UI. The app is one script and one stylesheet from this
 * origin, so nothing inline is allowed; React sets styles through the CSSOM, which
 * `style-src 'self'` permits.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

// dist/ui/ui-handler.js -> ui-dist/, in the repository and in the installed package alike.
const DEFAULT_DIRECTORY = fileURLToPath(new URL("../../ui-dist/", import.meta.url));

/**
 * The web UI: the built single-page app (static files, index.html for its page paths) and
 * the sign-in endpoints. The app holds no data; everything it shows comes from the API,
 * which checks the API key. Returns false for paths that are not the UI's.
 */
export function createUiHandler(options: UiHandlerOptions) {
  const directory = normalize(options.directory ?? DEFAULT_DIRECTORY);

  async function sendFile(res: Response, path: string, cacheControl: string): Promise<boolean> {
    const file = normalize(join(directory, path));
    if (!file.startsWith(directory.endsWith(sep) ? directory : directory + sep)) return false;
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return false;
    const body = await readFile(file);
    res.writeHead(200, {
      ...UI_SECURITY_HEADERS,
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": String(body.byteLength),
      "cache-control": cacheControl,
    });
    res.end(body);
    return true;
  }

  function send(res: Response, status: number, text: string, headers: Record<string, string> = {}): true {
    res.writeHead(status, { ...UI_SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8", ...headers });
    res.end(text);
    return true;
  }

  return async (req: Request, res: Response, url: URL): Promise<boolean> => {
    const path = url.pathname;
    if (path === "/" && req.method === "GET") return send(res, 302, "see /task-runs\n", { location: "/task-runs" });
    if (path === "/ui/sign-in" || path === "/ui/sign-out") {
      if (req.method !== "POST") return send(res, 405, "use POST\n", { allow: "POST" });
      // A form on another site could post here, but could not send this header.
      if (req.headers["x-taskwire-ui"] !== "1") return send(res, 403, "missing the header x-taskwire-ui: 1\n");
      if (path === "/ui/sign-out") return send(res, 204, "", { "set-cookie": apiKeyCookie("", options.secure) });
      const body = await readSmallBody(req, 4096);
      if (body === undefined) return send(res, 413, "a sign-in body holds one API key, at most 4096 bytes\n");
      const key = body.trim();
      if (!options.apiKey) return send(res, 204, "");
      if (!hasApiKey(key, options.apiKey)) return send(res, 401, "wrong API key\n");
      return send(res, 204, "", { "set-cookie": apiKeyCookie(key, options.secure) });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (path.startsWith("/assets/")) {
      // Vite puts a content hash in every asset's name: a changed file has a new name.
      return sendFile(res, path, "public, max-age=31536000, immutable");
    }
    if (PAGES.some((page) => page.test(path))) {
      if (await sendFile(res, "index.html", "no-cache")) return true;
      return send(res, 503, `the web UI is not built (no ${join(directory, "index.html")}): run npm run build\n`);
    }
    if (/^\/[\w.-]+\.(svg|png|ico)$/.test(path)) return sendFile(res, path, "public, max-age=3600");
    return false;
  };
}
