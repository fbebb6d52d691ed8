import { useEffect, useState } from 'react';
import { ANNOTATION_SCHEMA_VERSION, type DatasetImage, type DefectClass } from '../../../src-main/contract/contract.ts';
import { api, client } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';

/** An image's whole-image label as the grid shows it: "good", a class name, or none. */
const labelOf = (image: DatasetImage): string | null => (image.label === 'good' ? 'good' : image.imageClass);

/**
 * Whole-image labelling for classification: a grid of the dataset's thumbnails; the selected
 * image takes class k with key k (1–9) or "good" with G (or 0), is saved at once, and the
 * selection moves on to the next image. Arrow keys move, a click selects.
 */
export function ClassGrid({ datasetId, classes, images, disabled }: { datasetId: number; classes: DefectClass[]; images: DatasetImage[]; disabled: boolean }) {
  const { t } = useI18n();
  const [labels, setLabels] = useState<Map<number, string | null>>(new Map());
  const [selected, setSelected] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setLabels(new Map(images.map((i) => [i.imageId, labelOf(i)])));
    setSelected(0);
  }, [images]);

  const assign = async (index: number, classIndex: number | 'good'): Promise<void> => {
    const image = images[index];
    if (!image || disabled) return;
    setError(null);
    try {
      const stored = await api.getImageAnnotations({ datasetId, imageId: image.imageId });
      const regions = stored.annotations.filter((a) => a.shape !== 'good' && a.shape !== 'class');
      const annotations = classIndex === 'good' ? [...regions, { shape: 'good' as const }] : [...regions, { shape: 'class' as const, classIndex }];
      await api.saveImageAnnotations({ schemaVersion: ANNOTATION_SCHEMA_VERSION, datasetId, imageId: image.imageId, annotations });
      setLabels((m) => new Map(m).set(image.imageId, classIndex === 'good' ? 'good' : classes.find((c) => c.index === classIndex)?.name ?? null));
      setSelected(Math.min(images.length - 1, index + 1));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if ((e.target as HTMLElement).closest('input, select, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
      const columns = Math.max(1, Math.round((document.querySelector('.class-grid')?.clientWidth ?? 800) / 150));
      const move: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
      if (e.key in move) {
        e.preventDefault();
        setSelected((s) => Math.max(0, Math.min(images.length - 1, s + move[e.key])));
      } else if (/^[1-9]$/.test(e.key) && classes.some((c) => c.index === Number(e.key))) {
        void assign(selected, Number(e.key));
      } else if (e.key === 'g' || e.key === 'G' || e.key === '0') {
        void assign(selected, 'good');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <div className="card class-grid-card">
      <p className="muted">
        {t('annotate.gridHint')} <kbd>G</kbd> {t('datasets.label.good')}
        {classes.filter((c) => c.index <= 9).map((c) => <span key={c.index}> · <kbd>{c.index}</kbd> {c.name}</span>)}
      </p>
      {error && <p className="notice error" role="alert">{error}</p>}
      <ul className="class-grid" aria-label={t('annotate.grid')}>
        {images.map((image, i) => {
          const label = labels.get(image.imageId) ?? null;
          return (
            <li key={image.imageId}>
              <button type="button" className={i === selected ? 'active' : ''} aria-current={i === selected} onClick={() => setSelected(i)} data-testid={`grid-${image.file}`}>
                <img src={client.mediaUrl('thumbnail', image.sha256)} alt="" loading="lazy" />
                <span className="grid-file">{image.file}</span>
                <small className={`chip ${label === 'good' ? 'label-good' : label ? 'label-defect' : 'label-unlabeled'}`} data-testid="grid-label">
                  {label === 'good' ? t('datasets.label.good') : label ?? '–'}
                </small>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
