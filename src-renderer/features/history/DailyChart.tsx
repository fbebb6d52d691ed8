import type { DailyCounts } from '../../../src-main/contract/contract.ts';

const W = 640;
const H = 150;
const COLOURS = { OK: '#1a7f37', REVIEW: '#bf8700', NG: '#cf222e', ERROR: '#8b98a8' } as const;

/** Stacked daily counts by verdict with the NG rate as a line (right axis, 0–100 %). */
export function DailyChart({ days, label, rateLabel }: { days: DailyCounts[]; label: string; rateLabel: string }) {
  if (days.length === 0) return null;
  const totals = days.map((d) => d.OK + d.NG + d.REVIEW + d.ERROR);
  const max = Math.max(1, ...totals);
  const slot = W / days.length;
  const bar = Math.max(2, Math.min(40, slot * 0.7));
  const y = (n: number): number => H - (n / max) * H;
  const rate = days.map((d, i) => ({ x: i * slot + slot / 2, r: totals[i] ? d.NG / totals[i] : 0 }));
  return (
    <figure className="mini-chart daily-chart" aria-label={label}>
      <svg viewBox={`0 0 ${W} ${H + 16}`} role="img" aria-label={label}>
        {days.map((d, i) => {
          let base = 0;
          return (
            <g key={d.day} data-day={d.day}>
              {(['OK', 'REVIEW', 'NG', 'ERROR'] as const).map((v) => {
                const top = base + d[v];
                const rect = d[v] ? <rect key={v} x={i * slot + (slot - bar) / 2} width={bar} y={y(top)} height={y(base) - y(top)} fill={COLOURS[v]} data-verdict={v} /> : null;
                base = top;
                return rect;
              })}
              {days.length <= 14 && <text x={i * slot + slot / 2} y={H + 12} fontSize="10" fill="#637083" textAnchor="middle">{d.day.slice(5)}</text>}
            </g>
          );
        })}
        <polyline points={rate.map((p) => `${p.x},${H - p.r * H}`).join(' ')} fill="none" stroke="#17202b" strokeWidth={1.5} data-series="ng-rate" />
        <text x={W - 2} y={10} fontSize="10" fill="#17202b" textAnchor="end">{rateLabel} 100%</text>
      </svg>
      <figcaption>
        {(['OK', 'REVIEW', 'NG', 'ERROR'] as const).map((v) => <span key={v} className="legend"><i style={{ background: COLOURS[v] }} />{v}</span>)}
        <span className="legend"><i style={{ background: '#17202b' }} />{rateLabel}</span>
      </figcaption>
    </figure>
  );
}
