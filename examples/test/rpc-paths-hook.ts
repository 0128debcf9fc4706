import { writeFileSync } from "node:fs";
import { join } from "node:path";

// A module for `node --import` that prints `rpc <path>` on stderr for every HTTP/2 request
// the process makes: the gRPC/Connect calls of a taskwire client, seen from the outside,
// without changing the program under test. syncBuiltinESMExports makes the patched
// `connect` what an `import { connect } from "node:http2"` sees too.
const HOOK = `import http2 from "node:http2";
import { syncBuiltinESMExports } from "node:module";
const connect = http2.connect;
http2.connect = function (...args) {
  const session = connect.apply(this, args);
  const request = session.request.bind(session);
  session.request = (headers, ...rest) => {
    process.stderr.write("rpc " + headers[":path"] + "\\n");
    return request(headers, ...rest);
  };
  return session;
};
syncBuiltinESMExports();
`;

/** Writes the hook into `dir` and returns its path, for `node --import <path>`. */
export function writeRpcPathsHook(dir: string): string {
  const path = join(dir, "rpc-paths-hook.mjs");
  writeFileSync(path, HOOK);
  return path;
}

/** The RPC paths a process printed with the hook, in order. */
export function rpcPathsIn(stderr: string): string[] {
  return [...stderr.matchAll(/^rpc (\S+)$/gm)].map((match) => match[1]);
}
