import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionProviderChoice, TrainableMode, TrainingProgressInfo } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import type { JobContext } from '../jobs/job-runner.ts';
import type { BackboneWeights } from '../model/resnet50.ts';
import type { ModeTrainingInput, TrainingRunLedger } from '../modes/model-mode.ts';
import { modeOf } from '../modes/registry.ts';
import { verifyModelFiles } from '../store/model-files.ts';
import type { ModelVersion } from '../store/models.ts';
import type { Store } from '../store/store.ts';
import type { TrainingRun } from '../store/training-runs.ts';

/** A training request as the service takes it: the dataset (or the run to resume), the parent, the mode's options. */
export interface TrainRequest {
  mode: TrainableMode;
  datasetId: number;
  parentModelId?: number;
  resumeRunId?: number;
  backbone: BackboneWeights;
  backboneSha256: string;
  provider: ExecutionProviderChoice;
  config: Record<string, unknown>;
  name?: string;
  actor: string;
  onProgress?: (p: TrainingProgressInfo) => void;
}

/**
 * Trains a model version with its mode and registers it: the mode learns from the dataset's
 * samples and the parent's files; this stores the files and records the candidate version with
 * its dataset snapshot, in one transaction with the audit entry. A fine-tuned mode trains in a
 * recorded run (its checkpoints in the data directory), so a killed run resumes; a cancelled or
 * failed run keeps its checkpoint.
 */
export async function trainAndRegister(store: Store, request: TrainRequest, ctx: JobContext): Promise<{ model: ModelVersion; runId?: number; seconds: number }> {
  const started = performance.now();
  const mode = modeOf(request.mode);
  const resumed = request.resumeRunId !== undefined ? store.trainingRuns.get(request.resumeRunId) : undefined;
  if (resumed && resumed.status === 'succeeded') throw new ArgusError('invalid_argument', `Training run ${resumed.id} already finished (model ${resumed.resultModelId})`, { key: 'runFinished', params: { id: resumed.id } });
  const dataset = store.datasets.get(resumed ? Number(resumed.config.datasetId) : request.datasetId);
  const parentId = resumed ? resumed.parentModelId ?? undefined : request.parentModelId;
  const parent = parentId !== undefined ? store.models.get(parentId) : undefined;
  const input: ModeTrainingInput = {
    data: {
      dataset, classes: store.projects.get(dataset.projectId).classes,
      samples: (split) => store.datasets.samples(dataset.id, split), blobs: store.blobs,
    },
    backbone: request.backbone, backboneSha256: request.backboneSha256, provider: request.provider, config: request.config, onProgress: request.onProgress,
    parent: parent ? { model: parent, files: await verifyModelFiles(store, parent) } : undefined,
  };
  const run = mode.fineTuned ? openRun(store, request, resumed, dataset.id, parent?.id ?? null) : undefined;
  if (run) input.run = run.ledger;
  try {
    const trained = await mode.train(input, ctx);
    const stored = await Promise.all(trained.files.map(async (f) => ({ role: f.role, sha256: await store.blobs.put(f.bytes), bytes: f.bytes.length })));
    const seconds = (performance.now() - started) / 1000;
    const model = store.transaction(() => {
      const created = store.models.create({
        projectId: dataset.projectId, parentId: parent?.id ?? null,
        name: request.name ?? (run?.row.config.name as string | null | undefined) ?? `${request.mode} ${dataset.name}`,
        mode: request.mode, classes: trained.classes, snapshotId: run?.row.snapshotId ?? store.datasets.snapshot(dataset.id),
        config: { ...trained.config, backboneSha256: request.backboneSha256, ...(run ? { runId: run.row.id } : {}), trainSeconds: seconds },
        metrics: trained.metrics,
        thresholds: trained.thresholds,
        files: stored,
      });
      if (run) store.trainingRuns.finish(run.row.id, 'succeeded', { modelId: created.id });
      store.history.audit(request.actor, 'model.train', `model:${created.id}`, { mode: request.mode, datasetId: dataset.id, parent: parent?.id ?? null, runId: run?.row.id ?? null, seconds });
      return created;
    });
    if (run) await rm(run.ledger.checkpointDir, { recursive: true, force: true });
    return { model, runId: run?.row.id, seconds };
  } catch (error) {
    const cancelled = error instanceof ArgusError && error.code === 'cancelled';
    if (run) store.trainingRuns.finish(run.row.id, cancelled ? 'cancelled' : 'failed', { error: (error as Error).message });
    throw error;
  }
}

/** The run row (new, with a dataset snapshot, or the one resumed) and the ledger the mode trains in. */
function openRun(store: Store, request: TrainRequest, resumed: TrainingRun | undefined, datasetId: number, parentId: number | null): { row: TrainingRun; ledger: TrainingRunLedger } {
  const row = resumed ?? store.transaction(() => store.trainingRuns.create({
    projectId: store.datasets.get(datasetId).projectId, mode: request.mode, parentModelId: parentId, snapshotId: store.datasets.snapshot(datasetId),
    config: { datasetId, name: request.name ?? null },
  }));
  if (resumed) store.trainingRuns.resumed(row.id);
  const checkpointDir = join(store.dataDir, 'training', `run-${row.id}`);
  store.trainingRuns.setCheckpoint(row.id, checkpointDir, row.progress);
  return {
    row,
    ledger: {
      checkpointDir,
      resumedTraining: resumed?.config.training as Record<string, unknown> | undefined,
      recordSchedule: (training) => {
        if (!resumed) store.trainingRuns.setConfig(row.id, { ...row.config, training });
      },
      progress: (fraction) => store.trainingRuns.setCheckpoint(row.id, checkpointDir, fraction),
    },
  };
}
