// Reads an onnxruntime profile (enableProfiling) of a training step graph and sums the kernel time
// of one run by op type and by what the node does in the step: the forward pass, the gradient
// rules (dX as ConvTranspose, dW as Conv or Gemm, and the rest), the loss, the optimizer update.
import { readFileSync } from 'node:fs';

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

export interface StepProfile {
  ms_total: number;
  by_op: Record<string, number>;
  by_role: Record<string, number>;
}

/** What a node of the step graph does, from its name (`layer/op`, gradients under `grad/`, the update under `optimizer`). */
export function stepRole(node: string, op: string): string {
  if (node.startsWith('optimizer')) return 'optimizer update';
  if (node.startsWith('grad/')) {
    if (op === 'ConvTranspose') return 'dX (ConvTranspose)';
    if (op === 'Conv' || op.startsWith('FusedConv')) return 'dW (Conv, dy as kernel)';
    if (op === 'Gemm' || op === 'MatMul' || op === 'FusedMatMul') return 'dW 1×1 (Gemm)';
    if (op === 'Transpose' || op === 'Reshape' || op === 'Slice' || op === 'Expand' || op === 'Concat') return 'gradient copies (Transpose/Slice/Expand/…)';
    if (op.startsWith('Reduce')) return 'gradient reductions';
    return 'gradient elementwise';
  }
  if (node.startsWith('loss')) return 'loss';
  if (op === 'Conv' || op.startsWith('FusedConv')) return 'forward conv';
  return 'forward other';
}

/** Kernel time of the profile's last run (the last `model_run`), in ms, by op type and by role. */
export function readStepProfile(file: string): StepProfile {
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const last = runs[runs.length - 1];
  const inLast = (e: ProfileEvent): boolean => !last || (e.ts >= last.ts && e.ts <= last.ts + last.dur);
  const byOp: Record<string, number> = {};
  const byRole: Record<string, number> = {};
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !inLast(e)) continue;
    const op = e.args?.op_name ?? '?';
    const ms = e.dur / 1000;
    const role = stepRole(e.name.slice(0, -'_kernel_time'.length), op);
    byOp[op] = (byOp[op] ?? 0) + ms;
    byRole[role] = (byRole[role] ?? 0) + ms;
    total += ms;
  }
  const sorted = (r: Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]));
  return { ms_total: Math.round(total), by_op: sorted(byOp), by_role: sorted(byRole) };
}
