import type { AnomalyAnalysis, Judgement } from '../analysis/analysis.ts';
import type { LabellingRanking } from '../contract/contract.ts';

/**
 * The whole-image label a model suggests: a classifier's predicted classes ([] for good); for a
 * model with regions, [] when it passes the image, else its regions' project classes by score.
 * Undefined where the model names no project class.
 */
export function suggestedClasses(analysis: AnomalyAnalysis, judgement: Judgement, projectClasses: string[]): string[] | undefined {
  const known = (names: string[]): string[] => [...new Set(names)].filter((n) => projectClasses.includes(n));
  if (analysis.predictedClasses) return known(analysis.predictedClasses);
  if (judgement.verdict === 'OK') return [];
  const found = known([...judgement.regions].sort((a, b) => b.score - a.score).map((r) => r.class));
  return found.length ? found : undefined;
}

/** Most uncertain first: the REVIEW band, then the images scored nearest the NG threshold (0.5). */
export function labellingOrder(images: LabellingRanking['images']): LabellingRanking['images'] {
  const uncertainty = (s: { score: number; verdict: string }): number => (s.verdict === 'REVIEW' ? -1 : 0) + Math.abs(s.score - 0.5);
  return [...images].sort((a, b) => uncertainty(a) - uncertainty(b));
}
