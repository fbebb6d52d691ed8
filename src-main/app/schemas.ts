import { z } from 'zod';
import { ANNOTATION_SCHEMA_VERSION, type ApiMethod, type TrainableMode } from '../contract/contract.ts';
import { TRAINABLE_MODES } from '../modes/registry.ts';
import { PIN_FORMAT } from './roles.ts';
import { GROUP_NAME } from './adapt-model.ts';

const id = z.number().int().positive();
const split = z.enum(['train', 'val', 'test']);
const label = z.enum(['good', 'defect', 'unlabeled']);
/** Which inspections a history query selects (the list and its daily counts). */
const inspectionFilter = {
  verdict: z.enum(['OK', 'NG', 'REVIEW', 'ERROR']).optional(),
  modelVersionId: id.optional(),
  operator: z.string().max(200).optional(),
  from: z.string().datetime().optional(),
  to: z.string().datetime().optional(),
};
const page = { offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(1000).optional() };
const none = z.undefined().or(z.object({}).strict());
const device = z.enum(['auto', 'cpu', 'cuda', 'webgpu']).optional();
const multipleOf32 = z.number().int().min(64).max(4096).refine((v) => v % 32 === 0, 'must be a multiple of 32');
const MAX_PIXELS = 100_000_000;
/** One uploaded image of at most 64 MB (base64 is 4/3 of that). */
export const MAX_UPLOAD_BASE64 = Math.ceil((64 * 2 ** 20 * 4) / 3);
const upload = z.object({ id: z.string().regex(/^[0-9a-f]{32}$/), name: z.string().min(1).max(255) }).strict();
/** An upload named with its path inside a dataset folder (good/part-1.png, masks/part-2.png). */
const relativeUpload = z.object({ id: z.string().regex(/^[0-9a-f]{32}$/), name: z.string().min(1).max(1024) }).strict();
/** A station or camera: the name the model's group thresholds are stored under. */
const groupName = z.string().regex(GROUP_NAME, 'use 1–64 letters, digits, spaces, dots, dashes or underscores');
const falseRejectRate = z.number().min(0.0001).max(0.5).optional();
const coordinate = z.number().finite().min(-1e6).max(1e6);
const classIndex = z.number().int().min(1).max(255);
const port = z.number().int().min(1).max(65535);
/** Fields a stored annotation comes back with; only `id` matters when it is saved again. */
const stored = { id: id.optional(), author: z.string().max(200).optional(), updatedAt: z.string().max(64).optional() };

/**
 * The argument schema of every API method. Every transport (IPC, HTTP, CLI) validates with these
 * before the engine sees the call, so a malformed call is an error to the caller, never a crash.
 */
