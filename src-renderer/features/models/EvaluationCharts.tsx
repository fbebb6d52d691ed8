import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { ConfusionMatrix, DetectClassMetrics, ImageScores } from '../../../src-main/contract/contract.ts';
import { AXIS, axisLabel, ChartFigure, COLOURS, formatValue, SERIES_COLOURS } from '../common/charts.tsx';
import { useI18n } from '../../i18n/i18n.tsx';

const BINS = 20;
const VERDICTS = ['OK', 'REVIEW', 'NG'] as const;

/** A histogram bar, marked with the kind of image it counts. */
function HistogramBar(props: { x?: number; y?: number; width?: number; height?: number; fill?: string; kind: string }) {
  const { x = 0, y = 0, width = 0, height = 0, fill, kind } = props;
  return <rect x={x} y={y} width={width} height={Math.max(0, height)} fill={fill} data-kind={kind} />;
}

/** Normalised image scores of good and defective images in 20 bins, with the NG and REVIEW thresholds. */
export function ScoreHistogram({ scores }: { scores: ImageScores }) {
  const { t } = useI18n();
  const bin = (v: number): number => Math.max(0, Math.min(BINS - 1, Math.floor(v * BINS)));
  const data = Array.from({ length: BINS }, (_, i) => ({ from: i / BINS, good: 0, defective: 0 }));
  for (const v of scores.good) data[bin(v)].good++;
  for (const v of scores.defective) data[bin(v)].defective++;
  const good = t('datasets.label.good');
  const defective = t('datasets.label.defect');
  return (
    <ChartFigure className="score-histogram" label={t('models.histogram')} height={200} caption={`${t('models.histogram')} · ${good} ${scores.good.length} · ${defective} ${scores.defective.length}`}>
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 16, left: 0 }} barGap={0} barCategoryGap={1}>
        <CartesianGrid stroke={COLOURS.grid} vertical={false} />
        <XAxis dataKey="from" type="category" tickFormatter={(v: number) => v.toFixed(1)} interval={3} {...AXIS} label={axisLabel(t('chart.score'), 'insideBottom')} />
        <YAxis allowDecimals={false} {...AXIS} label={axisLabel(t('chart.images'), 'insideLeft', -90)} />
        <Tooltip labelFormatter={(v) => `${Number(v).toFixed(2)}–${(Number(v) + 1 / BINS).toFixed(2)}`} />
        <Legend itemSorter={null} verticalAlign="top" height={22} />
        <Bar dataKey="good" name={good} fill={COLOURS.good} isAnimationActive={false} shape={(p: object) => <HistogramBar {...p} kind="good" />} />
        <Bar dataKey="defective" name={defective} fill={COLOURS.defective} isAnimationActive={false} shape={(p: object) => <HistogramBar {...p} kind="defective" />} />
        <ReferenceLine x={bin(scores.ng) / BINS} className="threshold-ng" stroke={COLOURS.ink} strokeDasharray="4 3" label={{ value: 'NG', position: 'insideTopRight', fontSize: 10 }} />
        <ReferenceLine x={bin(scores.review) / BINS} className="threshold-review" stroke={COLOURS.REVIEW} strokeDasharray="2 3" />
      </BarChart>
    </ChartFigure>
  );
}

/** Image precision and recall as the NG threshold moves over the normalised score. */
export function ThresholdCurves({ scores }: { scores: ImageScores }) {
  const { t } = useI18n();
  const data = Array.from({ length: 51 }, (_, i) => i / 50).map((cut) => {
    const tp = scores.defective.filter((s) => s >= cut).length;
    const fp = scores.good.filter((s) => s >= cut).length;
    return { cut, precision: tp + fp ? tp / (tp + fp) : 1, recall: scores.defective.length ? tp / scores.defective.length : 0 };
  });
  return (
    <ChartFigure className="threshold-curves" label={t('models.prCurve')} height={200} caption={t('models.prCurve')}>
      <LineChart data={data} margin={{ top: 8, right: 8, bottom: 16, left: 0 }}>
        <CartesianGrid stroke={COLOURS.grid} />
        <XAxis dataKey="cut" type="number" domain={[0, 1]} {...AXIS} label={axisLabel(t('chart.threshold'), 'insideBottom')} />
        <YAxis domain={[0, 1]} {...AXIS} />
        <Tooltip formatter={formatValue} labelFormatter={(v) => `${t('chart.threshold')} ${Number(v).toFixed(2)}`} />
        <Legend itemSorter={null} verticalAlign="top" height={22} />
        <Line className="series-precision" dataKey="precision" name={t('chart.precision')} stroke={COLOURS.precision} strokeWidth={2} dot={false} isAnimationActive={false} />
        <Line className="series-recall" dataKey="recall" name={t('chart.recall')} stroke={COLOURS.recall} strokeWidth={2} dot={false} isAnimationActive={false} />
        <ReferenceLine x={scores.ng} className="threshold-ng" stroke={COLOURS.ink} strokeDasharray="4 3" />
      </LineChart>
    </ChartFigure>
  );
}

