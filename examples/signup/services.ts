/**
 * The processes of the signup flow, each with the command it runs from the `examples/`
 * directory. The launcher (main.ts) runs these as plain processes; compose.yaml runs the
 * same commands in containers, and a test checks that the two agree.
 */
export interface SignupService {
  name: string;
  command: string[];
  /** How many copies run: the two TypeScript workers are one service run twice. */
  replicas: number;
  /** Output that means the process is up. */
  ready: string;
}

export const signupServices: SignupService[] = [
  { name: "taskwire", command: ["taskwire", "server", "start"], replicas: 1, ready: "listening on" },
  { name: "mail-service", command: ["node", "dist/signup/stand-in-service.js", "mail-service"], replicas: 1, ready: "listening on" },
  {
    name: "marketing-service",
    command: ["node", "dist/signup/stand-in-service.js", "marketing-service"],
    replicas: 1,
    ready: "listening on",
  },
  { name: "worker-ts", command: ["node", "dist/signup/worker.js"], replicas: 2, ready: "serving" },
  {
    name: "worker-python",
    command: ["python", "-m", "taskwire", "serve", "signup/workspace_tasks.py:populate_workspace", "--limit", "10"],
    replicas: 1,
    ready: "serving",
  },
  { name: "api", command: ["node", "dist/signup/api.js"], replicas: 1, ready: "signup API listening" },
];
