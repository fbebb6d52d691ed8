import { useEffect, useMemo, useRef, useState } from 'react';
import type { InspectionRecord, StoredImageLabels } from '../../../src-main/contract/contract.ts';
import { decodeRuns } from '../../../src-main/common/geometry.ts';
import { decide, type ImageThresholds } from '../../../src-main/common/decision.ts';
import { extractRegions } from '../../../src-main/common/regions.ts';
import { api, client } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { ReviewBar } from './ReviewBar.tsx';
import { colourHeatmap, loadImage } from './heatmap.ts';
import { ZoomStage } from '../common/ZoomStage.tsx';

interface Region {
  class: string;
  score: number;
  mean_score?: number;
  box: [number, number, number, number];
  area: number;
}

/** Live what-if thresholds (normalised; 0.5 = as calibrated). Nothing is saved. */
export interface PreviewThresholds {
  image: number;
  pixel: number;
}

const MIN_REGION_AREA = 16;

/**
 * One inspection: verdict, score, the image with its heatmap and region boxes, the regions list.
 * With preview thresholds other than the calibrated ones, verdict and regions are re-derived from
 * the stored raw score and heatmap, without running the model again.
 */
export function InspectionViewer({ inspection, showHeatmap, opacity, preview = { image: 0.5, pixel: 0.5 }, showLabels = true }: { inspection: InspectionRecord; showHeatmap: boolean; opacity: number; preview?: PreviewThresholds; showLabels?: boolean }) {
  const { t, date } = useI18n();
  // Labels a QA engineer stored for this very image (same content), drawn as their own layer.
  const [labels, setLabels] = useState<StoredImageLabels | null>(null);
  useEffect(() => {
    let live = true;
    setLabels(null);
    if (inspection.imageSha256) void api.getImageLabels({ sha256: inspection.imageSha256 }).then((l) => live && setLabels(l), () => undefined);
    return () => {
      live = false;
    };
  }, [inspection.imageSha256]);
  const overlay = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  const [heatmap, setHeatmap] = useState<ImageData | null>(null);
  const thresholds = inspection.thresholds as Partial<ImageThresholds>;
  const canPreviewVerdict = inspection.rawScore !== null && thresholds.ng !== undefined && thresholds.review !== undefined && thresholds.goodMedian !== undefined;
  const verdict = canPreviewVerdict && preview.image !== 0.5 ? decide(inspection.rawScore!, thresholds as ImageThresholds, preview.image) : inspection.verdict;
  const scores = useMemo(() => (heatmap ? Float32Array.from({ length: heatmap.width * heatmap.height }, (_, i) => heatmap.data[i * 4] / 255) : null), [heatmap]);
  const regions: Region[] = useMemo(() => {
    if (preview.pixel === 0.5) return inspection.regions as Region[];
    // Boxes of a detection model: what-if thresholds keep the boxes scoring at least that much.
    if ((inspection.thresholds as { regions?: string }).regions === 'boxes') return (inspection.regions as Region[]).filter((r) => r.score >= preview.pixel);
    if (!scores || !heatmap) return inspection.regions as Region[];
    return extractRegions(scores, heatmap.width, heatmap.height, preview.pixel, MIN_REGION_AREA)
      .map((r) => ({ class: 'anomaly', score: r.maxScore, mean_score: r.meanScore, box: r.box, area: r.area }));
  }, [preview.pixel, scores, heatmap, inspection.regions]);
  const previewing = (canPreviewVerdict && preview.image !== 0.5) || (preview.pixel !== 0.5 && (scores !== null || (inspection.thresholds as { regions?: string }).regions === 'boxes'));

  useEffect(() => {
    let live = true;
    setHeatmap(null);
    if (!inspection.heatmapSha256) return;
    void loadImage(client.mediaUrl('original', inspection.heatmapSha256)).then((image) => {
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(image, 0, 0);
      if (live) setHeatmap(ctx.getImageData(0, 0, canvas.width, canvas.height));
    });
    return () => {
      live = false;
    };
  }, [inspection.heatmapSha256]);

  useEffect(() => {
    const canvas = overlay.current;
    if (!canvas || !size) return;
    canvas.width = size.width;
    canvas.height = size.height;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, size.width, size.height);
    if (showHeatmap && heatmap && heatmap.width === size.width && heatmap.height === size.height) ctx.putImageData(colourHeatmap(heatmap, opacity), 0, 0);
    ctx.lineWidth = Math.max(2, size.width / 400);
    ctx.font = `${Math.max(8, size.width / 60)}px sans-serif`;
    if (showLabels && labels && labels.width === size.width && labels.height === size.height) drawLabels(ctx, labels);
    for (const r of regions) {
      const [x1, y1, x2, y2] = r.box;
      ctx.strokeStyle = '#00e5ff';
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.fillStyle = '#00e5ff';
      ctx.fillText(r.class === 'anomaly' ? r.score.toFixed(2) : `${r.class} ${r.score.toFixed(2)}`, x1, Math.max(12, y1 - 4));
    }
  }, [size, heatmap, showHeatmap, opacity, regions, labels, showLabels]);

  return (
    <div className="viewer" data-testid="inspection-viewer">
      <div className={`verdict-banner verdict-${verdict}`} data-testid="verdict">
        <span className="verdict-word">{verdict}</span>
        {inspection.score !== null && <span className="verdict-score">{t('inspect.score')} {inspection.score.toFixed(3)}</span>}
        {typeof inspection.thresholds.group === 'string' && <span className="muted" data-testid="judged-group">{t('inspect.group')}: {inspection.thresholds.group}</span>}
        {previewing && <span className="preview-tag" data-testid="preview">{t('inspect.preview', { verdict: inspection.verdict })}</span>}
      </div>
      {inspection.classProbabilities && (
        <p className="class-probabilities" data-testid="class-probabilities">
          {/* Highlighted: the most probable class, and (multi-label) every other class at 50 % or more. */}
          {Object.entries(inspection.classProbabilities).sort((a, b) => b[1] - a[1]).map(([name, p], i) => (
            <span key={name} className={i === 0 || p >= 0.5 ? 'chip top-class' : 'chip'}>{name === 'good' ? t('datasets.label.good') : name} {(100 * p).toFixed(1)}%</span>
          ))}
        </p>
      )}
      <ReviewBar inspection={inspection} />
      {inspection.error && <p className="notice error">{inspection.error}</p>}
      {inspection.imageSha256 && (
        <ZoomStage label={t('inspect.zoomHint')}>
          <img
            src={client.mediaUrl('original', inspection.imageSha256)}
            alt={inspection.sourcePath}
            onLoad={(e) => setSize({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
          />
          <canvas ref={overlay} className="overlay" data-testid="heatmap-overlay" data-ready={heatmap ? 'yes' : 'no'} />
        </ZoomStage>
      )}
      <div className="viewer-facts">
        <div className="path">{inspection.sourcePath}</div>
        <div className="muted">
          {t('inspect.model')} {inspection.modelVersionId ?? '–'} · {date(inspection.createdAt)} ·{' '}
          {Math.round(Number(inspection.timings.total ?? 0))} ms
        </div>
        <div className="muted" data-testid="region-count">{t('inspect.regions', { n: regions.length })}</div>
        {labels && labels.annotations.length > 0 && (
          <div className="muted" data-testid="label-count">{t('inspect.labels', { n: labels.annotations.length })}</div>
        )}
        {regions.length > 0 && (
          <table className="table compact">
            <thead><tr><th>#</th><th>{t('inspect.regionClass')}</th><th>{t('inspect.regionScore')}</th><th>{t('inspect.regionArea')}</th><th>{t('inspect.regionBox')}</th></tr></thead>
            <tbody>
              {regions.map((r, i) => (
                <tr key={i}><td>{i + 1}</td><td>{r.class}</td><td>{r.score.toFixed(3)}</td><td>{r.area}</td><td>{r.box.join(', ')}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

/** Stored labels in their class colours: masks filled (translucent), boxes and polygons dashed. */
function drawLabels(ctx: CanvasRenderingContext2D, labels: StoredImageLabels): void {
  const { width, height } = labels;
  const masks = labels.annotations.filter((a) => a.shape === 'mask');
  if (masks.length) {
    const layer = ctx.getImageData(0, 0, width, height);
    for (const a of masks) {
      if (a.shape !== 'mask') continue;
      const colour = a.color ?? '#ff00ff';
      const rgb = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
      decodeRuns(a.runs, width * height).forEach((v, p) => {
        if (!v) return;
        const o = p * 4;
        // Blend 50 % of the class colour over whatever is drawn already.
        for (let c = 0; c < 3; c++) layer.data[o + c] = (layer.data[o + c] + rgb[c]) >> 1;
        layer.data[o + 3] = Math.max(layer.data[o + 3], 160);
      });
    }
    ctx.putImageData(layer, 0, 0);
  }
  ctx.save();
  ctx.setLineDash([6, 4]);
  for (const a of labels.annotations) {
    if (a.shape !== 'box' && a.shape !== 'polygon') continue;
    ctx.strokeStyle = a.color ?? '#ff00ff';
    ctx.beginPath();
    if (a.shape === 'box') ctx.rect(a.box[0], a.box[1], a.box[2] - a.box[0], a.box[3] - a.box[1]);
    else a.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.stroke();
  }
  ctx.restore();
}
