import type { AdaptModelInput, AdaptModelResult } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { decodeRgb, type RgbImage } from '../images/preprocess.ts';
import { expandImageFiles } from '../inspection/inspect-files.ts';
import type { JobContext } from '../jobs/job-runner.ts';
import { verifyModelFiles } from '../store/model-files.ts';
import { modeOf } from '../modes/registry.ts';
import { MAX_FILE_BYTES, readUserFile } from '../platform/user-file.ts';
import type { Store } from '../store/store.ts';
import type { ModelVersion } from '../store/models.ts';
import type { ModelModeDefinition } from '../modes/model-mode.ts';
import { stagedFile } from './staged-uploads.ts';

export const GROUP_NAME = /^[\w.\- ]{1,64}$/;

type Frames = { count: number; load(index: number): Promise<RgbImage> };

/** The adaptation a model's mode offers; modes that cannot adapt are refused. */
export function adapterOf(model: ModelVersion): NonNullable<ModelModeDefinition['adapt']> {
  const adapt = modeOf(model.mode).adapt;
  if (!adapt) throw new ArgusError('invalid_argument', `Model ${model.id} is a ${model.mode} model; station adaptation is for anomaly models`, { key: 'adaptAnomalyOnly', params: { id: model.id, mode: model.mode } });
  return adapt;
}

/**
 * Where a station's good frames come from: files, staged uploads, or a dataset's good images.
 * Checked before any work starts: a bad group name, a missing file or no frames is an error at once.
 */
export function adaptationFrames(store: Store, input: AdaptModelInput, dataDir: string): Frames {
  if (!GROUP_NAME.test(input.group)) throw new ArgusError('invalid_argument', `Group name "${input.group}": use 1–64 letters, digits, spaces, dots, dashes or underscores`, { key: 'groupName', params: { group: input.group } });
  const frames = framesOf(store, input, dataDir);
  if (frames.count === 0) throw new ArgusError('bad_input', `No good frames for group "${input.group}" in what was given`, { key: 'noGoodFrames', params: { group: input.group } });
  return frames;
}

function framesOf(store: Store, input: AdaptModelInput, dataDir: string): Frames {
  const files: string[] = [];
  if (input.paths?.length) files.push(...expandImageFiles(input.paths));
  for (const upload of input.uploads ?? []) files.push(stagedFile(dataDir, upload));
  const readFile = async (path: string): Promise<RgbImage> => decodeRgb(await readUserFile(path, 'image', MAX_FILE_BYTES.image));
  if (input.datasetId !== undefined) {
    const all = store.datasets.samples(store.datasets.get(input.datasetId).id, input.split).filter((s) => s.label === 'good');
    const group = input.datasetGroup ?? (all.some((s) => s.group === input.group) ? input.group : undefined);
    const good = group === undefined ? all : all.filter((s) => s.group === group);
    const count = files.length + good.length;
    return {
      count,
      load: async (i) => (i < files.length ? readFile(files[i]) : decodeRgb(await store.blobs.get(good[i - files.length].sha256))),
    };
  }
  return { count: files.length, load: (i) => readFile(files[i]) };
}

/**
 * Adapts a model to a station or camera: the mode learns the group's good frames, and a candidate
 * child version is registered with the changed files and the group's thresholds beside the
 * model-wide (and other groups') ones.
 */
export async function adaptModel(store: Store, input: AdaptModelInput, frames: Frames, actor: string, ctx: JobContext): Promise<AdaptModelResult> {
  const started = performance.now();
  const parent = store.models.get(input.modelId);
  const adapt = adapterOf(parent);
  const files = await verifyModelFiles(store, parent);
  const adapted = await adapt(parent, files, {
    ...frames, falseRejectRate: input.falseRejectRate, provider: input.device ?? 'auto', signal: ctx.signal,
    onProgress: (stage, done, total) => ctx.progress(stage, done, total),
  });
  const changed = await Promise.all([...adapted.files].map(async ([role, bytes]) => ({ role, sha256: await store.blobs.put(bytes), bytes: bytes.length })));
  const seconds = (performance.now() - started) / 1000;
  const adaptations = [...((parent.config.adaptations as unknown[] | undefined) ?? []), { group: input.group, frames: frames.count, fromGroup: adapted.fromGroup, at: new Date().toISOString() }];
  const child = store.transaction(() => {
    const created = store.models.create({
      projectId: parent.projectId, parentId: parent.id, name: `${parent.name} + ${input.group}`, mode: parent.mode, classes: parent.classes, snapshotId: parent.snapshotId,
      config: { ...parent.config, ...adapted.config, adaptations },
      metrics: { validation: parent.metrics.validation, adaptedFrom: parent.id },
      thresholds: { ...parent.thresholds, groups: { ...parent.thresholds.groups, [input.group]: adapted.thresholds } },
      files: parent.files.map((f) => changed.find((c) => c.role === f.role) ?? f),
    });
    store.history.audit(actor, 'model.adapt', `model:${created.id}`, { parent: parent.id, group: input.group, frames: frames.count, seconds });
    return created;
  });
  return { modelId: child.id, group: input.group, frames: frames.count, bankSize: adapted.bankSize, fromGroup: adapted.fromGroup, thresholds: adapted.thresholds, seconds };
}
