import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { ModelMode } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { TRAINING_KERNEL } from '../images/augment.ts';
import { KERNEL_NAMES } from '../images/preprocess.ts';
import { decodeModel } from '../model/onnx-model.ts';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { packageVersion } from '../platform/resources.ts';
import { verifyModelFiles } from '../store/model-files.ts';
import type { Store } from '../store/store.ts';

const ELEMENT_TYPES = onnxProto.onnx.TensorProto.DataType;

/** One graph input or output: its name, element type and shape (symbolic dimensions by name). */
export interface TensorDescription {
  name: string;
  type: string;
  shape: (number | string)[];
}

/** A fine-tuned network learnt from crops resized with the training kernel; another resize would change its input's sharpness. */
const FINE_TUNED_RESIZE = `${KERNEL_NAMES[TRAINING_KERNEL]}, as its training crops were`;

/** What the graph's own outputs mean, and what Argus does around them, per mode. */
const PROCESSING: Record<ModelMode, { resize: string; files: Record<string, string>; post: string[] }> = {
  anomaly: {
    resize: KERNEL_NAMES.linear,
    files: {
      'features.onnx': 'Patch features of the image: one vector per cell of the network grid (stride in the config).',
      'scorer.onnx': 'Distance of each patch vector to its nearest patch in the memory bank of good parts (the bank is inside this graph).',
      'scorer.N.onnx': 'The same for pyramid level N (config.levels[N]): the memory bank of good patches at that level\'s scale.',
    },
    post: [
      'Run features.onnx on the image, then scorer.onnx on its patch vectors (rows of patch_features).',
      'Scale pyramid (config.levels present): run features.onnx again on the image at each level\'s scale (config.levels[N].factor times the model\'s) and scorer.N.onnx on those patches; each level\'s distances are divided by its typicalScore, the image score is the mean of the levels\' scores (each the largest value of its smoothed map) and the heatmap is level 0\'s.',
      'The distances on the patch grid, smoothed with a Gaussian (config.blurSigma cells) and resized to the image, are the anomaly map.',
      'The image score is the largest value of the map; cells within config.ignoredBorder image pixels of the edge take the lowest inside value.',
      'Verdict: NG when the image score ≥ thresholds.image.ng, REVIEW when ≥ thresholds.image.review, else OK; regions are where the map ≥ thresholds.pixel.threshold.',
    ],
  },
  segment: {
    resize: FINE_TUNED_RESIZE,
    files: { 'network.onnx': 'Per-pixel class logits at 1/4 of the input resolution (class 0 = background, k = classes[k-1]).' },
    post: [
      'Softmax over classes; the defect probability of a pixel is 1 − p(background), upsampled to the image.',
      'The image score is the largest defect probability; NG when ≥ thresholds.image.ng, REVIEW when ≥ thresholds.image.review.',
      'Regions: connected pixels whose defect probability ≥ thresholds.pixel.threshold, labelled with their most probable class.',
    ],
  },
  detect: {
    resize: FINE_TUNED_RESIZE,
    files: { 'network.onnx': 'Per FPN level: class scores (sigmoid), box distances to the left, top, right and bottom in units of the level stride (exp), and centreness (sigmoid).' },
    post: [
      'For each cell of each level: score = sqrt(class score × centreness); box = cell centre ∓ distances × stride.',
      'Keep boxes whose score ≥ the class threshold (thresholds.classes), then non-maximum suppression per class at IoU config.nmsIou (0.6 where absent), at most 100 boxes.',
      'The image score is the best box score; NG when ≥ thresholds.image.ng, REVIEW when ≥ thresholds.image.review.',
    ],
  },
  classify: { resize: FINE_TUNED_RESIZE, files: {}, post: [] },
};

function describeTensor(value: onnxProto.onnx.IValueInfoProto): TensorDescription {
  const tensor = value.type?.tensorType;
  const type = Object.entries(ELEMENT_TYPES).find(([, v]) => v === tensor?.elemType)?.[0]?.toLowerCase() ?? 'unknown';
  return { name: value.name ?? '', type, shape: (tensor?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))) };
}

/** The inputs (initialisers left out) and outputs of a serialised ONNX graph. */
export function describeGraph(bytes: Uint8Array): { inputs: TensorDescription[]; outputs: TensorDescription[]; metadata: Record<string, string> } {
  const model = decodeModel(bytes);
  const initialisers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  return {
    inputs: (model.graph?.input ?? []).filter((i) => !initialisers.has(i.name ?? '')).map(describeTensor),
    outputs: (model.graph?.output ?? []).map(describeTensor),
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}

/**
 * Writes a version's ONNX graphs into a new or empty folder for use outside Argus, with
 * `argus-model.json` beside them: each graph's inputs and outputs as the files declare them, the
 * input the network expects, what Argus does with the outputs, the classes and thresholds.
 */
export async function exportModelOnnx(store: Store, modelId: number, folder: string, actor: string): Promise<{ folder: string; files: string[] }> {
  if (existsSync(folder) && readdirSync(folder).length > 0) {
    throw new ArgusError('conflict', `${folder} is not empty; export into a new or empty folder`, { key: 'exportNotEmpty', params: { path: folder } });
  }
  const model = store.models.get(modelId);
  const files = [...(await verifyModelFiles(store, model))].filter(([role]) => role.endsWith('.onnx'));
  await mkdir(folder, { recursive: true });
  const processing = PROCESSING[model.mode];
  const graphs = files.map(([role, bytes]) => ({ file: role, purpose: processing.files[role] ?? processing.files[role.replace(/\.\d+\.onnx$/, '.N.onnx')] ?? '', ...describeGraph(bytes) }));
  const sidecar = {
    exportedBy: `Argus ${packageVersion()}`,
    model: { id: model.id, name: model.name, mode: model.mode, classes: model.classes, precision: model.config.precision ?? 'fp32' },
    input: {
      layout: 'NHWC', type: 'uint8', channels: 'RGB, 8 bits, sRGB',
      size: { width: model.config.inputWidth ?? null, height: model.config.inputHeight ?? null },
      note: 'The graphs take 8-bit RGB pixels and normalise them themselves (ImageNet mean and standard deviation inside the graph). Resize the image to the input size unless the config says the model analyses images at their own size.',
      resize: processing.resize,
    },
    graphs,
    postprocessing: processing.post,
    thresholds: model.thresholds,
    config: model.config,
  };
  for (const [role, bytes] of files) await writeFileAtomic(join(folder, role), bytes);
  await writeFileAtomic(join(folder, 'argus-model.json'), `${JSON.stringify(sidecar, null, 2)}\n`);
  store.history.audit(actor, 'model.export-onnx', `model:${model.id}`, { folder, files: files.map(([role]) => role) });
  return { folder, files: [...files.map(([role]) => role), 'argus-model.json'] };
}
