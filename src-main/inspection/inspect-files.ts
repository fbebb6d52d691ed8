import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { AnomalyThresholds } from '../anomaly/calibration.ts';
import { type AnomalyDetector, judge, type Judgement } from '../anomaly/detector.ts';
import { ArgusError, toErrorBody } from '../api/errors.ts';
import { readImageInfo } from '../images/decode.ts';
import { decodeRgb } from '../images/preprocess.ts';
import { IMAGE_EXTENSIONS } from '../datasets/parsed.ts';
import type { ModelVersion } from '../store/models.ts';
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
    if (!existsSync(path)) throw new ArgusError('not_found', `No such file or folder: ${path}`);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
  return files;
}

export interface InspectOptions {
  outDir: string;
  operator: string;
  onResult?: (line: InspectionLine, done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Inspects files with an anomaly model: writes <out>/results.jsonl (one line per image, appended
 * as each finishes) and <out>/heatmaps/<stem>.png, and records every result in the history. A
 * file that cannot be read or decoded gets an ERROR line; the run goes on.
 */
export async function inspectFiles(store: Store, model: ModelVersion, detector: AnomalyDetector, files: string[], options: InspectOptions): Promise<InspectionLine[]> {
  const thresholds = model.thresholds as unknown as AnomalyThresholds;
  const minArea = Number((model.config as { minRegionArea?: number }).minRegionArea ?? 16);
  mkdirSync(join(options.outDir, 'heatmaps'), { recursive: true });
  const results = createWriteStream(join(options.outDir, 'results.jsonl'), { flags: 'a' });
  const lines: InspectionLine[] = [];
  const usedStems = new Set<string>();
  try {
    for (const [i, file] of files.entries()) {
      if (options.signal?.aborted) throw new ArgusError('cancelled', 'Inspection cancelled');
      const started = performance.now();
      let line: InspectionLine;
      try {
        const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
          throw new ArgusError('bad_input', `cannot read the file (${e.code})`);
        });
        const info = await readImageInfo(bytes);
        const analysis = await detector.analyse(await decodeRgb(bytes));
        const judgement = judge(analysis, thresholds, minArea);
        const stem = uniqueStem(basename(file, extname(file)), usedStems);
        const heatmap = await heatmapPng(analysis.heatmap, analysis.width, analysis.height, thresholds.pixel.threshold, thresholds.pixel.goodMedian);
        await writeFile(join(options.outDir, 'heatmaps', `${stem}.png`), heatmap);
        const ms = performance.now() - started;
        line = { file, score: judgement.score, raw_score: judgement.rawScore, verdict: judgement.verdict, regions: judgement.regions, ms: Math.round(ms * 10) / 10, model: model.id };
        const imageSha = await store.blobs.put(bytes);
        const heatmapSha = await store.blobs.put(heatmap);
        store.transaction(() => {
          const image = store.datasets.upsertImage({
            sha256: imageSha, originalName: basename(file), format: info.format, width: info.width, height: info.height,
            channels: info.channels, bitDepth: info.bitDepth, bytes: bytes.length, source: 'inspection',
          });
          store.history.record({
            imageId: image.id, sourcePath: file, modelVersionId: model.id, verdict: judgement.verdict, score: judgement.score,
            regions: judgement.regions, thresholds: { ...thresholds.image, pixel: thresholds.pixel.threshold },
            timings: { ...analysis.ms, total: ms, heatmapSha256: heatmapSha }, error: null, operator: options.operator,
          });
        });
      } catch (error) {
        if (error instanceof ArgusError && error.code === 'cancelled') throw error;
        const message = toErrorBody(error).message;
        line = { file, score: null, raw_score: null, verdict: 'ERROR', regions: [], ms: Math.round((performance.now() - started) * 10) / 10, model: model.id, error: message };
        store.history.record({
          imageId: null, sourcePath: file, modelVersionId: model.id, verdict: 'ERROR', score: null, regions: [], thresholds: {}, timings: {}, error: message, operator: options.operator,
        });
      }
      results.write(`${JSON.stringify(line)}\n`);
      lines.push(line);
      options.onResult?.(line, i + 1, files.length);
    }
  } finally {
    await new Promise((r) => results.end(r));
  }
  return lines;
}

function uniqueStem(stem: string, used: Set<string>): string {
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}
