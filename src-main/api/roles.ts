import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { ApiMethod, Role } from './contract.ts';
import { ArgusError } from './errors.ts';

/**
 * What only a QA engineer may do: change what ships (models, thresholds), the data it learns from
 * (imports, annotations, training) and the PIN itself. Operators inspect and view.
 */
export const ENGINEER_METHODS: ReadonlySet<ApiMethod> = new Set<ApiMethod>([
  'createProject', 'importDataset', 'saveImageAnnotations', 'trainModel', 'promoteModel', 'rollbackModel',
  'importBackboneWeights', 'downloadBackboneWeights', 'setEngineerPin', 'setModelThresholds', 'exportDataset',
  'optimizeModel',
]);

/** One caller of the API (an app window, a browser tab): the role it has been granted. */
export class CallerSession {
  role: Role = 'operator';
  private failures = 0;
  private lockedUntil = 0;

  /** Wrong PINs slow guessing down: after 5 in a row, unlocking is refused for 30 s. */
  checkNotLocked(now = Date.now()): void {
    if (now < this.lockedUntil) throw new ArgusError('forbidden', `Too many wrong PINs; try again in ${Math.ceil((this.lockedUntil - now) / 1000)} s`);
  }

  recordAttempt(ok: boolean, now = Date.now()): void {
    if (ok) {
      this.failures = 0;
      return;
    }
    if (++this.failures >= 5) {
      this.failures = 0;
      this.lockedUntil = now + 30_000;
    }
  }
}

export interface StoredPin {
  salt: string;
  hash: string;
}

const PIN_FORMAT = /^\d{4,12}$/;

/** A PIN is kept only as a salted scrypt hash. */
export function hashPin(pin: string): StoredPin {
  if (!PIN_FORMAT.test(pin)) throw new ArgusError('invalid_argument', 'The PIN must be 4 to 12 digits');
  const salt = randomBytes(16);
  return { salt: salt.toString('hex'), hash: scryptSync(pin, salt, 32).toString('hex') };
}

export function pinMatches(pin: string, stored: StoredPin): boolean {
  if (!PIN_FORMAT.test(pin)) return false;
  const expected = Buffer.from(stored.hash, 'hex');
  const actual = scryptSync(pin, Buffer.from(stored.salt, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}
