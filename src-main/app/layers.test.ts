import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

/** The lint rules that keep the layers, tried on planted violations (npm run lint runs them on the code). */
describe('layer rules in eslint.config.js', () => {
  const eslint = new ESLint({ cwd: REPO });
  const lint = async (file: string, text: string): Promise<string[]> => {
    const [result] = await eslint.lintText(text, { filePath: join(REPO, file) });
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('refuses storage, modes or the application in shared analysis and below', async () => {
    expect(await lint('src-main/analysis/planted.ts', "import { Store } from '../store/store.ts';\nexport const s = Store;\n")).toEqual([expect.stringMatching(/no-restricted-imports: .*may not import store/)]);
    expect(await lint('src-main/model/planted.ts', "import { modeOf } from '../modes/registry.ts';\nexport const m = modeOf;\n")).toEqual([expect.stringMatching(/no-restricted-imports/)]);
    expect(await lint('src-main/contract/planted.ts', "import { quantile } from '../analysis/metrics.ts';\nexport const q = quantile;\n")).toEqual([expect.stringMatching(/contract\/ is the ground floor/)]);
  });

  it('keeps the modes pure: no storage, while the services above them may store', async () => {
    expect(await lint('src-main/modes/planted.ts', "import type { Store } from '../store/store.ts';\nexport type S = Store;\n")).toEqual([expect.stringMatching(/may not import store/)]);
    expect(await lint('src-main/modes/planted.ts', "import { importDataset } from '../datasets/importer.ts';\nexport const i = importDataset;\n")).toEqual([expect.stringMatching(/may not import store.*datasets/)]);
    expect(await lint('src-main/modes/planted.ts', "import { labelMap } from '../images/label-map.ts';\nexport const l = labelMap;\n")).toEqual([]);
    expect(await lint('src-main/inspection/planted.ts', "import type { Store } from '../store/store.ts';\nexport type S = Store;\n")).toEqual([]);
  });

  it('lets only the adapters import the application, and the renderer only the contract and common code', async () => {
    expect(await lint('src-main/modes/planted.ts', "import { ArgusService } from '../app/service.ts';\nexport const a = ArgusService;\n")).toEqual([expect.stringMatching(/may not import .*app/)]);
    expect(await lint('src-main/inspection/planted.ts', "import { ArgusService } from '../app/service.ts';\nexport const a = ArgusService;\n")).toEqual([expect.stringMatching(/may not import app/)]);
    expect(await lint('src-main/cli/planted.ts', "import { ArgusService } from '../app/service.ts';\nexport const a = ArgusService;\n")).toEqual([]);
    expect(await lint('src-renderer/planted.ts', "import { judge } from '../src-main/analysis/analysis.ts';\nexport const j = judge;\n")).toEqual([expect.stringMatching(/shares only src-main\/contract/)]);
    expect(await lint('src-renderer/planted.ts', "import type { Verdict } from '../src-main/contract/contract.ts';\nexport type V = Verdict;\n")).toEqual([]);
  });

  it('finds an import cycle', async () => {
    const dir = join(REPO, 'src-main', `zz-cycle-check-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'a.ts'), "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n");
      writeFileSync(join(dir, 'b.ts'), "import { a } from './a.ts';\nexport const b = (): number => (a.length ? 1 : 0);\n");
      const [result] = await eslint.lintFiles([join(dir, 'a.ts')]);
      expect(result.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
