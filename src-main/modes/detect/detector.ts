import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport } from '../../contract/contract.ts';
import type { AnomalyAnalysis, DetectedBox } from '../../analysis/analysis.ts';
import { resizeAsTrained } from '../../images/augment.ts';
import type { RgbImage } from '../../images/preprocess.ts';
import { openSession, type SessionSource } from '../../runtime/sessions.ts';
import { decodeLevels, type Detection, type LevelMaps, nonMaximumSuppression } from './decode.ts';
import { DETECT_LEVELS, type DetectNetworkConfig, levelSizes } from './network.ts';

/** What a detection model version stores besides its network. */
export interface DetectModelConfig extends DetectNetworkConfig {
  /** Image → network scale of training; inspection resizes every image by it. */
  scale: number;
  /** NMS overlap chosen on val (versions calibrated before the choice use `DECODE.nmsIou`). */
  nmsIou?: number;
  /** What val measured when it was chosen. */
  nmsIouReason?: string;
}

/** Decoding: FCOS's candidate floor, per-level top-k, NMS overlap (FCOS's, until val chooses one) and the boxes kept per image. */
export const DECODE = { minProbability: 0.05, topK: 1000, nmsIou: 0.6, maxDetections: 100 };

/** A tile and where it lies in the scaled image. */
interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Tiles of the network input covering an image of the given (scaled) size: the whole image when it
 * fits, else tiles overlapping by a quarter of the input, so that a defect cut by one tile's border
 * is seen whole by its neighbour.
 */
export function tilesFor(width: number, height: number, config: Pick<DetectModelConfig, 'inputWidth' | 'inputHeight'>): Tile[] {
  const along = (extent: number, tile: number): number[] => {
    if (extent <= tile) return [0];
    const step = Math.floor(tile * 0.75);
    const starts: number[] = [];
    for (let s = 0; s + tile < extent; s += step) starts.push(s);
    starts.push(extent - tile);
    return starts;
  };
  const tw = Math.min(config.inputWidth, width);
  const th = Math.min(config.inputHeight, height);
  return along(height, th).flatMap((y) => along(width, tw).map((x) => ({ x, y, width: tw, height: th })));
}

/** The image region as a network input: a multiple of 32 on each side, zero-padded right and below (as in training). */
function paddedCrop(image: RgbImage, tile: Tile): RgbImage {
  const width = Math.ceil(tile.width / 32) * 32;
  const height = Math.ceil(tile.height / 32) * 32;
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < tile.height; row++) {
    const from = ((tile.y + row) * image.width + tile.x) * 3;
    data.set(image.data.subarray(from, from + tile.width * 3), row * width * 3);
  }
  return { data, width, height };
}

/** The detections' scores as a map: each pixel takes the highest score of the boxes covering it. */
export function boxScoreMap(boxes: { score: number; box: [number, number, number, number] }[], width: number, height: number): Float32Array {
  const map = new Float32Array(width * height);
  for (const { score, box } of boxes) {
    const [x1, y1, x2, y2] = [Math.floor(box[0]), Math.floor(box[1]), Math.ceil(box[2]), Math.ceil(box[3])];
    for (let y = Math.max(0, y1); y < Math.min(height, y2); y++) {
      for (let x = Math.max(0, x1); x < Math.min(width, x2); x++) if (score > map[y * width + x]) map[y * width + x] = score;
    }
  }
  return map;
}

/** A trained detector ready to inspect: boxes with class and score, in tiles for large images. */
export class DetectDetector {
  private constructor(private readonly session: ort.InferenceSession, readonly config: DetectModelConfig, readonly provider: ExecutionProviderReport, private readonly owned: boolean) {}

  static async create(network: Uint8Array, config: DetectModelConfig, provider: ExecutionProviderChoice, source: SessionSource = {}): Promise<DetectDetector> {
    const { session, report, owned } = await openSession(source, 'network', network, provider);
    return new DetectDetector(session, config, report, owned);
  }

  /** Every decoded box (score ≥ the decoding floor) after NMS, in image pixels. */
  async detect(image: RgbImage): Promise<{ detections: Detection[]; networkMs: number; decodeMs: number }> {
    const { config } = this;
    const width = Math.max(1, Math.round(image.width * config.scale));
    const height = Math.max(1, Math.round(image.height * config.scale));
    const scaled = await resizeAsTrained(image, width, height);
    const scaleX = width / image.width;
    const scaleY = height / image.height;
    const found: Detection[] = [];
    let networkMs = 0;
    let decodeMs = 0;
    const tiles = tilesFor(width, height, config);
    for (const tile of tiles) {
      const input = paddedCrop(scaled, tile);
      const t0 = performance.now();
      const out = await this.session.run({ image: new ort.Tensor('uint8', input.data, [1, input.height, input.width, 3]) });
      const t1 = performance.now();
      networkMs += t1 - t0;
      const levels: LevelMaps[] = levelSizes(input.width, input.height).map((level, k) => {
        const name = DETECT_LEVELS[k].name;
        return { level, cls: out[`cls_${name}`].data as Float32Array, box: out[`box_${name}`].data as Float32Array, ctr: out[`ctr_${name}`].data as Float32Array };
      });
      const decoded = decodeLevels(levels, {
        numClasses: config.classes.length, minProbability: DECODE.minProbability, topK: DECODE.topK,
        scale: 1, offsetX: 0, offsetY: 0, width: tile.width, height: tile.height,
      });
      for (const d of decoded) {
        // A box cut by a border this tile shares with a neighbour is left to the neighbour, which sees it whole.
        const margin = 2;
        const cut = (d.box[0] <= margin && tile.x > 0) || (d.box[1] <= margin && tile.y > 0)
          || (d.box[2] >= tile.width - margin && tile.x + tile.width < width) || (d.box[3] >= tile.height - margin && tile.y + tile.height < height);
        if (cut && tiles.length > 1) continue;
        found.push({
          ...d,
          box: [(d.box[0] + tile.x) / scaleX, (d.box[1] + tile.y) / scaleY, (d.box[2] + tile.x) / scaleX, (d.box[3] + tile.y) / scaleY].map((v, i) => Math.min(i % 2 ? image.height : image.width, v)) as Detection['box'],
        });
      }
      decodeMs += performance.now() - t1;
    }
    const t2 = performance.now();
    const detections = nonMaximumSuppression(found, config.nmsIou ?? DECODE.nmsIou, DECODE.maxDetections);
    return { detections, networkMs, decodeMs: decodeMs + performance.now() - t2 };
  }

  async analyse(image: RgbImage): Promise<AnomalyAnalysis> {
    const { detections, networkMs, decodeMs } = await this.detect(image);
    const t1 = performance.now();
    const boxes: DetectedBox[] = detections.map((d) => ({ class: this.config.classes[d.classIndex - 1], score: d.score, box: d.box }));
    const heatmap = boxScoreMap(boxes, image.width, image.height);
    return {
      rawScore: boxes.reduce((a, b) => Math.max(a, b.score), 0), heatmap, width: image.width, height: image.height, boxes,
      // scoring: decoding, clipping and NMS of the boxes; map: the box-score heatmap.
      ms: { network: networkMs, scoring: decodeMs, map: performance.now() - t1 },
    };
  }

  async release(): Promise<void> {
    if (this.owned) await this.session.release();
  }
}
