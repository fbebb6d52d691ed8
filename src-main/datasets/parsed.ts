import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { ImageLabel, ImportFormat, Split } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import type { CocoRle } from '../common/coco-rle.ts';

/** A dataset as read from any supported source format, before any file is decoded. */
export interface ParsedDataset {
  format: ImportFormat;
  root: string;
  name: string;
  /** Class index (as in masks and boxes of the source) → class name. */
  classes: Map<number, string>;
  samples: ParsedSample[];
}

export interface ParsedSample {
  /** Path relative to the dataset root, as written in the source. */
  file: string;
  split?: Split;
  label?: ImageLabel;
  boxes: { box: [number, number, number, number]; classIndex: number }[];
  polygons: { points: [number, number][]; classIndex: number }[];
  mask?: string;
  /** Run-length masks (COCO RLE), painted into one label mask in order. */
  rleMasks?: { rle: CocoRle; classIndex: number }[];
  /** Where the image was taken (camera position, station, line), when the source says. */
  group?: string;
  /** The whole image's classes (source class indices), for classification: one, or several for multi-label. */
  imageClasses?: number[];
}

/** Resolves a path from a dataset file and refuses anything that leaves the dataset folder. */
export function resolveInside(root: string, relativePath: string): string {
  if (isAbsolute(relativePath)) throw new ArgusError('bad_input', `Absolute path not allowed in a dataset: ${relativePath}`, { key: 'pathOutsideDataset', params: { path: relativePath } });
  const full = resolve(root, relativePath);
  const rel = relative(root, full);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new ArgusError('bad_input', `Path leaves the dataset folder: ${relativePath}`, { key: 'pathOutsideDataset', params: { path: relativePath } });
  }
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    return full; // missing files are reported when they are read
  }
  const realRel = relative(realpathSync(root), real);
  if (realRel.startsWith('..') || isAbsolute(realRel)) {
    throw new ArgusError('bad_input', `Path leaves the dataset folder through a link: ${relativePath}`, { key: 'pathOutsideDataset', params: { path: relativePath } });
  }
  return full;
}

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);
