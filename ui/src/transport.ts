import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { TaskRunService } from "@taskwire/proto";

/**
 * The Connect API of the server that served this page. Every call carries the header
 * `x-taskwire-ui: 1`: with it, and only with it, the server takes the API key from the
 * sign-in cookie (a page of another site cannot add it without a CORS preflight).
 */
export const transport = createConnectTransport({
  baseUrl: window.location.origin,
  interceptors: [
    (next) => (request) => {
      request.header.set("x-taskwire-ui", "1");
      return next(request);
    },
  ],
});

/** For the server streams, which TanStack Query does not model. */
export const taskRuns = createClient(TaskRunService, transport);
