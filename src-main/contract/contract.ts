// The one typed API between the engine and its users (Electron IPC, browser mode, CLI).
// Types only: the renderer imports this file, so nothing here may touch Node or the DOM.

export type Split = 'train' | 'val' | 'test';
export type ImageLabel = 'good' | 'defect' | 'unlabeled';
export type Verdict = 'OK' | 'NG' | 'REVIEW' | 'ERROR';
export type ModelStatus = 'candidate' | 'production' | 'retired';
export type ExecutionProviderChoice = 'auto' | 'cuda' | 'webgpu' | 'cpu';

/** Operators inspect and view; QA engineers also label, train, import and decide what ships. */
export type Role = 'operator' | 'engineer';

export interface SessionInfo {
  role: Role;
  /** Without an engineer PIN every caller has the QA-engineer role (a fresh station); set one to enforce roles. */
  pinSet: boolean;
}

export interface AppInfo {
  version: string;
  dataDir: string;
  schemaVersion: number;
  executionProvider: ExecutionProviderReport;
  /** The backbone training uses: one a QA engineer imported, else the one that ships with the app (null: neither). */
  backbone: { source: 'imported' | 'bundled'; sha256: string; bytes: number; name?: string } | null;
}

export interface ExecutionProviderReport {
  requested: ExecutionProviderChoice;
  active: 'cuda' | 'webgpu' | 'cpu' | null;
  fallbacks: { provider: string; reason: string }[];
}

export interface DefectClass {
  /** The value that marks this class in label masks (1-based; 0 is background). */
  index: number;
  name: string;
  color: string;
}

export interface Project {
  id: number;
  name: string;
  description: string;
  classes: DefectClass[];
  createdAt: string;
}

export interface CreateProjectInput {
  name: string;
  description?: string;
  classes?: { name: string; color?: string }[];
}

export interface SplitCounts {
  total: number;
  train: number;
  val: number;
  test: number;
  good: number;
  defect: number;
  unlabeled: number;
}

export interface DatasetSummary {
  id: number;
  projectId: number;
  projectName: string;
  name: string;
  sourcePath: string;
  format: ImportFormat;
  createdAt: string;
  counts: SplitCounts;
  /** Where its images were taken (camera positions, stations, lines), as its source named them, with image counts. */
  groups: { name: string; images: number }[];
}

export type ImportFormat = 'manifest' | 'coco' | 'folder';
/** Argus manifest folder (label mask PNGs), or COCO JSON (RLE masks and boxes). */
export type ExportFormat = 'manifest' | 'coco';

export interface DatasetImage {
  imageId: number;
  sha256: string;
  file: string;
  split: Split;
  label: ImageLabel;
  /** Where the image was taken (camera position, station, line), when its source said. */
  group: string | null;
  width: number;
  height: number;
  classes: string[];
  /** The whole-image class labels, in the order they were given (several for multi-label classification). */
  imageClasses: string[];
  annotationCount: number;
}

export interface DatasetImageQuery {
  datasetId: number;
  split?: Split;
  label?: ImageLabel;
  /** Only images with an annotation of this class (project class index). */
  classIndex?: number;
  /** true: images with at least one defect annotation; false: images without any. */
  annotated?: boolean;
  /** Only images taken at this group (camera position, station, line). */
  group?: string;
  offset?: number;
  limit?: number;
}

export interface DatasetImagePage {
  items: DatasetImage[];
  total: number;
}

export interface ImportDatasetInput {
  /** A folder or file on the station; or else `uploads`. */
  path?: string;
  /** Files a browser uploaded (POST /upload), named with their paths relative to the dataset folder. */
  uploads?: { id: string; name: string }[];
  projectId?: number;
  /** Name of the project to use or create when projectId is not given. */
  projectName?: string;
  name?: string;
  format?: ImportFormat;
}

/** What the demo project made: a project with a dataset of generated parts, a production anomaly model, and a folder of line images to inspect. */
export interface DemoProjectResult {
  projectId: number;
  datasetId: number;
  modelId: number;
  lineFolder: string;
}

export interface ImportResult {
  datasetId: number;
  projectId: number;
  format: ImportFormat;
  images: number;
  imagesAdded: number;
  annotationsAdded: number;
  seconds: number;
}

export type JobKind = 'import' | 'export' | 'train' | 'evaluate' | 'inspect' | 'download' | 'watch' | 'rank' | 'optimize' | 'adapt' | 'demo';

