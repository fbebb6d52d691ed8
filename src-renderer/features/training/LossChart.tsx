import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS, axisLabel, ChartFigure, COLOURS, formatValue } from '../common/charts.tsx';

export interface LossPoint {
  x: number;
  y: number;
}

interface Series {
  name: string;
  color: string;
  points: LossPoint[];
}

/**
 * Loss curves over training steps, values on hover. The y range ignores the first steps' spikes
 * beyond 4× the median so the curve stays readable.
 */
export function LossChart({ series, label, stepLabel, lossLabel }: { series: Series[]; label: string; stepLabel: string; lossLabel: string }) {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  if (all.length === 0) return <div className="loss-chart empty muted" aria-label={label}>–</div>;
  const sorted = all.map((p) => p.y).sort((a, b) => a - b);
  const yMax = Math.min(sorted[sorted.length - 1], 4 * sorted[Math.floor(sorted.length / 2)]) || 1;
  return (
    <ChartFigure className="loss-chart" label={label} height={240}>
      <LineChart margin={{ top: 8, right: 16, bottom: 16, left: 8 }}>
        <CartesianGrid stroke={COLOURS.grid} />
        <XAxis type="number" dataKey="x" domain={[0, 'dataMax']} allowDecimals={false} {...AXIS} label={axisLabel(stepLabel, 'insideBottom')} />
        <YAxis type="number" domain={[0, yMax]} allowDataOverflow tickFormatter={(v: number) => v.toPrecision(2)} {...AXIS} label={axisLabel(lossLabel, 'insideLeft', -90)} />
        <Tooltip formatter={formatValue} labelFormatter={(x) => `${stepLabel} ${Math.round(Number(x))}`} />
        <Legend itemSorter={null} verticalAlign="top" height={24} iconType="plainline" />
        {series.filter((s) => s.points.length > 0).map((s) => (
          <Line
            key={s.name} className={`series-${s.name.replace(/\W+/g, '-').toLowerCase()}`} data={s.points} dataKey="y" name={s.name} stroke={s.color}
            strokeWidth={s.points.length > 30 ? 1 : 2} isAnimationActive={false}
            dot={s.points.length <= 30 ? ({ cx, cy, index }: { cx?: number; cy?: number; index?: number }) => <circle key={index} cx={cx} cy={cy} r={2.5} fill={s.color} data-series={s.name} /> : false}
          />
        ))}
      </LineChart>
    </ChartFigure>
  );
}
