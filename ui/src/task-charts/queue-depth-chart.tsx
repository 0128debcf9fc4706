import { Bar, BarChart, Cell, Tooltip, XAxis, YAxis } from "recharts";
import { ANIMATE, AXIS_LINE, AXIS_TICK, HORIZONTAL_BARS, HOVER_CURSOR } from "./chart-style.js";
import { ChartTooltip } from "./chart-tooltip.js";

interface Depth {
  state: "scheduled" | "pending" | "running";
  runs: number;
}

/**
 * The runs of one task key waiting and in flight now, one bar per state in that state's
 * colour (the badges' colours), so a growing backlog stands out beside the work running.
 */
export function QueueDepthChart(props: { taskKey: string; scheduled: number; pending: number; running: number }) {
  const label = `${props.taskKey}: queue depth now, runs scheduled, pending and running`;
  const depth: Depth[] = [
    { state: "scheduled", runs: props.scheduled },
    { state: "pending", runs: props.pending },
    { state: "running", runs: props.running },
  ];
  return (
    <figure className="task-chart queue-depth" aria-label={label}>
      <figcaption>Queue now</figcaption>
      <BarChart {...HORIZONTAL_BARS} data={depth} title={label}>
        <XAxis type="number" allowDecimals={false} domain={[0, (max: number) => Math.max(1, max)]} tick={AXIS_TICK} axisLine={AXIS_LINE} tickLine={false} />
        <YAxis type="category" dataKey="state" interval={0} width={68} tick={AXIS_TICK} axisLine={false} tickLine={false} />
        <Tooltip
          cursor={HOVER_CURSOR}
          isAnimationActive={ANIMATE}
          content={({ active, payload }) => {
            const row = payload?.[0]?.payload as Depth | undefined;
            if (!active || !row) return null;
            return <ChartTooltip title="now" rows={[{ name: row.state, value: String(row.runs), colour: `var(--${row.state})` }]} />;
          }}
        />
        <Bar dataKey="runs" name="runs" isAnimationActive={ANIMATE} minPointSize={0}>
          {depth.map((row) => (
            <Cell key={row.state} fill={`var(--${row.state})`} className={`bar-${row.state}`} />
          ))}
        </Bar>
      </BarChart>
    </figure>
  );
}
