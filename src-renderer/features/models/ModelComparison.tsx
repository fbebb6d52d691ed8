import { Fragment, useEffect, useState } from 'react';
import type { AnomalyMetrics, DatasetSummary, DetectClassMetrics, DetectMetrics, ImageScores, JobStatus, ModelVersionSummary, SegmentMetrics, Split } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { JobProgress } from '../common/JobProgress.tsx';
import { errorText } from '../../i18n/engine-errors.ts';

/** What an evaluation job returns: every mode's metrics, segmentation's and detection's where the model has them. */
type Evaluation = AnomalyMetrics & Partial<Pick<SegmentMetrics, 'mean_box_ap50' | 'pixel_iou'>> & Partial<Pick<DetectMetrics, 'coco_map' | 'per_class'>> & { image_scores: ImageScores };

const ROWS: { key: keyof Evaluation; label: string }[] = [
  { key: 'image_auroc', label: 'models.imageAurocShort' }, { key: 'image_auroc_same_size', label: 'models.imageAurocSameSize' },
  { key: 'image_auroc_within_group', label: 'models.imageAurocWithinGroup' },
  { key: 'pixel_auroc', label: 'models.pixelAurocShort' },
  { key: 'precision', label: 'models.precision' }, { key: 'recall', label: 'models.recall' }, { key: 'f1', label: 'F1' },
  { key: 'false_reject_rate', label: 'models.falseRejectsShort' }, { key: 'miss_rate', label: 'models.missRate' },
  { key: 'peak_on_defect_rate', label: 'models.peakOnDefect' },
  { key: 'mean_box_ap50', label: 'models.boxAp' }, { key: 'coco_map', label: 'models.cocoMap' }, { key: 'ms_per_image', label: 'models.msPerImage' },
];
const BINS = 20;

/** The groups (cameras) either evaluation measured on its own, in name order. */
function groupsOf(...evaluations: Evaluation[]): string[] {
  return [...new Set(evaluations.flatMap((e) => Object.keys(e.image_auroc_by_group ?? {})))].sort();
}

/** The classes either detection evaluation measured, in name order. */
function classesOf(...evaluations: Evaluation[]): string[] {
  return [...new Set(evaluations.flatMap((e) => Object.keys(e.per_class ?? {})))].sort();
}

async function evaluate(modelId: number, datasetId: number, split: Split, onJob: (job: JobStatus | null) => void): Promise<Evaluation> {
  let job: JobStatus = await api.evaluateModel({ modelId, datasetId, split });
  onJob(job);
  while (job.state === 'running') {
    await new Promise((r) => setTimeout(r, 500));
    job = await api.getJob({ jobId: job.id });
    onJob(job);
  }
  onJob(null);
  if (job.state !== 'succeeded') throw new Error(errorText(job.error) || 'evaluation failed');
  return job.result as Evaluation;
}

