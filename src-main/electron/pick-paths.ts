// Plain data (no electron import), so what a page may ask the native file dialog for is unit-tested.
import type { PickPathsRequest } from '../contract/contract.ts';

/** Electron's open-dialog options (a subset) for what the page asked. */
export interface OpenDialogRequest {
  title: string;
  properties: ('openFile' | 'openDirectory' | 'multiSelections')[];
  filters?: { name: string; extensions: string[] }[];
}

const FILTERS: Record<NonNullable<PickPathsRequest['accept']>, { name: string; extensions: string[] }[]> = {
  images: [{ name: 'Images', extensions: ['png', 'jpg', 'jpeg', 'bmp', 'tif', 'tiff', 'webp'] }],
  coco: [{ name: 'COCO JSON', extensions: ['json'] }],
  package: [{ name: 'Argus model package', extensions: ['argus'] }],
};

/**
 * The dialog a page's request opens. Anything but the known kinds and filters is refused (null):
 * a page can ask the user to pick, never name a path itself.
 */
export function openDialogFor(request: unknown): OpenDialogRequest | null {
  if (typeof request !== 'object' || request === null) return null;
  const { kind, accept, title } = request as Partial<PickPathsRequest>;
  const filters = accept === undefined ? undefined : FILTERS[accept];
  if (accept !== undefined && !filters) return null;
  const text = typeof title === 'string' ? title.slice(0, 200) : 'Argus';
  if (kind === 'folder') return { title: text, properties: ['openDirectory'] };
  if (kind === 'file') return { title: text, properties: ['openFile'], ...(filters ? { filters } : {}) };
  if (kind === 'files') return { title: text, properties: ['openFile', 'multiSelections'], ...(filters ? { filters } : {}) };
  return null;
}
