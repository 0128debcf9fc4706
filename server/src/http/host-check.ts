import { isIP } from "node:net";
import { hostname } from "node:os";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { requestHostKey } from "./request-context.js";

export interface HostCheckOptions {
  /** Extra names clients use: exact names, `*.example.com` for its subdomains, or `*` for any. */
  allowedHosts: readonly string[];
  /** The address the server listens on: a name given here is one of its own. */
  listenHost: string;
}

export interface HostCheck {
  /** True when a request naming this `Host` (or `:authority`) may be served. */
  allows(host: string | undefined): boolean;
  /** Why a request for this host is refused, and what to change. */
  refusal(host: string): string;
}

/** "Example.COM.:7070" → "example.com", "[::1]:7070" → "::1". */
export function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  const name = trimmed.startsWith("[") ? trimmed.slice(1, trimmed.indexOf("]")) : trimmed.replace(/:\d*$/, "");
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/**
 * Refuses requests whose Host is a name this server does not know: DNS rebinding makes a
 * page of another site send requests to a loopback server, under that site's name. An IP
 * address as the Host is always allowed: a browser sends one only for a page loaded from
 * that address, and a name that rebinds never arrives as one. Loopback names, the
 * machine's own name and a named listening host are allowed too, so that listening on
 * 0.0.0.0 works at once from other machines by address, and by name once listed.
 */
export function createHostCheck(options: HostCheckOptions): HostCheck {
  const listed = options.allowedHosts.map((host) => host.trim().toLowerCase()).filter(Boolean);
  const anyHost = listed.includes("*");
  const exact = new Set(["localhost", hostName(hostname()), ...listed.filter((h) => !h.startsWith("*."))]);
  if (!isIP(options.listenHost)) exact.add(hostName(options.listenHost));
  const suffixes = [".localhost", ...listed.filter((h) => h.startsWith("*.")).map((h) => h.slice(1))];

  return {
    allows(host) {
      // No Host at all is not a browser: HTTP/1.1 browsers always send one.
      if (anyHost || host === undefined || host === "") return true;
      const name = hostName(host);
      return isIP(name) !== 0 || exact.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
    },
    refusal(host) {
      return (
        `Host ${JSON.stringify(host)} is not a name of this server, refused against DNS rebinding; ` +
        `if clients reach the server by this name, add it to TASKWIRE_ALLOWED_HOSTS (server start --allowed-hosts)`
      );
    },
  };
}

/** Refuses RPCs whose Host the check does not allow, before any handler runs. */
export function hostCheckInterceptor(check: HostCheck): Interceptor {
  return (next) => async (req) => {
    const host = req.contextValues.get(requestHostKey);
    if (host !== undefined && !check.allows(host)) throw new ConnectError(check.refusal(host), Code.PermissionDenied);
    return next(req);
  };
}
