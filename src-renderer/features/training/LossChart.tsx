export interface LossPoint {
  x: number;
  y: number;
}

interface Series {
  name: string;
  color: string;
  points: LossPoint[];
}

const WIDTH = 560;
const HEIGHT = 200;
const PAD = { left: 44, right: 12, top: 10, bottom: 24 };

/** Loss curves over training steps as a small SVG line chart (axes, ticks, legend). */
export function LossChart({ series, label }: { series: Series[]; label: string }) {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  if (all.length === 0) return <div className="loss-chart empty muted" aria-label={label}>–</div>;
  const xMax = Math.max(1, ...all.map((p) => p.x));
  // The y range ignores the first steps' spikes beyond 4× the median so the curve stays readable.
  const sorted = all.map((p) => p.y).sort((a, b) => a - b);
  const yMax = Math.min(sorted[sorted.length - 1], 4 * sorted[Math.floor(sorted.length / 2)]) || 1;
  const sx = (x: number): number => PAD.left + (x / xMax) * (WIDTH - PAD.left - PAD.right);
  const sy = (y: number): number => PAD.top + (1 - Math.min(y, yMax) / yMax) * (HEIGHT - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  return (
    <figure className="loss-chart" aria-label={label}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={sy(v)} y2={sy(v)} stroke="#e5e9ef" />
            <text x={PAD.left - 6} y={sy(v) + 4} textAnchor="end" fontSize="10" fill="#637083">{v.toPrecision(2)}</text>
          </g>
        ))}
        <text x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end" fontSize="10" fill="#637083">{Math.round(xMax)}</text>
        <text x={PAD.left} y={HEIGHT - 6} fontSize="10" fill="#637083">0</text>
        {series.map((s) => s.points.length > 0 && (
          <g key={s.name} data-series={s.name}>
            <polyline fill="none" stroke={s.color} strokeWidth={s.points.length > 30 ? 1 : 2} points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} />
            {s.points.length <= 30 && s.points.map((p) => <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={2.5} fill={s.color} />)}
          </g>
        ))}
      </svg>
      <figcaption>
        {series.map((s) => <span key={s.name} className="legend"><i style={{ background: s.color }} />{s.name}</span>)}
      </figcaption>
    </figure>
  );
}
