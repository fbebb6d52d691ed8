import { decodeLabelMask } from '../images/decode.ts';
import type { DatasetSample } from '../store/datasets.ts';
import type { Store } from '../store/store.ts';

/** 1 where the sample's label masks mark any defect class, at the image's resolution. */
export async function defectMask(store: Store, sample: DatasetSample): Promise<Uint8Array> {
  const out = new Uint8Array(sample.width * sample.height);
  const byBlob = new Map<string, Set<number>>();
  for (const m of sample.masks) byBlob.set(m.sha256, (byBlob.get(m.sha256) ?? new Set()).add(m.value));
  for (const [sha256, values] of byBlob) {
    const mask = await decodeLabelMask(await store.blobs.get(sha256));
    for (let i = 0; i < out.length; i++) if (values.has(mask.data[i])) out[i] = 1;
  }
  return out;
}
