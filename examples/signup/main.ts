// One command for the whole signup flow: the taskwire server, the two stand-in services,
// two TypeScript workers, the Python worker and the API, as plain processes.
//   npm run example:signup
// Ports: TASKWIRE_SERVER_PORT (7070), PORT (the API, 3000), MAIL_SERVICE_PORT (8025),
// MARKETING_SERVICE_PORT (8026). Data (users.db, workspace.db): SIGNUP_DATA_DIR (./signup-data).
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { exampleDir, pythonCommand, taskwireCommand } from "../shared/paths.js";
import { type ProcessSpec, runProcessGroup } from "../shared/process-group.js";
import { signupServices } from "./services.js";

const ports = {
  taskwire: process.env.TASKWIRE_SERVER_PORT ?? "7070",
  api: process.env.PORT ?? "3000",
  mail: process.env.MAIL_SERVICE_PORT ?? "8025",
  marketing: process.env.MARKETING_SERVICE_PORT ?? "8026",
};
const dataDir = resolve(process.env.SIGNUP_DATA_DIR ?? "signup-data");
mkdirSync(dataDir, { recursive: true });

const shared = {
  TASKWIRE_API_URL: `http://127.0.0.1:${ports.taskwire}`,
  MAIL_SERVICE_URL: `http://127.0.0.1:${ports.mail}`,
  MARKETING_SERVICE_URL: `http://127.0.0.1:${ports.marketing}`,
  USERS_DB: join(dataDir, "users.db"),
  WORKSPACE_DB: join(dataDir, "workspace.db"),
  PYTHONUNBUFFERED: "1",
};
const ownEnv: Record<string, Record<string, string>> = {
  taskwire: { TASKWIRE_SERVER_PORT: ports.taskwire },
  "mail-service": { PORT: ports.mail },
  "marketing-service": { PORT: ports.marketing },
  api: { PORT: ports.api },
};

/** The command as this machine runs it: `taskwire` is the repository's CLI, `python` its venv. */
function resolveCommand([program, ...args]: string[]): { command: string; args: string[] } {
  if (program === "taskwire") {
    const taskwire = taskwireCommand();
    return { command: taskwire.command, args: [...taskwire.args, ...args] };
  }
  if (program === "node") return { command: process.execPath, args };
  if (program === "python") return { command: pythonCommand(), args };
  return { command: program, args };
}

const specs: ProcessSpec[] = signupServices.flatMap((service) =>
  Array.from({ length: service.replicas }, (_, i) => ({
    name: service.replicas > 1 ? `${service.name}-${i + 1}` : service.name,
    ...resolveCommand(service.command),
    cwd: exampleDir(""),
    env: { ...shared, ...ownEnv[service.name] },
    ready: service.ready,
  })),
);

await runProcessGroup(
  specs,
  `try: curl -si -X POST localhost:${ports.api}/users -H 'content-type: application/json' -d '{"email": "ada@example.com", "name": "Ada"}'\n` +
    `mails sent: curl -s localhost:${ports.mail}/messages`,
);
