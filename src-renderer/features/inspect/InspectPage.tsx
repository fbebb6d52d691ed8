import { type FormEvent, useEffect, useState } from 'react';
import type { InspectFilesResult, InspectionRecord } from '../../../src-main/contract/contract.ts';
import { api, client, stageFiles } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useAsync, useJob } from '../common/hooks.ts';
import { useSession } from '../common/session.tsx';
import { HotFolderCard } from './HotFolderCard.tsx';
import { LineCard } from './LineCard.tsx';
import { JobProgress } from '../common/JobProgress.tsx';
import { InspectionViewer } from './InspectionViewer.tsx';
import { errorText } from '../../i18n/engine-errors.ts';

/** The operator's workspace: inspect images or a folder (`initialPaths`, from a link) with the production model and review each result. */
export function InspectPage({ initialPaths }: { initialPaths?: string }) {
  const { t } = useI18n();
  const [paths, setPaths] = useState(initialPaths ?? '');
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [results, setResults] = useState<InspectionRecord[]>([]);
  const [selected, setSelected] = useState(0);
  const [showHeatmap, setShowHeatmap] = useState(true);
  const [showLabels, setShowLabels] = useState(true);
  const [opacity, setOpacity] = useState(0.7);
  const [preview, setPreview] = useState({ image: 0.5, pixel: 0.5 });
  const [confirming, setConfirming] = useState(false);
  const [applied, setApplied] = useState<string | null>(null);
  const { isEngineer } = useSession();
  const job = useJob(jobId);
  const selectedModel = results[selected]?.modelVersionId ?? null;
  const [dragging, setDragging] = useState(false);
  // The production model's stations or cameras with thresholds of their own.
  const models = useAsync(() => api.listModels({}), []);
  const groups = Object.keys(models.data?.find((m) => m.status === 'production')?.thresholds.groups ?? {});
  const [group, setGroup] = useState('');
  const groupInput = group ? { group } : {};

  // Images picked or dropped in the UI travel to the engine, which keeps and inspects them.
  const upload = async (list: FileList | null): Promise<void> => {
    const files = [...(list ?? [])];
    if (files.length === 0) return;
    setError(null);
    try {
      // Browser mode streams each file to the station; the desktop app hands the bytes over directly.
      const input = client.stageUpload
        ? { uploads: await stageFiles(files) }
        : { files: await Promise.all(files.map(async (f) => ({ name: f.name, dataBase64: toBase64(new Uint8Array(await f.arrayBuffer())) }))) };
      setJobId((await api.inspectUploads({ model: 'production', ...input, ...groupInput })).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  // A QA engineer can make the what-if thresholds the model's own (audited; new inspections use them).
  const applyThresholds = async (): Promise<void> => {
    if (selectedModel === null) return;
    setConfirming(false);
    try {
      await api.setModelThresholds({ modelId: selectedModel, imageAt: preview.image, pixelAt: preview.pixel });
      setApplied(t('inspect.thresholdsApplied', { id: selectedModel }));
      setPreview({ image: 0.5, pixel: 0.5 });
    } catch (err) {
      setError((err as Error).message);
    }
  };

  useEffect(() => {
    if (job?.state === 'failed') setError(errorText(job.error) || t('inspect.failed'));
    if (job?.state !== 'succeeded') return;
    const ids = (job.result as InspectFilesResult).inspectionIds;
    void Promise.all(ids.map((inspectionId) => api.getInspection({ inspectionId }))).then((records) => {
      setResults(records);
      // Open the first rejected part, else the first one.
      setSelected(Math.max(0, records.findIndex((r) => r.verdict === 'NG')));
    });
  }, [job?.state]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      if (e.key === 'ArrowDown' || e.key === 'j') setSelected((s) => Math.min(results.length - 1, s + 1));
      if (e.key === 'ArrowUp' || e.key === 'k') setSelected((s) => Math.max(0, s - 1));
      if (e.key === 'h') setShowHeatmap((v) => !v);
      if (e.key === 'a') setShowLabels((v) => !v);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [results.length]);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(null);
    setResults([]);
    try {
      const list = paths.split('\n').map((p) => p.trim()).filter(Boolean);
      setJobId((await api.inspectFiles({ model: 'production', paths: list, ...groupInput })).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const running = job?.state === 'running';
  const counts = results.reduce<Record<string, number>>((c, r) => ({ ...c, [r.verdict]: (c[r.verdict] ?? 0) + 1 }), {});
  return (
    <section className="page">
      <header className="page-header"><h1>{t('nav.inspect')}</h1></header>
      <form className="card inspect-form" onSubmit={submit}>
        <label>
          {t('inspect.paths')}
          <textarea name="paths" rows={2} value={paths} onChange={(e) => setPaths(e.target.value)} placeholder="/data/line-3/incoming" disabled={running} />
        </label>
        {groups.length > 0 && (
          <label>{t('inspect.group')}
            <select value={group} onChange={(e) => setGroup(e.target.value)} data-testid="inspect-group">
              <option value="">{t('inspect.groupNone')}</option>
              {groups.map((g) => <option key={g} value={g}>{g}</option>)}
            </select>
          </label>
        )}
        <button type="submit" className="primary" disabled={running || !paths.trim()}>{t('inspect.run')}</button>
        <label className={`drop-zone${dragging ? ' dragging' : ''}`} data-testid="drop-zone"
          onDragOver={(e) => { e.preventDefault(); setDragging(true); }} onDragLeave={() => setDragging(false)}
          onDrop={(e) => { e.preventDefault(); setDragging(false); void upload(e.dataTransfer.files); }}>
          {t('inspect.drop')}
          <input type="file" multiple accept="image/*,.bmp,.tif,.tiff" aria-label={t('inspect.choose')} disabled={running} onChange={(e) => void upload(e.target.files)} />
        </label>
        <JobProgress job={job} />
      </form>
      <HotFolderCard onOpen={(inspection) => {
        setResults((current) => [inspection, ...current.filter((r) => r.id !== inspection.id)]);
        setSelected(0);
      }} />
      {error && <p className="notice error" role="alert">{error}</p>}
      {results.length > 0 && (
        <div className="inspect-view">
          <div className="result-list">
            <div className="counts">
              {(['OK', 'NG', 'REVIEW', 'ERROR'] as const).map((v) => <span key={v} className={`chip verdict-chip-${v}`}>{v} {counts[v] ?? 0}</span>)}
            </div>
            <ul aria-label={t('inspect.results')}>
              {results.map((r, i) => (
                <li key={r.id}>
                  <button className={i === selected ? 'result-item active' : 'result-item'} onClick={() => setSelected(i)}>
                    <span className={`verdict verdict-${r.verdict}`}>{r.verdict}</span>
                    <span className="result-name">{r.sourcePath.split(/[\\/]/).pop()}</span>
                    <span className="muted">{r.score?.toFixed(2) ?? ''}</span>
                  </button>
                </li>
              ))}
            </ul>
            <div className="viewer-controls">
              <label><input type="checkbox" checked={showHeatmap} onChange={(e) => setShowHeatmap(e.target.checked)} /> {t('inspect.heatmap')} (H)</label>
              <label><input type="checkbox" checked={showLabels} onChange={(e) => setShowLabels(e.target.checked)} /> {t('inspect.labelLayer')} (A)</label>
              <label>{t('inspect.opacity')} <input type="range" min={0.1} max={1} step={0.05} value={opacity} onChange={(e) => setOpacity(Number(e.target.value))} /></label>
              <label>{t('inspect.imageThreshold')} <input type="range" min={0.05} max={0.95} step={0.01} value={preview.image} aria-label={t('inspect.imageThreshold')} onChange={(e) => setPreview({ ...preview, image: Number(e.target.value) })} /> <output>{preview.image.toFixed(2)}</output></label>
              <label>{t('inspect.pixelThreshold')} <input type="range" min={0.05} max={0.95} step={0.01} value={preview.pixel} aria-label={t('inspect.pixelThreshold')} onChange={(e) => setPreview({ ...preview, pixel: Number(e.target.value) })} /> <output>{preview.pixel.toFixed(2)}</output></label>
              {(preview.image !== 0.5 || preview.pixel !== 0.5) && <button type="button" onClick={() => setPreview({ image: 0.5, pixel: 0.5 })}>{t('inspect.resetThresholds')}</button>}
              {(preview.image !== 0.5 || preview.pixel !== 0.5) && isEngineer && selectedModel !== null && !confirming && (
                <button type="button" onClick={() => setConfirming(true)}>{t('inspect.applyThresholds', { id: selectedModel })}</button>
              )}
              {confirming && (
                <span className="confirm" role="group" aria-label={t('inspect.applyThresholds', { id: selectedModel ?? '' })}>
                  {t('inspect.applyConfirm', { id: selectedModel ?? '' })}
                  <button type="button" className="primary" onClick={() => void applyThresholds()}>{t('inspect.apply')}</button>
                  <button type="button" onClick={() => setConfirming(false)}>{t('training.cancel')}</button>
                </span>
              )}
              {applied && <small className="notice success" role="status">{applied}</small>}
              <small className="muted">{t('inspect.thresholdHint')}</small>
              <small className="muted">{t('inspect.keys')}</small>
            </div>
          </div>
          {results[selected] && <InspectionViewer inspection={results[selected]} showHeatmap={showHeatmap} opacity={opacity} preview={preview} showLabels={showLabels} />}
        </div>
      )}
      <LineCard />
    </section>
  );
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
