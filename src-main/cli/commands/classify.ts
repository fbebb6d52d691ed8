import { resolve } from 'node:path';
import type { ExecutionProviderChoice } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { createInferenceClient } from '../../runtime/inference-client.ts';
import { type Command, requireArg } from '../command.ts';

export const classify: Command = {
  name: 'classify',
  usage: 'classify --weights <resnet50.safetensors> [--device auto|cpu|cuda|webgpu] [--fp16] <image>',
  summary: 'Prints the ImageNet top-5 for an image: a check that a backbone weights file is sane.',
  options: { weights: { type: 'string' }, device: { type: 'string', default: 'auto' }, fp16: { type: 'boolean', default: false } },
  async run(ctx, values, [image]) {
    const device = values.device as ExecutionProviderChoice;
    if (!['auto', 'cpu', 'cuda', 'webgpu'].includes(device)) throw new ArgusError('invalid_argument', `Unknown device ${device}`);
    const client = createInferenceClient();
    try {
      const result = await client.call('classify', resolve(requireArg(values.weights as string, '--weights')), resolve(requireArg(image, 'image')), device, values.fp16 ? 'fp16' : 'fp32');
      if (ctx.json) return ctx.out(JSON.stringify(result));
      for (const { index, name, probability } of result.top5) ctx.out(`${(probability * 100).toFixed(1).padStart(5)}%  ${String(index).padStart(3)}  ${name}`);
      const fallbacks = result.provider.fallbacks.map((f) => `${f.provider} skipped: ${f.reason}`);
      ctx.progress([`device: ${result.provider.active} (${result.ms.toFixed(0)} ms)`, ...fallbacks].join('\n'));
    } finally {
      await client.close();
    }
  },
};
