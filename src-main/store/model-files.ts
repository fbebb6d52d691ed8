import { ArgusError } from '../contract/errors.ts';
import { sha256Hex } from './blob-store.ts';
import type { ModelVersion } from './models.ts';
import type { Store } from './store.ts';

/** Reads a model's files, refusing any that is missing or does not match its recorded SHA-256. */
export async function verifyModelFiles(store: Store, model: ModelVersion): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const f of model.files) {
    const bytes = await store.blobs.get(f.sha256).catch(() => {
      throw new ArgusError('bad_input', `Model ${model.id}: its ${f.role} file is missing from the data directory`, { key: 'modelFileMissing', params: { id: model.id } });
    });
    if (sha256Hex(bytes) !== f.sha256) throw new ArgusError('bad_input', `Model ${model.id}: ${f.role} does not match its SHA-256 (damaged or tampered with); refusing to use it`, { key: 'modelFileTampered', params: { id: model.id } });
    files.set(f.role, bytes);
  }
  return files;
}
