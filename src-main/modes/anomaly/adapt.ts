import type { ExecutionProviderChoice, GroupThresholds, ModelThresholds } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import type { RgbImage } from '../../images/preprocess.ts';
import { type GroupFrameScores, groupThresholds, usesGroupQuantile } from '../../analysis/thresholds.ts';
import { greedyCoreset } from './coreset.ts';
import { AnomalyDetector, type AnomalyConfig, DEFAULT_ANOMALY_CONFIG, PatchExtractor } from './detector.ts';
import { bankOf, buildScorer } from './scorer.ts';

export interface AdaptAnomalyInput {
  config: AnomalyConfig & { bankSize?: number; patchesSampled?: number };
  featureModel: Uint8Array;
  /** Each pyramid level's scorer (one for a model without levels). */
  scorerModels: Uint8Array[];
  /** The model-wide thresholds the group's are derived from. */
  thresholds: ModelThresholds;
  /** The group's good frames, read one at a time. */
  frameCount: number;
  loadFrame: (index: number) => Promise<RgbImage>;
  falseRejectRate?: number;
  provider: ExecutionProviderChoice;
  onProgress?: (stage: string, done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface AdaptAnomalyResult {
  /** Each level's adapted scorer and bank size. */
  scorerModels: Uint8Array[];
  bankSizes: number[];
  /** Bank entries taken from the group's frames (all levels). */
  fromGroup: number;
  thresholds: GroupThresholds;
}

/** One level's pool for adaptation: its bank (origin −1) then the frames' patches (origin = frame index), and the entries chosen. */
interface LevelPool {
  pool: Float32Array;
  origin: Int32Array;
  chosen: Int32Array;
}

/**
 * Adapts an anomaly model to a station or camera without retraining: at each pyramid level the
 * patches of the group's good frames join the level's memory bank, the greedy coreset is chosen
 * again from bank and new patches within the bank's size cap, and the group's thresholds come
 * from the frames' scores: each frame against the adapted banks minus the entries it contributed,
 * and, where a few frames set only the group's level, against the banks as they were (see `groupThresholds`).
 */
export async function adaptAnomaly(input: AdaptAnomalyInput): Promise<AdaptAnomalyResult> {
  const { config, frameCount } = input;
  if (frameCount === 0) throw new ArgusError('bad_input', 'Adapting a model needs at least one good frame of the station', { key: 'noGoodFramesAtAll' });
  const levels = config.levels ?? [{ factor: 1, bankSize: config.bankSize ?? 0, typicalScore: 1 }];
  if (levels.length !== input.scorerModels.length) throw new ArgusError('bad_input', `The model describes ${levels.length} levels and has ${input.scorerModels.length} scorers`);
  const banks = input.scorerModels.map((scorer) => bankOf(scorer));
  const dim = config.dim;
  if (banks.some((b) => b.dim !== dim)) throw new ArgusError('bad_input', `The scorer's patches do not have the ${dim} values the model's config says`);
  const cancelled = (): void => {
    if (input.signal?.aborted) throw new ArgusError('cancelled', 'Adaptation cancelled', { key: 'cancelled' });
  };

  const extractor = await PatchExtractor.create(input.featureModel, config, input.provider);
  try {
    const levelExtractors = levels.map((l) => extractor.atLevel(l.factor));
    const framePatches: Float32Array[][] = levels.map(() => []);
    for (let f = 0; f < frameCount; f++) {
      cancelled();
      const frame = extractor.prepare(await input.loadFrame(f));
      for (const [k, levelExtractor] of levelExtractors.entries()) {
        const perFrame = Math.max(1, Math.floor((levelExtractor.config.maxPoolPatches ?? DEFAULT_ANOMALY_CONFIG.maxPoolPatches) / frameCount));
        const all = concat((await levelExtractor.gridsOf(frame)).map((g) => g.data));
        framePatches[k].push(all.length / dim <= perFrame ? all : evenlySpaced(all, dim, perFrame));
      }
      input.onProgress?.('extracting features', f + 1, frameCount);
    }

    input.onProgress?.('selecting coreset', 0, 1);
    cancelled();
    const pools = levels.map((level, k) => adaptedPool(banks[k].bank, framePatches[k], { ...levelExtractors[k].config, patchesSampled: level.patchesSampled ?? config.patchesSampled }, dim));
    const bankFrom = ({ pool, chosen }: LevelPool, keep: (index: number) => boolean): Float32Array => {
      const kept = Array.from(chosen).filter(keep);
      const bank = new Float32Array(kept.length * dim);
      kept.forEach((index, k) => bank.set(pool.subarray(index * dim, (index + 1) * dim), k * dim));
      return bank;
    };
    const adaptedBanks = pools.map((p) => bankFrom(p, () => true));
    input.onProgress?.('selecting coreset', 1, 1);

    const scores: GroupFrameScores = { adapted: [], unadapted: [] };
    const withBanks = (bankOfLevel: (k: number) => Float32Array): Promise<AnomalyDetector> =>
      AnomalyDetector.fromBanks(extractor, levels.map((l, k) => ({ factor: l.factor, typicalScore: l.typicalScore, bank: bankOfLevel(k) })), true);
    const unadapted = usesGroupQuantile(frameCount, input.falseRejectRate) ? undefined : await withBanks((k) => banks[k].bank);
    try {
      for (let f = 0; f < frameCount; f++) {
        cancelled();
        const frame = await input.loadFrame(f);
        if (unadapted) scores.unadapted.push((await unadapted.analyse(frame)).rawScore);
        const leaveOut = await withBanks((k) => bankFrom(pools[k], (index) => pools[k].origin[index] !== f));
        try {
          scores.adapted.push((await leaveOut.analyse(frame)).rawScore);
        } finally {
          await leaveOut.release();
        }
        input.onProgress?.('calibrating', f + 1, frameCount);
      }
    } finally {
      await unadapted?.release();
    }
    return {
      scorerModels: adaptedBanks.map((bank) => buildScorer(bank, dim)),
      bankSizes: adaptedBanks.map((bank) => bank.length / dim),
      fromGroup: pools.reduce((n, p) => n + Array.from(p.chosen).filter((index) => p.origin[index] >= 0).length, 0),
      thresholds: groupThresholds(input.thresholds, scores, input.falseRejectRate),
    };
  } finally {
    await extractor.release();
  }
}

/**
 * A level's bank and the frames' patches in one pool, and the entries the adapted bank keeps: the
 * frames' patches join at the rate training kept (bank entries per patch sampled), each the one
 * farthest from the bank so far; past the cap, bank and frames are selected anew.
 */
function adaptedPool(bank: Float32Array, frames: Float32Array[], config: AnomalyConfig & { patchesSampled?: number }, dim: number): LevelPool {
  const size = bank.length / dim;
  const total = size + frames.reduce((n, p) => n + p.length / dim, 0);
  const pool = new Float32Array(total * dim);
  const origin = new Int32Array(total).fill(-1);
  pool.set(bank);
  let offset = size;
  frames.forEach((patches, f) => {
    pool.set(patches, offset * dim);
    origin.fill(f, offset, offset + patches.length / dim);
    offset += patches.length / dim;
  });
  const cap = Math.max(size, bankCap(config));
  const added = Math.max(1, Math.round((total - size) * keptPerPatch(config, size)));
  const chosen = size + added <= cap
    ? Int32Array.from([...Array.from({ length: size }, (_, i) => i), ...greedyCoreset(pool, dim, added, config.seed, undefined, size)])
    : greedyCoreset(pool, dim, cap, config.seed);
  return { pool, origin, chosen };
}

/** The largest memory bank adaptation grows a model's to: twice its training coreset size (scoring time grows with it). */
function bankCap(config: AnomalyConfig): number {
  return 2 * config.coresetSize;
}

/** Bank entries training kept per patch it sampled (the coreset ratio). */
function keptPerPatch(config: AnomalyConfig & { patchesSampled?: number }, bankSize: number): number {
  return Math.min(1, bankSize / Math.max(config.patchesSampled ?? bankSize, 1));
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** `count` rows of a [N, dim] array, spread evenly over it. */
function evenlySpaced(rows: Float32Array, dim: number, count: number): Float32Array {
  const n = rows.length / dim;
  const out = new Float32Array(count * dim);
  for (let k = 0; k < count; k++) {
    const r = Math.floor(((k + 0.5) * n) / count);
    out.set(rows.subarray(r * dim, (r + 1) * dim), k * dim);
  }
  return out;
}