/**
 * Decision thresholds on raw scores, saved with a model version (every mode).
 * Image: score ≥ ng → NG; review ≤ score < ng → REVIEW; else OK. Pixel: regions are where the
 * heatmap is ≥ pixel. Normalised scores map the median good score to 0 and the threshold to 0.5.
 */
export interface ModelThresholds {
  method: 'f1' | 'good-quantile' | 'pixel-f1' | 'box-f1';
  image: { ng: number; review: number; goodMedian: number };
  pixel: { threshold: number; goodMedian: number };
  /** Detection models: the box score threshold of each class (F1-optimal on validation). */
  classes?: Record<string, number>;
  /**
   * Thresholds of a station or camera (a group) that differ from the model-wide ones; an image
   * inspected with a group not listed here is judged by the model-wide thresholds.
   */
  groups?: Record<string, GroupThresholds>;
}

/** One group's own image and pixel thresholds, and how they were set. */
export interface GroupThresholds {
  image: { ng: number; review: number; goodMedian: number };
  pixel: { threshold: number; goodMedian: number };
  /**
   * 'good-level': the model-wide thresholds scaled to the level of the group's good frames (each
   * scored against the adapted memory bank without its own patches and against the bank before
   * adaptation; the level moves only where both agree on the direction, as far as the nearer);
   * 'good-quantile': the group's own good scores at the target false-reject rate (enough frames for that rate).
   */
  method: 'good-level' | 'good-quantile';
  /** Good frames the thresholds were measured on. */
  frames: number;
  /** The target false-reject rate the NG threshold aims at. */
  falseRejectRate: number;
}

/** A region of a judged image: class, normalised scores (0.5 = threshold), box and area in image pixels. */
export interface InspectionRegion {
  class: string;
  score: number;
  mean_score: number;
  box: [number, number, number, number];
  area: number;
}

/** The kinds of model Argus trains: anomaly (good images only), segmentation (masks), detection (boxes). */
export type TrainableMode = 'anomaly' | 'segment' | 'detect' | 'classify';
export type ModelMode = TrainableMode;

/** What a fine-tuned mode trains with unless the request says otherwise (the Training page starts from it). */
export const FINE_TUNE_DEFAULTS: Record<Exclude<TrainableMode, 'anomaly'>, { epochs: number; learningRate: number; batchSize: number; frozenStages: 1 | 2 | 3 }> = {
  segment: { epochs: 20, learningRate: 1e-4, batchSize: 8, frozenStages: 2 },
  detect: { epochs: 18, learningRate: 2e-4, batchSize: 8, frozenStages: 2 },
  classify: { epochs: 12, learningRate: 3e-4, batchSize: 16, frozenStages: 3 },
};

export interface ModelVersionSummary {
  id: number;
  projectId: number;
  parentId: number | null;
  name: string;
  mode: ModelMode;
  status: ModelStatus;
  classes: string[];
  snapshotId: number | null;
  metrics: Record<string, unknown>;
  thresholds: ModelThresholds;
  config: Record<string, unknown>;
  files: { role: string; sha256: string; bytes: number }[];
  createdAt: string;
  promotedAt: string | null;
}

/** One annotation of an image; `id` is present for stored ones (keep it when saving an edit). */
export type Annotation = { id?: number; author?: string; updatedAt?: string } & (
  | { shape: 'box'; classIndex: number; box: [number, number, number, number] }
  | { shape: 'polygon'; classIndex: number; points: [number, number][] }
  /** A pixel mask of one class: run lengths of alternating unset/set pixels, row-major, from an unset run. */
  | { shape: 'mask'; classIndex: number; runs: number[] }
  | { shape: 'good' }
  /** The whole image is of this class (classification projects). */
  | { shape: 'class'; classIndex: number }
);

/** The labels of one image wherever it was labelled (any project), with the class names and colours. */
export interface StoredImageLabels {
  width: number;
  height: number;
  annotations: (Annotation & { className: string | null; color: string | null })[];
}

/**
 * The version of the annotation document format (`ImageAnnotations`, and what `saveImageAnnotations`
 * takes). An engine refuses a document of a version it does not know instead of misreading it.
 */
export const ANNOTATION_SCHEMA_VERSION = 1;

export interface ImageAnnotations {
  schemaVersion: typeof ANNOTATION_SCHEMA_VERSION;
  datasetId: number;
  imageId: number;
  width: number;
  height: number;
  label: ImageLabel;
  annotations: Annotation[];
}

