import type { ImageLabel, Split } from './contract.ts';

/** An image of a dataset with what training and evaluation need. */
export interface DatasetSample {
  imageId: number;
  sha256: string;
  file: string;
  width: number;
  height: number;
  split: Split;
  label: ImageLabel;
  /** Where the image was taken (camera position, station, line), when its source said. */
  group: string | null;
  /** Label masks: blob digest and the value marking this class in it. */
  masks: { sha256: string; value: number; classIndex: number; imported: boolean }[];
  /** Box ([x1, y1, x2, y2]) and polygon annotations, in image pixels. */
  boxes: { box: [number, number, number, number]; classIndex: number; imported: boolean }[];
  polygons: { points: [number, number][]; classIndex: number; imported: boolean }[];
  /** Whole-image class labels (classification): project class indexes. */
  imageClasses: number[];
}
