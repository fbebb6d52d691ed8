import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, GuardMetrics, GuardVerdict, OptimizeModelInput as OptimizeRequest } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { calibrateOn } from '../modes/shared/evaluation.ts';
import { withGroupsRescaled } from '../analysis/thresholds.ts';
import { verifyModelFiles } from '../store/model-files.ts';
import { decodeRgb } from '../images/preprocess.ts';
import { loadDetector } from '../inspection/load-detector.ts';
import type { JobContext } from '../jobs/job-runner.ts';
import { convertToFloat16 } from '../model/float16.ts';
import { decodeModel } from '../model/onnx-model.ts';
import { modeOf } from '../modes/registry.ts';
import { modelFile } from '../modes/model-mode.ts';
import type { ModelVersion } from '../store/models.ts';
import type { Store } from '../store/store.ts';
import { judgeOptimization } from './accuracy-guard.ts';
import { type CalibrationMethod, collectRanges } from './calibrate.ts';
import { calibrationTensors, DEFAULT_WEIGHT_BITS, planQuantization, quantizeModel } from './quantize.ts';

export interface OptimizeModelInput extends Omit<OptimizeRequest, 'device'> {
  method?: CalibrationMethod;
  /** Calibration images, spread evenly over the train split. */
  calibrationImages?: number;
  provider: ExecutionProviderChoice;
  actor: string;
}

export interface OptimizeModelResult {
  model: ModelVersion;
  guard: GuardVerdict;
  seconds: number;
}

export const DEFAULT_CALIBRATION_IMAGES = 32;

function spread<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  return Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)]);
}

/** Why a model version may not go to production: an optimised one must have passed its accuracy guard. */
export function promotionBlocker(model: ModelVersion): string | null {
  if (!model.config.optimization) return null;
  const guard = model.metrics.guard as GuardVerdict | undefined;
  if (!guard) return `Model ${model.id} cannot be promoted: its accuracy check against model ${model.parentId} did not finish (optimise the parent again)`;
  return guard.passed ? null : `Model ${model.id} cannot be promoted: ${guard.reason}`;
}

/**
 * Makes an int8 (QDQ, calibrated on the project's images) or fp16 copy of a model version's
 * network, registers it as a candidate child of the version, and runs the accuracy guard: both
 * versions on the validation split; a version that inspects worse than allowed cannot be promoted.
 */
