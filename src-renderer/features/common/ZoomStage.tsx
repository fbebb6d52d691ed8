import { type ReactNode, type PointerEvent as ReactPointerEvent, useEffect, useRef, useState } from 'react';

const MAX_ZOOM = 32;

/**
 * Zoom (wheel, around the cursor) and pan (drag) over an image and its overlays. Past 1 image
 * pixel per screen pixel the pixels are drawn as squares, never smoothed, so a defect is seen
 * as the camera recorded it. 0 (or a double-click, where it is not taken) fits the image again.
 * Where the left button draws (Annotate), `pan: 'middle'` pans with the middle button or with
 * Space held.
 */
export function ZoomStage({ children, label, pan = 'any', fitOnDoubleClick = true }: { children: ReactNode; label: string; pan?: 'any' | 'middle'; fitOnDoubleClick?: boolean }) {
  const stage = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ zoom: 1, x: 0, y: 0 });
  const drag = useRef<{ x: number; y: number; startX: number; startY: number } | null>(null);
  const [naturalScale, setNaturalScale] = useState(1);
  const spaceHeld = useRef(false);

  // How many image pixels one screen pixel shows at zoom 1 (to know when pixels get magnified).
  useEffect(() => {
    const img = stage.current?.querySelector('img');
    const measure = (): void => {
      if (img && img.naturalWidth && stage.current) setNaturalScale(stage.current.clientWidth / img.naturalWidth);
    };
    measure();
    img?.addEventListener('load', measure);
    window.addEventListener('resize', measure);
    return () => {
      img?.removeEventListener('load', measure);
      window.removeEventListener('resize', measure);
    };
  }, [children]);

  useEffect(() => {
    const element = stage.current;
    if (!element) return;
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      const rect = element.getBoundingClientRect();
      const cx = e.clientX - rect.left;
      const cy = e.clientY - rect.top;
      setView((v) => {
        const zoom = Math.min(MAX_ZOOM, Math.max(1, v.zoom * Math.exp(-e.deltaY * 0.0015)));
        // Keep the image point under the cursor where it is.
        const x = cx - ((cx - v.x) * zoom) / v.zoom;
        const y = cy - ((cy - v.y) * zoom) / v.zoom;
        return clamp({ zoom, x, y }, rect.width, rect.height);
      });
    };
    const onKey = (e: KeyboardEvent): void => {
      if ((e.target as HTMLElement).closest('input, textarea, select')) return;
      if (e.key === '0') setView({ zoom: 1, x: 0, y: 0 });
      if (e.key === ' ') spaceHeld.current = e.type === 'keydown';
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    window.addEventListener('keydown', onKey);
    window.addEventListener('keyup', onKey);
    return () => {
      element.removeEventListener('wheel', onWheel);
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('keyup', onKey);
    };
  }, []);

  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>): void => {
    if (view.zoom === 1) return;
    if (pan === 'middle' && e.button !== 1 && !spaceHeld.current) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x: view.x, y: view.y, startX: e.clientX, startY: e.clientY };
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>): void => {
    const d = drag.current;
    if (!d || !stage.current) return;
    const rect = stage.current.getBoundingClientRect();
    setView((v) => clamp({ zoom: v.zoom, x: d.x + e.clientX - d.startX, y: d.y + e.clientY - d.startY }, rect.width, rect.height));
  };

  const magnified = view.zoom * naturalScale > 1;
  return (
    <div
      ref={stage} className={`stage${view.zoom > 1 ? ' zoomed' : ''}`} title={label} data-testid="zoom-stage" data-zoom={view.zoom.toFixed(2)}
      onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={() => (drag.current = null)} onDoubleClick={() => fitOnDoubleClick && setView({ zoom: 1, x: 0, y: 0 })}
    >
      <div className={`stage-content${magnified ? ' pixelated' : ''}`} style={{ transform: `translate(${view.x}px, ${view.y}px) scale(${view.zoom})` }}>
        {children}
      </div>
      {view.zoom > 1 && <span className="zoom-level">{Math.round(view.zoom * naturalScale * 100)}%</span>}
    </div>
  );
}

/** Keeps the zoomed image covering the stage (no empty margins when panning). */
function clamp(v: { zoom: number; x: number; y: number }, width: number, height: number): { zoom: number; x: number; y: number } {
  return { zoom: v.zoom, x: Math.min(0, Math.max(width - width * v.zoom, v.x)), y: Math.min(0, Math.max(height - height * v.zoom, v.y)) };
}
