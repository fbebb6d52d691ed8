import { describe, expect, it } from 'vitest';
import { formatDate, formatMessage } from './format.ts';

describe('messages in the chosen language', () => {
  it('fills parameters and picks plural forms by the language\'s rules', () => {
    const images = '{n, plural, one {# image} other {# images}}';
    expect(formatMessage(images, { n: 1 }, 'en')).toBe('1 image');
    expect(formatMessage(images, { n: 0 }, 'en')).toBe('0 images');
    expect(formatMessage(images, { n: 1234 }, 'en')).toBe('1,234 images');
    expect(formatMessage('Model {id}: {n, plural, =0 {no regions} one {# region} other {# regions}}', { id: 7, n: 0 }, 'en')).toBe('Model 7: no regions');
    expect(formatMessage('{n} 张图像', { n: 1 }, 'zh-CN')).toBe('1 张图像');
    expect(formatMessage('missing {x}', {}, 'en')).toBe('missing {x}');
  });

  it('writes dates as the language does', () => {
    const when = '2026-03-04T15:06:00Z';
    expect(formatDate(when, 'en')).toMatch(/Mar 4, 2026/);
    expect(formatDate(when, 'zh-CN')).toMatch(/2026年3月4日/);
    expect(formatDate('not a date', 'en')).toBe('–');
  });
});
