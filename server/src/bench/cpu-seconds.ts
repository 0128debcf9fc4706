import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime, stime, cutime, cstime of a process in clock ticks; undefined once it has exited. */
function cpuTicks(pid: number | string): { ppid: number; own: number; children: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name, which may hold spaces: state is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  return { ppid: Number(fields[1]), own: utime + stime, children: cutime + cstime };
}

/**
 * CPU seconds (user + system, all threads) a live process has used so far; 0 once it has
 * exited, so read it before stopping the process.
 */
export function processCpuSeconds(pid: number): number {
  return (cpuTicks(pid)?.own ?? 0) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of a process and its children, as a PostgreSQL cluster spends them: the
 * postmaster's own and its reaped children's (backends that have exited), plus those of
 * its live children.
 */
export function processTreeCpuSeconds(parent: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cpu = cpuTicks(entry); // undefined: exited meanwhile
    if (!cpu) continue;
    if (Number(entry) === parent) ticks += cpu.own + cpu.children;
    else if (cpu.ppid === parent) ticks += cpu.own;
  }
  return ticks / TICKS_PER_SECOND;
}
