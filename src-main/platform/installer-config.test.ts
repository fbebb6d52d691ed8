import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test-support/fixtures.ts';
import { findUp } from './resources.ts';

const REPO = resolve(import.meta.dirname, '../..');
const config = JSON.parse(readFileSync(join(REPO, 'electron-builder.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));

/**
 * The installer configuration, checked here since installers are built on a connected build PC
 * (Electron's binary cannot be downloaded on this machine): what an installed app needs is in it.
 */
describe('installer configuration (electron-builder.json)', () => {
  it('builds AppImage and .deb for Linux and an NSIS installer for Windows, with the app icon', async () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.win.target).toEqual(['nsis']);
    for (const icon of [config.linux.icon, config.win.icon]) {
      const meta = await sharp(join(REPO, icon)).metadata();
      expect(meta.format).toBe('png');
      expect(Math.min(meta.width!, meta.height!)).toBeGreaterThanOrEqual(256);
    }
    expect(config.nsis.oneClick).toBe(false);
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z]+)+$/);
    expect(config.productName).toBe(pkg.productName);
  });

  it('packs the built app, and unpacks every native module from the asar archive', () => {
    expect(pkg.main).toBe('out/main/index.js');
    expect(config.files).toEqual(expect.arrayContaining(['out/**', 'package.json']));
    const unpacked: string[] = config.asarUnpack;
    for (const native of ['better-sqlite3', 'sharp', 'onnxruntime-node']) {
      expect(Object.keys(pkg.dependencies)).toContain(native);
      expect(unpacked).toContain(`**/node_modules/${native}/**`);
    }
    // sharp's platform binaries live in @img/ packages.
    expect(unpacked).toContain('**/node_modules/@img/**');
  });

  it('ships resources/ beside app.asar, backbone and notice included', () => {
    expect(config.extraResources).toEqual([{ from: 'resources', to: 'resources' }]);
    for (const file of ['imagenet-classes.json', 'backbone/backbone.json', 'backbone/NOTICE.md', 'backbone/resnet50-imagenet.safetensors']) {
      expect(existsSync(join(REPO, 'resources', file)), file).toBe(true);
    }
  });

  it('an installed app finds its resources and version from inside app.asar', () => {
    // The layout electron-builder makes: <resourcesPath>/app.asar/{out/main, package.json}, <resourcesPath>/resources/.
    const fake = tempDir();
    try {
      const resourcesPath = join(fake.path, 'Argus', 'resources');
      const main = join(resourcesPath, 'app.asar', 'out', 'main', 'chunks');
      mkdirSync(main, { recursive: true });
      mkdirSync(join(resourcesPath, 'resources'), { recursive: true });
      writeFileSync(join(resourcesPath, 'resources', 'imagenet-classes.json'), '{}');
      writeFileSync(join(resourcesPath, 'app.asar', 'package.json'), '{"version": "9.9.9"}');
      expect(findUp(main, join('resources', 'imagenet-classes.json'))).toBe(resourcesPath);
      expect(findUp(main, 'package.json')).toBe(join(resourcesPath, 'app.asar'));
      expect(findUp(main, 'nothing-here.json')).toBeNull();
    } finally {
      fake.cleanup();
    }
  });
});
