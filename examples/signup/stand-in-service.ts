// A stand-in for a third-party HTTP service (the mail provider, the marketing tool): it
// records every POST and de-duplicates nothing, so a task that sends twice is seen twice.
//   node dist/signup/stand-in-service.js mail-service     (PORT=8025)
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import Fastify from "fastify";

const name = process.argv[2] ?? "stand-in";
const port = Number(process.env.PORT ?? 8025);
// A real provider takes tens of milliseconds to answer; so does this one, so that work is
// in flight when a worker dies.
const latencyMs = Number(process.env.STAND_IN_LATENCY_MS ?? 30);
const records = new Map<string, Record<string, unknown>[]>();
const app = Fastify();

app.post<{ Params: { collection: string }; Body: Record<string, unknown> }>("/:collection", async (request, reply) => {
  await sleep(latencyMs);
  const record = { ...request.body, id: randomUUID(), receivedAt: new Date().toISOString() };
  const list = records.get(request.params.collection) ?? [];
  list.push(record);
  records.set(request.params.collection, list);
  return reply.code(201).send(record);
});

// Everything received, or only what carries `?reference=`: what a provider's search offers.
app.get<{ Params: { collection: string }; Querystring: { reference?: string } }>("/:collection", async (request) => {
  const list = records.get(request.params.collection) ?? [];
  const { reference } = request.query;
  return reference === undefined ? list : list.filter((record) => record.reference === reference);
});

await app.listen({ port, host: process.env.HOST ?? "127.0.0.1" });
console.log(`${name} listening on http://127.0.0.1:${port}`);
