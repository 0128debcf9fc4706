import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { ANIMATE, AXIS_LINE, AXIS_TICK, GRID_STROKE, HOVER_CURSOR } from "./chart-style.js";
import { ChartTooltip } from "./chart-tooltip.js";

interface Minute {
  /** When the minute starts, in ms since the epoch. */
  start: number;
  completed: number;
  failed: number;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/**
 * Runs finished per minute of the window, stacked: completed under failed, the newest minute
 * on the right, its clock time on the axis. A window with no run still draws its axes (a
 * count axis of 0 to 1), so an idle task reads as idle rather than as a chart that failed.
 */
export function RunsPerMinuteChart(props: { taskKey: string; windowStart: number; completed: number[]; failed: number[] }) {
  const minutes: Minute[] = props.completed.map((completed, i) => ({
    start: props.windowStart + i * 60_000,
    completed,
    failed: props.failed[i] ?? 0,
  }));
  const label = `${props.taskKey}: runs finished per minute, completed and failed`;
  return (
    <figure className="task-chart runs-per-minute" aria-label={label}>
      <figcaption>Finished per minute</figcaption>
      <BarChart
        responsive
        className="chart"
        style={{ width: "100%", height: 110 }}
        data={minutes}
        margin={{ top: 4, right: 4, bottom: 0, left: 0 }}
        barCategoryGap={1}
        title={label}
      >
        <CartesianGrid vertical={false} stroke={GRID_STROKE} />
        <XAxis
          dataKey="start"
          tickFormatter={(start: number) => clock.format(start)}
          tick={AXIS_TICK}
          axisLine={AXIS_LINE}
          tickLine={false}
          minTickGap={24}
        />
        <YAxis allowDecimals={false} domain={[0, (max: number) => Math.max(1, max)]} width={28} tick={AXIS_TICK} axisLine={false} tickLine={false} />
        <Tooltip
          cursor={HOVER_CURSOR}
          isAnimationActive={ANIMATE}
          content={({ active, payload }) => {
            const minute = payload?.[0]?.payload as Minute | undefined;
            if (!active || !minute) return null;
            return (
              <ChartTooltip
                title={`${clock.format(minute.start)}–${clock.format(minute.start + 60_000)}`}
                rows={[
                  { name: "completed", value: String(minute.completed), colour: "var(--completed)" },
                  { name: "failed", value: String(minute.failed), colour: "var(--failed)" },
                ]}
              />
            );
          }}
        />
        <Bar dataKey="completed" name="completed" stackId="finished" fill="var(--completed)" className="bar-completed" isAnimationActive={ANIMATE} />
        <Bar dataKey="failed" name="failed" stackId="finished" fill="var(--failed)" className="bar-failed" isAnimationActive={ANIMATE} />
      </BarChart>
    </figure>
  );
}
