import type { ImageAnalyser } from '../analysis/analysis.ts';
import type { ExecutionProviderChoice, InspectionRecord, LineResult } from '../contract/contract.ts';
import { analyseFile, fileState, recordInspection } from '../inspection/inspect-files.ts';
import { loadDetector } from '../inspection/load-detector.ts';
import type { SessionCache } from '../runtime/sessions.ts';
import type { ModelVersion } from '../store/models.ts';
import type { Store } from '../store/store.ts';

export interface LineRequest {
  source: string;
  requestKey?: string;
  group?: string;
  /** The recipe's project; without it, the only project with a production model. */
  projectId?: number;
  operator: string;
}

/** The line's view of a stored inspection; `classes` are its model's. */
export function lineResultOf(record: InspectionRecord, requestKey: string | null, replayed: boolean, classes: string[]): LineResult {
  const top = [...record.regions].sort((a, b) => b.score - a.score)[0];
  return {
    inspectionId: record.id, requestKey, replayed, file: record.sourcePath, verdict: record.verdict, score: record.score, rawScore: record.rawScore,
    defectClass: top?.class ?? null, defectClassIndex: top ? classes.indexOf(top.class) + 1 : 0, regions: record.regions.length, ms: Math.round(Number(record.timings.total ?? 0) * 10) / 10,
    modelId: record.modelVersionId, imageSha256: record.imageSha256, heatmapSha256: record.heatmapSha256, error: record.error, createdAt: record.createdAt,
  };
}

/**
 * Inspects the line's images one at a time with the production model, which is looked up for
 * every image (a promotion or rollback takes effect at the next one) and loaded only when it
 * changes. A request key is recorded with the result in one transaction, so a request repeated
 * after a crash or restart gets the stored result instead of a second inspection.
 */
export class LineInspector {
  private loaded?: { model: ModelVersion; detector: ImageAnalyser };
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly store: Store, private readonly sessions: SessionCache, private readonly device: ExecutionProviderChoice = 'auto') {}

  /** Whether an image is being inspected or waiting. */
  get busy(): boolean {
    return this.pending > 0;
  }

  inspect(file: string, request: LineRequest): Promise<LineResult> {
    this.pending++;
    const run = this.queue.then(() => this.inspectNow(file, request));
    this.queue = run.catch(() => undefined).finally(() => this.pending--);
    return run;
  }

  /** The stored result of a request key, if it was inspected. */
  replay(source: string, requestKey: string): LineResult | undefined {
    const done = this.store.processed.find(scopeOf(source), requestKey);
    if (!done) return undefined;
    const record = this.store.history.get(done.inspectionId);
    return lineResultOf(record, requestKey, true, record.modelVersionId ? this.store.models.get(record.modelVersionId).classes : []);
  }

  async release(): Promise<void> {
    await this.loaded?.detector.release();
    this.loaded = undefined;
  }

  private async inspectNow(file: string, request: LineRequest): Promise<LineResult> {
    if (request.requestKey !== undefined) {
      const stored = this.replay(request.source, request.requestKey);
      if (stored) return stored;
    }
    const { model, detector } = await this.current(request.projectId);
    const inspection = await analyseFile(model, detector, file, request.group);
    const state = fileState(file);
    const id = await recordInspection(this.store, model, inspection, request.operator, (inspectionId) => {
      if (request.requestKey !== undefined) this.store.processed.markDone(scopeOf(request.source), request.requestKey, state, inspectionId, inspection.line.verdict);
    });
    return lineResultOf(this.store.history.get(id), request.requestKey ?? null, false, model.classes);
  }

  private async current(projectId?: number): Promise<{ model: ModelVersion; detector: ImageAnalyser }> {
    const model = this.store.models.production(projectId);
    if (this.loaded?.model.id === model.id) {
      this.loaded.model = model; // thresholds may have been moved since
    } else {
      await this.release();
      this.loaded = { model, detector: await loadDetector(this.store, model, this.device, this.sessions) };
    }
    return this.loaded;
  }
}

const scopeOf = (source: string): string => `line:${source}`;
