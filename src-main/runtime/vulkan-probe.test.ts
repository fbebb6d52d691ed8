import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test-support/fixtures.ts';
import { vulkanLoaderPresent } from './vulkan-probe.ts';

const REPO = resolve(import.meta.dirname, '../..');

describe('quiet Vulkan probe', () => {
  it('finds the loader in LD_LIBRARY_PATH or System32', () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'libvulkan.so.1'), '');
      expect(vulkanLoaderPresent({ LD_LIBRARY_PATH: `/nowhere:${dir.path}` }, 'linux')).toBe(true);
      mkdirSync(join(dir.path, 'System32'));
      expect(vulkanLoaderPresent({ SystemRoot: dir.path }, 'win32')).toBe(false);
      writeFileSync(join(dir.path, 'System32', 'vulkan-1.dll'), '');
      expect(vulkanLoaderPresent({ SystemRoot: dir.path }, 'win32')).toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(vulkanLoaderPresent())('without a GPU, --device auto says in Argus\'s words why WebGPU was skipped, and nothing native reaches the terminal', async () => {
    const script = [
      "import { createSession } from './src-main/runtime/sessions.ts';",
      "import { GraphBuilder } from './src-main/model/onnx-graph.ts';",
      "const g = new GraphBuilder('t'); const x = g.input('x', 'float32', [1, 4]); g.output(g.node('Relu', [x], {}, [1, 4], 'r'), 'y');",
      "const { report } = await createSession({ model: g.toBytes(), provider: 'auto' });",
      'process.stdout.write(JSON.stringify(report));',
    ].join('\n');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO });
    expect(JSON.parse(stdout)).toMatchObject({ active: 'cpu', fallbacks: expect.arrayContaining([{ provider: 'webgpu', reason: expect.stringMatching(/no Vulkan loader/) }]) });
    expect(stderr).not.toMatch(/Vulkan|BackendVk|dawn/i);
  });
});
