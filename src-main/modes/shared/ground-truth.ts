import { labelMap } from '../../datasets/label-map.ts';
import type { DatasetSample } from '../../store/datasets.ts';
import type { Store } from '../../store/store.ts';

/** 1 where the sample's labels (masks, polygons or boxes) mark any defect class, at the image's resolution. */
export async function defectMask(store: Store, sample: DatasetSample): Promise<Uint8Array> {
  const labels = await labelMap(store, sample);
  for (let i = 0; i < labels.length; i++) if (labels[i]) labels[i] = 1;
  return labels;
}
