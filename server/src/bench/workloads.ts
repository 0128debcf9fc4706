import type { ChildProcess } from "node:child_process";
import type { BenchOptions, BenchSession, BenchSystem } from "./bench-system.js";
import { processCpuSeconds } from "./cpu-seconds.js";
import { peakRssMiB, stopProcess } from "./processes.js";

/** Sizes of the workloads; the environment shortens them for a quick check. */
export const W1_RUNS = Number(process.env.BENCH_W1_RUNS ?? 20_000);
export const W2_ROUNDS = Number(process.env.BENCH_W2_ROUNDS ?? 1_000);
export const W3_SECONDS = Number(process.env.BENCH_W3_SECONDS ?? 20);
const W2_WARM_UP = 50;
const IN_FLIGHT = 64;

/** CPU seconds of each role during one workload. */
export interface CpuSeconds {
  servers: number[];
  database: number | undefined;
  workers: number[];
  producer: number;
}

/** The figures of one workload, as `--json` prints them. */
export interface WorkloadResult {
  workload: "W1" | "W2" | "W3";
  /** Runs the CPU figures are per: all runs of W1 and W2 (warm-up included), the completed runs of W3. */
  runs: number;
  delayRate?: number;
  drainRate?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  /** W3: runs delayed in the window and runs completed in it. */
  produced?: number;
  producedRate?: number;
  completedRate?: number;
  cpu: CpuSeconds;
  /** CPU seconds per 1,000 runs: server(s) summed, database, workers summed, producer; undefined where there is no such process. */
  cpuPer1000: { server: number | undefined; database: number | undefined; worker: number; producer: number };
  peakRssMiB: { servers: number[]; workers: number[]; producer: number };
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** A padding string making a run's parameters about `bytes` long (the number and JSON brackets take about 10). */
export function padding(bytes: number): string {
  return bytes > 0 ? "x".repeat(Math.max(0, bytes - 10)) : "";
}

/**
 * Runs one workload on a fresh session: opens it, measures what `body` does and the CPU of
 * every process until `body` calls `endOfWork` (or returns), and closes it. Worker processes started through `startWorkers`
 * are stopped (after their CPU and memory are read) before the session closes.
 */
async function measure<T extends Partial<WorkloadResult>>(
  system: BenchSystem,
  workload: WorkloadResult["workload"],
  body: (
    session: BenchSession<unknown>,
    startWorkers: (count: number) => Promise<void>,
    endOfWork: () => void,
  ) => Promise<T & { runs: number }>,
): Promise<WorkloadResult> {
  const session = await system.open();
  const workers: { child: ChildProcess; cpuAtStart: number }[] = [];
  const startWorkers = async (count: number) => {
    const started = await Promise.all(Array.from({ length: count }, () => session.startWorker()));
    for (const child of started) workers.push({ child, cpuAtStart: processCpuSeconds(child.pid ?? 0) });
  };
  const serverCpuAtStart = session.serverPids.map(processCpuSeconds);
  const databaseCpuAtStart = session.databaseCpuSeconds();
  const producerAtStart = process.cpuUsage();
  let cpu: CpuSeconds | undefined;
  // Taken when the work ends, before any counting afterwards (W3 reads the runs back).
  const endOfWork = () => {
    const producerUsage = process.cpuUsage(producerAtStart);
    const databaseCpuAtEnd = session.databaseCpuSeconds();
    cpu ??= {
      servers: session.serverPids.map((pid, i) => round3(processCpuSeconds(pid) - serverCpuAtStart[i])),
      database: databaseCpuAtStart === undefined || databaseCpuAtEnd === undefined ? undefined : round3(databaseCpuAtEnd - databaseCpuAtStart),
      workers: workers.map(({ child, cpuAtStart }) => round3(processCpuSeconds(child.pid ?? 0) - cpuAtStart)),
      producer: round3((producerUsage.user + producerUsage.system) / 1e6),
    };
    return cpu;
  };
  try {
    const figures = await body(session, startWorkers, endOfWork);
    const used = endOfWork();
    const per1000 = (seconds: number) => round3((seconds / Math.max(1, figures.runs)) * 1000);
    return {
      ...figures,
      workload,
      cpu: used,
      cpuPer1000: {
        server: used.servers.length === 0 ? undefined : per1000(sum(used.servers)),
        database: used.database === undefined ? undefined : per1000(used.database),
        worker: per1000(sum(used.workers)),
        producer: per1000(used.producer),
      },
      peakRssMiB: {
        servers: session.serverPids.map(peakRssMiB),
        workers: workers.map(({ child }) => peakRssMiB(child.pid ?? 0)),
        producer: Math.round(process.resourceUsage().maxRSS / 1024),
      },
    };
  } finally {
    for (const { child } of workers) await stopProcess(child);
    await session.close();
  }
}

/** Delays runs `IN_FLIGHT` at a time until `count` are delayed or `until()`; returns how many. */
async function produce(
  session: BenchSession<unknown>,
  pad: string,
  count: number,
  until: () => boolean,
  handles?: unknown[],
): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count && !until()) {
        const handle = await session.delay(next++, pad);
        handles?.push(handle);
      }
    }),
  );
  return next;
}

/** W1: W1_RUNS runs delayed (64 in flight) with no worker running, then drained by `options.workers` workers. */
export function w1(system: BenchSystem, options: BenchOptions): Promise<WorkloadResult> {
  return measure(system, "W1", async (session, startWorkers) => {
    const pad = padding(options.payloadBytes);
    const handles: unknown[] = [];
    const t0 = performance.now();
    await produce(session, pad, W1_RUNS, () => false, handles);
    const delayMs = performance.now() - t0;
    const t1 = performance.now();
    await startWorkers(options.workers);
    await session.allDone(handles);
    const drainMs = performance.now() - t1;
    return { runs: W1_RUNS, delayRate: rate(W1_RUNS, delayMs), drainRate: rate(W1_RUNS, drainMs) };
  });
}

/** W2: W2_ROUNDS sequential delay + result round trips with one worker, after 50 to warm up. */
export function w2(system: BenchSystem, options: BenchOptions): Promise<WorkloadResult> {
  return measure(system, "W2", async (session, startWorkers) => {
    const pad = padding(options.payloadBytes);
    await startWorkers(1);
    const latencies: number[] = [];
    for (let i = 0; i < W2_ROUNDS + W2_WARM_UP; i++) {
      const t = performance.now();
      await session.result(await session.delay(i, pad));
      // The first 50 warm up connections and the JIT.
      if (i >= W2_WARM_UP) latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] * 100) / 100;
    return { runs: W2_ROUNDS + W2_WARM_UP, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  });
}

/** W3: W3_SECONDS of producing (64 in flight) while `options.workers` workers consume. */
export function w3(system: BenchSystem, options: BenchOptions): Promise<WorkloadResult> {
  return measure(system, "W3", async (session, startWorkers, endOfWork) => {
    const pad = padding(options.payloadBytes);
    await startWorkers(options.workers);
    const start = Date.now();
    const end = start + W3_SECONDS * 1000;
    const produced = await produce(session, pad, Number.POSITIVE_INFINITY, () => Date.now() >= end);
    endOfWork();
    const completed = await session.completedBetween(start, end, produced);
    return {
      runs: completed,
      produced,
      producedRate: Math.round(produced / W3_SECONDS),
      completedRate: Math.round(completed / W3_SECONDS),
    };
  });
}
