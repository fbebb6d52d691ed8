import { type PointerEvent as ReactPointerEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ANNOTATION_SCHEMA_VERSION, type DatasetImage, type DefectClass, type LabellingRanking, type RegionSuggestions } from '../../../src-main/contract/contract.ts';
import { strokeSegment, type Point } from '../../../src-main/common/geometry.ts';
import { api, client } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { ClassGrid } from './ClassGrid.tsx';
import { ReviewQueue } from './ReviewQueue.tsx';
import { useAsync, useJob } from '../common/hooks.ts';
import { useSession } from '../common/session.tsx';
import { JobProgress } from '../common/JobProgress.tsx';
import { ZoomStage } from '../common/ZoomStage.tsx';
import { adoptIds, type AnnotationDocument, fromAnnotations, moveShape, newKey, shapeAt, toAnnotations, type VectorShape } from './document.ts';
import { actionForKey, annotateActions, type Tool } from './actions.ts';
import { type Edit, EditHistory, readRect, setPixelsRect } from './edits.ts';
import { errorText } from '../../i18n/engine-errors.ts';

const HISTORY_LIMIT = 100;
const SAVE_DELAY_MS = 400;
/** Queue order: what still needs labels first, then defects to review, then good parts. */
const QUEUE_ORDER: Record<DatasetImage['label'], number> = { unlabeled: 0, defect: 1, good: 2 };

/** Whether an edit changes mask pixels (the mask layer then redraws from scratch). */
const touchesMasks = (edit: Edit): boolean => edit.type === 'pixels' || (edit.type === 'batch' && edit.edits.some(touchesMasks));

const rgba = (hex: string, alpha: number): [number, number, number, number] => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), alpha];

/**
 * Labelling: boxes, polygons and pixel-accurate brush masks per class, undo/redo, autosave. The
 * document changes only through edits (edits.ts), which the history undoes by their inverses; the
 * stage is four stacked layers (image, masks, vectors, interaction), each redrawn only when what
 * it shows changes; one action table (actions.ts) serves the toolbar and the keyboard.
 */
