import type { LabellingRanking } from '../contract/contract.ts';

/** Most uncertain first: the REVIEW band, then the images scored nearest the NG threshold (0.5). */
export function labellingOrder(images: LabellingRanking['images']): LabellingRanking['images'] {
  const uncertainty = (s: { score: number; verdict: string }): number => (s.verdict === 'REVIEW' ? -1 : 0) + Math.abs(s.score - 0.5);
  return [...images].sort((a, b) => uncertainty(a) - uncertainty(b));
}
