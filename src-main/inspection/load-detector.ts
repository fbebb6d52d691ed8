import type { ExecutionProviderChoice } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import type { ImageAnalyser } from '../analysis/analysis.ts';
import { modeOf, TRAINABLE_MODES } from '../modes/registry.ts';
import type { SessionCache } from '../runtime/sessions.ts';
import type { ModelVersion } from '../store/models.ts';
import type { Store } from '../store/store.ts';
import { verifyModelFiles } from '../store/model-files.ts';

/** The analyser of a stored model version, whatever its mode (files verified against their SHA-256). */
export async function loadDetector(store: Store, model: ModelVersion, provider: ExecutionProviderChoice, sessions?: SessionCache): Promise<ImageAnalyser> {
  if (!(TRAINABLE_MODES as string[]).includes(model.mode)) throw new ArgusError('invalid_argument', `Model ${model.id} is a ${model.mode} model and cannot inspect parts`, { key: 'cannotInspect', params: { id: model.id, mode: model.mode } });
  return modeOf(model.mode).loadDetector(model, await verifyModelFiles(store, model), provider, sessions);
}
