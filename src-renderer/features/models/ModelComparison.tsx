import { Fragment, useEffect, useState } from 'react';
import type { AnomalyMetrics, DatasetSummary, DetectMetrics, ImageScores, JobStatus, ModelVersionSummary, SegmentMetrics, Split } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { JobProgress } from '../common/JobProgress.tsx';
import { errorText } from '../../i18n/engine-errors.ts';
import { ClassCurves, ConfusionTable, ScoreHistogram, ThresholdCurves, verdictConfusion } from './EvaluationCharts.tsx';

/** What an evaluation job returns: every mode's metrics, segmentation's and detection's where the model has them. */
type Evaluation = AnomalyMetrics & Partial<Pick<SegmentMetrics, 'mean_box_ap50' | 'pixel_iou'>> & Partial<Pick<DetectMetrics, 'coco_map' | 'per_class' | 'box_confusion'>> & { image_scores: ImageScores };

const ROWS: { key: keyof Evaluation; label: string }[] = [
  { key: 'image_auroc', label: 'models.imageAurocShort' }, { key: 'image_auroc_same_size', label: 'models.imageAurocSameSize' },
  { key: 'image_auroc_within_group', label: 'models.imageAurocWithinGroup' },
  { key: 'pixel_auroc', label: 'models.pixelAurocShort' },
  { key: 'precision', label: 'models.precision' }, { key: 'recall', label: 'models.recall' }, { key: 'f1', label: 'F1' },
  { key: 'false_reject_rate', label: 'models.falseRejectsShort' }, { key: 'miss_rate', label: 'models.missRate' },
  { key: 'peak_on_defect_rate', label: 'models.peakOnDefect' },
  { key: 'mean_box_ap50', label: 'models.boxAp' }, { key: 'coco_map', label: 'models.cocoMap' }, { key: 'ms_per_image', label: 'models.msPerImage' },
];

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

/**
 * One version evaluated on a split, or two side by side on the same split: metrics, score
 * histograms with thresholds, precision/recall vs threshold, confusion matrices, and a detector's
 * per-class precision–recall curves.
 */
export function ModelComparison({ models, datasets }: { models: ModelVersionSummary[]; datasets: DatasetSummary[] }) {
  const { t } = useI18n();
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [split, setSplit] = useState<Split>('test');
  const [running, setRunning] = useState(false);
  const [job, setJob] = useState<JobStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ evaluated: { model: ModelVersionSummary; evaluation: Evaluation }[] } | null>(null);
  useEffect(() => {
    if (a === null && models.length > 0) setA(models[0].id);
    if (b === null && models.length > 1) setB(models[1].id);
    if (datasetId === null && datasets.length) setDatasetId(datasets[0].id);
  }, [models, datasets]);

  const compare = async (): Promise<void> => {
    if (a === null || datasetId === null) return;
    setRunning(true);
    setError(null);
    try {
      const evaluated = [];
      for (const id of b === null ? [a] : [a, b]) evaluated.push({ model: models.find((m) => m.id === id)!, evaluation: await evaluate(id, datasetId, split, setJob) });
      setResult({ evaluated });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setRunning(false);
    }
  };
  const evaluations = result?.evaluated.map((e) => e.evaluation) ?? [];
  const format = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–');
  const choose = (value: number | null, set: (id: number | null) => void, name: string, optional = false) => (
    <label>{name}
      <select value={value ?? ''} onChange={(e) => set(e.target.value === '' ? null : Number(e.target.value))}>
        {optional && <option value="">{t('models.evaluateOne')}</option>}
        {models.map((m) => <option key={m.id} value={m.id}>#{m.id} {m.name}</option>)}
      </select>
    </label>
  );

  return (
    <div className="card comparison" aria-label={t('models.compare')}>
      <h2>{t('models.compare')}</h2>
      <div className="comparison-form">
        {choose(a, setA, t('models.versionA'))}
        {choose(b, setB, t('models.versionB'), true)}
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
        <button className="primary" disabled={running || a === null || a === b} onClick={() => void compare()}>{running ? t('models.comparing') : t('models.compareRun')}</button>
        <JobProgress job={job} />
      </div>
      {error && <p className="notice error" role="alert">{error}</p>}
      {result && (
        <>
          <table className="table compact" aria-label={t('models.comparisonTable')}>
            <thead><tr><th />{result.evaluated.map(({ model }) => <th key={model.id}>#{model.id} {model.name}</th>)}</tr></thead>
            <tbody>
              {ROWS.map((row) => (
                <Fragment key={row.key}>
                  <tr>
                    <td>{row.label.startsWith('models.') ? t(row.label as never) : row.label}</td>
                    {result.evaluated.map(({ model, evaluation }) => <td key={model.id}>{format(evaluation[row.key])}</td>)}
                  </tr>
                  {row.key === 'mean_box_ap50' && classesOf(...evaluations).map((name) => (
                    <tr key={name} className="sub-row" data-testid={`class-ap-${name}`}>
                      <td>{t('models.classAp', { name })}</td>
                      {result.evaluated.map(({ model, evaluation }) => <td key={model.id}>{format(evaluation.per_class?.[name]?.ap50)}</td>)}
                    </tr>
                  ))}
                  {row.key === 'image_auroc_within_group' && groupsOf(...evaluations).map((group) => (
                    <tr key={group} className="sub-row">
                      <td>{t('models.imageAurocAtGroup', { group })}</td>
                      {result.evaluated.map(({ model, evaluation }) => <td key={model.id}>{format(evaluation.image_auroc_by_group?.[group])}</td>)}
                    </tr>
                  ))}
                </Fragment>
              ))}
            </tbody>
          </table>
          <div className="comparison-charts">
            {result.evaluated.map(({ model, evaluation: e }) => (
              <div key={model.id} data-testid={`evaluation-${model.id}`}>
                <h3>#{model.id} {model.name}</h3>
                <ScoreHistogram scores={e.image_scores} />
                <ThresholdCurves scores={e.image_scores} />
                <ConfusionTable matrix={verdictConfusion(e.image_scores, t('datasets.label.good'), t('datasets.label.defect'))} label={t('models.confusion')} testId="verdict-confusion" />
                {e.per_class && <ClassCurves classes={e.per_class} />}
                {e.box_confusion && <ConfusionTable matrix={e.box_confusion} label={t('models.boxConfusion')} testId="box-confusion" />}
              </div>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
