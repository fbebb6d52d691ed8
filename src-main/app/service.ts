import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { downloadVerified } from '../model/weights-download.ts';
import type {
  AdaptModelInput, AdaptModelResult, Annotation, DailyCounts, DemoProjectResult, ImportResult, LabellingRanking, AppInfo, ArgusApi, ArgusEvent, AuditEntry, BackboneInfo, CreateProjectInput, DatasetImagePage, ExportedModelPackage,
  DatasetImageQuery, DatasetSummary, EvaluateModelInput, ExportFormat, ExecutionProviderChoice, ExecutionProviderReport, ImageAnnotations, ImportDatasetInput, InspectFilesInput, InspectLineInput, InspectUploadsInput, LineResult, StationConfig, StationStatus, AddToDatasetInput, ReviewOpinion, ReviewQueueItem, InspectFilesResult, InspectionQuery,
  InspectionRecord, JobStatus, ModelVersionSummary, OptimizeModelInput, OptimizeModelResult, Project, RegionSuggestions, Role, SessionInfo, StoredImageLabels, TrainingRunSummary, TrainModelInput, TrainModelResult, WatchFolderInput,
} from '../contract/contract.ts';
import { verifyModelFiles } from '../store/model-files.ts';
import { loadDetector } from '../inspection/load-detector.ts';
import { modeOf } from '../modes/registry.ts';
import { trainInWorker } from './training-client.ts';
import { HotFolder } from '../inspection/hot-folder.ts';
import { expandImageFiles, inspectFiles, minRegionAreaOf } from '../inspection/inspect-files.ts';
import { loadResNet50Weights } from '../model/resnet50.ts';
import { type ImageAnalyser, judge } from '../analysis/analysis.ts';
import { decodeRgb } from '../images/preprocess.ts';
import { decodeForImport } from '../images/decode.ts';
import type { ModelVersion } from '../store/models.ts';
import { SessionCache } from '../runtime/sessions.ts';
import { quantile } from '../analysis/metrics.ts';
import { ArgusError } from '../contract/errors.ts';
import { packageVersion } from '../platform/resources.ts';
import { bundledBackbone, verifyBundledBackbone } from '../platform/bundled-backbone.ts';
import { lockDataDir } from '../store/data-dir-lock.ts';
import { MAX_FILE_BYTES, readUserFile } from '../platform/user-file.ts';
import { hashPin, PinGuard, pinMatches, type StoredPin } from './roles.ts';
import { labellingOrder, suggestedClasses } from './labelling-queue.ts';
import { movedThresholds } from './model-thresholds.ts';
import { trainAndRegister } from './train-model.ts';
import { adaptationFrames, adapterOf, adaptModel } from './adapt-model.ts';
import { collectLineUpload, collectUploadedDataset, collectUploads, type StagedUpload, stagedFile, stageUpload, uploadBatchFolder } from './staged-uploads.ts';
import { exportModelPackage, importModelPackage } from './model-packages.ts';
import { exportModelOnnx } from './onnx-export.ts';
import { LineInspector, lineResultOf } from './line-inspection.ts';
import { addToDataset, dismissReview, reviewInspection } from './line-reviews.ts';
import { stationConfigOf, type StationRuntime, stoppedStation, withoutSecrets } from './station-config.ts';
import { getImageAnnotations, getImageLabels, saveImageAnnotations } from '../datasets/annotation-editing.ts';
import { exportDataset } from '../datasets/exporter.ts';
import { writeDemoParts } from '../datasets/demo-parts.ts';
import { importDataset } from '../datasets/importer.ts';
import { JobRunner } from '../jobs/job-runner.ts';
import { optimizeModel, promotionBlocker } from '../optimize/optimize-model.ts';
import { Store } from '../store/store.ts';

export interface ServiceOptions {
  dataDir: string;
  /** Who acts through this service (recorded in the audit log). */
  actor?: string;
  /**
   * Reading only (listing, showing, exporting, evaluating): no lock on the data directory, so it
   * may run beside the station's app. Everything else holds the directory's one-writer lock.
   */
  readOnly?: boolean;
}

/** The engine behind every front end: the one implementation of ArgusApi. */
export class ArgusService implements ArgusApi {
  readonly store: Store;
  readonly jobs = new JobRunner();
  /** Inference sessions shared by inspection and evaluation jobs (keyed by model, provider, shape). */
  readonly sessions = new SessionCache(6);
  /** The line's images (PLC triggers, HTTP posts): one at a time with the production model. */
  readonly line: LineInspector;
  private stationRuntime?: StationRuntime;
  private readonly station: string;
  /** The role of the transport caller whose call is running (set by dispatch), for the audit log. */
  readonly callerRole = new AsyncLocalStorage<Role>();
  private lastProvider: ExecutionProviderReport = { requested: 'auto', active: null, fallbacks: [] };
  /** Wrong PINs are counted for the station, whoever sends them. */
  private readonly pinGuard = new PinGuard();

