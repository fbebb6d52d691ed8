import { Bar, CartesianGrid, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis } from 'recharts';
import type { DailyCounts } from '../../../src-main/contract/contract.ts';
import { AXIS, axisLabel, ChartFigure, COLOURS } from '../common/charts.tsx';

const VERDICTS = ['OK', 'REVIEW', 'NG', 'ERROR'] as const;

/** One bar segment, marked with its verdict; days without that verdict draw nothing. */
function Segment(props: { x?: number; y?: number; width?: number; height?: number; fill?: string; verdict: string }) {
  const { x = 0, y = 0, width = 0, height = 0, fill, verdict } = props;
  return height > 0 ? <rect x={x} y={y} width={width} height={height} fill={fill} data-verdict={verdict} /> : <g />;
}

/** Stacked daily counts by verdict, the NG rate as a line on the right axis; counts on hover. */
export function DailyChart({ days, label, rateLabel, dayLabel, countLabel }: { days: DailyCounts[]; label: string; rateLabel: string; dayLabel: string; countLabel: string }) {
  if (days.length === 0) return null;
  const data = days.map((d) => {
    const total = d.OK + d.NG + d.REVIEW + d.ERROR;
    return { ...d, rate: total ? (100 * d.NG) / total : 0 };
  });
  return (
    <ChartFigure className="daily-chart" label={label} height={220}>
      <ComposedChart data={data} margin={{ top: 8, right: 8, bottom: 16, left: 8 }}>
        <CartesianGrid stroke={COLOURS.grid} vertical={false} />
        <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} {...AXIS} label={axisLabel(dayLabel, 'insideBottom')} />
        <YAxis yAxisId="count" allowDecimals={false} {...AXIS} label={axisLabel(countLabel, 'insideLeft', -90)} />
        <YAxis yAxisId="rate" orientation="right" domain={[0, 100]} unit="%" {...AXIS} />
        <Tooltip formatter={(v, name) => (name === rateLabel ? `${Number(v).toFixed(1)} %` : String(v))} />
        <Legend itemSorter={null} verticalAlign="top" height={24} />
        {VERDICTS.map((v) => (
          <Bar key={v} yAxisId="count" dataKey={v} name={v} stackId="verdicts" fill={COLOURS[v]} maxBarSize={40} isAnimationActive={false} shape={(p: object) => <Segment {...p} verdict={v} />} />
        ))}
        <Line yAxisId="rate" className="series-ng-rate" dataKey="rate" name={rateLabel} stroke={COLOURS.ink} strokeWidth={1.5} isAnimationActive={false}
          dot={({ cx, cy, index }: { cx?: number; cy?: number; index?: number }) => <circle key={index} cx={cx} cy={cy} r={days.length <= 31 ? 3 : 0} fill={COLOURS.ink} data-series="ng-rate" />} />
      </ComposedChart>
    </ChartFigure>
  );
}
