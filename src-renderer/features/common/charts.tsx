import type { ReactNode } from 'react';
import { ResponsiveContainer } from 'recharts';

/** Colours every chart uses for the same meaning. */
export const COLOURS = {
  OK: '#1a7f37', REVIEW: '#bf8700', NG: '#cf222e', ERROR: '#8b98a8',
  good: '#1a7f37', defective: '#cf222e', precision: '#1f6feb', recall: '#cf222e', ink: '#17202b', grid: '#e5e9ef', muted: '#637083',
} as const;

export const SERIES_COLOURS = ['#1f6feb', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#0a7ea4', '#d1242f', '#6e7781'];

/** Tick text and axis lines in the app's muted ink. */
export const AXIS = { stroke: COLOURS.muted, tick: { fontSize: 11, fill: COLOURS.muted } } as const;

/** An axis title placed along its axis. */
export const axisLabel = (value: string, position: 'insideBottom' | 'insideLeft' | 'insideRight', angle = 0) =>
  ({ value, position, angle, offset: position === 'insideBottom' ? -2 : 10, style: { fontSize: 11, fill: COLOURS.muted, textAnchor: 'middle' } }) as const;

/** Tooltip numbers: counts as they are, fractions to three places. */
export const formatValue = (value: unknown): string =>
  typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : String(value ?? '');

/** A chart that fills its container's width at a fixed height, with an accessible name and a caption. */
export function ChartFigure({ className, label, height, caption, children }: { className: string; label: string; height: number; caption?: ReactNode; children: ReactNode }) {
  return (
    <figure className={`chart ${className}`} aria-label={label}>
      <div className="chart-body" style={{ height }}>
        <ResponsiveContainer width="100%" height="100%" minWidth={0}>{children as never}</ResponsiveContainer>
      </div>
      {caption && <figcaption>{caption}</figcaption>}
    </figure>
  );
}