  private readonly releaseLock: () => void;

  constructor(options: ServiceOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.releaseLock = options.readOnly ? () => undefined : lockDataDir(options.dataDir);
    try {
      this.store = new Store(options.dataDir);
    } catch (error) {
      this.releaseLock();
      throw error;
    }
    this.line = new LineInspector(this.store, this.sessions);
    this.station = options.actor ?? 'local';
  }

  onEvent(listener: (event: ArgusEvent) => void): () => void {
    return this.jobs.onChange((job) => listener({ type: 'job', job }));
  }

  /** Who the audit log names: the station or interface, and the caller's role when it came through a transport. */
  private get actor(): string {
    const role = this.callerRole.getStore();
    return role ? `${this.station} (${role === 'engineer' ? 'QA engineer' : 'operator'})` : this.station;
  }

  async getInfo(): Promise<AppInfo> {
    return {
      version: packageVersion(),
      dataDir: this.store.dataDir,
      schemaVersion: this.store.schemaVersion,
      executionProvider: this.lastProvider,
      backbone: this.backboneInUse(),
    };
  }

  /** An imported backbone wins over the one that ships with the app. */
  private backboneInUse(): AppInfo['backbone'] {
    const setting = this.store.settings.get<{ sha256: string }>('backbone');
    if (setting) {
      const path = this.store.blobs.pathOf(setting.sha256);
      return { source: 'imported', sha256: setting.sha256, bytes: existsSync(path) ? statSync(path).size : 0 };
    }
    const bundled = bundledBackbone();
    return bundled ? { source: 'bundled', sha256: bundled.sha256, bytes: bundled.bytes, name: bundled.name } : null;
  }

  async listProjects(): Promise<Project[]> {
    return this.store.projects.list();
  }

  async createProject(input: CreateProjectInput): Promise<Project> {
    const project = this.store.transaction(() => {
      const created = this.store.projects.create(input);
      this.store.history.audit(this.actor, 'project.create', `project:${created.id}`, { name: created.name });
      return created;
    });
    return project;
  }

  async listDatasets(input: { projectId?: number }): Promise<DatasetSummary[]> {
    return this.store.datasets.list(input.projectId);
  }

  async getDataset(input: { datasetId: number }): Promise<DatasetSummary> {
    return this.store.datasets.get(input.datasetId);
  }

  async listDatasetImages(input: DatasetImageQuery): Promise<DatasetImagePage> {
    return this.store.datasets.images(input);
  }

  /**
   * Imports from a folder or file on the station, or from files uploaded from a browser (their
   * relative paths kept, so good/, masks/ and a manifest work as on disk; the uploaded copy is
   * removed once its images are in the data directory).
   */
  async importDataset(input: ImportDatasetInput): Promise<JobStatus> {
    const uploaded = input.uploads?.length ? await collectUploadedDataset(this.store.dataDir, input.uploads) : undefined;
    const path = uploaded?.root ?? input.path ?? '';
    const origin = uploaded ? `uploaded: ${basename(uploaded.root)} (${input.uploads!.length} files)` : undefined;
    return this.jobs.start('import', async (ctx) => {
      try {
        return await importDataset(this.store, { ...input, path, origin }, { actor: this.actor, signal: ctx.signal, onProgress: (p) => ctx.progress(p.phase, p.done, p.total) });
      } finally {
        if (uploaded) await rm(uploaded.folder, { recursive: true, force: true });
      }
    });
  }

  async getJob(input: { jobId: string }): Promise<JobStatus> {
    return this.jobs.get(input.jobId);
  }

  async cancelJob(input: { jobId: string }): Promise<JobStatus> {
    const job = this.jobs.get(input.jobId);
    const cancelled = await this.jobs.cancel(input.jobId);
    this.store.history.audit(this.actor, 'job.cancel', `job:${job.id}`, { kind: job.kind, state: job.state });
    return cancelled;
  }

  async listInspections(input: InspectionQuery): Promise<{ items: InspectionRecord[]; total: number }> {
    return this.store.history.list(input);
  }

  async dailyInspectionCounts(input: Omit<InspectionQuery, 'offset' | 'limit'>): Promise<DailyCounts[]> {
    return this.store.history.dailyCounts(input);
  }

