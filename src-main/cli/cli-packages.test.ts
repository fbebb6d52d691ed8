import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync, zipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasShared, pngOf, SHARED_WEIGHTS, tempDir, texture, writeFile, writeGoodParts } from '../../test-support/fixtures.ts';

const REPO = join(import.meta.dirname, '../..');
const argus = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, maxBuffer: 1 << 24 })
    .then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

/** The package with one entry changed (and, unless `keepManifest`, nothing else). */
function rewritten(file: string, change: (entries: Record<string, Uint8Array>) => void): string {
  const entries = unzipSync(readFileSync(file));
  change(entries);
  const out = `${file}.${Math.random().toString(36).slice(2)}.argus`;
  writeFileSync(out, zipSync(entries));
  return out;
}
const manifestOf = (entries: Record<string, Uint8Array>) => JSON.parse(new TextDecoder().decode(entries['manifest.json']));
const withManifest = (entries: Record<string, Uint8Array>, manifest: unknown): void => {
  entries['manifest.json'] = new TextEncoder().encode(JSON.stringify(manifest));
};

describe.skipIf(!hasShared)('model packages between two stations (argus model export / import)', () => {
  const stationA = tempDir();
  const stationB = tempDir();
  const work = tempDir();
  const W = 128, H = 96;
  let pkg: string;

  beforeAll(async () => {
    await writeGoodParts(join(work.path, 'ds'), { name: 'pkg-line', width: W, height: H, train: 6, val: 2 });
    writeFile(join(work.path, 'line', 'part-ok.png'), await pngOf(texture(W, H, 77), W, H));
    writeFile(join(work.path, 'line', 'part-dent.png'), await pngOf(texture(W, H, 78, { x: 70, y: 40, r: 7 }), W, H));
    const trained = await argus('train', '--mode', 'anomaly', '--dataset', join(work.path, 'ds'), '--weights', SHARED_WEIGHTS, '--device', 'cpu', '--input', `${W}x${H}`, '--coreset', '200', '--project', 'Line 4', '--data-dir', stationA.path);
    expect(trained.code, trained.stderr).toBe(0);
  });
  afterAll(() => [stationA, stationB, work].forEach((d) => d.cleanup()));

  const scores = async (dataDir: string, out: string): Promise<Record<string, number>> => {
    const run = await argus('inspect', '--model', '1', '--out', out, '--device', 'cpu', join(work.path, 'line'), '--data-dir', dataDir);
    expect(run.code, run.stderr).toBe(0);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; raw_score: number });
    return Object.fromEntries(lines.map((l) => [l.file.split('/').pop()!, l.raw_score]));
  };

  it('exports a version as one file and imports it on a fresh station as a candidate that inspects identically', async () => {
    pkg = join(work.path, 'line-4.argus');
    const exported = await argus('model', 'export', '1', '--out', pkg, '--json', '--data-dir', stationA.path);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ path: pkg, bytes: readFileSync(pkg).length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const manifest = manifestOf(unzipSync(readFileSync(pkg)));
    expect(manifest).toMatchObject({ format: 'argus-model-package', formatVersion: 1, backbone: { architecture: 'resnet50-fpn' }, model: { mode: 'anomaly' }, lineage: { modelId: 1, project: { name: 'Line 4' } } });
    expect(manifest.files.map((f: { role: string }) => f.role).sort()).toEqual(['features.onnx', 'scorer.onnx']);

    const imported = await argus('model', 'import', pkg, '--json', '--data-dir', stationB.path);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ id: 1, status: 'candidate', mode: 'anomaly', config: { importedFrom: { modelId: 1 } } });
    expect((await argus('model', 'list', '--data-dir', stationB.path)).stdout).toMatch(/^1\s+anomaly pkg-line\s+anomaly\s+candidate/m);

    const [a, b] = [await scores(stationA.path, join(work.path, 'out-a')), await scores(stationB.path, join(work.path, 'out-b'))];
    expect(Object.keys(b).sort()).toEqual(['part-dent.png', 'part-ok.png']);
    expect(b).toEqual(a);
    expect(b['part-dent.png']).toBeGreaterThan(b['part-ok.png']);
  }, 120_000);

  it('refuses a tampered, foreign, newer or duplicate package and stores nothing from it', async () => {
    const refused = async (file: string, message: RegExp): Promise<void> => {
      const run = await argus('model', 'import', file, '--data-dir', stationB.path);
      expect(run.code, run.stdout).not.toBe(0);
      expect(run.stderr).toMatch(message);
    };
    await refused(rewritten(pkg, (e) => {
      e['files/scorer.onnx'] = Uint8Array.from(e['files/scorer.onnx'], (v, i) => (i === 1000 ? v ^ 1 : v));
    }), /scorer\.onnx does not match its SHA-256 \(damaged or tampered with\); nothing was imported/);
    await refused(rewritten(pkg, (e) => withManifest(e, { ...manifestOf(e), formatVersion: 2 })), /format 2, made by a newer Argus .*reads format 1: update Argus first/);
    await refused(rewritten(pkg, (e) => withManifest(e, { ...manifestOf(e), backbone: { architecture: 'efficientnet-b0', sha256: null } })), /efficientnet-b0 network/);
    await refused(rewritten(pkg, (e) => withManifest(e, { ...manifestOf(e), backbone: { architecture: 'resnet50-fpn', sha256: 'ab'.repeat(32) } })), /trained on backbone weights abababababab…; this station uses/);
    await refused(rewritten(pkg, (e) => withManifest(e, { ...manifestOf(e), model: { ...manifestOf(e).model, mode: 'segment', classes: ['scratch'] } })), /Project "Line 4" on this station has classes \[dent\]; the model knows \[scratch\]/);
    await refused(rewritten(pkg, (e) => delete e['files/features.onnx']), /features\.onnx listed in its manifest is missing/);
    const notZip = join(work.path, 'not-a-package.argus');
    writeFileSync(notZip, 'plain text');
    await refused(notZip, /Not an Argus model package: it is not a readable zip archive/);
    await refused(pkg, /already on this station as version 1/);
    expect((await argus('model', 'list', '--json', '--data-dir', stationB.path)).stdout.match(/"id":/g)).toHaveLength(1);
  }, 120_000);

  it('exports the ONNX graphs with a sidecar that describes them, and they run outside Argus', async () => {
    const folder = join(work.path, 'onnx');
    const run = await argus('model', 'export', '1', '--onnx', folder, '--data-dir', stationA.path);
    expect(run.code, run.stderr).toBe(0);
    const sidecar = JSON.parse(readFileSync(join(folder, 'argus-model.json'), 'utf8'));
    const features = sidecar.graphs.find((g: { file: string }) => g.file === 'features.onnx');
    expect(features.inputs).toEqual([{ name: 'image', type: 'uint8', shape: ['N', 'H', 'W', 3] }]);
    expect(sidecar.input).toMatchObject({ layout: 'NHWC', type: 'uint8', size: { width: W, height: H }, resize: 'bilinear' });
    expect(sidecar.postprocessing.length).toBeGreaterThan(2);
    const session = await ort.InferenceSession.create(join(folder, 'features.onnx'));
    const output = await session.run({ image: new ort.Tensor('uint8', new Uint8Array(W * H * 3).fill(128), [1, H, W, 3]) });
    expect(Object.keys(output)).toEqual(features.outputs.map((o: { name: string }) => o.name));
    expect((await argus('model', 'export', '1', '--onnx', folder, '--data-dir', stationA.path)).stderr).toMatch(/is not empty/);
  }, 120_000);
});
