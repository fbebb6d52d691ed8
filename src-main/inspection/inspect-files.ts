import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { MAX_FILE_BYTES, readUserFile } from '../platform/user-file.ts';
import { basename, extname, join, resolve } from 'node:path';
import { type ImageAnalyser, judge, type Judgement } from '../analysis/analysis.ts';
import { thresholdsFor } from '../analysis/thresholds.ts';
import type { InspectionRecord } from '../contract/contract.ts';
import { ArgusError, toErrorBody } from '../contract/errors.ts';
import { type ImageInfo, readImageInfo } from '../images/decode.ts';
import { decodeRgb } from '../images/preprocess.ts';
import { IMAGE_EXTENSIONS } from '../datasets/parsed.ts';
import type { ModelVersion } from '../store/models.ts';
import { appendDurably, writeFileAtomic } from '../platform/atomic-file.ts';
import type { Store } from '../store/store.ts';
import { heatmapPng } from './heatmap-png.ts';

/** One line of results.jsonl. */
export interface InspectionLine {
  file: string;
  score: number | null;
  raw_score: number | null;
  verdict: Judgement['verdict'] | 'ERROR';
  regions: Judgement['regions'];
  ms: number;
  model: number;
  /** The station or camera whose thresholds judged it (absent: the model-wide ones). */
  group?: string;
  /** Classification models: the probability of each class. */
  class_probabilities?: Record<string, number>;
  error?: string;
}

/** The image files named by the arguments: files as given, folders walked (sorted, recursively). */
export function expandImageFiles(paths: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(full);
    }
  };
  for (const path of paths.map((p) => resolve(p))) {
    if (!existsSync(path)) throw new ArgusError('not_found', `No such file or folder: ${path}`, { key: 'noSuchPath', params: { path } });
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
  return files;
}

/** An inspected file: its result line, and (unless it failed) what is stored with it. */
export interface FileInspection {
  line: InspectionLine;
  image?: { bytes: Buffer; info: ImageInfo };
  heatmap?: Buffer;
  timings?: Record<string, number>;
}

/** The group an image is judged as: the one given, where the model has thresholds for it. */
function judgedGroup(model: ModelVersion, group: string | undefined): string | undefined {
  return group !== undefined && model.thresholds.groups?.[group] ? group : undefined;
}

/** The smallest region a model reports, in image pixels (16 unless its config says otherwise). */
export const minRegionAreaOf = (model: ModelVersion): number => Number((model.config as { minRegionArea?: number }).minRegionArea ?? 16);

/**
 * Reads, decodes and analyses one file with a model, judged by `group`'s thresholds where the model
 * has them. A file that cannot be read or decoded is not an exception: it comes back as an ERROR
 * line with the reason.
 */
export async function analyseFile(model: ModelVersion, detector: ImageAnalyser, file: string, group?: string): Promise<FileInspection> {
  const judgedAs = judgedGroup(model, group);
  const thresholds = thresholdsFor(model.thresholds, judgedAs);
  const minArea = minRegionAreaOf(model);
  const started = performance.now();
  try {
    const bytes = await readUserFile(file, 'image', MAX_FILE_BYTES.image);
    const info = await readImageInfo(bytes);
    const analysis = await detector.analyse(await decodeRgb(bytes));
    const judgement = judge(analysis, thresholds, minArea);
    const heatmap = await heatmapPng(analysis.heatmap, analysis.width, analysis.height, thresholds.pixel.threshold, thresholds.pixel.goodMedian);
    const ms = performance.now() - started;
    return {
      line: {
        file, score: judgement.score, raw_score: judgement.rawScore, verdict: judgement.verdict, regions: judgement.regions, ms: Math.round(ms * 10) / 10, model: model.id,
        ...(judgedAs ? { group: judgedAs } : {}),
        ...(analysis.classProbabilities ? { class_probabilities: analysis.classProbabilities } : {}),
      },
      image: { bytes, info },
      heatmap,
      timings: { ...analysis.ms, total: ms },
    };
  } catch (error) {
    if (error instanceof ArgusError && error.code === 'cancelled') throw error;
    const ms = Math.round((performance.now() - started) * 10) / 10;
    return { line: { file, score: null, raw_score: null, verdict: 'ERROR', regions: [], ms, model: model.id, error: toErrorBody(error).message } };
  }
}

/**
 * Stores an inspection in the history: the image and heatmap as blobs first, then in one
 * transaction the image row, the inspection row and whatever `alsoInTransaction` adds (so the
 * caller's own bookkeeping commits with the result, or neither does). Returns the inspection id.
 */
