import type { ApiInput, ApiMethod, ApiOutput, ApiResult, ArgusApi, JobStatus, SessionInfo } from '../contract/contract.ts';
import { toErrorBody } from '../contract/errors.ts';
import { type CallerSession, ENGINEER_METHODS } from './roles.ts';
import { apiSchemas, isApiMethod } from './schemas.ts';
import { ArgusService } from './service.ts';

/**
 * The single entry point for untrusted callers (IPC, HTTP): checks the method name and arguments
 * against the schemas and the caller's role, runs the call, and returns a result object instead
 * of throwing. `caller` is the window's or browser tab's session (its role).
 */
export async function dispatch(api: ArgusApi, caller: CallerSession, method: string, input: unknown): Promise<ApiResult<unknown>> {
  if (!isApiMethod(method)) return { ok: false, error: { code: 'invalid_argument', message: `Unknown method: ${String(method).slice(0, 100)}` } };
  const parsed = apiSchemas[method].safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'invalid_argument', message: `Invalid arguments for ${method}: ${detail}`, text: { key: 'invalidArguments', params: { method, detail } } } };
  }
  try {
    // Roles are enforced once an engineer PIN exists; before that every caller is an engineer.
    const { pinSet } = await api.getSession();
    const role = pinSet ? caller.role : 'engineer';
    if (role !== 'engineer') {
      const refusal = ENGINEER_METHODS.has(method)
        ? 'Only a QA engineer can do this: unlock the QA-engineer role with its PIN (Settings)'
        : operatorRefusal(method, parsed.data, caller);
      if (refusal) return { ok: false, error: { code: 'forbidden', message: refusal, ...(ENGINEER_METHODS.has(method) ? { text: { key: 'engineerOnly' } } : {}) } };
    }
    const run = (): Promise<unknown> => call(api, method, parsed.data as ApiInput<typeof method>);
    let value = await (api instanceof ArgusService ? api.callerRole.run(role, run) : run());
    if (method === 'unlockEngineer' || method === 'lockEngineer' || method === 'setEngineerPin') caller.role = (value as SessionInfo).role;
    if (isJobStatus(value)) caller.jobs.add(value.id);
    if (method === 'getSession') value = { ...(value as SessionInfo), role } satisfies SessionInfo;
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: toErrorBody(error) };
  }
}

/**
 * What an operator may not do with a method operators may otherwise call: write outside the data
 * directory or move files (a batch's outDir, the hot folder's sidecars, sorting and log), or
 * cancel a job someone else started.
 */
function operatorRefusal(method: ApiMethod, input: unknown, caller: CallerSession): string | null {
  const args = (input ?? {}) as Record<string, unknown>;
  if (method === 'inspectFiles' && args.outDir !== undefined) return 'Only a QA engineer can choose where a batch writes its results';
  if (method === 'watchFolder' && (args.sort || args.log !== undefined || args.sidecar)) return 'Only a QA engineer can start a hot folder that writes sidecars, sorts images or appends a log';
  if (method === 'cancelJob' && !caller.jobs.has(String(args.jobId))) return 'Only a QA engineer can cancel a job another user started';
  return null;
}

function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'object' && value !== null && typeof (value as JobStatus).id === 'string' && typeof (value as JobStatus).kind === 'string' && 'state' in value;
}

function call<M extends ApiMethod>(api: ArgusApi, method: M, input: ApiInput<M>): Promise<ApiOutput<M>> {
  const fn = api[method] as (input: ApiInput<M>) => Promise<ApiOutput<M>>;
  return fn.call(api, input);
}