export async function optimizeModel(store: Store, input: OptimizeModelInput, ctx: JobContext): Promise<OptimizeModelResult> {
  const started = performance.now();
  const parent = store.models.get(input.modelId);
  const mode = modeOf(parent.mode);
  const { role } = mode.optimisation;
  const precision = (parent.config.precision as string | undefined) ?? 'fp32';
  if (precision !== 'fp32') throw new ArgusError('invalid_argument', `Model ${parent.id} is already ${precision}; optimise its fp32 parent instead`, { key: 'alreadyOptimised', params: { id: parent.id, precision } });
  const files = await verifyModelFiles(store, parent);
  const network = modelFile(parent, files, role);

  const trainedOn = parent.snapshotId !== null ? store.datasets.datasetOfSnapshot(parent.snapshotId) : undefined;
  const calibrationDatasetId = input.calibrationDatasetId ?? trainedOn;
  const guardDatasetId = trainedOn ?? calibrationDatasetId;
  if (guardDatasetId === undefined) throw new ArgusError('invalid_argument', `Model ${parent.id} records no dataset; name one to calibrate and check it on`, { key: 'noDatasetRecorded', params: { id: parent.id } });
  const validation = store.datasets.samples(guardDatasetId, 'val').filter((s) => s.label !== 'unlabeled');
  if (validation.length === 0) throw new ArgusError('bad_input', `Dataset ${guardDatasetId} has no labelled val images to check the optimised model against`, { key: 'noValToCheck', params: { id: guardDatasetId } });

  let optimized: Uint8Array;
  let optimization: Record<string, unknown>;
  if (input.precision === 'int8') {
    const method = input.method ?? 'percentile';
    const calibration = spread(store.datasets.samples(calibrationDatasetId!, 'train'), input.calibrationImages ?? DEFAULT_CALIBRATION_IMAGES);
    if (calibration.length === 0) throw new ArgusError('bad_input', `Dataset ${calibrationDatasetId} has no train images to calibrate on`, { key: 'noCalibrationImages' });
    // Decoded and resized once: the percentile method reads them in two passes.
    const feeds: Record<string, ort.Tensor>[] = [];
    for (const [i, sample] of calibration.entries()) {
      if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Optimisation cancelled', { key: 'cancelled' });
      feeds.push({ image: await mode.optimisation.networkInput(parent, await decodeRgb(await store.blobs.get(sample.sha256))) });
      ctx.progress('reading calibration images', i + 1, calibration.length);
    }
    const inputs = async function* (): AsyncGenerator<Record<string, ort.Tensor>> {
      for (const feed of feeds) {
        if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Optimisation cancelled', { key: 'cancelled' });
        yield feed;
      }
    };
    const plan = planQuantization(decodeModel(network));
    const ranges = await collectRanges(network, calibrationTensors(plan), inputs, method, (pass, done) =>
      ctx.progress(method === 'percentile' ? `calibrating (pass ${pass} of 2)` : 'calibrating', done, calibration.length));
    const weightBits = input.weightBits ?? DEFAULT_WEIGHT_BITS;
    optimized = quantizeModel(network, ranges, { weightBits });
    optimization = {
      precision: 'int8', method, weightBits, calibrationDatasetId, calibrationImages: calibration.map((s) => s.imageId),
      quantizedLayers: plan.nodes.size,
    };
  } else {
    optimized = convertToFloat16(network);
    optimization = { precision: 'fp16' };
  }

  const optimizedFile = { role, sha256: await store.blobs.put(optimized), bytes: optimized.length };
  const stored = store.transaction(() => store.models.create({
    projectId: parent.projectId,
    parentId: parent.id,
    name: `${parent.name} ${input.precision}`,
    mode: parent.mode,
    classes: parent.classes,
    snapshotId: parent.snapshotId,
    config: { ...parent.config, precision: input.precision, optimization },
    metrics: {},
    thresholds: parent.thresholds,
    files: parent.files.map((f) => (f.role === role ? optimizedFile : f)),
  }));

  const measure = async (model: ModelVersion, label: string, recalibrate = false): Promise<{ metrics: GuardMetrics; model: ModelVersion }> => {
    const detector = await loadDetector(store, model, input.provider);
    try {
      if (recalibrate) {
        const falseRejectRate = model.config.falseRejectRate as number | undefined;
        const { thresholds } = await calibrateOn(store.blobs, detector, validation, (d, t) => ctx.progress(`calibrating ${label} thresholds on val`, d, t), ctx.signal, falseRejectRate);
        model = store.models.updateThresholds(model.id, { ...withGroupsRescaled(thresholds, model.thresholds) });
      }
      return { metrics: await mode.guardMetrics(store.blobs, detector, model, validation, (d, t) => ctx.progress(`checking ${label} on val`, d, t), ctx.signal), model };
    } finally {
      await detector.release();
    }
  };
  const before = await measure(parent, 'parent');
  const after = await measure(stored, input.precision, mode.optimisation.recalibrate);
  const guard = judgeOptimization(before.metrics, after.metrics, guardDatasetId);
  const seconds = (performance.now() - started) / 1000;
  const model = store.transaction(() => {
    const updated = store.models.updateMetrics(stored.id, { guard, optimizeSeconds: seconds });
    store.history.audit(input.actor, 'model.optimize', `model:${updated.id}`, { parent: parent.id, precision: input.precision, passed: guard.passed });
    return updated;
  });
  return { model, guard, seconds };
}
