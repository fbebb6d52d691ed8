import { useEffect, useRef, useState } from 'react';
import type { InspectionRecord } from '../../../src-main/api/contract.ts';
import { client } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { colourHeatmap, loadImage } from './heatmap.ts';

interface Region {
  class: string;
  score: number;
  mean_score?: number;
  box: [number, number, number, number];
  area: number;
}

/** One inspection: verdict, score, the image with its heatmap and region boxes, the regions list. */
export function InspectionViewer({ inspection, showHeatmap, opacity }: { inspection: InspectionRecord; showHeatmap: boolean; opacity: number }) {
  const { t } = useI18n();
  const overlay = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  const [heatmap, setHeatmap] = useState<ImageData | null>(null);
  const regions = inspection.regions as Region[];

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
    ctx.font = `${Math.max(14, size.width / 60)}px sans-serif`;
    for (const r of regions) {
      const [x1, y1, x2, y2] = r.box;
      ctx.strokeStyle = '#00e5ff';
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.fillStyle = '#00e5ff';
      ctx.fillText(r.score.toFixed(2), x1, Math.max(12, y1 - 4));
    }
  }, [size, heatmap, showHeatmap, opacity, regions]);

  return (
    <div className="viewer" data-testid="inspection-viewer">
      <div className={`verdict-banner verdict-${inspection.verdict}`} data-testid="verdict">
        <span className="verdict-word">{inspection.verdict}</span>
        {inspection.score !== null && <span className="verdict-score">{t('inspect.score')} {inspection.score.toFixed(3)}</span>}
      </div>
      {inspection.error && <p className="notice error">{inspection.error}</p>}
      {inspection.imageSha256 && (
        <div className="stage">
          <img
            src={client.mediaUrl('original', inspection.imageSha256)}
            alt={inspection.sourcePath}
            onLoad={(e) => setSize({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
          />
          <canvas ref={overlay} className="overlay" data-testid="heatmap-overlay" data-ready={heatmap ? 'yes' : 'no'} />
        </div>
      )}
      <div className="viewer-facts">
        <div className="path">{inspection.sourcePath}</div>
        <div className="muted">
          {t('inspect.model')} {inspection.modelVersionId ?? '–'} · {new Date(inspection.createdAt).toLocaleString()} ·{' '}
          {Math.round(Number(inspection.timings.total ?? 0))} ms
        </div>
        {regions.length > 0 && (
          <table className="table compact">
            <thead><tr><th>#</th><th>{t('inspect.regionScore')}</th><th>{t('inspect.regionArea')}</th><th>{t('inspect.regionBox')}</th></tr></thead>
            <tbody>
              {regions.map((r, i) => (
                <tr key={i}><td>{i + 1}</td><td>{r.score.toFixed(3)}</td><td>{r.area}</td><td>{r.box.join(', ')}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