export async function recordInspection(store: Store, model: ModelVersion, inspection: FileInspection, operator: string, alsoInTransaction?: (inspectionId: number) => void): Promise<number> {
  const { line, image, heatmap } = inspection;
  const imageSha = image ? await store.blobs.put(image.bytes) : null;
  const heatmapSha = heatmap ? await store.blobs.put(heatmap) : null;
  const thresholds = thresholdsFor(model.thresholds, line.group);
  return store.transaction(() => {
    const imageId = image && imageSha
      ? store.datasets.upsertImage({
          sha256: imageSha, originalName: basename(line.file), format: image.info.format, width: image.info.width, height: image.info.height,
          channels: image.info.channels, bitDepth: image.info.bitDepth, bytes: image.bytes.length, source: 'inspection',
        }).id
      : null;
    const id = store.history.record({
      imageId, sourcePath: line.file, modelVersionId: model.id, verdict: line.verdict, score: line.score, rawScore: line.raw_score, regions: line.regions,
      // A detection model's regions are its boxes: a viewer filters them by score rather than re-cutting the map into blobs.
      thresholds: line.verdict === 'ERROR' ? {} : {
        ...thresholds.image, pixel: thresholds.pixel.threshold, ...(thresholds.method === 'box-f1' ? { regions: 'boxes' } : {}), ...(line.group ? { group: line.group } : {}),
      },
      timings: line.verdict === 'ERROR' ? {} : { ...inspection.timings, heatmapSha256: heatmapSha }, error: line.error ?? null, operator,
      classProbabilities: line.class_probabilities ?? null,
    });
    alsoInTransaction?.(id);
    return id;
  });
}

/** The result line of a stored inspection (to redo outputs a crash interrupted). */
export function lineOf(record: InspectionRecord): InspectionLine {
  return {
    file: record.sourcePath, score: record.score, raw_score: record.rawScore, verdict: record.verdict, regions: record.regions as InspectionLine['regions'],
    ms: Math.round(Number(record.timings.total ?? 0) * 10) / 10, model: record.modelVersionId ?? 0,
    ...(typeof record.thresholds.group === 'string' ? { group: record.thresholds.group } : {}), ...(record.error ? { error: record.error } : {}),
    ...(record.classProbabilities ? { class_probabilities: record.classProbabilities } : {}),
  };
}

export interface InspectOptions {
  outDir: string;
  operator: string;
  group?: string;
  onResult?: (line: InspectionLine, done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Inspects files with an anomaly model: writes <out>/results.jsonl (one line per image, appended
 * as each finishes) and <out>/heatmaps/<stem>.png, and records every result in the history. A
 * file that cannot be read or decoded gets an ERROR line; the run goes on. Each result is
 * committed together with a mark in the ledger of the output folder, so a stopped or killed run
 * resumes where it was: nothing inspected twice, nothing skipped, no results line lost.
 */
export async function inspectFiles(store: Store, model: ModelVersion, detector: ImageAnalyser, files: string[], options: InspectOptions): Promise<(InspectionLine & { inspectionId: number })[]> {
  mkdirSync(join(options.outDir, 'heatmaps'), { recursive: true });
  const scope = `batch:${resolve(options.outDir)}`;
  // Names fixed over the whole list, so a resumed run names heatmaps as the first one did.
  const usedStems = new Set<string>();
  const stems = new Map(files.map((f) => [f, uniqueStem(basename(f, extname(f)), usedStems)]));
  // Outputs reach the disk before the ledger says they were written.
  const writeOutputs = async (line: InspectionLine, heatmap: Buffer | undefined): Promise<void> => {
    if (heatmap) await writeFileAtomic(join(options.outDir, 'heatmaps', `${stems.get(line.file) ?? basename(line.file, extname(line.file))}.png`), heatmap);
    await appendDurably(join(options.outDir, 'results.jsonl'), `${JSON.stringify(line)}\n`);
    store.processed.sinksDone(scope, line.file);
  };
  for (const pending of store.processed.pendingSinks(scope)) {
    const record = store.history.get(pending.inspectionId);
    const heatmapSha = record.timings.heatmapSha256 as string | undefined;
    await writeOutputs(lineOf(record), heatmapSha ? await store.blobs.get(heatmapSha) : undefined);
  }
  const todo = files.filter((f) => !store.processed.isDone(scope, f));
  const lines: (InspectionLine & { inspectionId: number })[] = [];
  for (const [i, file] of todo.entries()) {
    if (options.signal?.aborted) throw new ArgusError('cancelled', 'Inspection cancelled', { key: 'cancelled' });
    const state = fileState(file);
    const inspection = await analyseFile(model, detector, file, options.group);
    const inspectionId = await recordInspection(store, model, inspection, options.operator, (id) => store.processed.markDone(scope, file, state, id, inspection.line.verdict));
    await writeOutputs(inspection.line, inspection.heatmap);
    lines.push({ ...inspection.line, inspectionId });
    options.onResult?.(inspection.line, i + 1, todo.length);
  }
  return lines;
}

/** Size and whole-millisecond modification time of a file (size −1 when it is gone). */
export function fileState(path: string): { size: number; mtimeMs: number } {
  try {
    const stat = statSync(path);
    return { size: stat.size, mtimeMs: Math.floor(stat.mtimeMs) };
  } catch {
    return { size: -1, mtimeMs: 0 };
  }
}

function uniqueStem(stem: string, used: Set<string>): string {
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}
