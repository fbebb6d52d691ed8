import { hostname } from 'node:os';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelVersionSummary } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { packModel, unpackModel } from '../store/model-package.ts';
import { modeOf } from '../modes/registry.ts';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { packageVersion } from '../platform/resources.ts';
import { sha256Hex } from '../store/blob-store.ts';
import { verifyModelFiles } from '../store/model-files.ts';
import type { Store } from '../store/store.ts';

/** The only network Argus builds; a package made for another cannot run here. */
export const BACKBONE_ARCHITECTURE = 'resnet50-fpn';
/** Packages are read whole into memory; bigger files are not model packages. */
export const MAX_PACKAGE_BYTES = 2 * 2 ** 30;

export interface ExportedPackage {
  path: string;
  bytes: number;
  sha256: string;
}

/** File name of a version's package: its id and a tidy form of its name. */
export const packageNameOf = (model: Pick<ModelVersionSummary, 'id' | 'name'>): string =>
  `argus-model-${model.id}-${model.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'model'}.argus`;

/**
 * Writes a model version as one package file (files verified against their SHA-256 first),
 * atomically, to `target` or into the data directory's `exports/` folder. Audited.
 */
export async function exportModelPackage(store: Store, modelId: number, actor: string, target?: string): Promise<ExportedPackage> {
  const model = store.models.get(modelId);
  const files = await verifyModelFiles(store, model);
  const project = store.projects.get(model.projectId);
  const bytes = packModel(
    {
      createdAt: new Date().toISOString(),
      argusVersion: packageVersion(),
      backbone: { architecture: BACKBONE_ARCHITECTURE, sha256: typeof model.config.backboneSha256 === 'string' ? model.config.backboneSha256 : null },
      model: { name: model.name, mode: model.mode, classes: model.classes, config: model.config, thresholds: model.thresholds, metrics: model.metrics },
      lineage: {
        station: hostname(), modelId: model.id, parentId: model.parentId, snapshotId: model.snapshotId, status: model.status, createdAt: model.createdAt,
        project: { name: project.name, classes: project.classes.map((c) => ({ name: c.name, color: c.color })) },
      },
    },
    [...files].map(([role, data]) => ({ role, bytes: data })),
  );
  const path = target ?? join(store.dataDir, 'exports', packageNameOf(model));
  if (!target) await mkdir(join(store.dataDir, 'exports'), { recursive: true });
  await writeFileAtomic(path, bytes);
  const sha256 = sha256Hex(bytes);
  store.history.audit(actor, 'model.export', `model:${model.id}`, { file: basename(path), bytes: bytes.length, sha256 });
  return { path, bytes: bytes.length, sha256 };
}

/**
 * Registers the model in a package as a candidate version: every file checked against the
 * manifest, the network and backbone checked against this station's, the project found by name
 * (its classes must be the model's) or created with the package's classes. Nothing is stored
 * unless every check passes. Audited with where the version came from.
 */
export async function importModelPackage(store: Store, file: string, stationBackboneSha256: string | null, actor: string): Promise<ModelVersionSummary> {
  const bytes = await readFile(file);
  if (bytes.length > MAX_PACKAGE_BYTES) throw new ArgusError('bad_input', `${basename(file)} is larger than any model package`, { key: 'notAPackage', params: { reason: 'too large' } });
  const { manifest, files } = unpackModel(bytes);
  const { model, lineage, backbone } = manifest;
  if (backbone.architecture !== BACKBONE_ARCHITECTURE) {
    throw new ArgusError('unsupported', `This model package is for a ${backbone.architecture} network; this Argus runs ${BACKBONE_ARCHITECTURE}`, { key: 'packageArchitecture', params: { architecture: backbone.architecture } });
  }
  if (backbone.sha256 && stationBackboneSha256 && backbone.sha256 !== stationBackboneSha256) {
    throw new ArgusError('conflict', `This model was trained on backbone weights ${backbone.sha256.slice(0, 12)}…; this station uses ${stationBackboneSha256.slice(0, 12)}…: import those weights first (Settings)`, {
      key: 'packageBackbone', params: { theirs: backbone.sha256.slice(0, 12), ours: stationBackboneSha256.slice(0, 12) },
    });
  }
  const definition = modeOf(model.mode as never);
  const existing = store.projects.findByName(lineage.project.name);
  // Fine-tuned models name the project's defect classes in its order; anomaly models only their own "anomaly".
  if (existing && definition.fineTuned) {
    const names = existing.classes.map((c) => c.name);
    if (names.join('\n') !== model.classes.join('\n')) {
      throw new ArgusError('conflict', `Project "${existing.name}" on this station has classes [${names.join(', ')}]; the model knows [${model.classes.join(', ')}]`, {
        key: 'packageClasses', params: { project: existing.name, classes: names.join(', '), modelClasses: model.classes.join(', ') },
      });
    }
  }
  // unpackModel checked every file against these digests already.
  const shas = manifest.files.map((f) => f.sha256).sort().join(',');
  const same = store.models.list(existing?.id).find((m) => existing && m.files.map((f) => f.sha256).sort().join(',') === shas);
  if (same) throw new ArgusError('conflict', `This model is already on this station as version ${same.id}`, { key: 'packageAlreadyHere', params: { id: same.id } });
  const stored = await Promise.all([...files].map(async ([role, data]) => ({ role, sha256: await store.blobs.put(data), bytes: data.length })));
  return store.transaction(() => {
    const project = existing ?? store.projects.create({ name: lineage.project.name, classes: lineage.project.classes });
    const created = store.models.create({
      projectId: project.id, parentId: null, name: model.name, mode: definition.mode, classes: model.classes, snapshotId: null,
      config: { ...model.config, importedFrom: { station: lineage.station, modelId: lineage.modelId, packageSha256: sha256Hex(bytes), exportedAt: manifest.createdAt } },
      metrics: model.metrics, thresholds: model.thresholds, files: stored,
    });
    store.history.audit(actor, 'model.import', `model:${created.id}`, { file: basename(file), station: lineage.station, sourceModelId: lineage.modelId, project: project.name });
    return created;
  });
}
