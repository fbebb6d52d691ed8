import { type FormEvent, useEffect, useState } from 'react';
import { type ExecutionProviderChoice, FINE_TUNE_DEFAULTS, type JobStatus, type TrainableMode, type TrainingValidation, type TrainModelInput, type TrainModelResult } from '../../../src-main/contract/contract.ts';
import { api } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useAsync, useJob } from '../common/hooks.ts';
import { useSession } from '../common/session.tsx';
import { LossChart, type LossPoint } from './LossChart.tsx';
import { errorText } from '../../i18n/engine-errors.ts';

const JOB_KEY = 'argus.training.job';
/** Colours of the loss terms' curves (detect: class, box, centreness). */
const PART_COLOURS = ['#8250df', '#1a7f37', '#bf8700'];

const formatEta = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
};

/** Start, follow, cancel and resume training runs: settings, live loss chart, progress with ETA, log. */
export function TrainingPage() {
  const { t, date } = useI18n();
  const { isEngineer } = useSession();
  const datasets = useAsync(() => api.listDatasets({}), []);
  const models = useAsync(() => api.listModels({}), []);
  const runs = useAsync(() => api.listTrainingRuns(), []);
  const [mode, setMode] = useState<TrainableMode>('segment');
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [parentId, setParentId] = useState<number | null>(null);
  const [epochs, setEpochs] = useState(String(FINE_TUNE_DEFAULTS.segment.epochs));
  const [batch, setBatch] = useState(String(FINE_TUNE_DEFAULTS.segment.batchSize));
  const [learningRate, setLearningRate] = useState(String(FINE_TUNE_DEFAULTS.segment.learningRate));
  const [frozen, setFrozen] = useState<1 | 2 | 3>(FINE_TUNE_DEFAULTS.segment.frozenStages);
  const [multiLabel, setMultiLabel] = useState(false);
  const [inputSize, setInputSize] = useState('');
  const [border, setBorder] = useState('0');
  const [falseRejects, setFalseRejects] = useState('');
  const [device, setDevice] = useState<ExecutionProviderChoice>('auto');
  const [jobId, setJobId] = useState<string | null>(() => sessionStorage.getItem(JOB_KEY));
  const [error, setError] = useState<string | null>(null);
  const [steps, setSteps] = useState<LossPoint[]>([]);
  const [partSteps, setPartSteps] = useState<Record<string, LossPoint[]>>({});
  const [log, setLog] = useState<string[]>([]);
  const job = useJob(jobId);

  useEffect(() => {
    if (datasetId === null && datasets.data?.length) setDatasetId(datasets.data[0].id);
  }, [datasets.data]);

  // Step losses and log lines accumulate from the job's progress as it arrives.
  useEffect(() => {
    const p = job?.training;
    if (!p) return;
    if (p.phase === 'training' && p.loss !== null) setSteps((s) => (s.length && s[s.length - 1].x === p.step ? s : [...s, { x: p.step, y: p.loss! }]));
    if (p.phase === 'training' && p.lossParts) {
      setPartSteps((parts) => Object.fromEntries(Object.entries(p.lossParts!).map(([name, y]) => {
        const points = parts[name] ?? [];
        return [name, points.length && points[points.length - 1].x === p.step ? points : [...points, { x: p.step, y }]];
      })));
    }
    if (p.validation) {
      const line = t('training.logEpoch', { epoch: p.epoch, epochs: p.epochs, loss: p.loss?.toFixed(4) ?? '–', val: p.validation.loss.toFixed(4), iou: validationSummary(p.validation) });
      setLog((l) => (l[l.length - 1] === line ? l : [...l, line]));
    }
  }, [job?.training]);
  // The run's row appears once the worker has registered it, and its progress moves per epoch.
  useEffect(() => runs.reload(), [job?.training?.phase, job?.training?.epoch]);
  useEffect(() => {
    if (!job || job.state === 'running') return;
    setLog((l) => [...l, job.state === 'succeeded' ? t('training.logDone', { id: (job.result as TrainModelResult).modelId }) : `${t(`training.state.${job.state}`)}: ${errorText(job.error)}`]);
    runs.reload();
    models.reload();
  }, [job?.state]);

  const start = async (input: TrainModelInput): Promise<void> => {
    setError(null);
    try {
      const started: JobStatus = await api.trainModel(input);
      sessionStorage.setItem(JOB_KEY, started.id);
      setSteps([]);
      setPartSteps({});
      setLog([t('training.logStarted')]);
      setJobId(started.id);
      runs.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  // Each fine-tuned mode starts from its own schedule's defaults.
  const chooseMode = (next: TrainableMode): void => {
    setMode(next);
    setParentId(null);
    if (next !== 'anomaly') {
      setEpochs(String(FINE_TUNE_DEFAULTS[next].epochs));
      setLearningRate(String(FINE_TUNE_DEFAULTS[next].learningRate));
      setBatch(String(FINE_TUNE_DEFAULTS[next].batchSize));
      setFrozen(FINE_TUNE_DEFAULTS[next].frozenStages);
    }
  };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (datasetId === null) return;
    const size = /^(\d+)x(\d+)$/.exec(inputSize.trim());
    if (inputSize.trim() && !size) {
      setError(t('training.badInput'));
      return;
    }
    // The field's own constraints (whole pixels, 0 or more) keep the form from submitting anything else.
    const ignoredBorder = Number(border || '0');
    const common = {
      datasetId, device, inputSize: size ? [Number(size[1]), Number(size[2])] as [number, number] : undefined,
      ...(falseRejects.trim() ? { falseRejectRate: Number(falseRejects) / 100 } : {}),
    };
    void start(mode === 'anomaly'
      ? { mode: 'anomaly', ...common, ...(ignoredBorder > 0 ? { ignoredBorder } : {}) }
      : { mode, ...common, parentModelId: parentId ?? undefined, epochs: Number(epochs), batchSize: Number(batch), learningRate: Number(learningRate), frozenStages: frozen, ...(mode === 'classify' && multiLabel ? { multiLabel } : {}) });
  };

  const running = job?.state === 'running';
  const progress = job?.training;
  const percent = progress && progress.totalSteps ? Math.round((progress.step / progress.totalSteps) * 100) : job && job.total ? Math.round((job.done / job.total) * 100) : 0;
  const parentModels = models.data?.filter((m) => m.mode === mode) ?? [];
  const history = progress?.history ?? [];

  return (
    <section className="page">
      <header className="page-header"><h1>{t('nav.training')}</h1></header>
      {error && <p className="notice error" role="alert">{error}</p>}
      {!isEngineer && <p className="notice">{t('roles.engineerOnly')}</p>}
      <div className="training-layout">
        <form className="card training-form" onSubmit={submit} aria-label={t('training.settings')}>
          <h2>{t('training.settings')}</h2>
          <label>{t('training.mode')}
            <select value={mode} onChange={(e) => chooseMode(e.target.value as TrainableMode)} disabled={running}>
              <option value="segment">{t('training.mode.segment')}</option>
              <option value="detect">{t('training.mode.detect')}</option>
              <option value="classify">{t('training.mode.classify')}</option>
              <option value="anomaly">{t('training.mode.anomaly')}</option>
            </select>
          </label>
          <label>{t('training.dataset')}
            <select value={datasetId ?? ''} onChange={(e) => setDatasetId(Number(e.target.value))} disabled={running} required>
              {datasets.data?.map((d) => <option key={d.id} value={d.id}>{d.name} ({d.counts.total})</option>)}
            </select>
          </label>
          {mode === 'anomaly' && (
            <label>{t('training.border')}
              <input type="number" min={0} step={1} value={border} onChange={(e) => setBorder(e.target.value)} disabled={running} />
              <small className="muted">{t('training.borderHint')}</small>
            </label>
          )}
          {mode !== 'anomaly' && (
            <>
              <label>{t('training.baseModel')}
                <select value={parentId ?? ''} onChange={(e) => setParentId(e.target.value ? Number(e.target.value) : null)} disabled={running}>
                  <option value="">{t('training.baseImagenet')}</option>
                  {parentModels.map((m) => <option key={m.id} value={m.id}>#{m.id} {m.name}</option>)}
                </select>
              </label>
              <div className="row">
                <label>{t('training.epochs')}<input type="number" min={1} max={1000} value={epochs} onChange={(e) => setEpochs(e.target.value)} disabled={running} /></label>
                <label>{t('training.batch')}<input type="number" min={1} max={256} value={batch} onChange={(e) => setBatch(e.target.value)} disabled={running} /></label>
              </div>
              <div className="row">
                <label>{t('training.learningRate')}<input value={learningRate} onChange={(e) => setLearningRate(e.target.value)} disabled={running} /></label>
                <label>{t('training.frozen')}
                  <select value={frozen} onChange={(e) => setFrozen(Number(e.target.value) as 1 | 2 | 3)} disabled={running}>
                    <option value={1}>{t('training.frozen.1')}</option>
                    <option value={2}>{t('training.frozen.2')}</option>
                    <option value={3}>{t('training.frozen.3')}</option>
                  </select>
                </label>
              </div>
              {mode === 'classify' && (
                <label className="checkbox">
                  <input type="checkbox" checked={multiLabel} onChange={(e) => setMultiLabel(e.target.checked)} disabled={running} />
                  {t('training.multiLabel')}
                  <small className="muted">{t('training.multiLabelHint')}</small>
                </label>
              )}
            </>
          )}
          <label>{t('training.falseRejects')}
            <input type="number" min={0.01} max={50} step="any" value={falseRejects} onChange={(e) => setFalseRejects(e.target.value)} placeholder={t('training.falseRejectsAuto')} disabled={running} />
            <small className="muted">{t('training.falseRejectsHint')}</small>
          </label>
          <div className="row">
            <label>{t('training.inputSize')}<input value={inputSize} onChange={(e) => setInputSize(e.target.value)} placeholder={t('training.inputAuto')} disabled={running} /></label>
            <label>{t('training.device')}
              <select value={device} onChange={(e) => setDevice(e.target.value as ExecutionProviderChoice)} disabled={running}>
                {(['auto', 'cpu', 'cuda', 'webgpu'] as const).map((d) => <option key={d} value={d}>{d}</option>)}
              </select>
            </label>
          </div>
          <div className="actions">
            {running
              ? <button type="button" onClick={() => jobId && api.cancelJob({ jobId })}>{t('training.cancel')}</button>
              : <button className="primary" type="submit" disabled={datasetId === null || !isEngineer} title={isEngineer ? undefined : t('roles.engineerOnly')}>{t('training.start')}</button>}
          </div>
        </form>

        <div className="card training-monitor" aria-label={t('training.monitor')}>
          <h2>{t('training.monitor')}</h2>
          {!job && <p className="muted">{t('training.idle')}</p>}
          {job && (
            <>
              <div className="training-stats" data-testid="training-status">
                <span className={`chip status-${job.state}`}>{t(`training.state.${job.state}`)}</span>
                {progress && progress.epoch > 0 && <span>{t('training.epochOf', { epoch: progress.epoch, epochs: progress.epochs })}</span>}
                {progress?.loss !== null && progress?.loss !== undefined && <span>{t('training.loss')} {progress.loss.toFixed(4)}</span>}
                {progress && progress.learningRate > 0 && <span>{t('training.lr')} {progress.learningRate.toExponential(2)}</span>}
                {progress?.lossParts && <span data-testid="loss-parts">{Object.entries(progress.lossParts).map(([k, v]) => `${partName(t, k)} ${v.toFixed(3)}`).join(' · ')}</span>}
                {running && <span>{t('training.eta')} {formatEta(progress?.etaSeconds)}</span>}
              </div>
              <div className="progress">
                <div className="progress-label">
                  {!running ? t(`training.state.${job.state}`) : progress ? t(`training.phase.${progress.phase}`) : job.phase} · {progress ? `${progress.step}/${progress.totalSteps}` : `${job.done}/${job.total}`}
                </div>
                <div className="progress-track"><div className="progress-bar" style={{ width: `${job.state === 'succeeded' ? 100 : percent}%` }} role="progressbar" aria-valuenow={percent} /></div>
              </div>
              <LossChart
                label={t('training.chart')} stepLabel={t('chart.step')} lossLabel={t('training.loss')}
                series={[
                  { name: t('training.stepLoss'), color: '#9fb3c8', points: steps },
                  ...Object.entries(partSteps).map(([name, points], k) => ({ name: partName(t, name), color: PART_COLOURS[k % PART_COLOURS.length], points })),
                  { name: t('training.trainLoss'), color: '#1f6feb', points: history.map((h) => ({ x: (h.epoch * (progress?.totalSteps ?? 1)) / (progress?.epochs ?? 1), y: h.trainLoss })) },
                  { name: t('training.valLoss'), color: '#cf222e', points: history.map((h) => ({ x: (h.epoch * (progress?.totalSteps ?? 1)) / (progress?.epochs ?? 1), y: h.validationLoss })) },
                ]}
              />
              <ol className="training-log" aria-label={t('training.log')}>{log.map((line, i) => <li key={i}>{line}</li>)}</ol>
              {job.state === 'succeeded' && <a href="#/models">{t('training.toModels')}</a>}
            </>
          )}
        </div>
      </div>

      <div className="card">
        <h2>{t('training.runs')}</h2>
        {runs.data?.length === 0 && <p className="muted">{t('training.noRuns')}</p>}
        {runs.data && runs.data.length > 0 && (
          <table className="table" aria-label={t('training.runs')}>
            <thead><tr><th>ID</th><th>{t('training.mode')}</th><th>{t('training.dataset')}</th><th>{t('training.status')}</th><th>{t('training.progress')}</th><th>{t('training.result')}</th><th>{t('training.started')}</th><th /></tr></thead>
            <tbody>
              {runs.data.map((r) => (
                <tr key={r.id} data-testid={`run-${r.id}`}>
                  <td>{r.id}</td>
                  <td>{r.mode}</td>
                  <td>{datasets.data?.find((d) => d.id === r.datasetId)?.name ?? r.datasetId ?? '–'}</td>
                  <td><span className={`chip status-${r.status}`}>{t(`training.state.${r.status === 'running' && r.resumable ? 'interrupted' : r.status}`)}</span>{r.error && <div className="muted">{r.error}</div>}</td>
                  <td>{Math.round(r.progress * 100)}%</td>
                  <td>{r.resultModelId ? `#${r.resultModelId}` : '–'}</td>
                  <td>{date(r.startedAt)}</td>
                  <td>{r.resumable && !running && isEngineer && <button onClick={() => void start({ mode: r.mode as TrainableMode, resumeRunId: r.id, device })}>{t('training.resume')}</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

/** Per-class validation measure of an epoch: pixel IoU (segment) or box AP@0.5 (detect). */
function validationSummary(v: TrainingValidation): string {
  const [label, values] = v.ap50 ? ['AP50', v.ap50] : ['IoU', v.iou ?? {}];
  return `${label} ${Object.entries(values).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')}`;
}

/** A loss term's label (unknown terms by their own name). */
function partName(t: ReturnType<typeof useI18n>['t'], part: string): string {
  const key = `training.lossPart.${part}`;
  return part === 'class' || part === 'box' || part === 'centreness' ? t(key as 'training.lossPart.class') : part;
}
