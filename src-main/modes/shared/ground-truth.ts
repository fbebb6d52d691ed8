import { labelMap } from '../../images/label-map.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';

/** 1 where the sample's labels (masks, polygons or boxes) mark any defect class, at the image's resolution. */
export async function defectMask(blobs: BlobReader, sample: DatasetSample): Promise<Uint8Array> {
  const labels = await labelMap(blobs, sample);
  for (let i = 0; i < labels.length; i++) if (labels[i]) labels[i] = 1;
  return labels;
}
