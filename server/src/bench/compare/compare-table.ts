import type { WorkloadResult } from "../workloads.js";

/** Every round's figures of one system, by workload. */
export interface SystemRounds {
  label: string;
  rounds: WorkloadResult[][];
}

type Figure = { title: string; workload: WorkloadResult["workload"]; pick: (r: WorkloadResult) => number | undefined; digits: number };

const FIGURES: Figure[] = [
  { title: "W1 delay/s", workload: "W1", pick: (r) => r.delayRate, digits: 0 },
  { title: "W1 drain/s", workload: "W1", pick: (r) => r.drainRate, digits: 0 },
  { title: "W2 p50 ms", workload: "W2", pick: (r) => r.p50, digits: 2 },
  { title: "W2 p99 ms", workload: "W2", pick: (r) => r.p99, digits: 2 },
  { title: "W3 completed/s", workload: "W3", pick: (r) => r.completedRate, digits: 0 },
  { title: "W3 produced/s", workload: "W3", pick: (r) => r.producedRate, digits: 0 },
];

const ROLES = ["server", "database", "worker", "producer"] as const;

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function values(system: SystemRounds, workload: WorkloadResult["workload"], pick: (r: WorkloadResult) => number | undefined): number[] {
  return system.rounds.flatMap((round) => round.filter((r) => r.workload === workload).map(pick)).filter((v): v is number => v !== undefined);
}

function range(numbers: number[], digits: number): string {
  if (numbers.length === 0) return "–";
  const low = Math.min(...numbers).toFixed(digits);
  const high = Math.max(...numbers).toFixed(digits);
  return low === high ? low : `${low}–${high}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`;
  return [line(rows[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

/** CPU seconds per 1,000 runs of one role, the mean over rounds; undefined where the role has no process. */
function cpu(system: SystemRounds, workload: WorkloadResult["workload"], role: (typeof ROLES)[number]): number | undefined {
  const numbers = values(system, workload, (r) => r.cpuPer1000[role]);
  return numbers.length === 0 ? undefined : mean(numbers);
}

/**
 * The tables of `npm run bench:compare`: each system's figures over its rounds (lowest–
 * highest), then the first system's mean over each other's (a ratio above 1 is more
 * throughput, or more latency for the W2 columns); then CPU seconds per 1,000 runs.
 */
export function compareTables(systems: SystemRounds[]): string {
  const [first, ...others] = systems;
  const figures: string[][] = [["", ...FIGURES.map((f) => f.title)]];
  for (const system of systems) figures.push([system.label, ...FIGURES.map((f) => range(values(system, f.workload, f.pick), f.digits))]);
  for (const other of others) {
    figures.push([
      `ratio ${first.label.split(" ")[0]}/${other.label.split(" ")[0]}`,
      ...FIGURES.map((f) => (mean(values(first, f.workload, f.pick)) / mean(values(other, f.workload, f.pick))).toFixed(2)),
    ]);
  }
  const cpuRows: string[][] = [["CPU s per 1,000 runs", "workload", ...ROLES, "total"]];
  for (const workload of ["W1", "W2", "W3"] as const) {
    for (const system of systems) {
      const byRole = ROLES.map((role) => cpu(system, workload, role));
      const total = byRole.reduce<number>((a, b) => a + (b ?? 0), 0);
      cpuRows.push([system.label, workload, ...byRole.map((v) => (v === undefined ? "–" : v.toFixed(3))), total.toFixed(3)]);
    }
  }
  return `${table(figures)}\n\n${table(cpuRows)}`;
}
