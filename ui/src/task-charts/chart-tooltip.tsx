import type { ReactNode } from "react";

/** A row of a tooltip: a colour swatch, a name and its value. */
export interface TooltipRow {
  name: string;
  value: string;
  colour: string;
}

/**
 * The tooltip every chart shows on hover (and on keyboard focus): Recharts' own is styled
 * inline in light colours, this one by the stylesheet, so it follows dark mode.
 */
export function ChartTooltip({ title, rows }: { title: ReactNode; rows: TooltipRow[] }) {
  return (
    <div className="chart-tooltip" role="status">
      <div className="chart-tooltip-title">{title}</div>
      {rows.map((row) => (
        <div key={row.name} className="chart-tooltip-row">
          <span className="swatch" style={{ background: row.colour }} />
          <span>{row.name}</span>
          <strong>{row.value}</strong>
        </div>
      ))}
    </div>
  );
}