export interface RegionSuggestions {
  modelId: number;
  /** Regions the model finds in the image; classIndex is the project's class (null for anomaly models). */
  regions: { class: string; classIndex: number | null; score: number; box: [number, number, number, number]; area: number }[];
}

/** A dataset's images in the order to label them: the model's least certain first. */
export interface LabellingRanking {
  modelId: number;
  /** REVIEW-band images first, then the rest, each by distance of the normalised score from the NG threshold (0.5). */
  images: {
    imageId: number;
    score: number;
    verdict: Verdict;
    /**
     * What the model says the image is, to pre-fill its whole-image label: [] for good, else the
     * project classes it finds (a classifier's predicted classes, or the classes of a segment or
     * detect model's regions, highest score first); absent when it cannot name a class (anomaly models).
     */
    suggestedClasses?: string[];
  }[];
}

export interface TrainingRunSummary {
  id: number;
  projectId: number;
  mode: string;
  datasetId: number | null;
  parentModelId: number | null;
  resultModelId: number | null;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** Share of the planned steps done at the last checkpoint. */
  progress: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** It did not finish, no job of this station is running it, and its checkpoint is there. */
  resumable: boolean;
}

export interface BackboneInfo {
  sha256: string;
  bytes: number;
  mean: number[];
  std: number[];
  hasClassifier: boolean;
}

export interface TrainModelInput {
  mode: TrainableMode;
  /** Required, except when resuming a run (which knows its dataset). */
  datasetId?: number;
  /** Segment, detect: fine-tune from a model version of the same mode (its weights and input geometry). */
  parentModelId?: number;
  /** Segment, detect: continue an interrupted training run from its last checkpoint. */
  resumeRunId?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Segment, detect: ResNet stages kept frozen after the stem (default 2: layer1–layer2). */
  frozenStages?: 1 | 2 | 3;
  /** Segment, detect: optimisation steps per epoch (default: one pass over the train images). */
  stepsPerEpoch?: number;
  /** Segment, detect: AdamW (default) or SGD with momentum. */
  optimizer?: 'adamw' | 'sgd';
  /** Classify: several defect classes per image (one sigmoid per class) instead of one class per image. */
  multiLabel?: boolean;
  name?: string;
  device?: ExecutionProviderChoice;
  /** Network input as [width, height] (multiples of 32); by default from the images' aspect ratio. */
  inputSize?: [number, number];
  coresetSize?: number;
  /** Backbone stages describing a patch: 'c3+c4' (default) or 'c2+c3' (finer, for very small defects). */
  layers?: 'c3+c4' | 'c2+c3';
  /** Anomaly: image pixels along every edge left out of inspection (default 0: the whole image). */
  ignoredBorder?: number;
  /**
   * The share of good parts the NG threshold may reject. Set, the NG threshold is the validation
   * good images' quantile at that rate even where defects are known (their expected miss rate is
   * in the validation metrics); unset, known defects make it F1-optimal (detect: the class
   * thresholds, raised to reject at most 0.5 % of good images).
   */
  falseRejectRate?: number;
}

export interface TrainModelResult {
  modelId: number;
  seconds: number;
  metrics: Record<string, unknown>;
}

export interface EvaluateModelInput {
  modelId: number;
  datasetId: number;
  split: Split;
  device?: ExecutionProviderChoice;
}

export interface OptimizeModelInput {
  modelId: number;
  /** int8: calibrated post-training quantisation (CPU); fp16: half precision (GPU execution providers). */
  precision: 'int8' | 'fp16';
  /** int8: the dataset whose train images calibrate activation ranges (default: the model's own). */
  calibrationDatasetId?: number;
  /** int8: activation ranges from the extremes seen, or from the 0.01%/99.99% quantiles (default). */
  method?: 'minmax' | 'percentile';
  /** int8: weight precision; 7 (default) keeps x86 CPUs without VNNI from saturating, 8 suits CPUs with VNNI. */
  weightBits?: 7 | 8;
  /** Where the accuracy guard runs the parent and the optimised version. */
  device?: ExecutionProviderChoice;
}

/** Image AUROC and pixel IoU on the validation split (null where the split cannot measure it). */
export interface GuardMetrics {
  image_auroc: number | null;
  /** Segment models: mean over classes; anomaly models: the anomalous area at the pixel threshold. */
  pixel_iou: number | null;
  /** Detection models: mean box AP@0.5 over the classes. */
  box_map50?: number | null;
}

