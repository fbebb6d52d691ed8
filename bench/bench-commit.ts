// npm run bench:commit -- [--count 200] [--dir DIR]
// What durability costs per inspection: the storage part of recording one inspection (image and
// heatmap blobs written, flushed and renamed, the history row committed, the batch's results line
// appended and flushed, the ledger marked), with SQLite's synchronous=FULL (Argus) against NORMAL.
// Prints one JSON line. --dir puts the data directory on the disk to measure (default: the temp folder).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { appendDurably } from '../src-main/platform/atomic-file.ts';
import { Store } from '../src-main/store/store.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '200' }, dir: { type: 'string' } } });
const count = Number(values.count);

async function measure(synchronous: 'FULL' | 'NORMAL'): Promise<{ ms_per_inspection: number; ms_p95: number }> {
  const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'argus-commit-'));
  const store = new Store(dir);
  store.db.pragma(`synchronous = ${synchronous}`);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const image = randomBytes(180_000); // about a 1130×460 JPEG
      const heatmap = randomBytes(60_000);
      const started = performance.now();
      const imageSha = await store.blobs.put(image);
      const heatmapSha = await store.blobs.put(heatmap);
      const id = store.transaction(() => {
        const imageId = store.datasets.upsertImage({ sha256: imageSha, originalName: `part-${i}.jpg`, format: 'jpeg', width: 1130, height: 460, channels: 3, bitDepth: 8, bytes: image.length, source: 'inspection' }).id;
        const inspectionId = store.history.record({
          imageId, sourcePath: `/line/part-${i}.jpg`, modelVersionId: null as unknown as number, verdict: 'OK', score: 0.2, rawScore: 1.2, regions: [],
          thresholds: {}, timings: { heatmapSha256: heatmapSha }, error: null, operator: 'bench',
        });
        store.processed.markDone('batch:/bench', `/line/part-${i}.jpg`, { size: image.length, mtimeMs: 0 }, inspectionId, 'OK');
        return inspectionId;
      });
      await appendDurably(join(dir, 'results.jsonl'), `${JSON.stringify({ id, file: `/line/part-${i}.jpg` })}\n`);
      store.processed.sinksDone('batch:/bench', `/line/part-${i}.jpg`);
      times.push(performance.now() - started);
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const round = (v: number): number => Math.round(v * 100) / 100;
  return { ms_per_inspection: round(times.reduce((a, b) => a + b, 0) / times.length), ms_p95: round(times[Math.floor(0.95 * times.length)]) };
}

const normal = await measure('NORMAL');
const full = await measure('FULL');
process.stdout.write(`${JSON.stringify({ inspections: count, disk: values.dir ?? tmpdir(), synchronous_normal: normal, synchronous_full: full, extra_ms_per_inspection: Math.round((full.ms_per_inspection - normal.ms_per_inspection) * 100) / 100 })}\n`);