  async getInspection(input: { inspectionId: number }): Promise<InspectionRecord> {
    return this.store.history.get(input.inspectionId);
  }

  async listAuditLog(input: { offset?: number; limit?: number }): Promise<AuditEntry[]> {
    return this.store.history.auditLog(input.offset, input.limit);
  }

  async importBackboneWeights(input: { path: string }): Promise<BackboneInfo> {
    const weights = loadResNet50Weights(input.path);
    const bytes = await readUserFile(input.path, 'weights file', MAX_FILE_BYTES.weights);
    const sha256 = await this.store.blobs.put(bytes);
    this.store.settings.set('backbone', { sha256 });
    this.store.history.audit(this.actor, 'backbone.import', `blob:${sha256}`, { path: input.path, bytes: bytes.length });
    return { sha256, bytes: bytes.length, mean: weights.normalization.mean, std: weights.normalization.std, hasClassifier: weights.hasClassifier };
  }

  async downloadBackboneWeights(input: { url: string; sha256: string }): Promise<JobStatus> {
    return this.jobs.start('download', async (ctx) => {
      const destination = join(this.store.dataDir, `download-${Date.now()}.safetensors`);
      try {
        await downloadVerified(input.url, input.sha256, destination, (received, total) => ctx.progress('downloading', received, total), ctx.signal);
        return await this.importBackboneWeights({ path: destination });
      } finally {
        await rm(destination, { force: true });
      }
    });
  }

  /** The backbone weights file training reads (by whichever thread trains): the imported one, else the bundled one, checked. */
  private async backboneFile(): Promise<{ sha256: string; path: string }> {
    const setting = this.store.settings.get<{ sha256: string }>('backbone');
    if (setting) return { sha256: setting.sha256, path: this.store.blobs.pathOf(setting.sha256) };
    const bundled = bundledBackbone();
    if (!bundled) throw new ArgusError('bad_input', 'This installation carries no backbone weights: import a ResNet-50 safetensors file first (Settings, or argus weights import <file>)', { key: 'noBackbone' });
    await verifyBundledBackbone(bundled);
    return { sha256: bundled.sha256, path: bundled.path };
  }

  async trainModel(input: TrainModelInput): Promise<JobStatus> {
    // One training run at a time: it takes the whole CPU or GPU, and two must never share a checkpoint.
    if (this.jobs.running('train').length > 0) throw new ArgusError('conflict', 'A training run is already in progress on this station; wait for it or cancel it', { key: 'trainingBusy' });
    const mode = modeOf(input.mode);
    const resumed = input.resumeRunId !== undefined ? this.store.trainingRuns.get(input.resumeRunId) : undefined;
    if (resumed && (!mode.fineTuned || resumed.mode !== input.mode)) throw new ArgusError('invalid_argument', `Training run ${resumed.id} is a ${resumed.mode} run, not a ${input.mode} run that can resume`, { key: 'cannotResume', params: { id: resumed.id } });
    if (input.parentModelId !== undefined && !mode.fineTuned) throw new ArgusError('invalid_argument', `${input.mode} models do not continue from a parent model`, { key: 'noParentForMode', params: { mode: input.mode } });
    const datasetId = input.datasetId ?? (resumed?.config.datasetId as number | undefined);
    if (datasetId === undefined) throw new ArgusError('invalid_argument', 'A dataset is required', { key: 'datasetRequired' });
    const dataset = this.store.datasets.get(datasetId);
    if (input.parentModelId !== undefined) this.store.models.get(input.parentModelId);
    const backbone = await this.backboneFile();
    const request = {
      mode: input.mode, datasetId: dataset.id, backboneSha256: backbone.sha256, provider: input.device ?? 'auto', parentModelId: input.parentModelId,
      resumeRunId: input.resumeRunId, config: mode.trainingConfig(input), name: input.name, actor: this.actor,
    } as const;
    if (mode.fineTuned) {
      return this.jobs.start('train', (ctx): Promise<TrainModelResult> => trainInWorker({ dataDir: this.store.dataDir, weightsPath: backbone.path, input: request }, ctx));
    }
    const weights = loadResNet50Weights(backbone.path);
    return this.jobs.start('train', async (ctx): Promise<TrainModelResult> => {
      const { model, seconds } = await trainAndRegister(this.store, { ...request, backbone: weights }, ctx);
      return { modelId: model.id, seconds, metrics: model.metrics };
    });
  }

