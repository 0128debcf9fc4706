// The signup API: stores the user, defers the side effects to task workers, answers at once.
//   PORT=3000 USERS_DB=users.db TASKWIRE_API_URL=http://127.0.0.1:7070 node dist/signup/api.js
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import { enrollInOnboarding, populateWorkspace, sendConfirmationEmail } from "./tasks.js";
import type { User } from "./user.js";
import { createUsersStore } from "./users-store.js";
import { validateSignup } from "./validate-signup.js";

const port = Number(process.env.PORT ?? 3000);
const users = createUsersStore(process.env.USERS_DB ?? "users.db");
const app = Fastify();

app.post("/users", async (request, reply) => {
  const signup = validateSignup(request.body);
  if ("error" in signup) return reply.code(400).send(signup);
  const user: User = { id: randomUUID(), ...signup };
  if (!users.insert(user)) return reply.code(409).send({ field: "email", error: `email: ${user.email} has signed up already` });
  try {
    // Each key names the side effect for this user: a retried request, or a second
    // schedule for any reason, finds the run that exists instead of making another.
    const [email, onboarding, workspace] = await Promise.all([
      sendConfirmationEmail.applyAsync([user], { idempotencyKey: `welcome-email:${user.id}` }),
      enrollInOnboarding.applyAsync([user], { idempotencyKey: `onboarding:${user.id}` }),
      populateWorkspace.applyAsync([user], { idempotencyKey: `workspace:${user.id}` }),
    ]);
    return reply.code(201).send({ ...user, runs: { email: email.id, onboarding: onboarding.id, workspace: workspace.id } });
  } catch (error) {
    // No half-made signups: without its runs the user would never get a mail or a workspace.
    users.remove(user.id);
    request.log.error(error);
    return reply.code(503).send({ error: "the task queue is unreachable; nothing was stored, try again" });
  }
});

app.get<{ Params: { id: string } }>("/users/:id", async (request, reply) => {
  const user = users.get(request.params.id);
  return user ? user : reply.code(404).send({ error: `no user ${request.params.id}` });
});

await app.listen({ port, host: process.env.HOST ?? "127.0.0.1" });
console.log(`signup API listening on http://127.0.0.1:${port}`);
