import { connect } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { SubscribeTaskRunsRequestSchema } from "@taskwire/proto";

type Request = MessageInitShape<typeof SubscribeTaskRunsRequestSchema>;

/** One gRPC length-prefixed frame holding `request`. */
function frameOf(request: Request): Buffer {
  const body = toBinary(SubscribeTaskRunsRequestSchema, create(SubscribeTaskRunsRequestSchema, request));
  const frame = Buffer.alloc(5 + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 1);
  frame.set(body, 5);
  return frame;
}

/**
 * A worker that sends Hello and then never reads its stream: HTTP/2 flow control then holds
 * back what the server sends it, as with a worker whose process is wedged in a read loop.
 * Speaks gRPC framing over node:http2 directly, so that nothing reads on its behalf.
 */
export function openUnreadWorker(url: string, hello: { taskKeys: string[]; limit: number }) {
  const session = connect(url);
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": "/taskwire.v1.WorkerService/SubscribeTaskRuns",
    "content-type": "application/grpc+proto",
    te: "trailers",
  });
  stream.on("error", () => {});
  // Never resumed: the stream's buffer fills, then its HTTP/2 window stays closed.
  stream.pause();
  stream.write(frameOf({ message: { case: "hello", value: { protocolVersion: 1, workerId: `unread-${process.pid}`, language: "test", ...hello } } }));
  return {
    /** Sends a message; the worker goes on not reading what comes back. */
    send(request: Request) {
      stream.write(frameOf(request));
    },
    close() {
      stream.destroy();
      session.destroy();
    },
  };
}