export const apiSchemas = {
  getInfo: none,
  listProjects: none,
  createProject: z.object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).optional(),
    classes: z.array(z.object({ name: z.string().trim().min(1).max(100), color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional() })).max(255).optional(),
  }).strict(),
  listDatasets: z.object({ projectId: id.optional() }).strict(),
  getDataset: z.object({ datasetId: id }).strict(),
  listDatasetImages: z.object({
    datasetId: id, split: split.optional(), label: label.optional(), classIndex: z.number().int().min(1).max(255).optional(), annotated: z.boolean().optional(),
    group: z.string().min(1).max(200).optional(), ...page,
  }).strict(),
  importDataset: z.object({
    path: z.string().min(1).max(4096).optional(),
    uploads: z.array(relativeUpload).min(1).max(200_000).optional(),
    projectId: id.optional(),
    projectName: z.string().trim().min(1).max(200).optional(),
    name: z.string().trim().min(1).max(200).optional(),
    format: z.enum(['manifest', 'coco', 'folder']).optional(),
  }).strict().refine((v) => (v.path === undefined) !== (v.uploads === undefined), 'give a path or uploads'),
  getJob: z.object({ jobId: z.string().uuid() }).strict(),
  cancelJob: z.object({ jobId: z.string().uuid() }).strict(),
  listInspections: z.object({ ...inspectionFilter, ...page }).strict(),
  getInspection: z.object({ inspectionId: id }).strict(),
  listAuditLog: z.object(page).strict(),
  trainModel: z.object({
    mode: z.enum(TRAINABLE_MODES as [TrainableMode, ...TrainableMode[]]),
    datasetId: id.optional(),
    parentModelId: id.optional(),
    resumeRunId: id.optional(),
    epochs: z.number().int().min(1).max(1000).optional(),
    batchSize: z.number().int().min(1).max(256).optional(),
    learningRate: z.number().positive().max(1).optional(),
    frozenStages: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
    stepsPerEpoch: z.number().int().min(1).max(100_000).optional(),
    optimizer: z.enum(['adamw', 'sgd']).optional(),
    multiLabel: z.boolean().optional(),
    name: z.string().trim().min(1).max(200).optional(),
    device,
    inputSize: z.tuple([multipleOf32, multipleOf32]).optional(),
    coresetSize: z.number().int().min(16).max(200_000).optional(),
    layers: z.enum(['c3+c4', 'c2+c3']).optional(),
    ignoredBorder: z.number().int().min(0).max(10_000).optional(),
    falseRejectRate,
  }).strict(),
  createDemoProject: none,
  evaluateModel: z.object({ modelId: id, datasetId: id, split, device }).strict(),
  optimizeModel: z.object({
    modelId: id, precision: z.enum(['int8', 'fp16']), calibrationDatasetId: id.optional(), method: z.enum(['minmax', 'percentile']).optional(),
    weightBits: z.union([z.literal(7), z.literal(8)]).optional(), device,
  }).strict(),
  adaptModel: z.object({
    modelId: id,
    group: groupName,
    paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000).optional(),
    uploads: z.array(upload).min(1).max(10_000).optional(),
    datasetId: id.optional(),
    split: split.optional(),
    datasetGroup: z.string().min(1).max(200).optional(),
    falseRejectRate,
    device,
  }).strict().refine((v) => (v.paths?.length ?? 0) + (v.uploads?.length ?? 0) > 0 || v.datasetId !== undefined, 'give paths, uploads or a dataset'),
  inspectFiles: z.object({
    model: z.union([id, z.literal('production')]),
    paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000),
    outDir: z.string().min(1).max(4096).optional(),
    device,
    group: groupName.optional(),
  }).strict(),
  inspectUploads: z.object({
    model: z.union([id, z.literal('production')]),
    files: z.array(z.object({ name: z.string().min(1).max(255), dataBase64: z.string().min(1).max(MAX_UPLOAD_BASE64) }).strict()).min(1).max(200).optional(),
    uploads: z.array(upload).min(1).max(10_000).optional(),
    device,
    group: groupName.optional(),
  }).strict().refine((v) => (v.files?.length ?? 0) + (v.uploads?.length ?? 0) > 0, 'give files or uploads'),
  importBackboneWeights: z.object({ path: z.string().min(1).max(4096) }).strict(),
  downloadBackboneWeights: z.object({ url: z.string().url().regex(/^https?:\/\//, 'must be http(s)'), sha256: z.string().regex(/^[0-9a-fA-F]{64}$/) }).strict(),
  watchFolder: z.object({
    folder: z.string().min(1).max(4096),
    model: z.union([id, z.literal('production')]),
    sidecar: z.boolean().optional(),
    sort: z.boolean().optional(),
    log: z.string().min(1).max(4096).optional(),
    device,
    once: z.boolean().optional(),
    group: groupName.optional(),
  }).strict(),
  listModels: z.object({ projectId: id.optional() }).strict(),
  listTrainingRuns: none,
  getSession: none,
  dailyInspectionCounts: z.object(inspectionFilter).strict(),
  setModelThresholds: z.object({ modelId: id, imageAt: z.number().min(0.05).max(0.95), pixelAt: z.number().min(0.05).max(0.95) }).strict(),
  unlockEngineer: z.object({ pin: z.string().max(128) }).strict(),
  lockEngineer: none,
  setEngineerPin: z.object({ pin: z.string().regex(PIN_FORMAT, 'must be 4 to 12 digits, or a passphrase of 8 to 128 characters') }).strict(),
  getImageAnnotations: z.object({ datasetId: id, imageId: id }).strict(),
  getImageLabels: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  exportDataset: z.object({ datasetId: id, path: z.string().min(1).max(4096), format: z.enum(['manifest', 'coco']).optional() }).strict(),
  rankImagesForLabelling: z.object({ datasetId: id, model: z.union([id, z.literal('production')]).optional(), device }).strict(),
  suggestRegions: z.object({ datasetId: id, imageId: id, model: z.union([id, z.literal('production')]).optional(), device }).strict(),
  saveImageAnnotations: z.object({
    schemaVersion: z.literal(ANNOTATION_SCHEMA_VERSION, { error: `this station reads annotation documents of version ${ANNOTATION_SCHEMA_VERSION}` }).optional(),
    datasetId: id,
    imageId: id,
    annotations: z.array(z.discriminatedUnion('shape', [
      z.object({ ...stored, shape: z.literal('box'), classIndex, box: z.tuple([coordinate, coordinate, coordinate, coordinate]) }).strict(),
      z.object({ ...stored, shape: z.literal('polygon'), classIndex, points: z.array(z.tuple([coordinate, coordinate])).min(3).max(10_000) }).strict(),
      z.object({ ...stored, shape: z.literal('mask'), classIndex, runs: z.array(z.number().int().min(0).max(MAX_PIXELS)).min(1).max(2_000_000) }).strict(),
      z.object({ ...stored, shape: z.literal('good') }).strict(),
      z.object({ ...stored, shape: z.literal('class'), classIndex }).strict(),
    ])).max(5000),
  }).strict(),
  promoteModel: z.object({ modelId: id }).strict(),
  reviewInspection: z.object({ inspectionId: id, opinion: z.enum(['confirmed', 'disputed']), correctLabel: z.string().min(1).max(200).optional(), note: z.string().max(2000).optional() }).strict(),
  listReviewQueue: z.object({ projectId: id.optional(), limit: z.number().int().min(1).max(1000).optional() }).strict(),
  addToDataset: z.object({ inspectionId: id, datasetId: id, label: z.enum(['good', 'defect']), classIndex: classIndex.optional(), split: split.optional() }).strict()
    .refine((v) => v.label === 'defect' || v.classIndex === undefined, 'a good part has no class'),
  dismissReview: z.object({ inspectionId: id }).strict(),
  getModelAgreement: none,
  getStationConfig: none,
  getStationStatus: none,
  setStationConfig: z.object({
    name: z.string().regex(/^[\w.-]{1,64}$/, 'use 1–64 letters, digits, dots, dashes or underscores'),
    opcua: z.object({ enabled: z.boolean(), port: port, security: z.enum(['none', 'sign-encrypt']) }).strict(),
    modbus: z.object({ enabled: z.boolean(), host: z.string().min(1).max(255), port: port }).strict(),
    mqtt: z.object({
      enabled: z.boolean(), url: z.string().regex(/^mqtts?:\/\/[^\s]+$/, 'mqtt://host:port or mqtts://host:port').max(500),
      topic: z.string().regex(/^[^#+\s]{1,200}$/, 'a topic without wildcards'), username: z.string().max(200).optional(), password: z.string().max(200).optional(),
    }).strict(),
  }).strict(),
  inspectLine: z.object({
    path: z.string().min(1).max(4096).optional(),
    upload: upload.optional(),
    source: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
    requestKey: z.string().min(1).max(128).optional(),
    group: groupName.optional(),
    project: z.union([id, z.string().trim().min(1).max(200)]).optional(),
  }).strict().refine((v) => (v.path === undefined) !== (v.upload === undefined), 'give a path or an upload'),
  exportModelPackage: z.object({ modelId: id, path: z.string().min(1).max(4096).optional() }).strict(),
  importModelPackage: z.object({ path: z.string().min(1).max(4096).optional(), upload: upload.optional() }).strict()
    .refine((v) => (v.path === undefined) !== (v.upload === undefined), 'give a path or an upload'),
  exportModelOnnx: z.object({ modelId: id, path: z.string().min(1).max(4096) }).strict(),
  rollbackModel: z.object({ projectId: id.optional() }).strict(),
} satisfies Record<ApiMethod, z.ZodType>;

export const apiMethods = Object.keys(apiSchemas) as ApiMethod[];

export const isApiMethod = (name: string): name is ApiMethod => Object.hasOwn(apiSchemas, name);
