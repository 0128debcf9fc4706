/** The cookie that carries the API key for the web UI's own API calls. */
export const API_KEY_COOKIE = "taskwire_api_key";

/**
 * The Set-Cookie value keeping `key` for the browser session (no Max-Age: it ends with
 * the browser); an empty key clears it. HttpOnly: scripts, even injected ones, cannot
 * read it. SameSite=Strict: other sites' pages never send it.
 */
export function apiKeyCookie(key: string, secure: boolean): string {
  const value = key ? encodeURIComponent(key) : "";
  const expiry = key ? "" : "; Max-Age=0";
  return `${API_KEY_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}${expiry}`;
}

/** The API key in a Cookie header, or undefined. */
export function apiKeyFromCookie(header: string | null | undefined): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === API_KEY_COOKIE && value.length > 0) {
      try {
        return decodeURIComponent(value.join("="));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
