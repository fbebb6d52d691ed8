import { useEffect, useState } from 'react';
import { ANNOTATION_SCHEMA_VERSION, type DatasetImage, type DefectClass, type JobStatus, type LabellingRanking } from '../../../src-main/contract/contract.ts';
import { api, client } from '../../api/client.ts';
import { JobProgress } from '../common/JobProgress.tsx';
import { useI18n } from '../../i18n/i18n.tsx';

/** An image's whole-image label as the grid shows it: "good", its class names, or none. */
type GridLabel = 'good' | string[] | null;

const labelOf = (image: DatasetImage): GridLabel => (image.label === 'good' ? 'good' : image.imageClasses.length ? image.imageClasses : null);
/** A model's suggestion as a label: [] means good. */
const suggestionLabel = (classes: string[]): GridLabel => (classes.length ? classes : 'good');

/**
 * Whole-image labelling for classification: a grid of the dataset's thumbnails; the selected
 * image takes class k with key k (1–9) or "good" with G (or 0), is saved at once, and the
 * selection moves on to the next image; Shift+k adds or removes class k (several defects on one
 * part, for multi-label models) and keeps the selection. With a model's suggestions, Enter takes
 * the selected image's suggestion, and one button takes it for every unlabelled image. Arrow keys
 * move, a click selects.
 */
