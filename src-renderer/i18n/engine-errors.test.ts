import { describe, expect, it } from 'vitest';
import { errorText } from './engine-errors.ts';
import { en } from './en.ts';
import { zhCN } from './zh-CN.ts';

describe('engine errors in the user\'s language', () => {
  it('says a keyed engine error in the chosen language, and anything else in the engine\'s English', () => {
    // As the engine sends it (src-main/contract/errors.ts toErrorBody; api.test.ts checks that side).
    const body = { code: 'not_found' as const, message: 'No such file or folder: /x', text: { key: 'noSuchPath', params: { path: '/x' } } };
    expect(errorText(body, 'zh-CN')).toBe('文件或文件夹 /x 不存在。');
    expect(errorText(body, 'en')).toBe('There is no file or folder /x.');
    expect(errorText({ message: 'Something only the engine knows' }, 'zh-CN')).toBe('Something only the engine knows');
    expect(errorText({ message: 'raw', text: { key: 'notInTheCatalog' } }, 'zh-CN')).toBe('raw');
  });
});

describe('the engine\'s message keys', () => {
  /** Every `{ key: '…', params: { … } }` the engine attaches to an error, with the parameter names it sends. */
  const keyedErrors = (): { file: string; key: string; params: string[] }[] => {
    const found: { file: string; key: string; params: string[] }[] = [];
    const sources = import.meta.glob<string>(['../../src-main/**/*.ts', '!../../src-main/**/*.test.ts'], { query: '?raw', import: 'default', eager: true });
    for (const [file, text] of Object.entries(sources)) {
      for (const m of text.matchAll(/\{ key: '(\w+)'(?:(, params: \{)| \})/g)) {
        const params: string[] = [];
        if (m[2]) {
          let depth = 1;
          let i = m.index + m[0].length;
          const start = i;
          while (depth > 0 && i < text.length) {
            depth += text[i] === '{' ? 1 : text[i] === '}' ? -1 : 0;
            i++;
          }
          // Top-level property names: `name: value` or shorthand `name`.
          let level = 0;
          let inTemplate = false;
          let part = '';
          for (const ch of text.slice(start, i - 1) + ',') {
            if (ch === '`') inTemplate = !inTemplate;
            if ('{[('.includes(ch)) level++;
            if ('}])'.includes(ch)) level--;
            if (ch === ',' && level === 0 && !inTemplate) {
              params.push(part.trim().split(':')[0].trim());
              part = '';
            } else part += ch;
          }
        }
        found.push({ file, key: m[1], params: params.filter(Boolean) });
      }
    }
    return found;
  };

  it('are all in both catalogs, and each text uses only the parameters the engine sends', () => {
    const errors = keyedErrors();
    expect(errors.length).toBeGreaterThan(80);
    for (const { file, key, params } of errors) {
      for (const catalog of [en, zhCN] as Record<string, string>[]) {
        const text = catalog[`engine.${key}`];
        expect(text, `${file}: engine.${key}`).toBeTypeOf('string');
        const used = [...text.matchAll(/\{(\w+)\}/g)].map((p) => p[1]);
        for (const name of used) expect(params, `${file}: engine.${key} uses {${name}}`).toContain(name);
      }
    }
  });
});
