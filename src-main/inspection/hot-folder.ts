import { existsSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { ImageAnalyser } from '../analysis/analysis.ts';
import { ArgusError } from '../contract/errors.ts';
import { IMAGE_EXTENSIONS } from '../datasets/parsed.ts';
import { appendDurably, renameDurably, writeFileAtomic } from '../platform/atomic-file.ts';
import type { ModelVersion } from '../store/models.ts';
import type { Store } from '../store/store.ts';
import { analyseFile, fileState, type InspectionLine, lineOf, recordInspection } from './inspect-files.ts';

/** Subfolders the sorting sink moves inspected images into; never watched themselves. */
export const SORT_FOLDERS = ['OK', 'NG', 'REVIEW', 'ERROR'] as const;

export interface HotFolderOptions {
  folder: string;
  operator: string;
  /** Write <image>.json next to each image with its result. */
  sidecar?: boolean;
  /** Move each inspected image into OK/, NG/, REVIEW/ or ERROR/ under the folder. */
  sort?: boolean;
  /** Append every result as a line to this JSONL file. */
  log?: string;
  /** The station or camera of every image; without it, a first-level subfolder's name is the group. */
  group?: string;
  pollMs?: number;
  /** A file counts as completely written when its size and time have not changed for this long. */
  stableMs?: number;
}

interface Candidate {
  size: number;
  mtimeMs: number;
  unchangedSince: number;
}

/** The model a hot folder uses; asked again on every scan, so a promotion takes effect at once. */
export interface ModelProvider {
  current(): Promise<{ model: ModelVersion; detector: ImageAnalyser }>;
}

/**
 * Watches a folder (and its subfolders) and inspects each new image once, when it is completely
 * written. The result and the file's "done" mark are committed in one transaction, so after a
 * restart nothing is inspected twice and nothing is skipped; the sinks (log line, sidecar, move)
 * run after the commit and are redone on restart if a crash interrupted them.
 */
export class HotFolder {
  private readonly folder: string;
  private readonly scope: string;
  private readonly candidates = new Map<string, Candidate>();

  constructor(private readonly store: Store, private readonly models: ModelProvider, private readonly options: HotFolderOptions) {
    this.folder = resolve(options.folder);
    this.scope = `folder:${this.folder}`;
    if (!existsSync(this.folder) || !statSync(this.folder).isDirectory()) throw new ArgusError('not_found', `No such folder: ${this.folder}`, { key: 'noSuchPath', params: { path: this.folder } });
  }

  /** Scans until the signal aborts (or once, when `once`), calling onResult for each inspected file. */
  async run(signal: AbortSignal, onResult: (line: InspectionLine) => void, once = false): Promise<void> {
    await this.finishInterruptedSinks();
    for (;;) {
      const found = this.scan();
      const ready = this.readyFiles(found, once);
      for (const path of ready) {
        if (signal.aborted) return;
        const line = await this.inspect(path, found.get(path)!);
        if (line) onResult(line);
      }
      if (once || signal.aborted) return;
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 1000));
      if (signal.aborted) return;
    }
  }

  /** Image files under the folder (outside the sort folders) with their size and modification time. */
  private scan(): Map<string, { size: number; mtimeMs: number }> {
    const found = new Map<string, { size: number; mtimeMs: number }>();
    const walk = (dir: string, top: boolean): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.startsWith('.')) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!(top && (SORT_FOLDERS as readonly string[]).includes(entry.name))) walk(full, false);
        } else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
          // A file that vanished between listing and stat is seen again on the next scan if it comes back.
          const state = fileState(full);
          if (state.size >= 0) found.set(full, state);
        }
      }
    };
    walk(this.folder, true);
    return found;
  }

  /** Files not yet inspected whose size and time have held still long enough. */
  private readyFiles(found: Map<string, { size: number; mtimeMs: number }>, once: boolean): string[] {
    const now = Date.now();
    const stableMs = this.options.stableMs ?? 1500;
    const ready: string[] = [];
    for (const [path, stat] of found) {
      if (this.store.processed.isDone(this.scope, this.relativePath(path), stat)) continue;
      // Complete when size and time have held still between scans for stableMs (this also covers
      // copiers that preserve an old modification time); a single scan can only go by the time.
      const candidate = this.candidates.get(path);
      const changed = !candidate || candidate.size !== stat.size || candidate.mtimeMs !== stat.mtimeMs;
      if (changed) this.candidates.set(path, { ...stat, unchangedSince: now });
      const settled = once ? now - stat.mtimeMs >= stableMs : !changed && now - candidate.unchangedSince >= stableMs;
      if (!settled) continue;
      ready.push(path);
    }
    for (const path of this.candidates.keys()) if (!found.has(path)) this.candidates.delete(path);
    return ready.sort();
  }

  private relativePath(path: string): string {
    return relative(this.folder, path).split(sep).join('/');
  }

  private async inspect(path: string, stat: { size: number; mtimeMs: number }): Promise<InspectionLine | null> {
    if (!(await canOpen(path))) return null; // still held by the writer; try again next scan
    const { model, detector } = await this.models.current();
    const relativePath = this.relativePath(path);
    // Only a group the model has thresholds for changes the judgement (analyseFile checks).
    const subfolder = relativePath.includes('/') ? relativePath.split('/')[0] : undefined;
    const inspection = await analyseFile(model, detector, path, this.options.group ?? subfolder);
    await recordInspection(this.store, model, inspection, this.options.operator, (inspectionId) =>
      this.store.processed.markDone(this.scope, relativePath, stat, inspectionId, inspection.line.verdict));
    this.candidates.delete(path);
    await this.runSinks(relativePath, inspection.line);
    return inspection.line;
  }

  /** Runs after the result is committed; each sink is on disk before the ledger marks the sinks done. */
  private async runSinks(relativePath: string, line: InspectionLine): Promise<void> {
    const source = join(this.folder, relativePath);
    if (this.options.log) await appendDurably(this.options.log, `${JSON.stringify(line)}\n`);
    let imagePath = source;
    if (this.options.sort) {
      const sorted = join(this.folder, line.verdict, relativePath);
      if (existsSync(source)) await renameDurably(source, sorted);
      // Moved already when a crash came between the move and the mark.
      if (existsSync(sorted)) imagePath = sorted;
    }
    if (this.options.sidecar) await writeFileAtomic(`${imagePath}.json`, `${JSON.stringify({ ...line, file: imagePath }, null, 2)}\n`);
    this.store.processed.sinksDone(this.scope, relativePath);
  }

  /** Sinks a crash interrupted (result committed, sinks not marked done) are run again. */
  private async finishInterruptedSinks(): Promise<void> {
    for (const pending of this.store.processed.pendingSinks(this.scope)) {
      await this.runSinks(pending.path, lineOf(this.store.history.get(pending.inspectionId)));
    }
  }
}

/** False while another process holds the file open for writing (Windows locks it). */
async function canOpen(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'r');
    await handle.close();
    return true;
  } catch {
    return false;
  }
}