export function ClassGrid({ datasetId, classes, images, disabled, ranking, rankJob, onSuggest }: {
  datasetId: number;
  classes: DefectClass[];
  images: DatasetImage[];
  disabled: boolean;
  ranking: LabellingRanking | null;
  rankJob: JobStatus | null;
  onSuggest: () => void;
}) {
  const { t } = useI18n();
  const [labels, setLabels] = useState<Map<number, GridLabel>>(new Map());
  const [selected, setSelected] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const suggestions = new Map(ranking?.images.flatMap((r) => (r.suggestedClasses ? [[r.imageId, r.suggestedClasses] as const] : [])) ?? []);
  // Labels are read again when the grid holds other images; a new order (by the model's
  // uncertainty) keeps what was labelled here since and selects the first image.
  const imageSet = images.map((i) => i.imageId).sort((a, b) => a - b).join(',');
  useEffect(() => setLabels(new Map(images.map((i) => [i.imageId, labelOf(i)]))), [imageSet]);
  useEffect(() => setSelected(0), [images]);

  /** Stores an image's label, keeping its regions. */
  const store = async (image: DatasetImage, label: 'good' | string[]): Promise<void> => {
    const indices = label === 'good' ? [] : label.map((name) => classes.find((c) => c.name === name)?.index).filter((i): i is number => i !== undefined);
    const stored = await api.getImageAnnotations({ datasetId, imageId: image.imageId });
    const regions = stored.annotations.filter((a) => a.shape !== 'good' && a.shape !== 'class');
    const annotations = label === 'good' || indices.length === 0
      ? [...regions, ...(label === 'good' ? [{ shape: 'good' as const }] : [])]
      : [...regions, ...indices.map((classIndex) => ({ shape: 'class' as const, classIndex }))];
    await api.saveImageAnnotations({ schemaVersion: ANNOTATION_SCHEMA_VERSION, datasetId, imageId: image.imageId, annotations });
    setLabels((m) => new Map(m).set(image.imageId, label === 'good' ? 'good' : indices.length ? classes.filter((c) => indices.includes(c.index)).map((c) => c.name) : null));
  };

  const assign = async (index: number, label: 'good' | string[], advance: boolean): Promise<void> => {
    const image = images[index];
    if (!image || disabled) return;
    setError(null);
    try {
      await store(image, label);
      if (advance) setSelected(Math.min(images.length - 1, index + 1));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  /** Adds the class to the image's classes, or takes it away if it has it. */
  const toggle = (index: number, name: string): Promise<void> => {
    const current = labels.get(images[index]?.imageId ?? -1);
    const names = Array.isArray(current) ? current : [];
    return assign(index, names.includes(name) ? names.filter((n) => n !== name) : [...names, name], false);
  };

  const acceptSuggestion = (index: number): Promise<void> => {
    const suggested = suggestions.get(images[index]?.imageId ?? -1);
    return suggested ? assign(index, suggested.length ? suggested : 'good', true) : Promise.resolve();
  };

  const acceptAll = async (): Promise<void> => {
    setError(null);
    try {
      for (const image of images) {
        const suggested = suggestions.get(image.imageId);
        if (suggested && labels.get(image.imageId) === null) await store(image, suggested.length ? suggested : 'good');
      }
    } catch (err) {
      setError((err as Error).message);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement;
      if (target.closest('input, select, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
      // Enter on one of the page's own buttons presses that button.
      if (e.key === 'Enter' && target.closest('button') && !target.closest('.class-grid')) return;
      const columns = Math.max(1, Math.round((document.querySelector('.class-grid')?.clientWidth ?? 800) / 150));
      const move: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
      const digit = /^Digit([1-9])$/.exec(e.code)?.[1];
      const cls = digit ? classes.find((c) => c.index === Number(digit)) : undefined;
      if (e.key in move) {
        e.preventDefault();
        setSelected((s) => Math.max(0, Math.min(images.length - 1, s + move[e.key])));
      } else if (cls) {
        void (e.shiftKey ? toggle(selected, cls.name) : assign(selected, [cls.name], true));
      } else if (e.key === 'g' || e.key === 'G' || e.key === '0') {
        void assign(selected, 'good', true);
      } else if (e.key === 'Enter') {
        e.preventDefault();
        void acceptSuggestion(selected);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const text = (label: GridLabel): string => (label === 'good' ? t('datasets.label.good') : label ? label.join(' + ') : '–');
  const unlabelledWithSuggestion = images.filter((i) => labels.get(i.imageId) === null && suggestions.has(i.imageId)).length;

  return (
    <div className="card class-grid-card">
      <p className="muted">
        {t('annotate.gridHint')} <kbd>G</kbd> {t('datasets.label.good')}
        {classes.filter((c) => c.index <= 9).map((c) => <span key={c.index}> · <kbd>{c.index}</kbd> {c.name}</span>)}
        {' · '}{t('annotate.gridMultiHint')}{ranking && <> · <kbd>Enter</kbd> {t('annotate.gridAcceptHint')}</>}
      </p>
      <div className="actions">
        <button type="button" onClick={onSuggest} disabled={disabled || rankJob?.state === 'running'}>
          {rankJob?.state === 'running' ? t('annotate.ranking', { done: rankJob.done, total: rankJob.total }) : t('annotate.suggestClasses')}
        </button>
        {ranking && (
          <button type="button" onClick={() => void acceptAll()} disabled={disabled || unlabelledWithSuggestion === 0}>
            {t('annotate.acceptSuggestions', { count: unlabelledWithSuggestion })}
          </button>
        )}
        {ranking && <span className="muted">{t('annotate.suggestionsFrom', { id: ranking.modelId })}</span>}
      </div>
      <JobProgress job={rankJob} />
      {error && <p className="notice error" role="alert">{error}</p>}
      <ul className="class-grid" aria-label={t('annotate.grid')}>
        {images.map((image, i) => {
          const label = labels.get(image.imageId) ?? null;
          const suggested = suggestions.get(image.imageId);
          return (
            <li key={image.imageId}>
              <button type="button" className={i === selected ? 'active' : ''} aria-current={i === selected} onClick={() => setSelected(i)} data-testid={`grid-${image.file}`}>
                <img src={client.mediaUrl('thumbnail', image.sha256)} alt="" loading="lazy" />
                <span className="grid-file">{image.file}</span>
                <small className={`chip ${label === 'good' ? 'label-good' : label ? 'label-defect' : 'label-unlabeled'}`} data-testid="grid-label">{text(label)}</small>
                {suggested && (
                  <small className="chip suggestion" data-testid="grid-suggestion" title={t('annotate.suggestionsFrom', { id: ranking!.modelId })}>
                    {text(suggestionLabel(suggested))}
                  </small>
                )}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
