import { createHash } from 'node:crypto';
import { unzipSync, zipSync } from 'fflate';
import type { ModelMode, ModelThresholds } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';

/** The package format this build writes and the newest it reads. */
export const MODEL_PACKAGE_FORMAT = 1;
const FORMAT_NAME = 'argus-model-package';
const MANIFEST = 'manifest.json';
/** Unpacking stops at this many bytes in all, whatever the archive claims (zip bombs). */
const MAX_UNPACKED_BYTES = 4 * 2 ** 30;

/** What a model package says about the model it carries; every file is listed with its SHA-256. */
export interface ModelPackageManifest {
  format: typeof FORMAT_NAME;
  formatVersion: number;
  createdAt: string;
  argusVersion: string;
  /** The network the files were built on: its architecture and the backbone weights' SHA-256. */
  backbone: { architecture: string; sha256: string | null };
  model: {
    name: string;
    mode: ModelMode;
    classes: string[];
    config: Record<string, unknown>;
    thresholds: ModelThresholds;
    metrics: Record<string, unknown>;
  };
  /** Where the version came from on the station that exported it. */
  lineage: {
    station: string;
    modelId: number;
    parentId: number | null;
    snapshotId: number | null;
    status: string;
    createdAt: string;
    project: { name: string; classes: { name: string; color: string }[] };
  };
  files: { role: string; path: string; sha256: string; bytes: number }[];
}

export interface ModelPackageContents {
  manifest: ModelPackageManifest;
  files: Map<string, Uint8Array>;
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const ROLE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A model package: one zip with `manifest.json` and `files/<role>`; network files are stored, not compressed. */
export function packModel(manifest: Omit<ModelPackageManifest, 'format' | 'formatVersion' | 'files'>, files: { role: string; bytes: Uint8Array }[]): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  const listed: ModelPackageManifest['files'] = [];
  for (const f of files) {
    if (!ROLE.test(f.role)) throw new ArgusError('invalid_argument', `A model file role cannot be written into a package: ${f.role}`);
    const path = `files/${f.role}`;
    entries[path] = [f.bytes, { level: 0 }];
    listed.push({ role: f.role, path, sha256: sha256Of(f.bytes), bytes: f.bytes.length });
  }
  const full: ModelPackageManifest = { format: FORMAT_NAME, formatVersion: MODEL_PACKAGE_FORMAT, ...manifest, files: listed };
  entries[MANIFEST] = [new TextEncoder().encode(JSON.stringify(full, null, 2)), { level: 6 }];
  return zipSync(entries);
}

/**
 * Reads a package and checks it whole: a known format no newer than this build's, and every
 * listed file present with its size and SHA-256. Throws a clear error otherwise; nothing is
 * returned from a package that fails any check.
 */
export function unpackModel(bytes: Uint8Array): ModelPackageContents {
  let entries: Record<string, Uint8Array>;
  let total = 0;
  try {
    entries = unzipSync(bytes, {
      filter: (file) => {
        total += file.originalSize;
        if (total > MAX_UNPACKED_BYTES) throw new Error(`it unpacks to more than ${MAX_UNPACKED_BYTES / 2 ** 30} GiB`);
        return file.name === MANIFEST || file.name.startsWith('files/');
      },
    });
  } catch (error) {
    throw refused(`it is not a readable zip archive (${(error as Error).message})`);
  }
  const manifestBytes = entries[MANIFEST];
  if (!manifestBytes) throw refused('it has no manifest.json');
  let manifest: ModelPackageManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as ModelPackageManifest;
  } catch {
    throw refused('its manifest.json is not JSON');
  }
  if (manifest?.format !== FORMAT_NAME || !Number.isInteger(manifest.formatVersion)) throw refused('its manifest does not describe an Argus model package');
  if (manifest.formatVersion > MODEL_PACKAGE_FORMAT) {
    throw new ArgusError('unsupported', `This model package has format ${manifest.formatVersion}, made by a newer Argus (${String(manifest.argusVersion)}); this station reads format ${MODEL_PACKAGE_FORMAT}: update Argus first`, {
      key: 'packageTooNew', params: { format: manifest.formatVersion, supported: MODEL_PACKAGE_FORMAT },
    });
  }
  if (!Array.isArray(manifest.files) || manifest.files.length === 0 || !manifest.model || !Array.isArray(manifest.model.classes)) throw refused('its manifest lists no model files');
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const data = entries[f.path];
    if (!ROLE.test(f.role) || !data) throw refused(`the file ${String(f.path)} listed in its manifest is missing`);
    if (data.length !== f.bytes || sha256Of(data) !== f.sha256) {
      throw new ArgusError('bad_input', `The model package's ${f.role} does not match its SHA-256 (damaged or tampered with); nothing was imported`, { key: 'packageTampered', params: { role: f.role } });
    }
    files.set(f.role, data);
  }
  return { manifest, files };
}

const refused = (why: string): ArgusError =>
  new ArgusError('bad_input', `Not an Argus model package: ${why}`, { key: 'notAPackage', params: { reason: why } });