export function AnnotatePage() {
  const { t } = useI18n();
  const { isEngineer } = useSession();
  const datasets = useAsync(() => api.listDatasets({}), []);
  const projects = useAsync(() => api.listProjects(), []);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [view, setView] = useState<'regions' | 'grid' | 'review'>('regions');
  useEffect(() => {
    if (datasetId === null && datasets.data?.length) setDatasetId(datasets.data[0].id);
  }, [datasets.data]);
  const dataset = datasets.data?.find((d) => d.id === datasetId);
  const classes: DefectClass[] = projects.data?.find((p) => p.id === dataset?.projectId)?.classes ?? [];
  const images = useAsync(async () => (datasetId === null ? [] : (await api.listDatasetImages({ datasetId, limit: 1000 })).items), [datasetId]);
  // With a ranking from the model, the least certain images come first (REVIEW band, then nearest the threshold).
  const [rankJobId, setRankJobId] = useState<string | null>(null);
  const rankJob = useJob(rankJobId);
  const ranking = rankJob?.state === 'succeeded' ? (rankJob.result as LabellingRanking) : null;
  const rankOf = useMemo(() => new Map(ranking?.images.map((r, i) => [r.imageId, { ...r, rank: i }]) ?? []), [ranking]);
  const queue = useMemo(() => [...(images.data ?? [])].sort((a, b) => {
    if (rankOf.size) return (rankOf.get(a.imageId)?.rank ?? Infinity) - (rankOf.get(b.imageId)?.rank ?? Infinity);
    return QUEUE_ORDER[a.label] - QUEUE_ORDER[b.label] || a.file.localeCompare(b.file);
  }), [images.data, rankOf]);
  const rank = async (): Promise<void> => {
    if (!datasetId) return;
    try {
      setRankJobId((await api.rankImagesForLabelling({ datasetId })).id);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => {
    if (rankJob?.state === 'failed') setError(errorText(rankJob.error));
  }, [rankJob?.state]);
  const [imageId, setImageId] = useState<number | null>(null);
  useEffect(() => setImageId(queue[0]?.imageId ?? null), [queue]);
  const image = queue.find((i) => i.imageId === imageId);

  const [doc, setDoc] = useState<AnnotationDocument | null>(null);
  const history = useRef(new EditHistory(HISTORY_LIMIT));
  // Bumped whenever mask pixels change in place, so the mask layer redraws.
  const [maskVersion, setMaskVersion] = useState(0);
  const [tool, setTool] = useState<Tool>('box');
  const [classIndex, setClassIndex] = useState(1);
  const [brushSize, setBrushSize] = useState(8);
  const [selected, setSelected] = useState<string | null>(null);
  const [draft, setDraft] = useState<{ box?: [number, number, number, number]; points?: Point[] } | null>(null);
  const [saveState, setSaveState] = useState<'saved' | 'saving' | 'pending' | 'error'>('saved');
  const [error, setError] = useState<string | null>(null);
  const [suggestions, setSuggestions] = useState<RegionSuggestions | null>(null);
  const [suggesting, setSuggesting] = useState(false);
  const docRef = useRef<AnnotationDocument | null>(null);
  docRef.current = doc;
  const saveTimer = useRef<number | undefined>(undefined);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const maskCanvas = useRef<HTMLCanvasElement>(null);
  const vectorCanvas = useRef<HTMLCanvasElement>(null);
  const maskLayers = useRef(new Map<number, HTMLCanvasElement>());
  /** A gesture in progress; a brush stroke keeps the masks as they were before it and the rectangle it touched. */
  const drag = useRef<{ start: Point; last: Point; moving?: VectorShape; before?: Map<number, Uint8Array>; dirty?: [number, number, number, number] } | null>(null);

  // Loading an image's annotations (after saving whatever the previous one still had pending).
  useEffect(() => {
    if (!datasetId || !imageId) return;
    let live = true;
    void api.getImageAnnotations({ datasetId, imageId }).then((stored) => {
      if (!live) return;
      const loaded = fromAnnotations(stored.width, stored.height, stored.annotations);
      maskLayers.current.clear();
      setDoc(loaded);
      history.current.clear();
      setSelected(null);
      setDraft(null);
      setSuggestions(null);
      setSaveState('saved');
    }, (err: Error) => setError(err.message));
    return () => {
      live = false;
    };
  }, [datasetId, imageId]);

  const save = useCallback(async (): Promise<void> => {
    window.clearTimeout(saveTimer.current);
    const current = docRef.current;
    if (!current || !datasetId || !imageId) return;
    setSaveState('saving');
    try {
      const saved = await api.saveImageAnnotations({ schemaVersion: ANNOTATION_SCHEMA_VERSION, datasetId, imageId, annotations: toAnnotations(current) });
      adoptIds(current, saved.annotations);
      setSaveState((s) => (s === 'saving' ? 'saved' : s));
      setError(null);
      images.data?.forEach((i) => i.imageId === imageId && (i.label = saved.label));
    } catch (err) {
      setSaveState('error');
      setError((err as Error).message);
    }
  }, [datasetId, imageId, images.data]);

  // Autosave shortly after every change; leaving the page or the image saves at once.
  /** Shows a new state of the document and schedules its save. */
  const apply = (next: AnnotationDocument): void => {
    setDoc(next);
    docRef.current = next;
    setSaveState('pending');
    window.clearTimeout(saveTimer.current);
    saveTimer.current = window.setTimeout(() => void save(), SAVE_DELAY_MS);
  };
  /** Makes a change through the history (QA engineers only). */
  const edit = (change: Edit): void => {
    const current = docRef.current;
    if (!isEngineer || !current) return;
    apply(history.current.apply(current, change));
    if (touchesMasks(change)) repaintMasks();
  };
  const repaintMasks = (): void => {
    maskLayers.current.clear();
    setMaskVersion((v) => v + 1);
  };
  useEffect(() => {
    const flush = (): void => {
      if (saveState === 'pending') void save();
    };
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [saveState, save]);

  const undo = (): void => {
    if (!doc || !history.current.canUndo) return;
    apply(history.current.undo(doc));
    repaintMasks();
  };
  const redo = (): void => {
    if (!doc || !history.current.canRedo) return;
    apply(history.current.redo(doc));
    repaintMasks();
  };

  const colourOf = (index: number): string => classes.find((c) => c.index === index)?.color ?? '#ff3b30';
  const nameOf = (index: number): string => classes.find((c) => c.index === index)?.name ?? String(index);

  // ---- Rendering: mask layers (one offscreen canvas per class, updated where painted) + vectors ----
  const maskLayer = (index: number, mask: Uint8Array, region?: [number, number, number, number]): HTMLCanvasElement => {
    if (!doc) throw new Error('no document');
    let layer = maskLayers.current.get(index);
    const full = !layer;
    if (!layer) {
      layer = document.createElement('canvas');
      layer.width = doc.width;
      layer.height = doc.height;
      maskLayers.current.set(index, layer);
    }
    const [x0, y0, x1, y1] = full || !region ? [0, 0, doc.width, doc.height] : region;
    if (x1 > x0 && y1 > y0) {
      const pixels = new ImageData(x1 - x0, y1 - y0);
      const colour = rgba(colourOf(index), 110);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
        if (mask[y * doc.width + x]) pixels.data.set(colour, ((y - y0) * (x1 - x0) + (x - x0)) * 4);
      }
      layer.getContext('2d')!.putImageData(pixels, x0, y0);
    }
    return layer;
  };

  // The mask layer: every class's mask (one offscreen canvas each, updated where painted).
  const drawMasks = (target: AnnotationDocument): void => {
    const canvas = maskCanvas.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const [index, mask] of target.masks) ctx.drawImage(maskLayers.current.get(index) ?? maskLayer(index, mask.data), 0, 0);
  };
  useEffect(() => {
    if (doc) drawMasks(doc);
  }, [doc?.masks, maskVersion, classes]);

  // The vector layer: boxes and polygons, the selected one dashed.
  useEffect(() => {
    const canvas = vectorCanvas.current;
    if (!canvas || !doc) return;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const line = Math.max(1.5, doc.width / 500);
    for (const s of doc.shapes) {
      ctx.strokeStyle = colourOf(s.classIndex);
      ctx.lineWidth = s.key === selected ? line * 2 : line;
      ctx.setLineDash(s.key === selected ? [line * 4, line * 2] : []);
      ctx.beginPath();
      if (s.shape === 'box') ctx.rect(s.box[0], s.box[1], s.box[2] - s.box[0], s.box[3] - s.box[1]);
      else s.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.stroke();
    }
  }, [doc?.shapes, selected, classes]);

  // The interaction layer: the model's suggestions and the shape being drawn.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !doc) return;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const line = Math.max(1.5, doc.width / 500);
    ctx.setLineDash([line * 2, line * 2]);
    ctx.strokeStyle = '#f5a623';
    ctx.lineWidth = line;
    for (const r of suggestions?.regions ?? []) ctx.strokeRect(r.box[0], r.box[1], r.box[2] - r.box[0], r.box[3] - r.box[1]);
    ctx.setLineDash([line * 3, line * 2]);
    ctx.strokeStyle = colourOf(classIndex);
    if (draft?.box) ctx.strokeRect(draft.box[0], draft.box[1], draft.box[2] - draft.box[0], draft.box[3] - draft.box[1]);
    if (draft?.points?.length) {
      ctx.beginPath();
      draft.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
      for (const [x, y] of draft.points) ctx.fillRect(x - line, y - line, line * 2, line * 2);
    }
    ctx.setLineDash([]);
  }, [doc?.width, draft, suggestions, classIndex, classes]);


  // ---- Pointer input in image pixels ----
  const toImage = (e: ReactPointerEvent | MouseEvent): Point => {
    const rect = canvasRef.current!.getBoundingClientRect();
    return [((e.clientX - rect.left) / rect.width) * doc!.width, ((e.clientY - rect.top) / rect.height) * doc!.height];
  };
  /** Paints one brush segment into the masks in place and returns the rectangle it touched. */
  const paint = (target: AnnotationDocument, layers: number[], from: Point, to: Point): [number, number, number, number] => {
    const radius = brushSize / 2;
    const region: [number, number, number, number] = [
      Math.max(0, Math.floor(Math.min(from[0], to[0]) - radius - 1)), Math.max(0, Math.floor(Math.min(from[1], to[1]) - radius - 1)),
      Math.min(target.width, Math.ceil(Math.max(from[0], to[0]) + radius + 1)), Math.min(target.height, Math.ceil(Math.max(from[1], to[1]) + radius + 1)),
    ];
    for (const index of layers) {
      const mask = target.masks.get(index)!;
      strokeSegment(mask.data, target.width, target.height, from, to, radius, tool === 'eraser' ? 0 : 1);
      maskLayer(index, mask.data, region);
    }
    drawMasks(target);
    return region;
  };
  const union = (a: [number, number, number, number] | undefined, b: [number, number, number, number]): [number, number, number, number] =>
    (a ? [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])] : b);

  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>): void => {
    if (!doc || e.button !== 0 || !isEngineer) return;
    const p = toImage(e);
    if (tool === 'polygon') {
      setDraft((d) => ({ points: [...(d?.points ?? []), p] }));
      return;
    }
    e.currentTarget.setPointerCapture(e.pointerId);
    if (tool === 'select') {
      const hit = shapeAt(doc, p);
      setSelected(hit?.key ?? null);
      drag.current = hit ? { start: p, last: p, moving: hit } : null;
      return;
    }
    drag.current = { start: p, last: p };
    if (tool === 'brush' || tool === 'eraser') {
      // The stroke paints in place as the pointer moves; the masks as they were are kept until it ends.
      const layers = tool === 'eraser' ? [...doc.masks.keys()] : [classIndex];
      const masks = new Map(doc.masks);
      for (const index of layers) if (!masks.has(index)) masks.set(index, { data: new Uint8Array(doc.width * doc.height) });
      const working: AnnotationDocument = { ...doc, masks };
      drag.current.before = new Map(layers.map((index) => [index, masks.get(index)!.data.slice()]));
      drag.current.dirty = paint(working, layers, p, p);
      docRef.current = working;
    }
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>): void => {
    const d = drag.current;
    const doc = docRef.current;
    if (!d || !doc) return;
    const p = toImage(e);
    if (tool === 'box') setDraft({ box: [Math.min(d.start[0], p[0]), Math.min(d.start[1], p[1]), Math.max(d.start[0], p[0]), Math.max(d.start[1], p[1])] });
    if ((tool === 'brush' || tool === 'eraser') && d.before) d.dirty = union(d.dirty, paint(doc, [...d.before.keys()], d.last, p));
    if (tool === 'select' && d.moving) {
      const moved = moveShape(d.moving, p[0] - d.start[0], p[1] - d.start[1]);
      const next = { ...doc, shapes: doc.shapes.map((s) => (s.key === moved.key ? moved : s)) };
      setDoc(next);
      docRef.current = next;
    }
    d.last = p;
  };
  const onPointerUp = (): void => {
    const d = drag.current;
    const doc = docRef.current;
    drag.current = null;
    if (!d || !doc) return;
    if (tool === 'box' && draft?.box) {
      const [x0, y0, x1, y1] = draft.box;
      setDraft(null);
      if (x1 - x0 >= 2 && y1 - y0 >= 2) {
        edit({ type: 'batch', edits: [{ type: 'good', good: null }, { type: 'add', shapes: [{ key: newKey(), shape: 'box', classIndex, box: [x0, y0, x1, y1].map(Math.round) as [number, number, number, number] }] }] });
      }
    } else if ((tool === 'brush' || tool === 'eraser') && d.before && d.dirty) {
      // The history keeps only the rectangle the stroke touched, as it was before.
      const rect = d.dirty;
      const restore: Edit[] = [...d.before].map(([classIndex, before]) => ({ type: 'pixels', classIndex, rect, pixels: readRect(before, doc.width, rect) }));
      history.current.record({ type: 'batch', edits: [...restore, { type: 'good', good: doc.good }] });
      apply({ ...doc, good: null });
    } else if (tool === 'select' && d.moving && (d.last[0] !== d.start[0] || d.last[1] !== d.start[1])) {
      history.current.record({ type: 'replace', shape: d.moving });
      apply({ ...doc });
    }
  };
  const closePolygon = (): void => {
    if (!doc || !draft?.points || draft.points.length < 3) return;
    const shape: VectorShape = { key: newKey(), shape: 'polygon', classIndex, points: draft.points.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10] as Point) };
    setDraft(null);
    edit({ type: 'batch', edits: [{ type: 'good', good: null }, { type: 'add', shapes: [shape] }] });
  };
  const remove = (key: string): void => {
    edit({ type: 'remove', keys: [key] });
    setSelected(null);
  };
  const clearMaskEdit = (index: number, data: Uint8Array): Edit => {
    const rect = setPixelsRect(data, doc!.width, doc!.height);
    return { type: 'pixels', classIndex: index, rect, pixels: new Uint8Array((rect[2] - rect[0]) * (rect[3] - rect[1])) };
  };
  const clearMask = (index: number): void => {
    const mask = doc?.masks.get(index);
    if (mask) edit(clearMaskEdit(index, mask.data));
  };
  const markGood = (): void => {
    if (!doc) return;
    edit({
      type: 'batch',
      edits: [{ type: 'remove', keys: doc.shapes.map((s) => s.key) }, ...[...doc.masks].map(([index, mask]) => clearMaskEdit(index, mask.data)), { type: 'good', good: doc.good ?? {} }],
    });
  };
  // Model-assisted labelling: the production model's regions, to accept as boxes or dismiss.
  const suggest = async (): Promise<void> => {
    if (!datasetId || !imageId) return;
    setSuggesting(true);
    setError(null);
    try {
      setSuggestions(await api.suggestRegions({ datasetId, imageId }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSuggesting(false);
    }
  };
  const accept = (indices: number[]): void => {
    if (!doc || !suggestions) return;
    const added: VectorShape[] = indices.map((i) => {
      const r = suggestions.regions[i];
      return { key: newKey(), shape: 'box', classIndex: r.classIndex ?? classIndex, box: r.box };
    });
    edit({ type: 'batch', edits: [{ type: 'good', good: null }, { type: 'add', shapes: added }] });
    setSuggestions({ ...suggestions, regions: suggestions.regions.filter((_, i) => !indices.includes(i)) });
  };
  const dismiss = (index: number): void => {
    if (suggestions) setSuggestions({ ...suggestions, regions: suggestions.regions.filter((_, i) => i !== index) });
  };

  const step = (delta: number): void => {
    const i = queue.findIndex((q) => q.imageId === imageId);
    const next = queue[i + delta];
    if (!next) return;
    void save().then(() => setImageId(next.imageId));
  };

  // ---- One action table for the toolbar and the keyboard ----
  const actions = annotateActions({
    tool, setTool, undo, redo, canUndo: history.current.canUndo, canRedo: history.current.canRedo, markGood, suggest: () => void suggest(), suggesting,
    closePolygon, cancelDraft: () => setDraft(null), deleteSelected: () => selected && remove(selected),
    brushSmaller: () => setBrushSize((v) => Math.max(1, v - 2)), brushLarger: () => setBrushSize((v) => Math.min(200, v + 2)), step,
    classIndices: classes.map((c) => c.index), setClass: setClassIndex,
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (view !== 'regions' || (e.target as HTMLElement).closest('input, select, textarea')) return;
      const action = actionForKey(actions, e);
      if (!action) return;
      if (e.ctrlKey || e.metaKey) e.preventDefault();
      action.run();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const saveText = { saved: t('annotate.saved'), saving: t('annotate.saving'), pending: t('annotate.pending'), error: t('annotate.saveFailed') }[saveState];

  return (
    <section className="page annotate-page">
      <header className="page-header">
        <h1>{t('nav.annotate')}</h1>
        <label className="inline">{t('training.dataset')}
          <select value={datasetId ?? ''} onChange={(e) => setDatasetId(Number(e.target.value))}>
            {datasets.data?.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
        </label>
        <div className="segmented" role="group" aria-label={t('annotate.view')}>
          <button type="button" aria-pressed={view === 'regions'} className={view === 'regions' ? 'primary' : ''} onClick={() => setView('regions')}>{t('annotate.regions')}</button>
          <button type="button" aria-pressed={view === 'grid'} className={view === 'grid' ? 'primary' : ''} onClick={() => void save().then(() => setView('grid'))}>{t('annotate.grid')}</button>
          <button type="button" aria-pressed={view === 'review'} className={view === 'review' ? 'primary' : ''} onClick={() => void save().then(() => setView('review'))}>{t('review.queue')}</button>
        </div>
      </header>
      {error && <p className="notice error" role="alert">{error}</p>}
      {!isEngineer && <p className="notice">{t('roles.engineerOnly')}</p>}
      {datasets.data?.length === 0 && <div className="empty-state"><p>{t('annotate.noDatasets')}</p></div>}
      {view === 'review' && dataset && <ReviewQueue dataset={dataset} classes={classes} disabled={!isEngineer} onAdded={images.reload} />}
      {view === 'grid' && datasetId !== null && images.data && (
        <ClassGrid datasetId={datasetId} classes={classes} images={queue} disabled={!isEngineer} ranking={ranking} rankJob={rankJob} onSuggest={() => void rank()} />
      )}
      <div className="annotate-layout" style={view !== 'regions' ? { display: 'none' } : undefined}>
        <aside className="card annotate-queue">
          <h2>{t('annotate.queue')}</h2>
          <p className="muted">{ranking ? t('annotate.queueRanked', { id: ranking.modelId }) : t('annotate.queueOrder')}</p>
          <button onClick={() => void rank()} disabled={rankJob?.state === 'running'}>
            {rankJob?.state === 'running' ? t('annotate.ranking', { done: rankJob.done, total: rankJob.total }) : t('annotate.rank')}
          </button>
          <JobProgress job={rankJob} />
          <ol aria-label={t('annotate.queue')}>
            {queue.map((i) => (
              <li key={i.imageId}>
                <button className={i.imageId === imageId ? 'active' : ''} onClick={() => void save().then(() => setImageId(i.imageId))}>
                  <img src={client.mediaUrl('thumbnail', i.sha256)} alt="" loading="lazy" />
                  <span>{i.file}
                    <small className={`chip label-${i.label}`}>{t(`datasets.label.${i.label}`)}</small>
                    {rankOf.has(i.imageId) && <small className={`chip verdict-chip-${rankOf.get(i.imageId)!.verdict}`} data-testid="rank-score">{rankOf.get(i.imageId)!.verdict} {rankOf.get(i.imageId)!.score.toFixed(2)}</small>}
                  </span>
                </button>
              </li>
            ))}
          </ol>
        </aside>

        <div className="annotate-main">
          <div className="card annotate-toolbar" role="toolbar" aria-label={t('annotate.tools')}>
            {actions.filter((a) => a.place === 'tool').map((a) => (
              <button key={a.id} className={a.pressed ? 'primary' : ''} aria-pressed={a.pressed} onClick={a.run} title={`${t(a.label)} (${a.shortcut})`}>
                {t(a.label)} <kbd>{a.shortcut}</kbd>
              </button>
            ))}
            <label className="inline">{t('annotate.class')}
              <select value={classIndex} onChange={(e) => setClassIndex(Number(e.target.value))}>
                {classes.map((c) => <option key={c.index} value={c.index}>{c.index} · {c.name}</option>)}
              </select>
            </label>
            <label className="inline">{t('annotate.brushSize')} <kbd>[</kbd><kbd>]</kbd>
              <input type="range" min={1} max={100} value={brushSize} onChange={(e) => setBrushSize(Number(e.target.value))} aria-label={t('annotate.brushSize')} />
              <span>{brushSize}px</span>
            </label>
            {actions.filter((a) => a.place === 'command').map((a) => (
              <button key={a.id} onClick={a.run} disabled={a.disabled} title={a.shortcut}>{t(a.label)} <kbd>{a.shortcut}</kbd></button>
            ))}
            <span className={`save-state save-${saveState}`} data-testid="save-state" role="status">{saveText}</span>
          </div>
          {tool === 'polygon' && <p className="muted hint">{t('annotate.polygonHint')}</p>}
          {image && doc && (
            <ZoomStage label={t('annotate.zoomHint')} pan="middle" fitOnDoubleClick={false}>
            <div className="annotate-stage" style={{ aspectRatio: `${doc.width} / ${doc.height}` }}>
              <img src={client.mediaUrl('original', image.sha256)} alt={image.file} draggable={false} />
              <canvas ref={maskCanvas} width={doc.width} height={doc.height} data-testid="mask-layer" className="layer" />
              <canvas ref={vectorCanvas} width={doc.width} height={doc.height} data-testid="vector-layer" className="layer" />
              <canvas
                ref={canvasRef} width={doc.width} height={doc.height} data-testid="annotation-canvas" className={`layer tool-${tool}`}
                onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onDoubleClick={closePolygon}
              />
            </div>
            </ZoomStage>
          )}
        </div>

        <aside className="card annotate-list">
          <h2>{t('annotate.annotations')}</h2>
          {doc?.good && <p className="chip label-good">{t('annotate.markedGood')}</p>}
          <ul aria-label={t('annotate.annotations')}>
            {doc?.shapes.map((s) => (
              <li key={s.key} className={s.key === selected ? 'selected' : ''}>
                <button className="link" onClick={() => { setTool('select'); setSelected(s.key); }}>
                  <i style={{ background: colourOf(s.classIndex) }} />{t(`annotate.shape.${s.shape}`)} · {nameOf(s.classIndex)}
                </button>
                <button aria-label={t('annotate.delete')} onClick={() => remove(s.key)}>✕</button>
              </li>
            ))}
            {doc && [...doc.masks].filter(([, m]) => m.data.includes(1)).map(([index]) => (
              <li key={`mask-${index}`}>
                <span><i style={{ background: colourOf(index) }} />{t('annotate.shape.mask')} · {nameOf(index)}</span>
                <button aria-label={t('annotate.delete')} onClick={() => clearMask(index)}>✕</button>
              </li>
            ))}
          </ul>
          {suggestions && (
            <div className="suggestions">
              <h2>{t('annotate.suggestions', { id: suggestions.modelId })}</h2>
              {suggestions.regions.length === 0 && <p className="muted">{t('annotate.noSuggestions')}</p>}
              <ul aria-label={t('annotate.suggestionList')}>
                {suggestions.regions.map((r, i) => (
                  <li key={`${r.box.join(',')}`}>
                    <span><i style={{ background: '#f5a623' }} />{r.class} · {r.score.toFixed(2)}</span>
                    <span>
                      <button aria-label={t('annotate.accept')} onClick={() => accept([i])}>✓</button>
                      <button aria-label={t('annotate.dismiss')} onClick={() => dismiss(i)}>✕</button>
                    </span>
                  </li>
                ))}
              </ul>
              {suggestions.regions.length > 1 && <button onClick={() => accept(suggestions.regions.map((_, i) => i))}>{t('annotate.acceptAll')}</button>}
            </div>
          )}
          <p className="muted">{t('annotate.shortcuts')}</p>
        </aside>
      </div>
    </section>
  );
}
