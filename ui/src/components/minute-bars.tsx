/**
 * Runs finished per minute as a small stacked bar chart: completed (green) under failed
 * (red), one bar a minute, the newest on the right. Drawn as SVG: two series of at most
 * 60 bars need no chart library, and the page stays one small script.
 */
export function MinuteBars({ completed, failed, label }: { completed: number[]; failed: number[]; label: string }) {
  const width = 240;
  const height = 48;
  const max = Math.max(1, ...completed.map((c, i) => c + (failed[i] ?? 0)));
  const step = width / Math.max(1, completed.length);
  const bar = Math.max(1, step - 1);
  return (
    <figure className="minute-chart">
      <svg className="minute-bars" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} className="axis" />
        {completed.map((c, i) => {
          const f = failed[i] ?? 0;
          const hc = (c / max) * (height - 2);
          const hf = (f / max) * (height - 2);
          return (
            <g key={i}>
              <title>{`${completed.length - i - 1} min ago: ${c} completed, ${f} failed`}</title>
              {c > 0 && <rect x={i * step} y={height - hc} width={bar} height={hc} className="bar-completed" />}
              {f > 0 && <rect x={i * step} y={height - hc - hf} width={bar} height={hf} className="bar-failed" />}
            </g>
          );
        })}
      </svg>
      <figcaption className="axis-labels">
        <span>{completed.length} min ago</span>
        <span>now</span>
      </figcaption>
    </figure>
  );
}
