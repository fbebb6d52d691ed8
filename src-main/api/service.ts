import { readFileSync } from 'node:fs';
import type {
  ApiInput, ApiMethod, ApiOutput, ApiResult, AppInfo, ArgusApi, ArgusEvent, AuditEntry, CreateProjectInput, DatasetImagePage,
  DatasetImageQuery, DatasetSummary, ImportDatasetInput, InspectionQuery, InspectionRecord, JobStatus, Project,
} from './contract.ts';
import { ArgusError, toErrorBody } from './errors.ts';
import { apiSchemas, isApiMethod } from './schemas.ts';
import { importDataset } from '../datasets/importer.ts';
import { JobRunner } from '../jobs/job-runner.ts';
import { Store } from '../store/store.ts';

export interface ServiceOptions {
  dataDir: string;
  /** Who acts through this service (recorded in the audit log). */
  actor?: string;
}

const packageVersion = (): string => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

/** The engine behind every front end: the one implementation of ArgusApi. */
export class ArgusService implements ArgusApi {
  readonly store: Store;
  readonly jobs = new JobRunner();
  private readonly actor: string;

  constructor(options: ServiceOptions) {
    this.store = new Store(options.dataDir);
    this.actor = options.actor ?? 'local';
  }

  onEvent(listener: (event: ArgusEvent) => void): () => void {
    return this.jobs.onChange((job) => listener({ type: 'job', job }));
  }

  async getInfo(): Promise<AppInfo> {
    return {
      version: packageVersion(),
      dataDir: this.store.dataDir,
      schemaVersion: this.store.schemaVersion,
      executionProvider: { requested: 'auto', active: null, fallbacks: [] },
    };
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

  async importDataset(input: ImportDatasetInput): Promise<JobStatus> {
    return this.jobs.start('import', (ctx) =>
      importDataset(this.store, input, { actor: this.actor, signal: ctx.signal, onProgress: (p) => ctx.progress(p.phase, p.done, p.total) }),
    );
  }

  async getJob(input: { jobId: string }): Promise<JobStatus> {
    return this.jobs.get(input.jobId);
  }

  async cancelJob(input: { jobId: string }): Promise<JobStatus> {
    return this.jobs.cancel(input.jobId);
  }

  async listInspections(input: InspectionQuery): Promise<{ items: InspectionRecord[]; total: number }> {
    return this.store.history.list(input);
  }

  async listAuditLog(input: { offset?: number; limit?: number }): Promise<AuditEntry[]> {
    return this.store.history.auditLog(input.offset, input.limit);
  }

  /** Thumbnail or full image bytes for the UI, by image digest. */
  async readImage(sha256: string, variant: 'thumbnail' | 'original'): Promise<Buffer> {
    return variant === 'thumbnail' ? this.store.thumbnails.get(sha256) : this.store.blobs.get(sha256);
  }

  async close(): Promise<void> {
    await this.jobs.cancelAll();
    this.store.close();
  }
}

/**
 * The single entry point for untrusted callers (IPC, HTTP): checks the method name and arguments
 * against the schemas, runs the call, and returns a result object instead of throwing.
 */
export async function dispatch(api: ArgusApi, method: string, input: unknown): Promise<ApiResult<unknown>> {
  if (!isApiMethod(method)) return { ok: false, error: { code: 'invalid_argument', message: `Unknown method: ${String(method).slice(0, 100)}` } };
  const parsed = apiSchemas[method].safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'invalid_argument', message: `Invalid arguments for ${method}: ${detail}` } };
  }
  try {
    const value = await call(api, method, parsed.data as ApiInput<typeof method>);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: toErrorBody(error) };
  }
}

function call<M extends ApiMethod>(api: ArgusApi, method: M, input: ApiInput<M>): Promise<ApiOutput<M>> {
  const fn = api[method] as (input: ApiInput<M>) => Promise<ApiOutput<M>>;
  return fn.call(api, input);
}

export { ArgusError };