  async createDemoProject(): Promise<JobStatus> {
    return this.jobs.start('demo', async (ctx): Promise<DemoProjectResult> => {
      // Each step is a job of its own; cancelling the demo cancels the step in progress.
      const step = async <T>(started: Promise<JobStatus>): Promise<T> => {
        if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Demo cancelled');
        const { id } = await started;
        if (ctx.signal.aborted) void this.jobs.cancel(id);
        const cancel = (): void => void this.jobs.cancel(id);
        ctx.signal.addEventListener('abort', cancel);
        try {
          const done = await this.jobs.wait(id);
          if (done.state !== 'succeeded') throw new ArgusError(done.error?.code ?? 'cancelled', done.error?.message ?? 'Demo cancelled');
          return done.result as T;
        } finally {
          ctx.signal.removeEventListener('abort', cancel);
        }
      };
      ctx.progress('making demo parts', 0, 3);
      const { dataset, line } = await writeDemoParts(join(this.store.dataDir, 'demo'));
      ctx.progress('importing the demo parts', 1, 3);
      const imported = await step<ImportResult>(this.importDataset({ path: dataset, projectName: 'Demo' }));
      ctx.progress('training an anomaly model', 2, 3);
      const trained = await step<TrainModelResult>(this.trainModel({ mode: 'anomaly', datasetId: imported.datasetId, name: 'demo anomaly' }));
      await this.promoteModel({ modelId: trained.modelId });
      ctx.progress('ready', 3, 3);
      return { projectId: imported.projectId, datasetId: imported.datasetId, modelId: trained.modelId, lineFolder: line };
    });
  }

  async evaluateModel(input: EvaluateModelInput): Promise<JobStatus> {
    const model = this.store.models.get(input.modelId);
    const mode = modeOf(model.mode);
    const samples = this.store.datasets.samples(this.store.datasets.get(input.datasetId).id, input.split);
    return this.jobs.start('evaluate', async (ctx) => {
      const detector = await loadDetector(this.store, model, input.device ?? 'auto', this.sessions);
      this.lastProvider = detector.provider;
      try {
        const metrics = await mode.evaluate(this.store.blobs, detector, model, samples, (d, t) => ctx.progress('evaluating', d, t), ctx.signal);
        return { modelId: model.id, datasetId: input.datasetId, split: input.split, provider: detector.provider.active, ...metrics };
      } finally {
        await detector.release();
      }
    });
  }

  async optimizeModel(input: OptimizeModelInput): Promise<JobStatus> {
    this.store.models.get(input.modelId);
    if (input.calibrationDatasetId !== undefined) this.store.datasets.get(input.calibrationDatasetId);
    return this.jobs.start('optimize', async (ctx): Promise<OptimizeModelResult> => {
      const { model, guard, seconds } = await optimizeModel(this.store, { ...input, provider: input.device ?? 'auto', actor: this.actor }, ctx);
      return { modelId: model.id, guard, seconds };
    });
  }

  async adaptModel(input: AdaptModelInput): Promise<JobStatus> {
    adapterOf(this.store.models.get(input.modelId)); // refused now, not in the job
    const frames = adaptationFrames(this.store, input, this.store.dataDir);
    return this.jobs.start('adapt', async (ctx): Promise<AdaptModelResult> => {
      const result = await adaptModel(this.store, input, frames, this.actor, ctx);
      for (const upload of input.uploads ?? []) await rm(stagedFile(this.store.dataDir, upload), { force: true });
      return result;
    });
  }

  private modelFor(ref: number | 'production'): ModelVersion {
    return ref === 'production' ? this.store.models.production() : this.store.models.get(ref);
  }

  async inspectUploads(input: InspectUploadsInput): Promise<JobStatus> {
    this.modelFor(input.model);
    // Uploads are kept like the line's files: each batch in its own folder, names reduced to a safe base name.
    // The desktop app hands bytes over directly: they are staged like uploads, so both arrive the same way.
    const uploads = [...(input.uploads ?? [])];
    for (const file of input.files ?? []) uploads.push({ ...(await stageUpload(this.store.dataDir, [Buffer.from(file.dataBase64, 'base64')], Number.MAX_SAFE_INTEGER)), name: file.name });
    const paths = await collectUploads(this.store.dataDir, uploads, uploadBatchFolder(this.store.dataDir));
    return this.inspectFiles({ model: input.model, paths, device: input.device, group: input.group });
  }

