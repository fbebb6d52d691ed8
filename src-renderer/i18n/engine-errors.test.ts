import { describe, expect, it } from 'vitest';
import { errorText } from './engine-errors.ts';

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
