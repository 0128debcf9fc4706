/** The two methods of a Node response (HTTP/1.1 or HTTP/2) that write header fields. */
interface HeaderWriter {
  writeHead(...args: never[]): unknown;
  addTrailers(headers: never): void;
}

type Headers = Record<string, string | string[] | number | undefined>;

/**
 * The gRPC spec percent-encodes only the bytes of `grpc-message` outside 0x20–0x7E, and
 * '%'. connect-node encodes it with encodeURIComponent, which also escapes ':', ',' and
 * '/'; grpc-js decodes with decodeURI, which leaves those escaped, so its users read
 * "API key%3A missing". Re-encoding as the spec says reads right with both decoders.
 */
export function specGrpcMessage(encoded: string): string {
  let message: string;
  try {
    message = decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function respell(headers: unknown): void {
  if (!headers || typeof headers !== "object" || Array.isArray(headers)) return;
  const record = headers as Headers;
  const value = record["grpc-message"];
  if (typeof value === "string") record["grpc-message"] = specGrpcMessage(value);
}

/** Makes the `grpc-message` this response writes (in headers or trailers) follow the gRPC spec. */
export function sendReadableGrpcMessages(res: HeaderWriter): void {
  const writeHead = res.writeHead as (...args: unknown[]) => unknown;
  const addTrailers = res.addTrailers as (headers: Headers) => void;
  res.writeHead = function (this: HeaderWriter, ...args: unknown[]) {
    respell(args[args.length - 1]);
    return writeHead.apply(this, args);
  } as HeaderWriter["writeHead"];
  res.addTrailers = function (this: HeaderWriter, headers: Headers) {
    respell(headers);
    addTrailers.call(this, headers);
  } as HeaderWriter["addTrailers"];
}
