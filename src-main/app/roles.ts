import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { ApiMethod, Role } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';

/**
 * What only a QA engineer may do: change what ships (models, thresholds), the data it learns from
 * (imports, annotations, training) and the PIN itself. Operators inspect and view.
 */
export const ENGINEER_METHODS: ReadonlySet<ApiMethod> = new Set<ApiMethod>([
  'createProject', 'importDataset', 'saveImageAnnotations', 'trainModel', 'promoteModel', 'rollbackModel',
  'importBackboneWeights', 'downloadBackboneWeights', 'setEngineerPin', 'setModelThresholds', 'exportDataset',
  'optimizeModel', 'adaptModel', 'createDemoProject', 'exportModelPackage', 'importModelPackage', 'exportModelOnnx', 'setStationConfig', 'addToDataset', 'dismissReview',
]);

/** One caller of the API (an app window, a browser tab): the role it has been granted and the jobs it started. */
export class CallerSession {
  role: Role = 'operator';
  /** Jobs this caller started: an operator may cancel these, and only these. */
  readonly jobs = new Set<string>();
}

/** Wrong PINs allowed before each further one costs a growing wait. */
const FREE_ATTEMPTS = 3;
const FIRST_DELAY_MS = 5_000;
const MAX_DELAY_MS = 15 * 60_000;

/**
 * Slows PIN guessing for the whole station, whichever window, tab or session the guesses come
 * from: attempts are checked one at a time, and after FREE_ATTEMPTS wrong ones each further wrong
 * PIN locks unlocking for twice as long as the last (5 s, 10 s, … up to 15 min). A right PIN resets it.
 */
export class PinGuard {
  private failures = 0;
  private lockedUntil = 0;
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs one attempt after any attempt in progress; refused at once while locked. */
  attempt<T>(verify: () => Promise<T>, now: () => number = Date.now): Promise<T> {
    const run = async (): Promise<T> => {
      const wait = this.lockedUntil - now();
      if (wait > 0) throw new ArgusError('forbidden', `Too many wrong PINs; try again in ${Math.ceil(wait / 1000)} s`, { key: 'pinLocked', params: { s: Math.ceil(wait / 1000) } });
      return verify();
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  failed(now = Date.now()): void {
    this.failures++;
    if (this.failures >= FREE_ATTEMPTS) this.lockedUntil = now + Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.failures - FREE_ATTEMPTS));
  }

  succeeded(): void {
    this.failures = 0;
    this.lockedUntil = 0;
  }
}

export interface StoredPin {
  salt: string;
  hash: string;
}

/** A PIN of 4 to 12 digits, or a passphrase of 8 to 128 characters. */
export const PIN_FORMAT = /^(\d{4,12}|[^\n]{8,128})$/;
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;

/** A PIN is kept only as a salted scrypt hash (computed off the event loop). */
export async function hashPin(pin: string): Promise<StoredPin> {
  if (!PIN_FORMAT.test(pin)) throw new ArgusError('invalid_argument', 'The PIN must be 4 to 12 digits, or a passphrase of 8 to 128 characters', { key: 'pinFormat' });
  const salt = randomBytes(16);
  return { salt: salt.toString('hex'), hash: (await scryptAsync(pin, salt, 32)).toString('hex') };
}

export async function pinMatches(pin: string, stored: StoredPin): Promise<boolean> {
  if (!PIN_FORMAT.test(pin)) return false;
  const expected = Buffer.from(stored.hash, 'hex');
  const actual = await scryptAsync(pin, Buffer.from(stored.salt, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}
