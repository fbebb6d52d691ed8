import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ArgusError } from '../contract/errors.ts';
import { renameDurably, writeStreamAtomic } from '../platform/atomic-file.ts';

/** A file a browser streamed to the station, and the name (or relative path) it had there. */
export interface StagedUpload {
  id: string;
  name: string;
}

/** Browser uploads wait here, under the data directory, for the call that takes them. */
export const stagedDirOf = (dataDir: string): string => join(dataDir, 'uploads', 'staged');

/** The staged file of an upload; an id is 32 hex digits, so it never names anything else. */
export function stagedFile(dataDir: string, upload: Pick<StagedUpload, 'id'>): string {
  const path = join(stagedDirOf(dataDir), upload.id.replace(/[^0-9a-f]/g, ''));
  if (!/^[0-9a-f]{32}$/.test(upload.id) || !existsSync(path)) {
    throw new ArgusError('not_found', `No staged upload ${upload.id} (uploads are kept for a day)`, { key: 'uploadExpired' });
  }
  return path;
}

/** Streams one upload's bytes to disk (at most `maxBytes`) and returns its id. */
export async function stageUpload(dataDir: string, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, maxBytes: number): Promise<{ id: string }> {
  const id = randomBytes(16).toString('hex');
  await writeStreamAtomic(join(stagedDirOf(dataDir), id), body, maxBytes);
  return { id };
}

/** A new folder under the data directory's uploads/ for one batch of uploads. */
export const uploadBatchFolder = (dataDir: string, kind = ''): string =>
  join(dataDir, 'uploads', `${kind}${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`);

/** A name's path segments (either slash), each reduced to safe characters: never empty, never "." or "..". */
const segmentsOf = (name: string): string[] =>
  name.split(/[\\/]+/).filter((s) => s && s !== '.' && s !== '..').map((s) => s.replace(/[^\w.\- ]+/g, '_').replace(/^\.+/, '') || 'file');

/**
 * Moves staged uploads into `folder` and returns their paths there. With `keepFolders`, a name's
 * relative folders are kept (a dataset's good/, masks/, manifest.json beside its images), each
 * segment made safe; otherwise only the base name. Names that collide get a numbered prefix.
 */
export async function collectUploads(dataDir: string, uploads: StagedUpload[], folder: string, keepFolders = false): Promise<string[]> {
  const used = new Set<string>();
  const staged = uploads.map((u) => stagedFile(dataDir, u));
  const paths: string[] = [];
  for (const [i, upload] of uploads.entries()) {
    const segments = segmentsOf(upload.name);
    if (!keepFolders) segments.splice(0, segments.length - 1);
    const last = segments.pop() ?? 'file';
    let name = last;
    for (let k = 1; used.has([...segments, name].join('/')); k++) name = `${k}-${last}`;
    used.add([...segments, name].join('/'));
    const path = join(folder, ...segments, name);
    await renameDurably(staged[i], path);
    paths.push(path);
  }
  return paths;
}

/**
 * A dataset uploaded as files with relative paths, moved into its own folder. When every path
 * starts with the same folder (a browser's folder upload), that folder is the dataset's root, so
 * the dataset is named after it.
 */
export async function collectUploadedDataset(dataDir: string, uploads: StagedUpload[]): Promise<{ folder: string; root: string }> {
  const folder = uploadBatchFolder(dataDir, 'dataset-');
  await collectUploads(dataDir, uploads, folder, true);
  const tops = uploads.map((u) => segmentsOf(u.name)).map((parts) => (parts.length > 1 ? parts[0] : null));
  const shared = tops.every((top) => top !== null && top === tops[0]) ? tops[0] : null;
  return { folder, root: shared ? join(folder, shared) : folder };
}

/** Moves one line image (an HTTP post) into uploads/line/<day>/ under a name no other image gets. */
export async function collectLineUpload(dataDir: string, upload: StagedUpload): Promise<string> {
  const now = new Date().toISOString();
  const name = `${now.slice(11, 23).replace(/[:.]/g, '')}-${randomBytes(3).toString('hex')}-${segmentsOf(upload.name).pop() ?? 'image'}`;
  const path = join(dataDir, 'uploads', 'line', now.slice(0, 10), name);
  await renameDurably(stagedFile(dataDir, upload), path);
  return path;
}
