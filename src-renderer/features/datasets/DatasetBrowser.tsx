import { useState } from 'react';
import type { DatasetSummary, ImageLabel, Split } from '../../../src-main/contract/contract.ts';
import { api, client } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { useAsync } from '../common/hooks.ts';
import { ExportForm } from './ExportForm.tsx';

const PAGE_SIZE = 60;

export function DatasetBrowser({ dataset }: { dataset: DatasetSummary }) {
  const { t } = useI18n();
  const [split, setSplit] = useState<Split | ''>('');
  const [label, setLabel] = useState<ImageLabel | ''>('');
  const [classIndex, setClassIndex] = useState('');
  const [annotated, setAnnotated] = useState<'' | 'yes' | 'no'>('');
  const [group, setGroup] = useState('');
  const [offset, setOffset] = useState(0);
  const projects = useAsync(() => api.listProjects(), []);
  const classes = projects.data?.find((p) => p.id === dataset.projectId)?.classes ?? [];
  // The filter a page of results answers, shown on the grid (data-filter) once they have arrived.
  const filter = Object.entries({ split, label, class: classIndex, annotated, group, offset: offset || '' })
    .filter(([, value]) => value !== '').map(([key, value]) => `${key}=${value}`).join(' ');
  const page = useAsync(
    async () => ({
      filter,
      ...(await api.listDatasetImages({
        datasetId: dataset.id, split: split || undefined, label: label || undefined, classIndex: classIndex ? Number(classIndex) : undefined,
        annotated: annotated === '' ? undefined : annotated === 'yes', group: group || undefined, offset, limit: PAGE_SIZE,
      })),
    }),
    [dataset.id, split, label, classIndex, annotated, group, offset],
  );
  const total = page.data?.total ?? 0;

  return (
    <div className="browser">
      <div className="dataset-facts">
        <h2>{dataset.name}</h2>
        <dl>
          <div><dt>{t('datasets.project')}</dt><dd>{dataset.projectName}</dd></div>
          <div><dt>{t('datasets.format')}</dt><dd>{dataset.format}</dd></div>
          <div><dt>{t('datasets.source')}</dt><dd className="path">{dataset.sourcePath}</dd></div>
        </dl>
        <ExportForm datasetId={dataset.id} />
        <div className="counts">
          {(['train', 'val', 'test'] as const).map((s) => (
            <span key={s} className={`chip split-${s}`}>{t(`datasets.split.${s}`)} {dataset.counts[s]}</span>
          ))}
          {(['good', 'defect', 'unlabeled'] as const).map((l) => (
            <span key={l} className={`chip label-${l}`}>{t(`datasets.label.${l}`)} {dataset.counts[l]}</span>
          ))}
        </div>
      </div>
      <div className="filters">
        <label>{t('datasets.filter.split')}
          <select value={split} onChange={(e) => { setSplit(e.target.value as Split | ''); setOffset(0); }}>
            <option value="">{t('common.all')}</option>
            {(['train', 'val', 'test'] as const).map((s) => <option key={s} value={s}>{t(`datasets.split.${s}`)}</option>)}
          </select>
        </label>
        <label>{t('datasets.filter.label')}
          <select value={label} onChange={(e) => { setLabel(e.target.value as ImageLabel | ''); setOffset(0); }}>
            <option value="">{t('common.all')}</option>
            {(['good', 'defect', 'unlabeled'] as const).map((l) => <option key={l} value={l}>{t(`datasets.label.${l}`)}</option>)}
          </select>
        </label>
        <label>{t('datasets.filter.class')}
          <select value={classIndex} onChange={(e) => { setClassIndex(e.target.value); setOffset(0); }}>
            <option value="">{t('common.all')}</option>
            {classes.map((c) => <option key={c.index} value={c.index}>{c.name}</option>)}
          </select>
        </label>
        <label>{t('datasets.filter.annotated')}
          <select value={annotated} onChange={(e) => { setAnnotated(e.target.value as '' | 'yes' | 'no'); setOffset(0); }}>
            <option value="">{t('common.all')}</option>
            <option value="yes">{t('datasets.annotated.yes')}</option>
            <option value="no">{t('datasets.annotated.no')}</option>
          </select>
        </label>
        {dataset.groups.length > 0 && (
          <label>{t('datasets.filter.group')}
            <select value={group} onChange={(e) => { setGroup(e.target.value); setOffset(0); }}>
              <option value="">{t('common.all')}</option>
              {dataset.groups.map((g) => <option key={g.name} value={g.name}>{g.name} ({g.images})</option>)}
            </select>
          </label>
        )}
        <span className="muted">{total > 0 && t('datasets.showing', { from: offset + 1, to: Math.min(offset + PAGE_SIZE, total), total })}</span>
        <span className="spacer" />
        <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>{t('common.previous')}</button>
        <button disabled={offset + PAGE_SIZE >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>{t('common.next')}</button>
      </div>
      {page.error && <p className="notice error">{page.error}</p>}
      <ul className="thumb-grid" aria-busy={page.loading} data-filter={page.loading ? undefined : page.data?.filter}>
        {page.data?.items.map((image) => (
          <li key={image.imageId} className="thumb" data-testid="thumbnail">
            <img src={client.mediaUrl('thumbnail', image.sha256)} alt={image.file} loading="lazy" />
            <div className="thumb-meta">
              <span className={`chip label-${image.label}`}>{t(`datasets.label.${image.label}`)}</span>
              <span className={`chip split-${image.split}`}>{t(`datasets.split.${image.split}`)}</span>
              {image.annotationCount > 0 && <span className="chip">{t('datasets.regions', { n: image.annotationCount })}</span>}
            </div>
            <div className="thumb-name" title={image.group ? `${image.file} · ${image.group}` : image.file}>{image.file.split('/').pop()}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}