/** The accuracy guard of an optimised version: its validation metrics against its parent's. */
export interface GuardVerdict {
  passed: boolean;
  split: 'val';
  datasetId: number;
  parent: GuardMetrics;
  optimized: GuardMetrics;
  /** Why the version cannot be promoted (when it failed). */
  reason?: string;
}

export interface OptimizeModelResult {
  modelId: number;
  guard: GuardVerdict;
  seconds: number;
}

export interface InspectFilesInput {
  /** A model version id, or 'production'. */
  model: number | 'production';
  paths: string[];
  /** Where results.jsonl and heatmaps/ go; by default a new folder under the data directory. */
  outDir?: string;
  device?: ExecutionProviderChoice;
  /** The station or camera the images come from: its own thresholds apply where the model has them. */
  group?: string;
}

/**
 * Images handed over by the UI (file picker, drag and drop) rather than as paths on the station:
 * their bytes (the desktop app), or uploads already streamed to the station (browser mode's
 * POST /upload, which answers each file's id).
 */
export interface InspectUploadsInput {
  model: number | 'production';
  files?: { name: string; dataBase64: string }[];
  uploads?: { id: string; name: string }[];
  device?: ExecutionProviderChoice;
  group?: string;
}

/**
 * Adapting an anomaly model to a station or camera: its good frames join the memory bank and set
 * the group's thresholds, in a child version. Frames come from files on the station, uploads, or a
 * dataset's good images (optionally one split and one group of it).
 */
export interface AdaptModelInput {
  modelId: number;
  group: string;
  paths?: string[];
  uploads?: { id: string; name: string }[];
  datasetId?: number;
  split?: Split;
  /** Only the dataset images recorded with this group (default: the adapted group's name when any image has it). */
  datasetGroup?: string;
  /** Share of the group's good parts the NG threshold may reject (default 0.005). */
  falseRejectRate?: number;
  device?: ExecutionProviderChoice;
}

export interface AdaptModelResult {
  modelId: number;
  group: string;
  frames: number;
  bankSize: number;
  /** Memory-bank entries that came from the group's frames. */
  fromGroup: number;
  thresholds: GroupThresholds;
  seconds: number;
}

export interface WatchFolderInput {
  folder: string;
  model: number | 'production';
  /**
   * The station or camera of every image in the folder. Without it, an image in a first-level
   * subfolder named after one of the model's groups is judged by that group's thresholds.
   */
  group?: string;
  sidecar?: boolean;
  sort?: boolean;
  /** Append-only JSONL log of every result. */
  log?: string;
  device?: ExecutionProviderChoice;
  /** Inspect what is there now and finish, instead of watching until cancelled. */
  once?: boolean;
}

export interface InspectFilesResult {
  inspected: number;
  /** Files skipped because an earlier run in the same output folder already inspected them. */
  skipped: number;
  ok: number;
  ng: number;
  review: number;
  errors: number;
  resultsFile: string;
  msPerImage: number;
  /** History ids of this run's inspections, in file order. */
  inspectionIds: number[];
}
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobStatus {
  id: string;
  kind: JobKind;
  state: JobState;
  phase: string;
  done: number;
  total: number;
  /**
   * Seconds the current phase still needs at its pace so far (null before there is a pace to go
   * by, or when the phase has no known total).
   */
  etaSeconds?: number | null;
  result?: unknown;
  error?: ApiErrorBody;
  /** Training jobs: the latest training progress. */
  training?: TrainingProgressInfo;
}

/** Normalised image scores of an evaluation (good and defective apart) and the thresholds on the same scale. */
/** What evaluating a model on a dataset split measures (every mode). */
export interface AnomalyMetrics {
  images: number;
  good: number;
  defective: number;
  image_auroc: number;
  /**
   * Image AUROC among the images of the most common size that has both good and defective ones
   * (null when no size has both). When a dataset's defective images come in other formats than
   * its good ones, image AUROC also rewards telling formats apart; this one cannot.
   */
  image_auroc_same_size: number | null;
  /**
   * Image AUROC within each group (camera position, station, line; from the dataset source) that
   * has both good and defective images, and their mean; null when no group has both. A station
   * judges its own camera's images against one threshold, so this is the ranking that matters
   * there; a plain image AUROC also asks scores to be comparable across cameras.
   */
  image_auroc_within_group: number | null;
  image_auroc_by_group: Record<string, number> | null;
  pixel_auroc: number;
  /** At the calibrated NG threshold, NG counted as the positive decision. */
  precision: number;
  recall: number;
  f1: number;
  false_reject_rate: number;
  miss_rate: number;
  /** Share of images that landed in the REVIEW band. */
  review_rate: number;
  /**
   * Of the defective images with marked defect pixels, the share whose heatmap peaks on a marked
   * pixel (within 8 px): whether the place that decides the image score is the defect itself, or
   * something else on a part that also has a defect. Null when no image has marked pixels.
   */
  peak_on_defect_rate: number | null;
  ms_per_image: number;
}

