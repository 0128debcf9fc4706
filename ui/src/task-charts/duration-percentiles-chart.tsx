import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { formatDuration } from "../components/time-format.js";
import { ANIMATE, AXIS_LINE, AXIS_TICK, GRID_STROKE, HORIZONTAL_BARS, HOVER_CURSOR } from "./chart-style.js";
import { ChartTooltip } from "./chart-tooltip.js";

interface Percentile {
  name: string;
  ms: number;
}

/**
 * p50, p95 and p99 of the durations of the runs completed in the window, as horizontal bars
 * on one time axis, so a long tail shows as a long p99 bar. With no completed run there is
 * nothing to draw: the chart says so instead of drawing three zero bars that read "0 ms".
 */
/** The axis's end: 1, 2 or 5 times a power of ten milliseconds, at least 1 ms. */
function roundUp(maxMs: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, maxMs)));
  return [1, 2, 5, 10].map((step) => step * power).find((end) => end >= maxMs) ?? 10 * power;
}

export function DurationPercentilesChart(props: { taskKey: string; completed: number; p50: number; p95: number; p99: number }) {
  const label = `${props.taskKey}: run duration percentiles, last hour`;
  const percentiles: Percentile[] = [
    { name: "p50", ms: props.p50 * 1000 },
    { name: "p95", ms: props.p95 * 1000 },
    { name: "p99", ms: props.p99 * 1000 },
  ];
  return (
    <figure className="task-chart duration-percentiles" aria-label={label}>
      <figcaption>Duration</figcaption>
      {props.completed === 0 ? (
        <p className="chart-empty muted">No run completed in the window.</p>
      ) : (
        <BarChart {...HORIZONTAL_BARS} data={percentiles} title={label}>
          <CartesianGrid horizontal={false} stroke={GRID_STROKE} />
          <XAxis
            type="number"
            dataKey="ms"
            // Whole milliseconds from 0 to a round duration (a run under a millisecond
            // still gets an axis to read against), so no two ticks read the same.
            domain={[0, roundUp]}
            allowDecimals={false}
            tickFormatter={formatDuration}
            tick={AXIS_TICK}
            axisLine={AXIS_LINE}
            tickLine={false}
            tickCount={3}
          />
          <YAxis type="category" dataKey="name" interval={0} width={32} tick={AXIS_TICK} axisLine={false} tickLine={false} />
          <Tooltip
            cursor={HOVER_CURSOR}
            isAnimationActive={ANIMATE}
            content={({ active, payload }) => {
              const percentile = payload?.[0]?.payload as Percentile | undefined;
              if (!active || !percentile) return null;
              return <ChartTooltip title={`${percentile.name} of ${props.completed} completed`} rows={[{ name: "took", value: formatDuration(percentile.ms), colour: "var(--running)" }]} />;
            }}
          />
          {/* A sliver for 0 ms, so each percentile has a bar to hover. */}
          <Bar dataKey="ms" name="duration" fill="var(--running)" className="bar-duration" minPointSize={2} isAnimationActive={ANIMATE} />
        </BarChart>
      )}
    </figure>
  );
}