  /**
   * Browser mode's upload: streams one file's bytes to disk under the data directory (at most
   * `maxBytes`) and returns the id the calls that take uploads use. Not part of the API: the HTTP
   * adapter calls it with the request body, after the same checks as an API call.
   */
  stageUpload(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<{ id: string }> {
    return stageUpload(this.store.dataDir, body, maxBytes);
  }

  async inspectFiles(input: InspectFilesInput): Promise<JobStatus> {
    const outDir = input.outDir ?? join(this.store.dataDir, 'batches', new Date().toISOString().replace(/[:.]/g, '-'));
    const model = this.modelFor(input.model);
    const files = expandImageFiles(input.paths);
    if (files.length === 0) throw new ArgusError('bad_input', 'No image files found in the given paths', { key: 'noImages' });
    return this.jobs.start('inspect', async (ctx): Promise<InspectFilesResult> => {
      ctx.progress('loading model', 0, files.length);
      const detector = await loadDetector(this.store, model, input.device ?? 'auto', this.sessions);
      this.lastProvider = detector.provider;
      try {
        const lines = await inspectFiles(this.store, model, detector, files, {
          outDir, operator: this.actor, group: input.group, signal: ctx.signal, onResult: (_line, done, total) => ctx.progress('inspecting', done, total),
        });
        const count = (v: string): number => lines.filter((l) => l.verdict === v).length;
        return {
          inspected: lines.length, skipped: files.length - lines.length, ok: count('OK'), ng: count('NG'), review: count('REVIEW'), errors: count('ERROR'),
          resultsFile: join(outDir, 'results.jsonl'), msPerImage: quantile(lines.filter((l) => l.verdict !== 'ERROR').map((l) => l.ms), 0.5) || 0,
          inspectionIds: lines.map((l) => l.inspectionId),
        };
      } finally {
        await detector.release();
      }
    });
  }

  async watchFolder(input: WatchFolderInput): Promise<JobStatus> {
    this.modelFor(input.model); // fail now, not in the job, when there is no such model
    // The model is looked up for every file, so a promotion or rollback takes effect at the next
    // image; its detector (files read and verified, sessions) is loaded only when the model changes.
    let loaded: ImageAnalyser | undefined;
    let loadedId: number | undefined;
    const folder = new HotFolder(this.store, {
      current: async () => {
        const model = this.modelFor(input.model);
        if (!loaded || loadedId !== model.id) {
          await loaded?.release();
          loaded = await loadDetector(this.store, model, input.device ?? 'auto', this.sessions);
          loadedId = model.id;
          this.lastProvider = loaded.provider;
        }
        return { model, detector: loaded };
      },
    }, { folder: input.folder, operator: this.actor, sidecar: input.sidecar, sort: input.sort, log: input.log, group: input.group });
    this.store.history.audit(this.actor, 'hotfolder.start', `folder:${input.folder}`, { model: input.model, sidecar: !!input.sidecar, sort: !!input.sort });
    return this.jobs.start('watch', async (ctx) => {
      let inspected = 0;
      const counts: Record<string, number> = { OK: 0, NG: 0, REVIEW: 0, ERROR: 0 };
      try {
        await folder.run(ctx.signal, (line) => {
          counts[line.verdict]++;
          ctx.progress('inspected', ++inspected, 0);
        }, input.once);
      } finally {
        await loaded?.release();
        this.store.history.audit(this.actor, 'hotfolder.stop', `folder:${input.folder}`, { inspected });
      }
      return { inspected, ...counts };
    });
  }

  async listModels(input: { projectId?: number }): Promise<ModelVersionSummary[]> {
    return this.store.models.list(input.projectId);
  }

  async getImageLabels(input: { sha256: string }): Promise<StoredImageLabels> {
    return getImageLabels(this.store, input.sha256);
  }

  async getImageAnnotations(input: { datasetId: number; imageId: number }): Promise<ImageAnnotations> {
    return getImageAnnotations(this.store, input.datasetId, input.imageId);
  }

  async saveImageAnnotations(input: { schemaVersion?: 1; datasetId: number; imageId: number; annotations: Annotation[] }): Promise<ImageAnnotations> {
    return saveImageAnnotations(this.store, input.datasetId, input.imageId, input.annotations, this.actor);
  }

  async exportDataset(input: { datasetId: number; path: string; format?: ExportFormat }): Promise<JobStatus> {
    const dataset = this.store.datasets.get(input.datasetId);
    return this.jobs.start('export', async (ctx) => {
      const result = await exportDataset(this.store, dataset.id, input.path, input.format ?? 'manifest', (d, t) => ctx.progress('exporting', d, t), ctx.signal);
      this.store.history.audit(this.actor, 'dataset.export', `dataset:${dataset.id}`, { path: result.path, format: result.format, images: result.images });
      return result;
    });
  }

  async rankImagesForLabelling(input: { datasetId: number; model?: number | 'production'; device?: ExecutionProviderChoice }): Promise<JobStatus> {
    const dataset = this.store.datasets.get(input.datasetId);
    const samples = this.store.datasets.samples(dataset.id);
    const projectClasses = this.store.projects.get(dataset.projectId).classes.map((c) => c.name);
    const model = this.modelFor(input.model ?? 'production');
    const minArea = minRegionAreaOf(model);
    return this.jobs.start('rank', async (ctx): Promise<LabellingRanking> => {
      const detector = await loadDetector(this.store, model, input.device ?? 'auto', this.sessions);
      try {
        const scored: LabellingRanking['images'] = [];
        for (const [i, sample] of samples.entries()) {
          if (ctx.signal.aborted) throw new ArgusError('cancelled', 'Ranking cancelled');
          const analysis = await detector.analyse(await decodeRgb(await this.store.blobs.get(sample.sha256)));
          const judgement = judge(analysis, model.thresholds, minArea);
          const suggestion = suggestedClasses(analysis, judgement, projectClasses);
          scored.push({ imageId: sample.imageId, score: judgement.score, verdict: judgement.verdict, ...(suggestion ? { suggestedClasses: suggestion } : {}) });
          ctx.progress('scoring', i + 1, samples.length);
        }
        return { modelId: model.id, images: labellingOrder(scored) };
      } finally {
        await detector.release();
      }
    });
  }

  async suggestRegions(input: { datasetId: number; imageId: number; model?: number | 'production'; device?: ExecutionProviderChoice }): Promise<RegionSuggestions> {
    const dataset = this.store.datasets.get(input.datasetId);
    const entry = this.store.datasets.entry(dataset.id, input.imageId);
    if (!entry) throw new ArgusError('not_found', `Image ${input.imageId} is not in dataset "${dataset.name}"`, { key: 'imageNotInDataset', params: { id: input.imageId, dataset: dataset.name } });
    const model = this.modelFor(input.model ?? 'production');
    const detector = await loadDetector(this.store, model, input.device ?? 'auto', this.sessions);
    try {
      const analysis = await detector.analyse(await decodeRgb(await this.store.blobs.get(entry.sha256)));
      const minArea = minRegionAreaOf(model);
      const classes = this.store.projects.get(dataset.projectId).classes;
      return {
        modelId: model.id,
        regions: judge(analysis, model.thresholds, minArea).regions.map((r) => ({
          class: r.class, classIndex: classes.find((c) => c.name === r.class)?.index ?? null, score: r.score, box: r.box, area: r.area,
        })),
      };
    } finally {
      await detector.release();
    }
  }

  async setModelThresholds(input: { modelId: number; imageAt: number; pixelAt: number }): Promise<ModelVersionSummary> {
    return this.store.transaction(() => {
      const model = this.store.models.get(input.modelId);
      const before = model.thresholds;
      if (!before.image || !before.pixel) throw new ArgusError('invalid_argument', `Model ${model.id} has no image and pixel thresholds to move`, { key: 'noThresholds', params: { id: model.id } });
      const after = movedThresholds(before, input.imageAt, input.pixelAt);
      const updated = this.store.models.updateThresholds(model.id, { ...after });
      this.store.history.audit(this.actor, 'model.thresholds', `model:${model.id}`, { status: model.status, before, after });
      return updated;
    });
  }

  // Sessions: direct (in-process) callers such as the CLI act as the station's QA engineer; the
  // transports (IPC, HTTP) go through dispatch, which tracks each caller's role.
  async getSession(): Promise<SessionInfo> {
    return { role: 'engineer', pinSet: this.store.settings.get<StoredPin>('engineerPin') !== undefined };
  }

  async unlockEngineer(input: { pin: string }): Promise<SessionInfo> {
    const stored = this.store.settings.get<StoredPin>('engineerPin');
    if (!stored) return { role: 'engineer', pinSet: false };
    // Attempts run one at a time; while guessing is locked they are refused before any hashing
    // (and unaudited, so a flood of guesses cannot flood the audit log).
    return this.pinGuard.attempt(async () => {
      if (!(await pinMatches(input.pin, stored))) {
        this.pinGuard.failed();
        this.store.history.audit(this.actor, 'role.unlock-refused', 'role:engineer', {});
        throw new ArgusError('forbidden', 'Wrong PIN', { key: 'wrongPin' });
      }
      this.pinGuard.succeeded();
      this.store.history.audit(this.actor, 'role.unlock', 'role:engineer', {});
      return { role: 'engineer', pinSet: true };
    });
  }

  async lockEngineer(): Promise<SessionInfo> {
    return { role: 'operator', pinSet: this.store.settings.get<StoredPin>('engineerPin') !== undefined };
  }

  async setEngineerPin(input: { pin: string }): Promise<SessionInfo> {
    const changed = this.store.settings.get<StoredPin>('engineerPin') !== undefined;
    this.store.settings.set('engineerPin', await hashPin(input.pin));
    this.store.history.audit(this.actor, changed ? 'role.pin-changed' : 'role.pin-set', 'role:engineer', {});
    return { role: 'engineer', pinSet: true };
  }

  async listTrainingRuns(): Promise<TrainingRunSummary[]> {
    const training = this.jobs.running('train').length > 0;
    return this.store.trainingRuns.list().map((r) => ({
      id: r.id, projectId: r.projectId, mode: r.mode, datasetId: typeof r.config.datasetId === 'number' ? r.config.datasetId : null,
      parentModelId: r.parentModelId, resultModelId: r.resultModelId, status: r.status, progress: r.progress, error: r.error,
      startedAt: r.startedAt, finishedAt: r.finishedAt,
      resumable: r.status !== 'succeeded' && !training && r.checkpointPath !== null && existsSync(join(r.checkpointPath, 'checkpoint.safetensors')),
    }));
  }

  async promoteModel(input: { modelId: number }): Promise<ModelVersionSummary> {
    // Production is never handed to a model whose files are missing or damaged.
    const candidate = this.store.models.get(input.modelId);
    const blocker = promotionBlocker(candidate);
    if (blocker) throw new ArgusError('conflict', blocker);
    await verifyModelFiles(this.store, candidate);
    return this.store.transaction(() => {
      const before = this.store.models.list(this.store.models.get(input.modelId).projectId).find((m) => m.status === 'production');
      const promoted = this.store.models.promote(input.modelId);
      this.store.history.audit(this.actor, 'model.promote', `model:${promoted.id}`, { previous: before?.id ?? null });
      return promoted;
    });
  }

  async reviewInspection(input: { inspectionId: number; opinion: ReviewOpinion; correctLabel?: string; note?: string }): Promise<void> {
    reviewInspection(this.store, input, this.actor);
  }

  async listReviewQueue(input: { projectId?: number; limit?: number }): Promise<ReviewQueueItem[]> {
    return this.store.reviews.queue(input.projectId ?? null, input.limit ?? 200);
  }

  async addToDataset(input: AddToDatasetInput): Promise<void> {
    addToDataset(this.store, input, this.actor);
  }

  async dismissReview(input: { inspectionId: number }): Promise<void> {
    dismissReview(this.store, input.inspectionId, this.actor);
  }

  async getModelAgreement(): Promise<Record<number, { confirmed: number; disputed: number }>> {
    return this.store.reviews.agreement();
  }

  /** The station's configuration as callers see it: the MQTT password never leaves the station. */
  async getStationConfig(): Promise<StationConfig> {
    return withoutSecrets(this.stationSettings());
  }

  /** The stored configuration with its secrets, for the process that runs the station (not part of the API). */
  stationSettings(): StationConfig {
    return stationConfigOf(this.store.settings.get<StationConfig>('station'));
  }

  /** An MQTT password left out keeps the stored one. */
  async setStationConfig(input: StationConfig): Promise<StationStatus> {
    const before = this.stationSettings();
    const config: StationConfig = { ...input, mqtt: { ...input.mqtt, password: input.mqtt.password ?? before.mqtt.password } };
    this.store.transaction(() => {
      this.store.settings.set('station', config);
      this.store.history.audit(this.actor, 'station.configure', 'station', { before: withoutSecrets(before), after: withoutSecrets(config) });
    });
    await this.stationRuntime?.reconfigure(config);
    return this.getStationStatus();
  }

  async getStationStatus(): Promise<StationStatus> {
    const status = this.stationRuntime?.status() ?? stoppedStation(this.stationSettings());
    return { ...status, config: withoutSecrets(status.config) };
  }

  /** The process hosting the station's line listeners registers here, so the API can show and change them. */
  attachStation(runtime: StationRuntime): void {
    this.stationRuntime = runtime;
  }

  async inspectLine(input: InspectLineInput): Promise<LineResult> {
    if (input.requestKey !== undefined) {
      const stored = this.line.replay(input.source, input.requestKey);
      if (stored) return stored;
    }
    const file = input.upload ? await collectLineUpload(this.store.dataDir, input.upload) : input.path!;
    const projectId = input.project === undefined ? undefined : this.projectIdOf(input.project);
    return this.line.inspect(file, { source: input.source, requestKey: input.requestKey, group: input.group, projectId, operator: this.actor });
  }

  /**
   * For result sinks (not part of the API): the line results recorded after the sink's cursor,
   * oldest first, and the cursor's durable update once they are delivered. A new sink starts at
   * the latest result, not at the beginning of the history.
   */
  resultsAfterCursor(sink: string, limit: number): LineResult[] {
    const key = `sink.${sink}.cursor`;
    let cursor = this.store.settings.get<number>(key);
    if (cursor === undefined) this.store.settings.set(key, (cursor = this.store.history.latestId()));
    const classes = new Map<number, string[]>();
    const classesOf = (id: number | null): string[] => (id === null ? [] : classes.get(id) ?? classes.set(id, this.store.models.get(id).classes).get(id)!);
    return this.store.history.since(cursor, limit).map((r) => lineResultOf(r, null, false, classesOf(r.modelVersionId)));
  }

  advanceSinkCursor(sink: string, inspectionId: number): void {
    this.store.settings.set(`sink.${sink}.cursor`, inspectionId);
  }

  /** A project named by id or by name (a PLC's recipe). */
  private projectIdOf(project: number | string): number {
    if (typeof project === 'number') return this.store.projects.get(project).id;
    const found = this.store.projects.findByName(project);
    if (!found) throw new ArgusError('not_found', `No project named "${project}"`, { key: 'noProjectNamed', params: { name: project } });
    return found.id;
  }

  async exportModelPackage(input: { modelId: number; path?: string }): Promise<ExportedModelPackage> {
    const written = await exportModelPackage(this.store, input.modelId, this.actor, input.path);
    return { ...written, fileName: basename(written.path) };
  }

  async importModelPackage(input: { path?: string; upload?: StagedUpload }): Promise<ModelVersionSummary> {
    const file = input.upload ? stagedFile(this.store.dataDir, input.upload) : input.path!;
    try {
      return await importModelPackage(this.store, file, this.backboneInUse()?.sha256 ?? null, this.actor);
    } finally {
      if (input.upload) await rm(file, { force: true });
    }
  }

  async exportModelOnnx(input: { modelId: number; path: string }): Promise<{ folder: string; files: string[] }> {
    return exportModelOnnx(this.store, input.modelId, input.path, this.actor);
  }

  /** A package written into exports/ earlier, for a page's download; only plain package names are served. */
  async readExport(fileName: string): Promise<Buffer> {
    if (!/^[\w.-]+\.argus$/.test(fileName)) throw new ArgusError('not_found', `No export ${fileName}`);
    return readFile(join(this.store.dataDir, 'exports', fileName)).catch(() => {
      throw new ArgusError('not_found', `No export ${fileName}`);
    });
  }

  async rollbackModel(input: { projectId?: number }): Promise<ModelVersionSummary> {
    return this.store.transaction(() => {
      const projectId = input.projectId ?? this.store.models.production().projectId;
      const { from, to } = this.store.models.rollback(projectId);
      this.store.history.audit(this.actor, 'model.rollback', `model:${to.id}`, { from: from.id });
      return to;
    });
  }

  /** Station maintenance (CLI): removes stored files nothing refers to any more; audited unless a dry run. */
  collectGarbage(options: { dryRun?: boolean; graceMs?: number } = {}): { files: number; bytes: number } {
    const result = this.store.collectGarbage(options);
    if (!options.dryRun) this.store.history.audit(this.actor, 'blobs.gc', 'blobs', result);
    return result;
  }

  /** Thumbnail or full image bytes for the UI, by image digest. */
  /** A stored image or its thumbnail; images that came from the line (not an import) get their thumbnail on first request. */
  async readImage(sha256: string, variant: 'thumbnail' | 'original'): Promise<Buffer> {
    if (variant === 'original') return this.store.blobs.get(sha256);
    if (!this.store.thumbnails.has(sha256) && this.store.blobs.has(sha256)) {
      const { thumbnail } = await decodeForImport(await this.store.blobs.get(sha256));
      await this.store.thumbnails.put(thumbnail, sha256);
    }
    return this.store.thumbnails.get(sha256);
  }

  async close(): Promise<void> {
    await this.jobs.cancelAll();
    await this.line.release();
    await this.sessions.clear();
    this.store.close();
    this.releaseLock();
  }
}