/** Segmentation models measure these as well. */
export interface SegmentMetrics extends AnomalyMetrics {
  /** Pixel IoU per class: predicted class where the heatmap passes the pixel threshold, against the labels. */
  pixel_iou: Record<string, number>;
  /** Average precision of regions as boxes at IoU ≥ 0.5, per class, and their mean. */
  box_ap50: Record<string, number>;
  mean_box_ap50: number;
  /** Share of defective images flagged NG when the NG threshold rejects at most 0.5% of good images. */
  recall_at_half_percent_frr: number | null;
  image_scores: ImageScores;
}

/** Detection metrics of one class: AP, and precision/recall at its calibrated box threshold. */
export interface DetectClassMetrics {
  ap50: number;
  /** COCO AP averaged over IoU 0.50:0.05:0.95. */
  ap: number;
  threshold: number;
  precision: number;
  recall: number;
  /** Ground-truth boxes of the class in the split. */
  boxes: number;
  /** The precision–recall curve at IoU 0.5 (at most 50 points), for plotting. */
  curve: { recall: number[]; precision: number[] };
}

/**
 * Counts of true classes (rows) against predicted classes (columns). The last label of a box
 * matrix is "background": a labelled box nothing found (last column) or a found box with no
 * labelled box under it (last row).
 */
export interface ConfusionMatrix {
  labels: string[];
  counts: number[][];
}

export interface DetectMetrics extends AnomalyMetrics {
  box_ap50: Record<string, number>;
  /** Boxes at the class thresholds, matched at IoU ≥ 0.5 whatever their class. */
  box_confusion: ConfusionMatrix;
  mean_box_ap50: number;
  /** COCO mAP@[.5:.95] over the classes. */
  coco_map: number;
  per_class: Record<string, DetectClassMetrics>;
  /** Share of defective images flagged NG when the NG threshold rejects at most 0.5% of good images (null without good images). */
  recall_at_half_percent_frr: number | null;
  image_scores: ImageScores;
}

export interface ImageScores {
  good: number[];
  defective: number[];
  ng: number;
  review: number;
}

export interface TrainingValidation {
  loss: number;
  /** Segment: pixel IoU per defect class at 1/4 resolution (argmax of the logits), by class name. */
  iou?: Record<string, number>;
  /** Detect: box AP at IoU ≥ 0.5 per class, by class name. */
  ap50?: Record<string, number>;
  /** Classify: share of validation images whose most probable class is theirs. */
  accuracy?: number;
}

export interface TrainingProgressInfo {
  phase: 'preparing' | 'training' | 'validating';
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  loss: number | null;
  learningRate: number;
  etaSeconds: number | null;
  /** The step's loss terms by name (detect: class, box, centreness), when the mode reports them. */
  lossParts?: Record<string, number>;
  /** After each epoch: validation loss and pixel IoU per class. */
  validation?: TrainingValidation;
  /** Training loss and validation loss of every finished epoch, for the loss chart. */
  history?: { epoch: number; trainLoss: number; validationLoss: number }[];
}

export type ArgusEvent = { type: 'job'; job: JobStatus };

export interface InspectionRecord {
  id: number;
  imageSha256: string | null;
  sourcePath: string;
  modelVersionId: number | null;
  verdict: Verdict;
  /** Normalised image score (0.5 = NG threshold) and the raw anomaly score it came from. */
  score: number | null;
  rawScore: number | null;
  regions: InspectionRegion[];
  /** Per-stage milliseconds. */
  timings: Record<string, unknown>;
  /** The stored 16-bit heatmap PNG (value/65535 = normalised pixel score; 0.5 = pixel threshold). */
  heatmapSha256: string | null;
  /** The thresholds the verdict was made with (raw scores). */
  thresholds: Record<string, unknown>;
  error: string | null;
  operator: string;
  createdAt: string;
  /** Classification models: the probability of each class. */
  classProbabilities: Record<string, number> | null;
}