/** A detector's box precision against recall at IoU ≥ 0.5, one curve per class. */
export function ClassCurves({ classes }: { classes: Record<string, DetectClassMetrics> }) {
  const { t } = useI18n();
  const entries = Object.entries(classes).filter(([, c]) => c.boxes > 0);
  return (
    <ChartFigure className="class-curves" label={t('models.classPrCurves')} height={220} caption={t('models.classPrCurves')}>
      <LineChart margin={{ top: 8, right: 8, bottom: 16, left: 0 }}>
        <CartesianGrid stroke={COLOURS.grid} />
        <XAxis dataKey="recall" type="number" domain={[0, 1]} {...AXIS} label={axisLabel(t('chart.recall'), 'insideBottom')} />
        <YAxis type="number" domain={[0, 1]} {...AXIS} label={axisLabel(t('chart.precision'), 'insideLeft', -90)} />
        <Tooltip formatter={formatValue} labelFormatter={(v) => `${t('chart.recall')} ${Number(v).toFixed(2)}`} />
        <Legend itemSorter={null} verticalAlign="top" height={22} />
        {entries.map(([name, c], k) => (
          <Line
            key={name} className="class-curve" data={c.curve.recall.map((recall, i) => ({ recall, precision: c.curve.precision[i] }))} dataKey="precision"
            name={`${name} AP ${c.ap50.toFixed(2)}`} stroke={SERIES_COLOURS[k % SERIES_COLOURS.length]} strokeWidth={2} dot={false} isAnimationActive={false}
          />
        ))}
      </LineChart>
    </ChartFigure>
  );
}

/** A confusion matrix as a table, each cell shaded by its share of its row. */
export function ConfusionTable({ matrix, label, testId }: { matrix: ConfusionMatrix & { columns?: string[] }; label: string; testId: string }) {
  const { t } = useI18n();
  const columns = matrix.columns ?? matrix.labels;
  const name = (l: string): string => (l === 'background' ? t('models.background') : l);
  return (
    <table className="table compact confusion" aria-label={label} data-testid={testId}>
      <caption>{label}</caption>
      <thead><tr><th>{t('models.truth')} \ {t('models.predicted')}</th>{columns.map((c) => <th key={c}>{name(c)}</th>)}</tr></thead>
      <tbody>
        {matrix.labels.map((row, r) => {
          const total = matrix.counts[r].reduce((a, b) => a + b, 0);
          return (
            <tr key={row}>
              <th scope="row">{name(row)}</th>
              {matrix.counts[r].map((n, c) => (
                <td key={columns[c]} data-cell={`${row}|${columns[c]}`} style={{ background: total ? `rgba(31, 111, 235, ${(0.6 * n) / total})` : undefined }} title={total ? `${((100 * n) / total).toFixed(1)} %` : undefined}>{n}</td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Good and defective images against the verdict their normalised score gets at the model's thresholds. */
export function verdictConfusion(scores: ImageScores, goodLabel: string, defectLabel: string): ConfusionMatrix & { columns: string[] } {
  const verdictOf = (s: number): number => (s >= scores.ng ? 2 : s >= scores.review ? 1 : 0);
  const count = (values: number[]): number[] => values.reduce((row, s) => (row[verdictOf(s)]++, row), [0, 0, 0]);
  return { labels: [goodLabel, defectLabel], columns: [...VERDICTS], counts: [count(scores.good), count(scores.defective)] };
}