/** Two versions evaluated on the same split: metrics side by side, score histograms with thresholds, precision/recall vs threshold. */
export function ModelComparison({ models, datasets }: { models: ModelVersionSummary[]; datasets: DatasetSummary[] }) {
  const { t } = useI18n();
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [split, setSplit] = useState<Split>('test');
  const [running, setRunning] = useState(false);
  const [job, setJob] = useState<JobStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ a: ModelVersionSummary; b: ModelVersionSummary; ea: Evaluation; eb: Evaluation } | null>(null);
  useEffect(() => {
    if (a === null && models.length > 1) [setA, setB].forEach((set, i) => set(models[i].id));
    if (datasetId === null && datasets.length) setDatasetId(datasets[0].id);
  }, [models, datasets]);

  const compare = async (): Promise<void> => {
    if (a === null || b === null || datasetId === null) return;
    setRunning(true);
    setError(null);
    try {
      const ea = await evaluate(a, datasetId, split, setJob);
      const eb = await evaluate(b, datasetId, split, setJob);
      setResult({ a: models.find((m) => m.id === a)!, b: models.find((m) => m.id === b)!, ea, eb });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setRunning(false);
    }
  };
  const format = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–');
  const choose = (value: number | null, set: (id: number) => void, name: string) => (
    <label>{name}
      <select value={value ?? ''} onChange={(e) => set(Number(e.target.value))}>
        {models.map((m) => <option key={m.id} value={m.id}>#{m.id} {m.name}</option>)}
      </select>
    </label>
  );

  return (
    <div className="card comparison" aria-label={t('models.compare')}>
      <h2>{t('models.compare')}</h2>
      <div className="comparison-form">
        {choose(a, setA, t('models.versionA'))}
        {choose(b, setB, t('models.versionB'))}
        <label>{t('training.dataset')}
          <select value={datasetId ?? ''} onChange={(e) => setDatasetId(Number(e.target.value))}>
            {datasets.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
        </label>
        <label>{t('datasets.filter.split')}
          <select value={split} onChange={(e) => setSplit(e.target.value as Split)}>
            {(['test', 'val', 'train'] as const).map((s) => <option key={s} value={s}>{t(`datasets.split.${s}`)}</option>)}
          </select>
        </label>
        <button className="primary" disabled={running || a === null || b === null || a === b} onClick={() => void compare()}>{running ? t('models.comparing') : t('models.compareRun')}</button>
        <JobProgress job={job} />
      </div>
      {error && <p className="notice error" role="alert">{error}</p>}
      {result && (
        <>
          <table className="table compact" aria-label={t('models.comparisonTable')}>
            <thead><tr><th /><th>#{result.a.id} {result.a.name}</th><th>#{result.b.id} {result.b.name}</th></tr></thead>
            <tbody>
              {ROWS.map((row) => (
                <Fragment key={row.key}>
                  <tr>
                    <td>{row.label.startsWith('models.') ? t(row.label as never) : row.label}</td>
                    <td>{format(result.ea[row.key])}</td>
                    <td>{format(result.eb[row.key])}</td>
                  </tr>
                  {row.key === 'mean_box_ap50' && classesOf(result.ea, result.eb).map((name) => (
                    <tr key={name} className="sub-row" data-testid={`class-ap-${name}`}>
                      <td>{t('models.classAp', { name })}</td>
                      <td>{format(result.ea.per_class?.[name]?.ap50)}</td>
                      <td>{format(result.eb.per_class?.[name]?.ap50)}</td>
                    </tr>
                  ))}
                  {row.key === 'image_auroc_within_group' && groupsOf(result.ea, result.eb).map((group) => (
                    <tr key={group} className="sub-row">
                      <td>{t('models.imageAurocAtGroup', { group })}</td>
                      <td>{format(result.ea.image_auroc_by_group?.[group])}</td>
                      <td>{format(result.eb.image_auroc_by_group?.[group])}</td>
                    </tr>
                  ))}
                </Fragment>
              ))}
            </tbody>
          </table>
          <div className="comparison-charts">
            {([['a', result.a, result.ea], ['b', result.b, result.eb]] as const).map(([key, model, e]) => (
              <div key={key}>
                <h3>#{model.id} {model.name}</h3>
                <ScoreHistogram scores={e.image_scores} label={t('models.histogram')} goodLabel={t('datasets.label.good')} defectLabel={t('datasets.label.defect')} />
                <PrecisionRecall scores={e.image_scores} label={t('models.prCurve')} />
                {e.per_class && <ClassCurves classes={e.per_class} label={t('models.classPrCurves')} />}
              </div>
            ))}
          </div>
        </>
      )}
    </div>
  );
}

const W = 320;
const H = 140;

function ScoreHistogram({ scores, label, goodLabel, defectLabel }: { scores: ImageScores; label: string; goodLabel: string; defectLabel: string }) {
  const count = (values: number[]): number[] => {
    const bins = new Array(BINS).fill(0);
    for (const v of values) bins[Math.min(BINS - 1, Math.floor(v * BINS))]++;
    return bins;
  };
  const good = count(scores.good);
  const bad = count(scores.defective);
  const max = Math.max(1, ...good, ...bad);
  const bw = W / BINS;
  return (
    <figure className="mini-chart" aria-label={label}>
      <svg viewBox={`0 0 ${W} ${H + 14}`} role="img" aria-label={label}>
        {good.map((n, i) => <rect key={`g${i}`} x={i * bw + 1} width={bw / 2 - 1} y={H - (n / max) * H} height={(n / max) * H} fill="#1a7f37" data-kind="good" />)}
        {bad.map((n, i) => <rect key={`d${i}`} x={i * bw + bw / 2} width={bw / 2 - 1} y={H - (n / max) * H} height={(n / max) * H} fill="#cf222e" data-kind="defective" />)}
        <line x1={scores.ng * W} x2={scores.ng * W} y1={0} y2={H} stroke="#17202b" strokeDasharray="4 3" data-threshold="ng" />
        <line x1={scores.review * W} x2={scores.review * W} y1={0} y2={H} stroke="#bf8700" strokeDasharray="2 3" data-threshold="review" />
        <text x={2} y={H + 12} fontSize="10" fill="#637083">0</text>
        <text x={W - 2} y={H + 12} fontSize="10" fill="#637083" textAnchor="end">1</text>
        <text x={scores.ng * W + 3} y={10} fontSize="10">NG</text>
      </svg>
      <figcaption><span className="legend"><i style={{ background: '#1a7f37' }} />{goodLabel} ({scores.good.length})</span><span className="legend"><i style={{ background: '#cf222e' }} />{defectLabel} ({scores.defective.length})</span></figcaption>
    </figure>
  );
}

function PrecisionRecall({ scores, label }: { scores: ImageScores; label: string }) {
  const points = Array.from({ length: 51 }, (_, i) => i / 50).map((cut) => {
    const tp = scores.defective.filter((s) => s >= cut).length;
    const fp = scores.good.filter((s) => s >= cut).length;
    return { cut, precision: tp + fp ? tp / (tp + fp) : 1, recall: scores.defective.length ? tp / scores.defective.length : 0 };
  });
  const path = (key: 'precision' | 'recall'): string => points.map((p) => `${p.cut * W},${H - p[key] * H}`).join(' ');
  return (
    <figure className="mini-chart" aria-label={label}>
      <svg viewBox={`0 0 ${W} ${H + 14}`} role="img" aria-label={label}>
        <polyline points={path('precision')} fill="none" stroke="#1f6feb" strokeWidth={2} data-series="precision" />
        <polyline points={path('recall')} fill="none" stroke="#cf222e" strokeWidth={2} data-series="recall" />
        <line x1={scores.ng * W} x2={scores.ng * W} y1={0} y2={H} stroke="#17202b" strokeDasharray="4 3" />
        <text x={2} y={H + 12} fontSize="10" fill="#637083">0</text>
        <text x={W - 2} y={H + 12} fontSize="10" fill="#637083" textAnchor="end">1</text>
      </svg>
      <figcaption><span className="legend"><i style={{ background: '#1f6feb' }} />Precision</span><span className="legend"><i style={{ background: '#cf222e' }} />Recall</span> · {label}</figcaption>
    </figure>
  );
}

const CLASS_COLOURS = ['#1f6feb', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#0a7ea4', '#d1242f', '#6e7781'];

/** A detector's box precision against recall, one curve per class (IoU ≥ 0.5). */
function ClassCurves({ classes, label }: { classes: Record<string, DetectClassMetrics>; label: string }) {
  const entries = Object.entries(classes).filter(([, c]) => c.boxes > 0);
  return (
    <figure className="mini-chart" aria-label={label}>
      <svg viewBox={`0 0 ${W} ${H + 14}`} role="img" aria-label={label}>
        {entries.map(([name, c], k) => (
          <polyline key={name} points={c.curve.recall.map((r, i) => `${r * W},${H - c.curve.precision[i] * H}`).join(' ')} fill="none" stroke={CLASS_COLOURS[k % CLASS_COLOURS.length]} strokeWidth={2} data-class={name} />
        ))}
        <text x={2} y={H + 12} fontSize="10" fill="#637083">recall 0</text>
        <text x={W - 2} y={H + 12} fontSize="10" fill="#637083" textAnchor="end">1</text>
      </svg>
      <figcaption>{entries.map(([name, c], k) => <span key={name} className="legend"><i style={{ background: CLASS_COLOURS[k % CLASS_COLOURS.length] }} />{name} AP {c.ap50.toFixed(2)}</span>)} · {label}</figcaption>
    </figure>
  );
}