/**
 * One image from the line (a PLC trigger, a camera's or MES's HTTP post, a station file), inspected
 * at once with the production model. With a `requestKey` the request is idempotent: the same key
 * again (a PLC repeating a trigger after a restart) returns the result already recorded.
 */
export interface InspectLineInput {
  path?: string;
  upload?: { id: string; name: string };
  /** Who asked: http, opcua, modbus, … (the ledger scope of its request keys). */
  source: string;
  requestKey?: string;
  /** The station or camera whose thresholds judge it, where the model has them. */
  group?: string;
  /** The recipe: the project (id or name) whose production model inspects; without it, the only production model. */
  project?: number | string;
}

export interface LineResult {
  inspectionId: number;
  requestKey: string | null;
  /** True when the request key had been inspected before: this is that stored result. */
  replayed: boolean;
  file: string;
  verdict: Verdict;
  score: number | null;
  rawScore: number | null;
  /** The class of the highest-scoring region (null when none), and its 1-based index in the model's classes (0 when none). */
  defectClass: string | null;
  defectClassIndex: number;
  regions: number;
  ms: number;
  modelId: number | null;
  imageSha256: string | null;
  heatmapSha256: string | null;
  error: string | null;
  createdAt: string;
}

/** How this station talks to the line; stored in the data directory, changed only by a QA engineer (audited). */
export interface StationConfig {
  /** The station's name on the line (MQTT topics, logs). */
  name: string;
  opcua: { enabled: boolean; port: number; security: 'none' | 'sign-encrypt' };
  modbus: { enabled: boolean; host: string; port: number };
  mqtt: { enabled: boolean; url: string; topic: string; username?: string; password?: string };
}

/** What the station is doing now: its listeners, the handshake, the result sink. */
export interface StationStatus {
  running: boolean;
  config: StationConfig;
  opcua: { endpoint: string } | null;
  modbus: { address: string } | null;
  mqtt: { connected: boolean; published: number; topic: string } | null;
  handshake: { ready: boolean; busy: boolean; done: boolean; verdict: number; errorCode: number; inspectionId: number; requestId: number } | null;
  /** Why a part of the station did not start (a port in use, a broker that is unreachable). */
  errors: string[];
}

/** An operator's word on a result: it was right, or it was wrong. */
export type ReviewOpinion = 'confirmed' | 'disputed';

/** A result the line disputed, or one the model left in REVIEW, waiting for a QA engineer. */
export interface ReviewQueueItem {
  inspectionId: number;
  file: string;
  imageSha256: string;
  verdict: Verdict;
  score: number | null;
  modelId: number | null;
  createdAt: string;
  opinion: ReviewOpinion | null;
  /** What the operator says the part is: "good", "defect" or a class name. */
  correctLabel: string | null;
  note: string;
}

/** Adding a line image to a dataset with its corrected label (good, defect, or one class). */
export interface AddToDatasetInput {
  inspectionId: number;
  datasetId: number;
  label: 'good' | 'defect';
  /** The whole-image class (project class index), for a defect. */
  classIndex?: number;
  split?: Split;
}

export interface DailyCounts {
  /** YYYY-MM-DD (UTC). */
  day: string;
  OK: number;
  NG: number;
  REVIEW: number;
  ERROR: number;
}

export interface InspectionQuery {
  verdict?: Verdict;
  modelVersionId?: number;
  operator?: string;
  from?: string;
  to?: string;
  offset?: number;
  limit?: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: unknown;
}

export interface ApiErrorBody {
  code: ErrorCode;
  /** The error in English (logs, the command line). */
  message: string;
  /** The message's key and parameters, for a user interface to say it in the user's language. */
  text?: { key: string; params?: Record<string, string | number> };
}

export type ErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'conflict'
  | 'bad_input'
  | 'unsupported'
  | 'storage'
  | 'cancelled'
  /** The caller's role may not do this (unlock the QA-engineer role first). */
  | 'forbidden'
  | 'internal';

