import type { ModelMode } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { anomalyMode } from './anomaly/mode.ts';
import { classifyMode } from './classify/mode.ts';
import { detectMode } from './detect/mode.ts';
import { segmentMode } from './segment/mode.ts';
import type { ModelModeDefinition } from './model-mode.ts';

/** Every mode Argus trains and inspects with. A new mode is one folder and one line here. */
const MODES: readonly ModelModeDefinition[] = [
  anomalyMode,
  segmentMode,
  detectMode,
  classifyMode,
];

export const TRAINABLE_MODES = MODES.map((m) => m.mode);

export function modeOf(mode: ModelMode | string): ModelModeDefinition {
  const definition = MODES.find((m) => m.mode === mode);
  if (!definition) throw new ArgusError('invalid_argument', `Mode ${mode} is not available; use ${TRAINABLE_MODES.map((m) => `--mode ${m}`).join(', ')}`);
  return definition;
}
