import { describe, expect, it } from 'vitest';
import type { AnomalyAnalysis, Judgement } from '../analysis/analysis.ts';
import { labellingOrder, suggestedClasses } from './labelling-queue.ts';

const analysis = (extra: Partial<AnomalyAnalysis> = {}): AnomalyAnalysis => ({
  rawScore: 0.9, heatmap: new Float32Array(1), width: 1, height: 1, ms: { network: 0, scoring: 0, map: 0 }, ...extra,
});
const judgement = (verdict: Judgement['verdict'], classes: [string, number][] = []): Judgement => ({
  verdict, score: 0.9, rawScore: 0.9, regions: classes.map(([name, score]) => ({ class: name, score, mean_score: score, box: [0, 0, 1, 1], area: 1 })),
});

describe('labelling queue', () => {
  it('puts the REVIEW band first, then the scores nearest the NG threshold', () => {
    const order = labellingOrder([
      { imageId: 1, score: 0.95, verdict: 'NG' }, { imageId: 2, score: 0.45, verdict: 'OK' }, { imageId: 3, score: 0.2, verdict: 'REVIEW' },
    ]);
    expect(order.map((i) => i.imageId)).toEqual([3, 2, 1]);
  });

  it('suggests a classifier\'s predicted classes ([] for good), region classes by score for other models, nothing an anomaly model cannot name', () => {
    const project = ['scratch', 'dent'];
    expect(suggestedClasses(analysis({ predictedClasses: ['dent', 'scratch'] }), judgement('NG'), project)).toEqual(['dent', 'scratch']);
    expect(suggestedClasses(analysis({ predictedClasses: ['good'] }), judgement('OK'), project)).toEqual([]);
    expect(suggestedClasses(analysis(), judgement('OK'), project)).toEqual([]);
    expect(suggestedClasses(analysis(), judgement('NG', [['scratch', 0.6], ['dent', 0.9], ['scratch', 0.7]]), project)).toEqual(['dent', 'scratch']);
    expect(suggestedClasses(analysis(), judgement('NG', [['anomaly', 0.9]]), project)).toBeUndefined();
  });
});