/** What crosses every boundary (IPC, HTTP): a value or an error, never a thrown exception. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

export interface ArgusApi {
  getInfo(): Promise<AppInfo>;
  listProjects(): Promise<Project[]>;
  createProject(input: CreateProjectInput): Promise<Project>;
  listDatasets(input: { projectId?: number }): Promise<DatasetSummary[]>;
  getDataset(input: { datasetId: number }): Promise<DatasetSummary>;
  listDatasetImages(input: DatasetImageQuery): Promise<DatasetImagePage>;
  /** Starts an import job; progress arrives as 'job' events. */
  importDataset(input: ImportDatasetInput): Promise<JobStatus>;
  getJob(input: { jobId: string }): Promise<JobStatus>;
  cancelJob(input: { jobId: string }): Promise<JobStatus>;
  listInspections(input: InspectionQuery): Promise<{ items: InspectionRecord[]; total: number }>;
  /** Inspections per day and verdict (for the daily counts and NG-rate chart). */
  /** Per day and verdict, for the inspections the same filter as listInspections selects. */
  dailyInspectionCounts(input: Omit<InspectionQuery, 'offset' | 'limit'>): Promise<DailyCounts[]>;
  getInspection(input: { inspectionId: number }): Promise<InspectionRecord>;
  listAuditLog(input: { offset?: number; limit?: number }): Promise<AuditEntry[]>;
  /** Starts training; the job's result is a TrainModelResult. */
  trainModel(input: TrainModelInput): Promise<JobStatus>;
  /**
   * Starts making the demo project: generated photographs of machined parts (some scratched or
   * pitted) imported as a dataset, an anomaly model trained on them and promoted, and a folder of
   * line images to inspect. The job's result is a DemoProjectResult.
   */
  createDemoProject(): Promise<JobStatus>;
  /** Starts an evaluation; the job's result holds the metrics. */
  evaluateModel(input: EvaluateModelInput): Promise<JobStatus>;
  /**
   * Starts making an int8 or fp16 child of a model version; the job's result is an
   * OptimizeModelResult. The child is a candidate that can be promoted only if its accuracy guard passed.
   */
  optimizeModel(input: OptimizeModelInput): Promise<JobStatus>;
  /**
   * Starts adapting an anomaly model to a station or camera from its good frames; the job's result
   * is an AdaptModelResult naming the new candidate child version.
   */
  adaptModel(input: AdaptModelInput): Promise<JobStatus>;
  /** Stores uploaded images under the data directory and inspects them like inspectFiles. */
  inspectUploads(input: InspectUploadsInput): Promise<JobStatus>;
  /** Starts inspecting files; the job's result is an InspectFilesResult. */
  inspectFiles(input: InspectFilesInput): Promise<JobStatus>;
  /** Checks a ResNet-50 safetensors file and makes it the backbone for training. */
  importBackboneWeights(input: { path: string }): Promise<BackboneInfo>;
  /** Starts downloading backbone weights (verified against `sha256`); the job's result is a BackboneInfo. */
  downloadBackboneWeights(input: { url: string; sha256: string }): Promise<JobStatus>;
  /** Starts watching a hot folder; runs until the job is cancelled (or once through). Progress counts inspected files. */
  watchFolder(input: WatchFolderInput): Promise<JobStatus>;
  listModels(input: { projectId?: number }): Promise<ModelVersionSummary[]>;
  /** The labels stored for an image (by content digest) in any project; empty when it was never labelled. */
  getImageLabels(input: { sha256: string }): Promise<StoredImageLabels>;
  /** The annotations of one image of a dataset (in its project). */
  getImageAnnotations(input: { datasetId: number; imageId: number }): Promise<ImageAnnotations>;
  /**
   * Replaces the image's annotations with the given set in one transaction (stored ones are kept
   * by id, missing ones deleted); the image's label follows (defect, good or unlabeled).
   */
  saveImageAnnotations(input: { schemaVersion?: typeof ANNOTATION_SCHEMA_VERSION; datasetId: number; imageId: number; annotations: Annotation[] }): Promise<ImageAnnotations>;
  /**
   * Moves a model's NG and region thresholds (QA engineers only; audited with before and after).
   * Positions are on the normalised score scale, 0.5 being the current threshold, as the Inspect
   * page's what-if sliders show them; the REVIEW band keeps its width. Applies to new inspections.
   */
  setModelThresholds(input: { modelId: number; imageAt: number; pixelAt: number }): Promise<ModelVersionSummary>;
  /** This caller's role and whether roles are enforced. */
  getSession(): Promise<SessionInfo>;
  /** Grants this caller the QA-engineer role when the PIN is right. */
  unlockEngineer(input: { pin: string }): Promise<SessionInfo>;
  /** Back to the operator role. */
  lockEngineer(): Promise<SessionInfo>;
  /** Sets or changes the QA-engineer PIN (QA engineers only, once a PIN exists). */
  setEngineerPin(input: { pin: string }): Promise<SessionInfo>;
  /** What a model (the production one by default) finds in a dataset image, as suggestions to label. */
  suggestRegions(input: { datasetId: number; imageId: number; model?: number | 'production'; device?: ExecutionProviderChoice }): Promise<RegionSuggestions>;
  /**
   * Starts writing a dataset into a new or empty folder: its images, splits, labels, boxes and pixel
   * labels, as an Argus manifest (default) or COCO JSON.
   */
  exportDataset(input: { datasetId: number; path: string; format?: ExportFormat }): Promise<JobStatus>;
  /** Starts scoring a dataset's images with a model (production by default); the job's result is a LabellingRanking. */
  rankImagesForLabelling(input: { datasetId: number; model?: number | 'production'; device?: ExecutionProviderChoice }): Promise<JobStatus>;
  /** Training runs, newest first, with whether each can be resumed. */
  listTrainingRuns(): Promise<TrainingRunSummary[]>;
  /** An operator confirms or disputes a result (with what the part really is); disputes join the review queue. Audited. */
  reviewInspection(input: { inspectionId: number; opinion: ReviewOpinion; correctLabel?: string; note?: string }): Promise<void>;
  /** Disputed and REVIEW results not yet resolved, newest first. */
  listReviewQueue(input: { projectId?: number; limit?: number }): Promise<ReviewQueueItem[]>;
  /** A QA engineer adds a result's image to a dataset with its corrected label, or dismisses it from the queue. Audited. */
  addToDataset(input: AddToDatasetInput): Promise<void>;
  dismissReview(input: { inspectionId: number }): Promise<void>;
  /** Operators' confirmations and disputes per model version. */
  getModelAgreement(): Promise<Record<number, { confirmed: number; disputed: number }>>;
  getStationConfig(): Promise<StationConfig>;
  /** Stores the station's line configuration and applies it to the running station. */
  setStationConfig(input: StationConfig): Promise<StationStatus>;
  getStationStatus(): Promise<StationStatus>;
  /** Inspects one image from the line with the production model now, one at a time (see InspectLineInput). */
  inspectLine(input: InspectLineInput): Promise<LineResult>;
  promoteModel(input: { modelId: number }): Promise<ModelVersionSummary>;
  /**
   * Writes a version as one package file (ONNX files, config, thresholds, classes, metrics,
   * lineage, SHA-256 of every file) to `path`, or into the data directory's exports/ (from where
   * a page downloads it by `fileName`).
   */
  exportModelPackage(input: { modelId: number; path?: string }): Promise<ExportedModelPackage>;
  /** Registers the version in a package (a file on the station or an upload) as a candidate, after checking every file. */
  importModelPackage(input: { path?: string; upload?: { id: string; name: string } }): Promise<ModelVersionSummary>;
  /** Writes a version's ONNX graphs into a new or empty folder with a JSON sidecar describing their input and output, for use outside Argus. */
  exportModelOnnx(input: { modelId: number; path: string }): Promise<{ folder: string; files: string[] }>;
  /** Puts the previous production version back; returns it. */
  rollbackModel(input: { projectId?: number }): Promise<ModelVersionSummary>;
}

export interface ExportedModelPackage {
  path: string;
  /** The package's file name; in exports/ a page downloads it from <media>export/<fileName>. */
  fileName: string;
  bytes: number;
  sha256: string;
}

/** What a page may ask the desktop app's native open dialog for; the user picks, the page never names a path. */
export interface PickPathsRequest {
  kind: 'folder' | 'file' | 'files';
  accept?: 'images' | 'coco' | 'package';
  title?: string;
}

/** What the Electron preload exposes to the renderer as window.argus: nothing more than this. */
export interface ArgusBridge {
  invoke(method: string, input: unknown): Promise<ApiResult<unknown>>;
  onEvent(listener: (event: ArgusEvent) => void): () => void;
  /** The native open dialog: the paths the user chose (none when cancelled). */
  pickPaths(request: PickPathsRequest): Promise<string[]>;
  /** URL prefix of stored images and heatmaps: <mediaBase><thumbnail|original>/<sha256>. */
  mediaBase: string;
}

export type ApiMethod = keyof ArgusApi;
export type ApiInput<M extends ApiMethod> = Parameters<ArgusApi[M]> extends [infer I] ? I : undefined;
export type ApiOutput<M extends ApiMethod> = Awaited<ReturnType<ArgusApi[M]>>;
