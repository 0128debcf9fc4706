/**
 * How the Tasks page's charts look, in one place. Colours are the page's CSS variables, so
 * the charts follow dark mode with the rest of the UI without reading styles in script.
 * Chromium resolves var() in SVG presentation attributes, which is all Recharts sets.
 */
export const AXIS_TICK = { fill: "var(--muted)", fontSize: 11 } as const;
export const AXIS_LINE = { stroke: "var(--border)" } as const;
export const GRID_STROKE = "var(--border)";
export const HOVER_CURSOR = { fill: "var(--hover)" } as const;

/** Charts update live a few times a second at most: an animation on each would flicker. */
export const ANIMATE = false;

/** The props both one-row-per-bar charts (queue depth, duration percentiles) share. */
export const HORIZONTAL_BARS = {
  responsive: true,
  className: "chart",
  style: { width: "100%", height: 84 },
  layout: "vertical",
  margin: { top: 0, right: 12, bottom: 0, left: 0 },
  barCategoryGap: 3,
} as const;
