import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveDataDir } from '../platform/data-dir.ts';
import { ArgusError } from '../contract/errors.ts';
import { ArgusService } from '../app/service.ts';
import { dispatch } from '../app/dispatch.ts';
import { CallerSession } from '../app/roles.ts';
import type { ApiInput, ApiMethod, ApiOutput } from '../contract/contract.ts';

export interface CommandContext {
  /** The engine, opened on the chosen data directory (lazily: some commands need none). */
  service(): ArgusService;
  /**
   * An API call through the same validated dispatch as the app window and the browser: the
   * arguments are checked against the schemas; a refusal or failure throws its error.
   */
  call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>>;
  json: boolean;
  out(text: string): void;
  /** Progress lines go to stderr so stdout stays clean for --json. */
  progress(text: string): void;
}

const phaseStarts = new Map<string, { at: number; done: number }>();

/**
 * "phase 40/612 (6%, ETA 1m 20s)"-style progress, coarsened to 10% steps when stderr is not a
 * terminal. The ETA extrapolates the phase's rate so far. Without a total: "phase 40".
 */
export function progressText(phase: string, done: number, total: number): string {
  if (total <= 0) return `${phase} ${done}`; // open-ended work (a hot folder): a count, no percentage
  const percent = total > 0 ? Math.floor((done / total) * 100) : 0;
  if (!process.stderr.isTTY) return `${phase} ${Math.floor(percent / 10) * 10}%`;
  const start = phaseStarts.get(phase) ?? { at: performance.now(), done };
  phaseStarts.set(phase, start);
  const rate = (done - start.done) / (performance.now() - start.at);
  const left = rate > 0 && done < total ? (total - done) / rate / 1000 : NaN;
  const eta = Number.isFinite(left) ? `, ETA ${left >= 60 ? `${Math.floor(left / 60)}m ` : ''}${Math.round(left % 60)}s` : '';
  return `${phase} ${done}/${total} (${percent}%${eta})`;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  options?: ParseArgsConfig['options'];
  /** Reads only: runs beside the station's app without taking the data directory's writer lock. */
  readOnly?: boolean;
  run(ctx: CommandContext, values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<void>;
}

const commonOptions = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function runCommand(command: Command, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...commonOptions, ...command.options },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage: argus ${command.usage}\n\n${command.summary}\n`);
    return;
  }
  let service: ArgusService | undefined;
  let lastProgress = '';
  const open = (): ArgusService => (service ??= new ArgusService({ dataDir: resolveDataDir(values['data-dir'] as string | undefined), actor: cliActor(), readOnly: command.readOnly }));
  // The terminal belongs to the station's own user, who can read and write the data directory
  // anyway: the CLI calls as a QA engineer.
  const caller = new CallerSession();
  caller.role = 'engineer';
  const ctx: CommandContext = {
    service: open,
    async call(method, input) {
      const result = await dispatch(open(), caller, method, input);
      if (!result.ok) throw new ArgusError(result.error.code, result.error.message);
      return result.value as ApiOutput<typeof method>;
    },
    json: Boolean(values.json),
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    progress: (text) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K`);
      else if (text !== lastProgress) process.stderr.write(`${text}\n`);
      lastProgress = text;
    },
  };
  try {
    await command.run(ctx, values as Record<string, string | boolean | undefined>, positionals);
  } finally {
    await service?.close();
  }
}

const cliActor = (): string => `cli:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`;

export function requireArg(value: string | undefined, what: string): string {
  if (!value) throw new ArgusError('invalid_argument', `Missing ${what}`);
  return value;
}

export function intArg(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ArgusError('invalid_argument', `${what} must be a positive integer, not "${String(value)}"`);
  return n;
}

/** A plain table for terminals. */
export function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => String(cell).padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}
